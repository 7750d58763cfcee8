"""What tests share: factories with overrides, a CSRF-carrying client, the CSRF token of a
page, a query counter and a gunicorn server on a free loopback port. Fixtures that use them
live in conftest.py."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from models import Branch, Complaint, Customer, Staff, User, db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-9"
CSRF_PATTERNS = (re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'),
                 re.compile(r'value="([^"]+)"[^>]*name="csrf_token"'))


def csrf_token(page):
    """The CSRF token of an HTML page (None when the page has no form carrying one)."""
    for pattern in CSRF_PATTERNS:
        match = pattern.search(page)
        if match:
            return match.group(1)
    return None


class Client:
    """Test client that carries the session's CSRF token like a browser would."""

    def __init__(self, flask_client):
        self.http = flask_client
        self.csrf = None

    def get(self, *args, **kwargs):
        return self.http.get(*args, **kwargs)

    def fetch_csrf(self, url="/login"):
        token = csrf_token(self.http.get(url).get_data(as_text=True))
        assert token, f"no CSRF token on {url}"
        self.csrf = token
        return self.csrf

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf or self.fetch_csrf())
        return self.http.post(url, data=data, **kwargs)

    def login(self, username, password=PASSWORD):
        self.fetch_csrf("/login")
        return self.post("/login", {"username": username, "password": password})


def make_user(username, role="staff", staff=None):
    user = User(username=username, role=role, staff=staff)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_branch(name="江苏分公司", **overrides):
    return Branch.create(**{"name": name, "region": "江苏", "city": "南京", **overrides})


def make_staff(branch, employee_no="E0001", **overrides):
    return Staff.create(**{"name": "王芳", "employee_no": employee_no, "branch": branch, **overrides})


def make_customer(branch, **overrides):
    return Customer.create(**{"name": "张伟", "phone": "13800000000", "branch": branch, **overrides})


def make_complaint(customer=None, **overrides):
    """A complaint as the office records it. Someone always receives a complaint (it needs an
    owner): in an office without any staff yet, a receiver is hired at the complaint's branch."""
    if customer is None:
        customer = make_customer(make_branch())
    values = {"customer": customer, "branch": customer.branch, "title": "维修人员服务态度：上门态度冷淡"}
    values.update(overrides)
    if values.get("first_responder") is None and values.get("assignee") is None \
            and not Staff.select().where(Staff.active == True).exists():  # noqa: E712
        values["first_responder"] = make_staff(values["branch"], "R0001", name="受理员")
    complaint = Complaint(**values)
    complaint.save()
    return complaint


class QueryCounter:
    """The SQL statements run inside a count_queries() block: `.count` (or call it), `.statements`."""

    def __init__(self, only_select=False):
        self.only_select = only_select
        self.statements = []

    def __call__(self, event=None):
        if event is None:
            return self.count
        if not self.only_select or event.sql.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append(event.sql)

    @property
    def count(self):
        return len(self.statements)


@contextmanager
def count_queries(only_select=False):
    """The one query counter of the suite: every statement the database runs inside the block
    (peewee's query hooks see each one, whichever way it was executed).
    `with count_queries() as counter: ...; counter.count` (only_select: SELECTs only)."""
    counter = QueryCounter(only_select)
    hooks = db.obj.query_hooks
    hooks.append(counter)
    try:
        yield counter
    finally:
        hooks.remove(counter)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """A gunicorn server running the app from this worktree on a loopback port."""

    def __init__(self, database_url, log_path, workers=2, **env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "shared-test-secret",
                       "WEB_CONCURRENCY": str(workers), "THREADS": "2", "ACCESS_LOG": "", **env}
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}: {self.read_log()}")
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                time.sleep(0.2)
        raise AssertionError(f"gunicorn on {self.base} not ready: {self.read_log()}")

    def read_log(self):
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
