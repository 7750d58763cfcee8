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


FORM_TOKEN_PATTERN = re.compile(r'name="form_token" value="([^"]+)"')


class Client:
    """Test client that carries the session's CSRF token like a browser would, and the signed
    form token of the last open-link survey page it read (sent back with its answers)."""

    def __init__(self, flask_client):
        self.http = flask_client
        self.csrf = None
        self.form_token = None

    def get(self, *args, **kwargs):
        return self.http.get(*args, **kwargs)

    def fetch_csrf(self, url="/login"):
        page = self.http.get(url).get_data(as_text=True)
        token = csrf_token(page)
        assert token, f"no CSRF token on {url}"
        self.csrf = token
        form_token = FORM_TOKEN_PATTERN.search(page)
        self.form_token = form_token.group(1) if form_token else None
        return self.csrf

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf or self.fetch_csrf())
        if self.form_token:
            data.setdefault("form_token", self.form_token)
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


def make_branch_rows(branch, marker, survey=None, with_notifications=False):
    """One row of every kind that belongs to `branch`, its texts carrying `marker` (so a test
    can look for it in any page or file): staff, customer, complaint with worksheet, callback,
    award, reward/penalty, an open link, an invitation, a response with answers (a rating, a
    vote for the staff member, a comment), their history; `with_notifications`: the rows of
    notifications and survey review too (_make_notification_rows). Returns {kind: row}."""
    from datetime import date

    from models import (Answer, Award, Callback, Invitation, OpenLink, Question, Rectification, Response,
                        RewardPenalty, Survey)
    from models.audit import record

    rows = {"branch": branch}
    digits = f"{sum(map(ord, marker)) * 7919 % 10 ** 8:08d}"  # a phone number of this marker's own
    rows["staff"] = make_staff(branch, f"{marker}-E1", name=f"{marker}员工", phone="137" + digits)
    rows["customer"] = make_customer(branch, name=f"{marker}客户", phone="139" + digits,
                                     email=f"{marker.lower()}@example.com", account_manager=rows["staff"])
    rows["complaint"] = make_complaint(rows["customer"], title=f"{marker}投诉：服务态度",
                                       first_responder=rows["staff"], responsible_staff=rows["staff"])
    rows["rectification"] = Rectification.create(
        complaint=rows["complaint"], problem_description=f"{marker}整改", cause_analysis="原因",
        immediate_measures="措施", long_term_measures="长期", promised_date=date(2026, 12, 1))
    rows["callback"] = Callback.create(customer=rows["customer"], complaint=rows["complaint"], staff=rows["staff"],
                                       outcome=f"{marker}回访结果")
    rows["award"] = Award.create(staff=rows["staff"], kind="innovation_individual", reason=f"{marker}奖励理由")
    rows["rewardpenalty"] = RewardPenalty.create(staff=rows["staff"], kind="verbal_warning",
                                                 reason=f"{marker}处罚理由", complaint=rows["complaint"])
    if survey is None:
        survey = Survey.get_or_none(Survey.title == "共用问卷") or Survey.create(title="共用问卷")
    rating = Question.get_or_none(Question.survey == survey, Question.kind == "rating") or \
        Question.create(survey=survey, position=1, text="满意度", kind="rating")
    vote = Question.get_or_none(Question.survey == survey, Question.kind == "staff") or \
        Question.create(survey=survey, position=2, text="服务之星", kind="staff")
    comment = Question.get_or_none(Question.survey == survey, Question.kind == "text") or \
        Question.create(survey=survey, position=3, text="意见", kind="text", required=False)
    rows["survey"] = survey
    rows["openlink"] = OpenLink.create(survey=survey, branch=branch, label=f"{marker}开放链接")
    rows["invitation"] = Invitation.create(survey=survey, customer=rows["customer"])
    rows["response"] = Response.create(survey=survey, invitation=rows["invitation"], customer=rows["customer"],
                                       branch=branch, staff=rows["staff"])
    rows["answer"] = Answer.create(response=rows["response"], question=comment, text=f"{marker}意见内容")
    Answer.create(response=rows["response"], question=rating, value=2)
    Answer.create(response=rows["response"], question=vote, staff=rows["staff"])
    for kind in ("staff", "customer", "complaint", "callback", "award"):
        record(rows[kind], "create")
    if with_notifications:
        _make_notification_rows(rows, marker, survey, digits)
    return rows


