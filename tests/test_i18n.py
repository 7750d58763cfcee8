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


def test_flask_admins_own_strings_are_chinese_where_its_catalog_fails(app, login_as, office):
    from .helpers import make_customer
    with app.app_context():
        customer = make_customer(office["branch"], churned=False)
    staff = login_as("staff")
    listing = staff.get("/admin/customer/").get_data(as_text=True)
    assert "20 条/页" in listing and "每页 50 条" in listing and "items" not in listing and "项目" not in listing
    assert "对选中记录" in listing
    details = staff.get(f"/admin/customer/details/?id={customer.id}").get_data(as_text=True)
    assert "False" not in details and "True" not in details
    form = staff.get("/admin/complaint/new/").get_data(as_text=True)
    assert "请选择模型" not in form and "输入姓名、单位或电话查找" in form
    refused = staff.post("/admin/customer/new/", {"name": ""}).get_data(as_text=True)
    assert "创建记录失败。" in refused and "Failed to create record." not in refused
    staff.get("/lang/en")
    assert "Failed to create record." in staff.post("/admin/customer/new/", {"name": ""}).get_data(as_text=True)


def test_booleans_read_yes_or_no(app, login_as, office):
    from models import Customer

    from .helpers import make_customer
    with app.app_context():
        customer = make_customer(office["branch"])
        Customer.update(churned=True).where(Customer.id == customer.id).execute()
    manager = login_as("manager")
    page = manager.get(f"/admin/staff/details/?id={office['staff'].id}").get_data(as_text=True)
    assert "<td>\n              是\n" in page or ">是<" in page.replace("\n", "").replace(" ", "")
    assert 'title="是"' in manager.get("/admin/staff/").get_data(as_text=True)


def test_the_date_picker_speaks_chinese(login_as):
    page = login_as("staff").get("/admin/complaint/").get_data(as_text=True)
    import json
    assert "moment.locale('zh-cn'" in page and json.dumps("确定") in page and "' 至 '" in page


def test_a_date_range_written_the_chinese_way_filters_like_the_english_one(app, login_as, office):
    import re
    from datetime import datetime

    from models import clock

    from .helpers import make_complaint, make_customer
    with app.app_context():
        customer = make_customer(office["branch"])
        clock.freeze(datetime(2026, 5, 4, 10, 0))
        inside = make_complaint(customer, title="五月的投诉")
        clock.freeze(datetime(2026, 6, 4, 10, 0))
        make_complaint(customer, title="六月的投诉")
        clock.freeze(None)
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "complaint")
    index = next(i for i, f in enumerate(view._filters)
                 if type(f).__name__ == "DateTimeBetweenFilter" and f.column.name == "received_at")
    arg = f"flt0_{view.get_filter_arg(index, view._filters[index])}"
    staff = login_as("staff")
    for value in ("2026-05-01 00:00:00 至 2026-05-31 23:59:59", "2026-05-01 00:00:00 to 2026-05-31 23:59:59"):
        page = staff.get("/admin/complaint/", query_string={arg: value}).get_data(as_text=True)
        assert re.findall(r"问字【\d{4}】\d+号", page) == [inside.number], value
