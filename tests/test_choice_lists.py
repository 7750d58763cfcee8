"""The product's own choice lists as data (系统 → 选项列表): the administrator adds, renames,
reorders and deactivates values in the browser's forms, and every surface reads the list as it
is now: the complaint form, the list filter, the complaint page, the export, the reports (by
code), the customer import and its template. A deactivated value stays on old rows; a value in
use, and a built-in one, is never deleted; codes never change once used."""
import io
import re
from datetime import datetime

import openpyxl
import pytest

from models import ChoiceList, ChoiceValue, Complaint, Customer, clock
from models.answers import followup_category
from models.choices import PRODUCT_LISTS, seed_product_lists
from models.complaints import CATEGORIES, CATEGORY_LIST
from models.reports import complaints_by_category, custom_period
from models.validation import ValidationError

from .helpers import count_queries, make_complaint, make_customer

NOW = datetime(2026, 11, 23, 10, 0)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def list_id(code):
    return ChoiceList.get(ChoiceList.code == code).id


def value(list_code, code):
    return ChoiceValue.get(ChoiceValue.choice_list == list_id(list_code), ChoiceValue.code == code)


def options(page, select_id):
    """[(value, text)] of a <select> of a form page."""
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(v, re.sub(r"\s+", " ", t).strip()) for v, t in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)<', select)]


