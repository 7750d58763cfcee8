"""Sessions end: a copied session cookie stops working after logout, a new password, a role
change, a deactivation or an archive; an idle session and an old one end; logins cost one
password hash whether or not the username exists."""
import time

import pytest

from models import User, org
from models.audit import record

from .helpers import PASSWORD, Client


def _replay(app, cookie):
    """A second browser presenting a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/admin/customer/")


def _logged_in(app, username):
    client = Client(app.test_client())
    assert client.login(username).status_code == 302
    cookie = client.http.get_cookie("session").value
    assert _replay(app, cookie).status_code == 200  # the copy works while the session lives
    return client, cookie


def _ended(response):
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_every_copy_of_the_session(app, office):
    client, cookie = _logged_in(app, "staff")
    other_device, other_cookie = _logged_in(app, "staff")
    client.post("/logout", {})
    assert _ended(_replay(app, cookie))
    assert _ended(_replay(app, other_cookie))  # logout ends the account's other sessions too
    assert _ended(client.get("/admin/customer/"))


def _admin_edit(app, user, **changes):
    admin = Client(app.test_client())
    admin.login("admin")
    with app.app_context():
        user = User.get_by_id(user.id)
    form = {"username": user.username, "role": user.role, "staff": user.staff_id or "__None",
            "active": "y" if user.active else ""}
    form.update(changes)
    form = {k: v for k, v in form.items() if v != ""}
    response = admin.post(f"/admin/user/edit/?id={user.id}", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


@pytest.mark.parametrize("change", [{"password": "a-new-password-2026"}, {"role": "manager"}, {"active": ""}])
def test_password_role_and_deactivation_end_the_sessions(app, office, change):
    _client, cookie = _logged_in(app, "staff")
    _admin_edit(app, office["users"]["staff"], **change)
    assert _ended(_replay(app, cookie))


def test_an_unchanged_save_keeps_the_session(app, office):
    _client, cookie = _logged_in(app, "staff")
    _admin_edit(app, office["users"]["staff"])
    assert _replay(app, cookie).status_code == 200


def test_archiving_an_account_ends_its_sessions(app, office):
    _client, cookie = _logged_in(app, "manager")
    with app.app_context():
        record(office["branch"], "note", office["users"]["manager"])  # the account has done something
    admin = Client(app.test_client())
    admin.login("admin")
    admin.post("/admin/user/delete/", {"id": office["users"]["manager"].id})
    with app.app_context():
        assert User.get_by_id(office["users"]["manager"].id).active is False  # archived: it has history
    assert _ended(_replay(app, cookie))


def test_idle_session_ends_after_the_configured_minutes(app, office):
    app.config["SESSION_IDLE_MINUTES"] = 30
    client, _cookie = _logged_in(app, "staff")
    with client.http.session_transaction() as session:
        session["_seen"] = int(time.time()) - 29 * 60
    assert client.get("/admin/customer/").status_code == 200
    with client.http.session_transaction() as session:
        assert session["_seen"] >= int(time.time()) - 5  # the request counted as activity
        session["_seen"] = int(time.time()) - 31 * 60
    assert _ended(client.get("/admin/customer/"))


def test_session_ends_after_its_lifetime_however_active(app, office):
    client, _cookie = _logged_in(app, "staff")
    lifetime = app.permanent_session_lifetime.total_seconds()
    with client.http.session_transaction() as session:
        session["_login_at"] = int(time.time() - lifetime - 1)
    assert _ended(client.get("/admin/customer/"))


def test_session_cookie_is_private_and_expires(app, office):
    client = Client(app.test_client())
    client.fetch_csrf("/login")
    response = client.post("/login", {"username": "staff", "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.permanent_session_lifetime.total_seconds() <= 24 * 3600


def test_a_login_checks_one_password_hash_whoever_asks(app, office, monkeypatch):
    calls = []
    real = org._hasher

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(org, "_hasher", Counting())
    client = Client(app.test_client())
    for username, password in (("nobody-here", "whatever-123"), ("staff", "wrong-password"), ("staff", PASSWORD)):
        calls.clear()
        client.fetch_csrf("/login")
        client.post("/login", {"username": username, "password": password})
        assert len(calls) == 1, username
        client.post("/logout", {})
    with app.app_context():
        User.update(active=False).where(User.username == "manager").execute()
    calls.clear()
    client.fetch_csrf("/login")
    client.post("/login", {"username": "manager", "password": PASSWORD})
    assert len(calls) == 1  # an inactive account too


def test_a_request_that_left_before_the_login_does_not_undo_it(app, office):
    """The browser asks for /favicon.ico (and other things) while the login form is sent; such a
    request carries the cookie of the login page and may be answered after the login. Its answer
    must not set a cookie, or it replaces the new session and the person lands on the login page
    again (seen in the browser tests: POST /login 302, then /admin/ 302 to /login)."""
    client = Client(app.test_client())
    client.fetch_csrf("/login")
    before_login = client.http.get_cookie("session").value
    assert client.post("/login", {"username": "manager", "password": PASSWORD}).status_code == 302
    for path in ("/favicon.ico", "/admin/", "/admin/customer/", "/no-such-page", "/login"):
        late = app.test_client()
        late.set_cookie("session", before_login)
        response = late.get(path)
        assert response.status_code < 500, path
        assert not response.headers.getlist("Set-Cookie"), (path, response.headers.getlist("Set-Cookie"))
    assert client.get("/admin/").status_code == 200  # the login stands
