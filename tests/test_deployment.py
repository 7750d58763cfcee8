"""Several app processes on one database, as in production (gunicorn behind a load balancer).

The processes are real gunicorn servers on loopback ports, talking HTTP; the database is
PostgreSQL when TEST_DATABASE_URL is set, else a SQLite file shared by both processes.
"""
import http.cookiejar
import multiprocessing
import os
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from app import _secret_key
from models import Complaint, db

from .helpers import PASSWORD, AppServer, csrf_token, free_port, make_customer


@pytest.fixture
def servers(app, tmp_path):
    """Start app servers on the test database; stop them all at the end."""
    started = []

    def start(count=2, **env):
        if not db.is_closed():
            db.close()  # the test's own connection must not hold a SQLite lock
        batch = [AppServer(app.config["DATABASE_URL"], tmp_path / f"gunicorn-{len(started) + i}.log", **env)
                 for i in range(count)]
        started.extend(batch)
        for server in batch:
            server.wait_ready()
        return batch

    yield start
    for server in started:
        server.stop()


class Browser:
    """A cookie-keeping HTTP client that fills in the CSRF token of the page it last read."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.url = None  # where the last request ended, after redirects

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            self.url = response.url
            return response.status, response.read().decode()

    def csrf(self, path):
        status, page = self.get(path)
        assert status == 200, (path, status)
        return csrf_token(page)

    def post(self, path, data, form_page=None):
        data = {**data, "csrf_token": self.csrf(form_page or path)}
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                self.url = response.url
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def login(self, username):
        return self.post("/login", {"username": username, "password": PASSWORD})


def test_two_app_processes_store_every_complaint_with_unique_numbers(app, office, servers):
    with app.app_context():
        customer = make_customer(office["branch"])
    first, second = servers(2)

    per_client, clients = 6, []
    for server in (first, second, first, second):
        browser = Browser(server.base)
        status, page = browser.login("manager")
        assert status == 200 and urllib.parse.urlparse(browser.url).path == "/admin/", page[:500]
        clients.append(browser)

    failures = []

    def submit(index, browser):
        for n in range(per_client):
            status, page = browser.post("/admin/complaint/new/", {
                "customer": customer.id, "branch": office["branch"].id, "channel": "phone",
                "category": "attitude", "severity": "normal", "compensation": "none",
                "title": f"并发测试{index}-{n}：两台服务器同时受理", "description": "两个进程同时受理投诉",
            })
            # a new complaint opens on its own page
            if status != 200 or urllib.parse.urlparse(browser.url).path != "/admin/complaint/details/":
                alerts = re.findall(r"class=\"alert[^>]*>(.*?)</div>", page, re.S)
                failures.append((index, n, status, browser.url, [" ".join(a.split())[:300] for a in alerts]))

    threads = [threading.Thread(target=submit, args=(i, b)) for i, b in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]

    with app.app_context():
        rows = list(Complaint.select().where(Complaint.title.startswith("并发测试")))
        assert len(rows) == len(clients) * per_client
        assert len({r.number for r in rows}) == len(rows)
        assert sorted(r.seq for r in rows) == list(range(1, len(rows) + 1))
        assert {r.title for r in rows} == {f"并发测试{i}-{n}：两台服务器同时受理"
                                           for i in range(len(clients)) for n in range(per_client)}


def test_a_login_on_one_process_is_valid_on_the_other(app, office, servers):
    first, second = servers(2, workers=1)
    browser = Browser(first.base)
    browser.login("staff")
    assert urllib.parse.urlparse(browser.url).path == "/admin/my-work/"
    browser.base = second.base  # same cookies, other server: the shared key signs the session
    status, _ = browser.get("/admin/customer/")
    assert status == 200
    assert browser.url == second.base + "/admin/customer/"  # not redirected to the login page


def test_login_rate_limit_is_shared_by_processes_through_redis(app, office, servers, tmp_path):
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # in CI a missing tool is a failure, never a skip
        pytest.skip(message)
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first, second = servers(2, workers=2, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
                                LOGIN_RATE_LIMIT="6 per minute")
        statuses = []
        for attempt in range(8):
            server = (first, second)[attempt % 2]
            statuses.append(Browser(server.base).post("/login", {"username": "staff", "password": "wrong-9"})[0])
        # six attempts in all are allowed, spread over two processes with two workers each
        assert statuses[:6] == [200] * 6, statuses
        assert statuses[6:] == [429, 429], statuses
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def _read_key(folder, start, queue):
    start.wait()
    queue.put(_secret_key(folder))


def test_workers_starting_at_once_share_one_secret_key(tmp_path):
    context = multiprocessing.get_context("fork")
    start, queue = context.Event(), context.Queue()
    workers = [context.Process(target=_read_key, args=(str(tmp_path), start, queue)) for _ in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    keys = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / "secret_key").read_text() == keys[0]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary files left


def test_login_attempts_are_limited_per_address(app, office):
    from extensions import limiter
    app.config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    limiter.init_app(app)
    limiter.reset()
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = csrf_token(page)
        statuses = [client.post("/login", data={"username": "staff", "password": "wrong-9", "csrf_token": token})
                    .status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        assert client.get("/login").status_code == 200  # only POSTs count
    finally:
        limiter.reset()


def test_behind_a_proxy_the_login_limit_counts_each_client_not_the_proxy(app, office):
    from extensions import limiter
    from wsgi import create_wsgi_app
    config = {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": app.config["DATABASE_URL"],
              "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute", "WTF_CSRF_ENABLED": False}
    limiter.reset()
    try:
        proxied = create_wsgi_app(config, proxy_hops=1).test_client()

        def attempt(client_address):
            return proxied.post("/login", data={"username": "staff", "password": "wrong-9"},
                                headers={"X-Forwarded-For": client_address}).status_code

        assert [attempt("10.1.0.7") for _ in range(3)] == [200, 200, 429]
        assert attempt("10.1.0.8") == 200  # another customer-service PC behind the same proxy
        direct = create_wsgi_app(config, proxy_hops=0).test_client()
        limiter.reset()
        statuses = [direct.post("/login", data={"username": "staff", "password": "wrong-9"},
                                headers={"X-Forwarded-For": f"10.1.0.{n}"}).status_code for n in range(3)]
        assert statuses == [200, 200, 429]  # without PROXY_HOPS the header is not trusted
    finally:
        limiter.reset()