def filter_options(page, name):
    """{value: text} a list page's filter `name` offers (Flask-Admin hands them to its script as JSON)."""
    import json
    groups = json.loads(re.search(r'<div id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S).group(1))
    return {str(code): text for code, text in groups[name][0]["options"]}


def category_filter(app, operation="FilterEqual"):
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "complaint")
    for key, (_index, flt) in view._filter_args.items():
        if getattr(flt, "column", None) is Complaint.category and type(flt).__name__ == operation:
            return f"flt0_{key}"
    raise LookupError(operation)


def new_complaint(client, office, customer, category, title="账单：计费错误：本月重复收费"):
    return client.post("/admin/complaint/new/", data={
        "customer": str(customer.id), "branch": str(office["branch"].id), "channel": "phone", "category": category,
        "severity": "normal", "compensation": "none", "title": title, "first_responder": str(office["staff"].id)})


def exported_categories(client):
    response = client.get("/admin/complaint/export/xlsx/")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    return {row[header.index("标题")]: row[header.index("类别")] for row in sheet.iter_rows(min_row=2, values_only=True)}


def test_a_new_database_has_every_list_with_todays_values(app):
    with app.app_context():
        assert set(PRODUCT_LISTS) <= {code for (code,) in ChoiceList.select(ChoiceList.code).tuples()}
        for product in PRODUCT_LISTS.values():
            assert product.codes() == [code for code, _label in product.defaults], product.code
        attitude = value("complaint_category", "attitude")
        assert (attitude.label_zh, attitude.label_en, attitude.active) == ("服务态度", "Service attitude", True)
        assert ChoiceList.get(ChoiceList.code == "complaint_category").name_zh == "投诉类别"
        assert seed_product_lists() == []  # a list that exists is left as the office made it


def test_an_added_category_is_offered_recorded_filtered_exported_and_counted_by_code(app, office, login_as):
    with app.app_context():
        customer = make_customer(office["branch"], name="周丽")
        make_complaint(customer, title="旧投诉：服务态度", category="attitude")
        categories = list_id("complaint_category")
    admin = login_as("admin")
    values_page = admin.get(f"/admin/choicevalue/?list={categories}").get_data(as_text=True)
    assert "投诉类别" in values_page and "服务态度" in values_page and 'id="add-value"' in values_page
    form = admin.get(f"/admin/choicevalue/new/?list={categories}").get_data(as_text=True)
    assert f'<option selected value="{categories}">' in form or f'value="{categories}" selected' in form
    response = admin.post(f"/admin/choicevalue/new/?list={categories}", data={
        "choice_list": str(categories), "label_zh": "账单争议", "label_en": "Billing dispute", "code": "",
        "position": "15", "active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        billing = value("complaint_category", "billing_dispute")  # the code comes from the English label
        assert billing.label_zh == "账单争议"

    staff = login_as("staff")
    offered = options(staff.get("/admin/complaint/new/").get_data(as_text=True), "category")
    assert [text for _code, text in offered][:3] == ["服务态度", "账单争议", "人为失误"]  # in the list's order
    assert new_complaint(staff, office, customer, "billing_dispute").status_code == 302
    with app.app_context():
        recorded = Complaint.get(Complaint.title.startswith("账单"))
        assert recorded.category == "billing_dispute"
    assert "账单争议" in staff.get(f"/admin/complaint/details/?id={recorded.id}").get_data(as_text=True)

    listing = staff.get("/admin/complaint/").get_data(as_text=True)
    assert filter_options(listing, "类别")["billing_dispute"] == "账单争议"
    filtered = staff.get(f"/admin/complaint/?{category_filter(app)}=billing_dispute").get_data(as_text=True)
    assert recorded.number in filtered and "旧投诉" not in filtered

    manager = login_as("manager")
    assert exported_categories(manager) == {"账单：计费错误：本月重复收费": "账单争议", "旧投诉：服务态度": "服务态度"}

    # renamed: every surface shows the new label, the stored code and the figures do not change
    admin.post(f"/admin/choicevalue/edit/?id={billing.id}", data={
        "choice_list": str(categories), "label_zh": "计费争议", "label_en": "Billing dispute",
        "code": "billing_dispute", "position": "15", "active": "y"})
    assert "计费争议" in staff.get(f"/admin/complaint/details/?id={recorded.id}").get_data(as_text=True)
    assert exported_categories(manager)["账单：计费错误：本月重复收费"] == "计费争议"
    with app.app_context():
        assert Complaint.get_by_id(recorded.id).category == "billing_dispute"
        month = custom_period(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date())
        counts = complaints_by_category(month.start, month.end)
        assert counts["billing_dispute"] == 1 and counts["attitude"] == 1 and counts["quality"] == 0
        assert list(counts)[:2] == ["attitude", "billing_dispute"]
    dashboard = manager.get("/admin/").get_data(as_text=True)
    row = re.search(r'<tr data-category="billing_dispute">(.*?)</tr>', dashboard, re.S).group(1)
    assert "计费争议" in row and "/admin/complaint/?" in row


def test_a_deactivated_category_stays_on_old_complaints_and_is_not_offered_for_new_ones(app, office, login_as):
    with app.app_context():
        customer = make_customer(office["branch"], name="周丽")
        old = make_complaint(customer, title="旧投诉：产品质量问题", category="quality")
        quality = value("complaint_category", "quality")
    admin = login_as("admin")
    response = admin.post(f"/admin/choicevalue/edit/?id={quality.id}", data={
        "choice_list": str(quality.choice_list_id), "label_zh": "产品质量", "label_en": "Product quality",
        "code": "quality", "position": str(quality.position)})  # "active" unticked
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert not value("complaint_category", "quality").active

    staff = login_as("staff")
    assert "quality" not in dict(options(staff.get("/admin/complaint/new/").get_data(as_text=True), "category"))
    refused = new_complaint(staff, office, customer, "quality", title="新投诉：不应保存")
    assert refused.status_code == 200
    with app.app_context():
        assert not Complaint.select().where(Complaint.title.startswith("新投诉")).exists()
        with pytest.raises(ValidationError, match="已停用|no longer"):
            make_complaint(customer, title="脚本写入：停用类别", category="quality")

    # the old complaint keeps it: its page, its edit form, the list, the export, the reports
    edit = staff.get(f"/admin/complaint/edit/?id={old.id}").get_data(as_text=True)
    assert ("quality", "产品质量") in options(edit, "category")
    assert "产品质量" in staff.get(f"/admin/complaint/details/?id={old.id}").get_data(as_text=True)
    response = staff.post(f"/admin/complaint/edit/?id={old.id}", data={
        "customer": str(customer.id), "branch": str(office["branch"].id), "channel": "phone", "category": "quality",
        "severity": "high", "compensation": "none", "title": "旧投诉：产品质量问题（已核实）",
        "first_responder": str(office["staff"].id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert Complaint.get_by_id(old.id).category == "quality"
    listing = staff.get(f"/admin/complaint/?{category_filter(app)}=quality").get_data(as_text=True)
    assert old.number in listing and filter_options(listing, "类别")["quality"] == "产品质量 (已停用)"
    assert exported_categories(login_as("manager")) == {"旧投诉：产品质量问题（已核实）": "产品质量"}
    with app.app_context():
        month = custom_period(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date())
        assert complaints_by_category(month.start, month.end)["quality"] == 1
        # a survey follow-up would have been "quality": with it deactivated, "other"
        assert followup_category("quality") == "other" and followup_category("attitude") == "attitude"


def test_values_in_use_and_built_in_values_are_never_deleted_nor_recoded(app, office, login_as):
    with app.app_context():
        make_complaint(make_customer(office["branch"]), category="quality")
        quality, other = value("complaint_category", "quality"), value("complaint_category", "other")
        spare = ChoiceValue.create(choice_list=quality.choice_list_id, code="spare", label_zh="备用")
        channels = list_id("complaint_channel")
    admin = login_as("admin")
    page = admin.post("/admin/choicevalue/delete/", data={"id": str(quality.id), "url": "/admin/choicevalue/"},
                      follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in page
    admin.post("/admin/choicevalue/delete/", data={"id": str(spare.id), "url": "/admin/choicevalue/"})
    renamed = admin.post(f"/admin/choicevalue/edit/?id={quality.id}", data={
        "choice_list": str(quality.choice_list_id), "label_zh": "产品质量", "code": "product_quality",
        "position": "50", "active": "y"}, follow_redirects=True).get_data(as_text=True)
    assert "不能修改" in renamed or "cannot change" in renamed
    kept_on = admin.post(f"/admin/choicevalue/edit/?id={other.id}", data={
        "choice_list": str(other.choice_list_id), "label_zh": "其他类别", "label_en": "Other", "code": "other",
        "position": "60"}, follow_redirects=True).get_data(as_text=True)  # deactivating a built-in value
    assert "系统内置" in kept_on
    too_long = admin.post(f"/admin/choicevalue/new/?list={channels}", data={
        "choice_list": str(channels), "label_zh": "微信公众号", "code": "wechat_official", "position": "70",
        "active": "y"}, follow_redirects=True).get_data(as_text=True)
    assert "过长" in too_long
    lists = admin.post("/admin/choicelist/delete/", data={"id": str(channels), "url": "/admin/choicelist/"},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能删除" in lists
    built_in = admin.get(f"/admin/choicevalue/?list={quality.choice_list_id}").get_data(as_text=True)
    assert built_in.count("badge-info") == 1  # "other": the default of the category
    with app.app_context():
        assert value("complaint_category", "quality").code == "quality"
        assert value("complaint_category", "other").active and value("complaint_category", "other").label_zh == "其他"
        assert not ChoiceValue.select().where(ChoiceValue.code.in_(["spare", "wechat_official"])).exists()
        assert ChoiceList.select().where(ChoiceList.id == channels).exists()
        with pytest.raises(ValidationError):
            make_complaint(make_customer(office["branch"], name="吴刚"), category="no_such_category")


def test_the_lists_are_read_once_per_page(app, office, login_as):
    with app.app_context():
        customer = make_customer(office["branch"])
        for number in range(5):
            make_complaint(customer, title=f"投诉{number}：服务态度")
    staff = login_as("staff")
    for url in ("/admin/complaint/", "/admin/complaint/new/", "/admin/customer/",
                f"/admin/complaint/details/?id={Complaint.select().first().id}"):
        with count_queries() as counter:
            assert staff.get(url).status_code == 200
        reads = [s for s in counter.statements if '"choice_value"' in s and s.lstrip().upper().startswith("SELECT")]
        assert len(reads) == 1, (url, reads)


def test_the_customer_import_takes_the_offices_kinds(app, office, login_as, tmp_path):
    app.config["IMPORT_STAGING_DIR"] = str(tmp_path / "imports")
    with app.app_context():
        kinds = list_id("customer_kind")
        ChoiceValue.create(choice_list=kinds, code="hospital", label_zh="医院", label_en="Hospital", position=60)
        owner = value("customer_kind", "owner")
        owner.active = False
        owner.save()
    manager = login_as("manager")
    template = openpyxl.load_workbook(io.BytesIO(manager.get("/admin/customer-import/template.xlsx").data))
    allowed_kinds = [row[0] for row in template.worksheets[1].iter_rows(min_row=2, values_only=True) if row[0]]
    assert "医院" in allowed_kinds and "业主" not in allowed_kinds
    workbook = openpyxl.Workbook()
    workbook.active.append(["Name", "Customer kind", "Branch"])
    workbook.active.append(["钱进", "医院", "江苏分公司"])
    workbook.active.append(["孙悦", "业主", "江苏分公司"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = manager.post("/admin/customer-import/preview/", {"file": (io.BytesIO(buffer.getvalue()), "c.xlsx")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "“业主”已停用" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    manager.post("/admin/customer-import/confirm/", {"token": token, "mode": "valid"})
    with app.app_context():
        assert Customer.get(Customer.name == "钱进").kind == "hospital"
        assert not Customer.select().where(Customer.name == "孙悦").exists()
    assert "医院" in manager.get("/admin/customer/?search=钱进").get_data(as_text=True)


def test_the_upgrade_gives_an_older_database_its_lists_and_keeps_every_stored_code(app, office):
    from models.migrations import MIGRATIONS
    with app.app_context():
        complaint = make_complaint(make_customer(office["branch"]), category="quality")
        Complaint.update(category="legacy").where(Complaint.id == complaint.id).execute()  # outside any list
        ChoiceValue.delete().execute()
        ChoiceList.delete().execute()
        assert CATEGORY_LIST.codes() == [code for code, _label in CATEGORIES]  # no list: the Python constant
        assert CATEGORY_LIST.label("quality") == "产品质量"
        migration = next(function for version, _name, function in MIGRATIONS if version == 71)
        migration(None)
        assert set(PRODUCT_LISTS) == {code for (code,) in ChoiceList.select(ChoiceList.code).tuples()}
        legacy = value("complaint_category", "legacy")
        assert (legacy.label_zh, legacy.active) == ("legacy", False)
        assert CATEGORY_LIST.codes()[-1] == "legacy" and "legacy" not in CATEGORY_LIST.codes(active_only=True)
        assert Complaint.get_by_id(complaint.id).category == "legacy"
