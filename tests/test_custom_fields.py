"""Custom fields: an administrator adds fields to complaints and customer files; staff fill
them in the forms (checked), see them on the details page and in the list, filter by them,
and find them in exports and in the customer import."""
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from models import Complaint, Customer, History
from models.choices import ChoiceList, ChoiceValue, ChoiceError, create_list
from models.custom_fields import (ComplaintFieldValue, CustomerFieldValue, CustomField, CustomFieldError, clean,
                                  read_values, write_values)

from .helpers import make_complaint, make_customer


@pytest.fixture
def fields(app):
    """A text field and a single choice on complaints, a required number and a multiple choice
    on customer files."""
    with app.app_context():
        product = create_list("complaint_product_line", "产品线", "Product line",
                              [("water", "供水", "Water"), ("heating", "供暖", "Heating"), ("gas", "燃气", "Gas")])
        contract = CustomField.create(entity="complaint", label_zh="合同编号", label_en="Contract number",
                                      kind="text", in_list=True, in_filter=True, position=1)
        line = CustomField.create(entity="complaint", label_zh="产品线", label_en="Product line", kind="choice",
                                  choice_list=product, in_list=True, in_filter=True, position=2)
        tags = create_list("customer_interest", "关注点", "Interests",
                           [("price", "价格", "Price"), ("speed", "速度", "Speed"), ("service", "服务", "Service")])
        area = CustomField.create(entity="customer", label_zh="用水面积", label_en="Area", kind="number",
                                  required=True, in_list=True, in_filter=True)
        interests = CustomField.create(entity="customer", label_zh="关注点", label_en="Interests",
                                       kind="multi_choice", choice_list=tags, in_filter=True)
        visit = CustomField.create(entity="customer", label_zh="上次走访", label_en="Last visit", kind="date")
        return {"contract": contract, "line": line, "area": area, "interests": interests, "visit": visit,
                "product": product}


def complaint_form(office, customer, **custom):
    return {"customer": str(customer.id), "branch": str(office["branch"].id), "channel": "phone",
            "category": "attitude", "severity": "normal", "title": "供水：抢修人员态度冷淡", "description": "",
            "compensation": "none", **custom}


def test_a_complaint_is_recorded_with_its_custom_fields_and_shown(app, login_as, office, fields):
    with app.app_context():
        customer = make_customer(office["branch"])
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    form = staff.get("/admin/complaint/new/").get_data(as_text=True)
    assert 'name="cf_contract_number"' in form and 'name="cf_product_line"' in form
    response = staff.post("/admin/complaint/new/", complaint_form(office, customer, cf_contract_number="HT-2026-017",
                                                                  cf_product_line="heating"))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        complaint = Complaint.get()
        stored = read_values("complaint", [complaint.id])[complaint.id]
        assert stored == {fields["contract"].id: "HT-2026-017", fields["line"].id: "heating"}
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "Contract number" in page and "HT-2026-017" in page and "Heating" in page
    listing = staff.get("/admin/complaint/").get_data(as_text=True)
    assert "HT-2026-017" in listing and "Product line" in listing


def test_bad_custom_values_are_refused_next_to_the_field_and_nothing_is_saved(app, login_as, office, fields):
    with app.app_context():
        customer = make_customer(office["branch"])
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    response = staff.post("/admin/complaint/new/", complaint_form(office, customer, cf_contract_number="x" * 300,
                                                                  cf_product_line="nuclear"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "at most 255 characters" in page and "is not one of" in page
    # a required number on the customer file
    response = staff.post("/admin/customer/new/", {"name": "李娜", "branch": str(office["branch"].id), "kind": "household",
                                                   "grade": "regular", "lifecycle": "new", "deal_state": "none",
                                                   "cf_area": "大约一百"})
    assert response.status_code == 200 and "is not a number" in response.get_data(as_text=True)
    response = staff.post("/admin/customer/new/", {"name": "李娜", "branch": str(office["branch"].id), "kind": "household",
                                                   "grade": "regular", "lifecycle": "new", "deal_state": "none"})
    assert response.status_code == 200 and "Area is required" in response.get_data(as_text=True)
    with app.app_context():
        assert Complaint.select().count() == 0 and Customer.select().count() == 1
        assert ComplaintFieldValue.select().count() == 0 and CustomerFieldValue.select().count() == 0


def test_an_edit_changes_custom_values_with_history_and_keeps_a_deactivated_choice(app, login_as, office, fields):
    with app.app_context():
        complaint = make_complaint(make_customer(office["branch"]))
        write_values("complaint", complaint.id, {fields["line"]: "gas", fields["contract"]: "HT-1"})
        ChoiceValue.update(active=False).where(ChoiceValue.code == "gas").execute()
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    edit = staff.get(f"/admin/complaint/edit/?id={complaint.id}").get_data(as_text=True)
    assert '<option selected value="gas">Gas</option>' in edit  # kept on the old complaint
    new = staff.get("/admin/complaint/new/").get_data(as_text=True)
    assert 'value="gas"' not in new and 'value="water"' in new  # not offered on a new one
    form = complaint_form(office, complaint.customer, cf_contract_number="HT-2", cf_product_line="gas")
    form["customer"] = str(complaint.customer_id)
    response = staff.post(f"/admin/complaint/edit/?id={complaint.id}", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert read_values("complaint", [complaint.id])[complaint.id][fields["line"].id] == "gas"
        change = History.get(History.field == "cf_contract_number")
        assert (change.old_value, change.new_value) == ("HT-1", "HT-2")


def filter_index(app, endpoint):
    """{(field code, operation): filter index} of a list view's custom-field filters, as its URL uses them."""
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == endpoint)
    with app.test_request_context(f"/admin/{endpoint}/"):
        view._refresh_custom_columns()
        return {(f.field.code, f.op): i for i, f in enumerate(view._filters) if hasattr(f, "field")}


def test_the_list_is_filtered_by_custom_fields(app, login_as, office, fields):
    with app.app_context():
        customer = make_customer(office["branch"])
        first = make_complaint(customer, title="甲")
        second = make_complaint(customer, title="乙")
        write_values("complaint", first.id, {fields["line"]: "water", fields["contract"]: "HT-77"})
        write_values("complaint", second.id, {fields["line"]: "heating", fields["contract"]: "HT-78"})
        big = make_customer(office["branch"], name="大户", phone="13900000000")
        small = make_customer(office["branch"], name="小户", phone="13700000000")
        write_values("customer", big.id, {fields["area"]: Decimal("1200.5"), fields["interests"]: ["price", "speed"]})
        write_values("customer", small.id, {fields["area"]: Decimal("80"), fields["interests"]: ["service"]})
    manager = login_as("manager")
    manager.http.set_cookie("lang", "en")
    page = manager.get("/admin/complaint/").get_data(as_text=True)
    assert "Product line" in page  # offered as a filter
    index = filter_index(app, "complaint")
    line_eq = index[("product_line", "eq")]
    contract_contains = index[("contract_number", "contains")]
    only_water = manager.get(f"/admin/complaint/?flt0_{line_eq}=water").get_data(as_text=True)
    assert "HT-77" in only_water and "HT-78" not in only_water
    by_contract = manager.get(f"/admin/complaint/?flt0_{contract_contains}=78").get_data(as_text=True)
    assert "HT-78" in by_contract and "HT-77" not in by_contract
    index = filter_index(app, "customer")
    large = manager.get(f"/admin/customer/?flt0_{index[('area', 'gt')]}=1000").get_data(as_text=True)
    assert "大户" in large and "小户" not in large
    speed = manager.get(f"/admin/customer/?flt0_{index[('interests', 'eq')]}=speed").get_data(as_text=True)
    assert "大户" in speed and "小户" not in speed
    # nonsense in a number filter: a message, no 500
    assert manager.get(f"/admin/customer/?flt0_{index[('area', 'gt')]}=abc").status_code == 200


def test_a_common_value_is_read_in_list_order_with_the_same_rows(app, login_as, office, fields, monkeypatch):
    """A filter value held by many rows switches to a correlated EXISTS for the page
    (models.custom_fields.FieldMatch): the same rows, in the list's order, the same count."""
    with app.app_context():
        customer = make_customer(office["branch"])
        made = []
        for number in range(5):
            complaint = make_complaint(customer, title=f"投诉{number}")
            write_values("complaint", complaint.id, {fields["line"]: "water" if number != 2 else "gas"})
            made.append(complaint)
    manager = login_as("manager")
    index = filter_index(app, "complaint")
    url = f"/admin/complaint/?flt0_{index[('product_line', 'eq')]}=water&sort=1"
    few = manager.get(url).get_data(as_text=True)
    import models.custom_fields as custom_fields
    monkeypatch.setattr(custom_fields, "COMMON_MATCHES", 2)
    many = manager.get(url).get_data(as_text=True)
    titles = [f"投诉{n}" for n in (0, 1, 3, 4)]
    for page in (few, many):
        assert [t for t in titles if t in page] == titles and "投诉2" not in page
        assert "列表 (4)" in page or "List (4)" in page
    order = [many.index(t) for t in titles]
    assert order == sorted(order) or order == sorted(order, reverse=True)


def test_exports_carry_the_custom_fields(app, login_as, office, fields):
    with app.app_context():
        customer = make_customer(office["branch"])
        complaint = make_complaint(customer)
        write_values("complaint", complaint.id, {fields["line"]: "heating", fields["contract"]: "HT-9"})
        write_values("customer", customer.id, {fields["area"]: Decimal("99.5"), fields["interests"]: ["speed", "price"],
                                               fields["visit"]: date(2026, 11, 2)})
    manager = login_as("manager")
    manager.http.set_cookie("lang", "en")
    sheet = load_workbook(io.BytesIO(manager.get("/admin/complaint/export/xlsx/").data)).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]]))
    assert row["Contract number"] == "HT-9" and row["Product line"] == "Heating"
    sheet = load_workbook(io.BytesIO(manager.get("/admin/customer/export/xlsx/").data)).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]]))
    assert row["Area"] == 99.5 and row["Interests"] in ("Price、Speed", "Speed、Price")
    assert row["Last visit"].date() == date(2026, 11, 2)
    csv_text = manager.get("/admin/customer/export/csv/").get_data(as_text=True)
    assert "Area" in csv_text.splitlines()[0] and "99.5" in csv_text
    details = manager.get(f"/admin/customer/details/?id={customer.id}").get_data(as_text=True)
    assert "Area" in details and "99.5" in details and "2026-11-02" in details


def test_the_customer_import_template_and_importer_know_the_custom_fields(app, login_as, office, fields):
    manager = login_as("manager")
    manager.http.set_cookie("lang", "en")
    template = load_workbook(io.BytesIO(manager.get("/admin/customer-import/template.xlsx").data))
    headers = [cell.value for cell in template.worksheets[0][1]]
    assert "Area *" in headers and "Interests" in headers and "Last visit" in headers
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name *", "Branch *", "Area *", "关注点", "上次走访"])
    sheet.append(["赵六", office["branch"].name, "1,200", "价格、速度", "2026/11/02"])
    sheet.append(["钱七", office["branch"].name, "", "", ""])
    sheet.append(["孙八", office["branch"].name, "12", "飞行", "明天"])
    data = io.BytesIO()
    workbook.save(data)
    with app.test_request_context():
        from exports.importer import import_customers, preview_customers
        preview = preview_customers(data.getvalue(), "xlsx")
        errors = {(e.row, e.column) for e in preview.errors}
        assert (3, "用水面积") in errors or (3, "Area") in errors
        assert {e.row for e in preview.errors} == {3, 4}
        created = import_customers(preview, "valid")
        assert [c.name for c in created] == ["赵六"]
        stored = read_values("customer", [created[0].id])[created[0].id]
        assert stored[fields["area"].id] == Decimal("1200")
        assert sorted(stored[fields["interests"].id]) == ["price", "speed"]
        assert stored[fields["visit"].id] == date(2026, 11, 2)


def test_definitions_are_checked_and_a_field_with_values_is_deactivated_not_deleted(app, login_as, office, fields):
    with app.app_context():
        with pytest.raises(CustomFieldError):
            CustomField.create(entity="complaint", label_zh="", label_en="", kind="text")
        with pytest.raises(CustomFieldError):
            CustomField.create(entity="complaint", label_zh="重复", label_en="Contract number", kind="text")
        with pytest.raises(CustomFieldError):
            CustomField.create(entity="complaint", label_zh="无选项", kind="choice")
        assert CustomField.create(entity="complaint", label_zh="备注二", kind="long_text").code == "field3"
        complaint = make_complaint(make_customer(office["branch"]))
        write_values("complaint", complaint.id, {fields["contract"]: "HT-1"})
        contract = CustomField.get_by_id(fields["contract"].id)
        contract.kind = "number"
        with pytest.raises(CustomFieldError):
            contract.save()
        with pytest.raises(ChoiceError):
            write_values("complaint", complaint.id, {fields["line"]: "water"})
            ChoiceValue.get(ChoiceValue.code == "water").delete_instance()
        assert clean(fields["area"], "1,234.5") == Decimal("1234.5")
        with pytest.raises(CustomFieldError):
            clean(fields["area"], "1.00001")
    admin = login_as("admin")
    response = admin.post("/admin/customfield/delete/", {"id": str(fields["contract"].id)})
    assert response.status_code == 302
    with app.app_context():
        assert CustomField.get_by_id(fields["contract"].id).active is False
        assert ComplaintFieldValue.select().where(ComplaintFieldValue.field == fields["contract"].id).count() == 1
    # a field without values is deleted
    response = admin.post("/admin/customfield/delete/", {"id": str(fields["visit"].id)})
    with app.app_context():
        assert CustomField.get_or_none(CustomField.id == fields["visit"].id) is None


def test_an_administrator_defines_a_choice_field_with_its_values_in_one_form(app, login_as):
    admin = login_as("admin")
    response = admin.post("/admin/customfield/new/", {
        "entity": "complaint", "label_zh": "故障类型", "label_en": "Fault type", "code": "", "kind": "choice",
        "options": "漏水 | Leak\n停水 | Outage\n水质", "required": "y", "in_list": "y", "in_filter": "y",
        "position": "5", "active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        field = CustomField.get(CustomField.code == "fault_type")
        assert field.required and field.choice_list is not None
        assert [(v.code, v.label_zh) for v in field.choice_list.values()] == [
            ("leak", "漏水"), ("outage", "停水"), ("opt3", "水质")]
        assert ChoiceList.select().count() == 1
    response = admin.post("/admin/customfield/new/", {"entity": "complaint", "label_zh": "空选项", "kind": "choice",
                                                      "position": "0", "active": "y"})
    assert response.status_code == 200
