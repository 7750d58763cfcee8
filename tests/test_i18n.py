"""The UI speaks Chinese by default and English on request; every string of ours is translated."""
from translations.catalog import missing


def test_every_ui_string_has_a_chinese_translation():
    gaps = missing("zh_CN")
    assert not gaps, "untranslated (run python -m translations.catalog --missing):\n" + "\n".join(
        f"{where}  {msgid}" for msgid, where in list(gaps.items())[:40])


def test_default_language_is_chinese(login_as):
    html = login_as("staff").get("/admin/customer/").get_data(as_text=True)
    assert "客户档案" in html and "单位" in html and "等级" in html
    assert "Customers" not in html and "Organisation" not in html
    assert "保存" in login_as("staff").get("/admin/customer/new/").get_data(as_text=True)  # Flask-Admin's own zh


def test_language_switch_shows_english_labels(login_as):
    staff = login_as("staff")
    response = staff.get("/lang/en?next=/admin/customer/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/customer/"
    html = staff.get("/admin/customer/").get_data(as_text=True)
    assert "Customers" in html and "Organisation" in html and "Grade" in html
    assert "Save" in staff.get("/admin/customer/new/").get_data(as_text=True)
    staff.get("/lang/zh_CN")
    assert "客户" in staff.get("/admin/customer/").get_data(as_text=True)


def test_browser_language_is_honoured_before_a_choice_is_made(client, office):
    html = client.http.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in" in html
    html = client.http.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "登录" in html


def test_choice_labels_are_translated(app, login_as, office):
    from .helpers import make_customer
    with app.app_context():
        make_customer(office["branch"], grade="vip", kind="government")
    staff = login_as("staff")
    assert "政府机构" in staff.get("/admin/customer/").get_data(as_text=True)
    staff.get("/lang/en")
    assert "Government agency" in staff.get("/admin/customer/").get_data(as_text=True)


def test_unknown_language_code_is_ignored(login_as):
    staff = login_as("staff")
    staff.get("/lang/xx")
    assert "客户" in staff.get("/admin/customer/").get_data(as_text=True)


def test_no_string_is_translated_two_ways_across_areas():
    from translations.catalog import merged_catalog
    conflicts = []
    merged_catalog("zh_CN", conflicts)
    assert conflicts == []
