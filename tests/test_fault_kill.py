"""Crash safety of public survey submissions: the app server is SIGKILLed (master and
workers, the whole process group) at random moments while clients keep submitting, then
restarted. Every submission the server confirmed (302 to the thank-you page) must be in
the database, nothing may be half-written, and SQLite must pass its integrity check.

Runs on the test database: a SQLite file, or PostgreSQL when TEST_DATABASE_URL is set.
The kill moments come from a seeded random generator; every wait has a generous bound.
"""
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime

from peewee import fn

from models import Answer, Branch, Customer, Invitation, Question, Response, db
from models.answers import field_name
from models.base import is_sqlite
from models.survey_templates import create_from_template
from models.surveys import new_token

from .helpers import ROOT, AppServer, csrf_token, free_port
KILLS = 3
CLIENTS = 4
INVITATIONS = 4000


class KillableServer(AppServer):
    """AppServer started in a process group of its own, so that one killpg reaches the
    gunicorn master and every worker at the same instant (as a power cut or an OOM kill of
    the service's cgroup would)."""

    def __init__(self, database_url, log_path, workers=2, **env):
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "shared-test-secret",
                     "WEB_CONCURRENCY": str(workers), "THREADS": "2", "ACCESS_LOG": "", **env}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while living_members(self.process.pid):  # the workers are dead too (zombies do not count)
            assert time.monotonic() < deadline, f"gunicorn workers outlived SIGKILL: {living_members(self.process.pid)}"
            time.sleep(0.05)
        self.log.close()


def living_members(group):
    """Process ids in process group `group` that are not zombies (Linux /proc)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state not in ("Z", "X"):
            members.append(int(entry))
    return members


class Stream:
    """Client threads that submit one fresh invitation after another, like customers.

    outcome[token] is "stored" only when the server answered 302 to the thank-you page;
    a connection error or a refused connection leaves the outcome unknown."""

    def __init__(self, tokens, form):
        self.tokens = iter(tokens)
        self.form = form
        self.lock = threading.Lock()
        self.confirmed = []
        self.attempted = 0
        self.server = None
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(CLIENTS)]

    def _next(self):
        with self.lock:
            self.attempted += 1
            return next(self.tokens)

    def _submit(self, port, token):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            path = f"/s/i/{token}"
            connection.request("GET", path)
            response = connection.getresponse()
            page = response.read().decode()
            assert response.status == 200, (response.status, page[:300])
            cookie = next(h.split(";", 1)[0] for h in response.headers.get_all("Set-Cookie")
                          if h.startswith("session="))
            body = urllib.parse.urlencode({**self.form, "csrf_token": csrf_token(page)})
            connection.request("POST", path, body=body, headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            return response.status == 302 and "/s/thanks" in response.headers.get("Location", "")
        finally:
            connection.close()

    def _run(self):
        while not self.stop.is_set():
            server = self.server
            token = self._next()
            try:
                if self._submit(server.port, token):
                    with self.lock:
                        self.confirmed.append(token)
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # the server is down or was killed mid-request: next customer

    def successes(self):
        with self.lock:
            return len(self.confirmed)

    def wait_for_successes(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while self.successes() < count:
            assert time.monotonic() < deadline, f"only {self.successes()} confirmed submissions"
            time.sleep(0.05)


def test_sigkill_during_submissions_loses_no_confirmed_answer(app, tmp_path):
    with app.app_context():
        branch = Branch.create(name="江苏分公司", region="江苏")
        customer = Customer.create(name="王小明", branch=branch)
        survey = create_from_template("csat", "zh_CN")
        questions = list(survey.questions.order_by(Question.id))
        form = {field_name(q): ("4" if q.kind == "rating" else "服务很好") for q in questions}
        tokens = [new_token() for _ in range(INVITATIONS)]
        with db.atomic():
            for start in range(0, INVITATIONS, 500):
                Invitation.insert_many([{"survey": survey.id, "customer": customer.id, "token": token,
                                         "created_at": datetime(2026, 1, 5, 9, 0)}
                                        for token in tokens[start:start + 500]]).execute()
    if not db.is_closed():
        db.close()  # the test's own connection must not hold a SQLite lock

    rng = random.Random(20261123)
    url = app.config["DATABASE_URL"]
    stream = Stream(tokens, form)
    servers = []

    def start():
        server = KillableServer(url, tmp_path / f"gunicorn-{len(servers)}.log")
        servers.append(server)
        server.wait_ready(timeout=90)
        stream.server = server
        return server

    try:
        server = start()
        for thread in stream.threads:
            thread.start()
        for _ in range(KILLS):
            # let submissions flow after each (re)start, then kill at a random moment
            stream.wait_for_successes(stream.successes() + 10)
            time.sleep(rng.uniform(0.05, 1.0))
            server.kill()
            time.sleep(rng.uniform(0.0, 0.3))  # clients hit a dead port meanwhile
            server = start()
        stream.wait_for_successes(stream.successes() + 10)
    finally:
        stream.stop.set()
        for thread in stream.threads:
            thread.join(timeout=60)
        for server in servers:
            if server.process.poll() is None:
                server.stop()
    logs = "".join((tmp_path / f"gunicorn-{i}.log").read_text(errors="replace") for i in range(len(servers)))
    assert "database is locked" not in logs
    assert len(servers) == KILLS + 1

    confirmed = set(stream.confirmed)
    assert len(confirmed) >= 10 * (KILLS + 1)
    with app.app_context():
        answered = {token: answered_at for token, answered_at in
                    Invitation.select(Invitation.token, Invitation.answered_at)
                    .where(Invitation.survey == survey).tuples()}
        responses = {token: count for token, count in
                     Response.select(Invitation.token, fn.COUNT(Answer.id))
                     .join(Invitation, on=(Response.invitation == Invitation.id))
                     .switch(Response).join(Answer, on=(Answer.response == Response.id))
                     .where(Response.survey == survey)
                     .group_by(Invitation.token).tuples()}
        response_rows = Response.select().where(Response.survey == survey).count()
        # every confirmed submission is stored: invitation marked answered, response present
        missing = [t for t in confirmed if answered[t] is None or t not in responses]
        assert not missing, f"{len(missing)} confirmed submissions lost of {len(confirmed)}"
        # nothing half-written: a response exists exactly for the answered invitations,
        # and each has one answer per question
        assert response_rows == len(responses)
        assert {t for t, at in answered.items() if at is not None} == set(responses)
        assert set(responses.values()) == {len(questions)}
        # unconfirmed attempts (killed mid-request) are either wholly stored or not at all
        assert len(responses) >= len(confirmed)
        if is_sqlite():
            assert db.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []
