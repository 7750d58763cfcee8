"""Fixtures: an app on a fresh SQLite file per test, clients logged in per role, factories.

With TEST_DATABASE_URL=postgresql://... set, the `app` fixture runs on that PostgreSQL
database instead: the schema is rebuilt once per session and every table is emptied
(TRUNCATE ... RESTART IDENTITY CASCADE) before each test, so each test still starts clean.
"""
import os

import pytest
from jinja2 import StrictUndefined

from app import create_app
from models import create_tables, db
from models.base import release_connections
from models import clock

from .helpers import Client, make_branch, make_staff, make_user


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


class TemplateTypoUndefined(StrictUndefined):
    """StrictUndefined: using an undefined name in a template fails the test. One exception,
    in Flask-Admin's own bootstrap4/admin/lib.html: it compares `field.widget.input_type`,
    which widgets other than <input> (select, textarea) do not have, with 'checkbox' (a field
    with a help text)."""

    def __eq__(self, other):
        if self._undefined_name == "input_type":
            return False
        return super().__eq__(other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = StrictUndefined.__hash__
_postgres_schema_ready = []


def _postgres_tables():
    return [name for (name,) in db.execute_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()]


def _reset_postgres():
    """First test of the session: drop whatever an earlier run left and create the current
    schema. Every test: empty all tables and restart their id sequences."""
    if not _postgres_schema_ready:
        tables = _postgres_tables()
        if tables:
            db.execute_sql("DROP TABLE IF EXISTS {} CASCADE".format(", ".join(f'"{t}"' for t in tables)))
        create_tables()
        _postgres_schema_ready.append(True)
    tables = _postgres_tables()
    if tables:
        db.execute_sql("TRUNCATE {} RESTART IDENTITY CASCADE".format(", ".join(f'"{t}"' for t in tables)))


def make_app(tmp_path, **config):
    """An app on a clean test database (SQLite file in tmp_path, or the emptied PostgreSQL
    database); `config` overrides the test settings (e.g. RATELIMIT_ENABLED=True)."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}",
        "RATELIMIT_ENABLED": False,
        # still argon2id, with cheap parameters so the suite does not spend its time hashing
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        **config,
    })
    app.jinja_env.undefined = TemplateTypoUndefined  # a template typo fails the test instead of printing nothing
    with app.app_context():
        if TEST_DATABASE_URL:
            _reset_postgres()
        else:
            create_tables()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    clock.freeze(None)
    release_connections()


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def office(app):
    """A small office: one branch, two staff, one account per role."""
    with app.app_context():
        branch = make_branch()
        staff = make_staff(branch)
        other = make_staff(branch, "E0002", name="李强")
        users = {role: make_user(role, role, staff=staff if role == "staff" else other)
                 for role in ("staff", "manager", "admin")}
    return {"branch": branch, "staff": staff, "other": other, "users": users}


@pytest.fixture
def login_as(app, office):
    def _login(role):
        client = Client(app.test_client())
        response = client.login(role)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return _login


@pytest.fixture
def en(login_as):
    """A logged-in client reading the English UI (the msgids), per role (staff by default)."""
    def _login(role="staff"):
        client = login_as(role)
        client.http.set_cookie("lang", "en")
        return client
    return _login


@pytest.fixture
def manager(login_as):
    """A manager's client reading the English UI (assertions on English labels)."""
    client = login_as("manager")
    client.http.set_cookie("lang", "en")
    return client


@pytest.fixture
def live_url(app):
    """The app served on a free loopback port for a real browser."""
    from .browser import LiveServer
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright (fails in CI if missing, skips elsewhere)."""
    from playwright.sync_api import sync_playwright

    from .browser import launch_chromium
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) the app's e-mail goes to."""
    from .helpers import SmtpSink
    with SmtpSink() as sink:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_DEFAULT_SENDER="客服中心 <desk@example.cn>")
        yield sink


@pytest.fixture
def webhook_server():
    """A local HTTP server standing in for WeCom, DingTalk and the SMS gateway."""
    from .helpers import HttpSink
    with HttpSink() as sink:
        yield sink
