"""Every admin URL needs a login; roles limit views; POSTs need a CSRF token."""
import re
from urllib.parse import urlencode

import pytest

from admin import MODEL_VIEWS
from models import Branch, Customer, History, User

from .helpers import make_customer

ROLE_OF_VIEW = {endpoint: view.required_role for view, _, _, _, endpoint in MODEL_VIEWS}


def _concrete(rule):
    """Fill URL arguments with harmless values so every rule can be requested."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "csv" if m.group(1) == "export_type" else "1", rule.rule)


def test_logged_out_sweep_over_every_admin_rule(app, client, office):
    with app.app_context():
        make_customer(office["branch"], name="机密客户")
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and "static" not in r.endpoint]
    assert len(rules) > 100
    for rule in rules:
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.http.open(url, method=method)
            assert response.status_code in (302, 400, 403, 405), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/login" in response.headers["Location"], (method, url)
            assert "机密客户" not in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("endpoint", [e for e, role in ROLE_OF_VIEW.items() if role != "staff"])
def test_staff_gets_403_on_manager_and_admin_views(login_as, endpoint):
    staff = login_as("staff")
    assert staff.get(f"/admin/{endpoint}/").status_code == 403
    assert staff.get(f"/admin/{endpoint}/new/").status_code == 403
    assert staff.post(f"/admin/{endpoint}/new/", {}).status_code == 403


@pytest.mark.parametrize("endpoint", [e for e, role in ROLE_OF_VIEW.items() if role == "admin"])
def test_manager_gets_403_on_admin_views(login_as, endpoint):
    assert login_as("manager").get(f"/admin/{endpoint}/").status_code == 403


@pytest.mark.parametrize("endpoint", ["customer", "complaint", "callback", "staff", "history"])
def test_staff_gets_403_on_export_urls(login_as, endpoint):
    staff = login_as("staff")
    for fmt in ("csv", "xlsx"):
        assert staff.get(f"/admin/{endpoint}/export/{fmt}/").status_code == 403


def test_staff_cannot_delete_customers(app, login_as, office):
    with app.app_context():
        customer = make_customer(office["branch"])
    staff = login_as("staff")
    response = staff.post("/admin/customer/delete/", {"id": customer.id})
    assert response.status_code == 403
    response = staff.post("/admin/customer/action/", {"action": "delete", "rowid": [customer.id]})
    assert response.status_code in (400, 403)  # no such list action for staff
    with app.app_context():
        assert Customer.get_or_none(Customer.id == customer.id) is not None


def test_post_without_csrf_token_is_rejected_and_writes_nothing(app, login_as):
    admin = login_as("admin")
    response = admin.post("/admin/branch/new/", {"name": "无令牌分公司", "region": "新疆"}, csrf=False)
    assert response.status_code == 400
    response = admin.post("/admin/branch/new/", {"name": "假令牌分公司", "region": "新疆", "csrf_token": "forged"},
                          csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert not Branch.select().where(Branch.name.contains("令牌")).exists()
        assert History.select().count() == 0


def test_delete_without_csrf_token_is_rejected(app, login_as, office):
    admin = login_as("admin")
    with app.app_context():
        branch = Branch.create(name="待删除分公司", region="甘宁")
    response = admin.post("/admin/branch/delete/", {"id": branch.id}, csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert Branch.get_or_none(Branch.id == branch.id) is not None


def test_forms_carry_csrf_tokens(login_as):
    admin = login_as("admin")
    for url in ("/admin/branch/new/", "/admin/customer/new/", "/admin/user/new/"):
        assert 'name="csrf_token"' in admin.get(url).get_data(as_text=True), url


def test_login_rejects_wrong_password_and_unknown_user(client, office):
    assert client.login("staff", "wrong-password").status_code == 200
    assert client.login("nobody", "whatever-123").status_code == 200
    assert client.get("/admin/").status_code == 302


def test_login_redirect_only_to_local_paths(client, office):
    client.fetch_csrf("/login")
    response = client.post("/login?next=https://evil.example/x", {"username": "staff", "password": "correct-horse-9"})
    assert response.headers["Location"] == "/admin/my-work/"  # staff land on their work, not elsewhere


UNSAFE_NEXT = ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "/\t/evil.example", "\\\\evil.example",
               "javascript:alert(1)", " /admin/", "evil.example"]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_every_next_goes_through_the_one_safe_redirect(client, login_as, office, target):
    """Login, the language switch and the service-star approval all refuse a `next` that a
    browser would take off-site (one helper: redirects.safe_next)."""
    from redirects import safe_next
    assert safe_next(target) is None and safe_next("/admin/customer/?page=2") == "/admin/customer/?page=2"
    client.fetch_csrf("/login")
    response = client.post("/login?" + urlencode({"next": target}), {"username": "staff", "password": "correct-horse-9"})
    assert response.headers["Location"] == "/admin/my-work/"  # staff land on their work
    assert client.get("/lang/en?" + urlencode({"next": target})).headers["Location"] == "/admin/"
    manager = login_as("manager")
    response = manager.post("/admin/scoring/staff/approve/", {"staff_id": "999", "kind": "star_month",
                                                              "period": "2026-11", "next": target})
    assert response.headers["Location"] == "/admin/scoring/staff/"


def test_passwords_are_hashed_with_argon2id(app, office):
    with app.app_context():
        user = User.get(User.username == "staff")
        assert user.password_hash.startswith("$argon2id$")
        assert user.check_password("correct-horse-9")
        assert not user.check_password("correct-horse-8")


def test_inactive_account_cannot_log_in(app, client, office):
    with app.app_context():
        User.update(active=False).where(User.username == "manager").execute()
    client.login("manager")
    assert client.get("/admin/").status_code == 302


def test_logout_needs_post_and_ends_the_session(login_as):
    staff = login_as("staff")
    assert staff.get("/logout").status_code == 405
    staff.post("/logout", {})
    assert staff.get("/admin/customer/").status_code == 302


def test_customer_text_is_escaped_in_admin_pages(app, login_as, office):
    probe = '<script>alert("x")</script>'
    with app.app_context():
        customer = make_customer(office["branch"], name=probe, opinions=probe)
    staff = login_as("staff")
    for url in ("/admin/customer/", f"/admin/customer/details/?id={customer.id}", f"/admin/customer/edit/?id={customer.id}"):
        page = staff.get(url).get_data(as_text=True)
        assert probe not in page, url
        assert "&lt;script&gt;" in page, url


def test_responses_carry_basic_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "HttpOnly" in response.headers.get("Set-Cookie", "HttpOnly")


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "javascript:alert(1)"])
def test_star_approval_redirects_only_to_local_paths(login_as, target):
    response = login_as("manager").post("/admin/scoring/staff/approve/", {"next": target, "staff_id": "1",
                                                                          "kind": "star_month", "period": "x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/scoring/staff/"


def test_database_file_and_instance_folder_are_private(tmp_path):
    import os
    import stat

    from app import create_app
    from models import db
    from models.base import release_connections
    folder = tmp_path / "instance-new"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{folder / 'office.db'}"})
    with app.app_context():
        db.connect(reuse_if_open=True)
        db.execute_sql("CREATE TABLE probe (id INTEGER)")
        db.close()
    release_connections()
    assert stat.S_IMODE(os.stat(folder / "office.db").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_admin_pages_and_downloads_are_not_cached_and_carry_a_policy(login_as):
    manager = login_as("manager")
    for url in ("/admin/customer/", "/admin/customer/export/csv/", "/admin/report-workbooks/download/?kind=weekly"):
        response = manager.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    page = manager.get("/admin/customer/")
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in page.get_data(as_text=True)
    assert "onclick=" not in page.get_data(as_text=True)