def _make_notification_rows(rows, marker, survey, digits):
    """The rows of the later features, of the same branch: a submission held for review (with
    a callback contact), anonymous feedback, an account of the branch with an in-app
    notification, a group robot, the alert and invitation messages in the outbox with their
    delivery attempts and event."""
    from models import (AnonymousFeedback, ChannelEndpoint, DeliveryAttempt, Notification, NotifyEvent,
                        OutboxMessage, Response)
    branch = rows["branch"]
    rows["held_response"] = Response.create(survey=survey, branch=branch, status="held", hold_reason="burst",
                                            contact_name=f"{marker}联系人", contact_phone="136" + digits)
    rows["feedback"] = AnonymousFeedback.create(survey=survey, branch=branch, title=f"{marker}匿名反馈",
                                                description=f"{marker}匿名反馈内容")
    rows["user"] = make_user(f"{marker}-staff", "staff", staff=rows["staff"])
    rows["notification"] = Notification.create(user=rows["user"], key=f"{marker}:n", kind="overdue",
                                               title=f"{marker}通知", complaint=rows["complaint"],
                                               link=f"/admin/complaint/details/?id={rows['complaint'].id}")
    rows["channelendpoint"] = ChannelEndpoint.create(name=f"{marker}群机器人", kind="wecom", branch=branch,
                                                     webhook_url=f"https://robot.example.cn/{marker}")
    rows["notifyevent"] = NotifyEvent.create(key=f"{marker}:event", kind="overdue", complaint=rows["complaint"])
    rows["outboxmessage"] = OutboxMessage.create(
        key=f"{marker}:alert", kind="overdue", channel="email", recipient=rows["staff"].email or f"s{digits}@example.cn",
        recipient_name=rows["staff"].name, complaint=rows["complaint"], subject=f"{marker}超时提醒", status="failed")
    rows["invitation_message"] = OutboxMessage.create(
        key=f"{marker}:invite", kind="invitation", channel="email", recipient=rows["customer"].email,
        recipient_name=rows["customer"].name, invitation=rows["invitation"], subject=f"{marker}问卷邀请",
        status="failed")
    rows["robot_message"] = OutboxMessage.create(
        key=f"{marker}:robot", kind="overdue", channel="wecom", recipient=rows["channelendpoint"].webhook_url,
        endpoint=rows["channelendpoint"], subject=f"{marker}群消息", status="sent")
    rows["deliveryattempt"] = DeliveryAttempt.create(message=rows["outboxmessage"], outcome="failed",
                                                     error=f"{marker}退信")


class SmtpSink:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives.

    `on_rcpt(address)` / `on_data(envelope)` hooks run inside the server (e.g. to kill a worker at
    an exact point of the SMTP transaction); `reject` maps recipient addresses to SMTP replies."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        self.messages = []  # (envelope sender, recipients, parsed email.message.EmailMessage, raw bytes)
        self.reject = {}
        self.on_rcpt = None
        self.on_data = None
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.on_rcpt is not None:
            self.on_rcpt(address)
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy
        raw = envelope.original_content or envelope.content
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(raw, policy=policy.default), raw))
        if self.on_data is not None:
            self.on_data(envelope)
        return "250 Message accepted for delivery"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def to(self, address):
        return [message for _, rcpts, message, _ in self.messages if address in rcpts]


class HttpSink:
    """A local HTTP server standing in for WeCom, DingTalk and an SMS gateway: records every
    request (path, query, JSON body) and answers from `answers[path]` = (status, JSON body)."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit
        sink = self
        self.requests = []
        self.answers = {}
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = None
                with sink.lock:
                    sink.requests.append({"path": parts.path, "query": parse_qs(parts.query), "json": body,
                                          "headers": dict(self.headers)})
                status, answer = sink.answers.get(parts.path, (200, {"errcode": 0, "errmsg": "ok"}))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def at(self, path):
        return [r for r in self.requests if r["path"] == path]


def start_notify_worker(database_url, smtp_port, folder, name="worker", **env):
    """`flask --app app worker` (the huey consumer) as a separate process, its e-mail going to
    `smtp_port` on loopback, its log in folder/<name>.log (process.log_path)."""
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                   "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "HUEY_URL": f"sqlite:///{folder}/huey.db",
                   "NOTIFY_POLL_SECONDS": "0.2", "NOTIFY_LEASE_SECONDS": "2", **env}
    log = open(Path(folder) / f"{name}.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=environment,
                               stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    return process


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
