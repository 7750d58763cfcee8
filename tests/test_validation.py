"""Values are checked in the model layer (models/validation.py): every save refuses nonsense,
the admin forms show the message next to the field and keep what was typed, the customer
import uses the same rules."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from models import Complaint, Customer, Rectification, RewardPenalty, Staff, User, clock
from models.validation import (ValidationError, amount_problem, email_problem, first_deal_date_problem,
                               hire_date_problem, mobile_problem, phone_problem, promised_date_problem)

from .helpers import make_complaint, make_customer, make_staff

T0 = datetime(2026, 5, 4, 10, 0)


@pytest.mark.parametrize("phone", [
    "13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678", "+86-13912345678", "008613912345678",
    "010-12345678", "0931-8123456", "(0931) 8123456", "021 6123 4567", "+86 10 1234 5678", "87654321",
    "400-820-8820", "010-12345678 转 123", "010-12345678转123", "0931-8123456 ext. 12", "021-61234567 ext123",
    "021-61234567 x88", "010-12345678 分机 8001", "",
])
def test_chinese_phone_numbers_are_accepted(phone):
    assert phone_problem(phone) is None


@pytest.mark.parametrize("phone", [
    "1391234", "12345678901", "139123456789", "0139123456", "call me", "010-1234", "+1 415 555 0100",
    "13912345678/13800000000", "139 1234 5678 转", "+86 87654321", "010-12345678 ext. 1234567",
])
def test_phone_numbers_that_are_not_refused_with_a_reason(phone):
    problem = phone_problem(phone)
    assert problem and (phone in problem)


def test_email_amount_and_date_rules():
    assert email_problem("wang.fang@example.cn") is None and email_problem("") is None
    for bad in ("wang", "wang@", "wang@example", "wang fang@example.cn", "a@b@c.cn"):
        assert email_problem(bad), bad
    assert amount_problem(Decimal("0")) is None and amount_problem("1,200.50") is None
    assert "negative" in amount_problem(Decimal("-50"))
    assert amount_problem("abc") and amount_problem(Decimal("10000000000"))
    today = date(2026, 5, 4)
    assert first_deal_date_problem(today, today) is None
    assert "future" in first_deal_date_problem(today + timedelta(days=1), today)
    assert first_deal_date_problem(date(1949, 12, 31), today)
    assert hire_date_problem(today + timedelta(days=90), today) is None
    assert hire_date_problem(today + timedelta(days=91), today) and hire_date_problem(date(1900, 1, 1), today)
    received = datetime(2026, 5, 4, 23, 59)
    assert promised_date_problem(date(2026, 5, 4), received) is None
    assert promised_date_problem(date(2027, 5, 5), received) is None  # 366 days ahead: still a promise
    assert "before" in promised_date_problem(date(2026, 5, 3), received)
    assert "check the year" in promised_date_problem(date(2062, 5, 4), received)


def test_every_save_checks_the_rules(app, office):
    clock.freeze(T0)
    branch = office["branch"]
    with pytest.raises(ValidationError) as refused:
        Customer.create(name="胡乱", branch=branch, phone="1391234", email="nope", monthly_spend=Decimal("-1"),
                        first_deal_date=date(2030, 1, 1))
    assert set(refused.value.errors) == {"phone", "email", "monthly_spend", "first_deal_date"}
    assert "Phone:" in str(refused.value)  # one line for the CLI and flash messages
    assert not Customer.select().where(Customer.name == "胡乱").exists()
    with pytest.raises(ValidationError):
        make_staff(branch, "E0100", hire_date=date(2062, 1, 1))
    with pytest.raises(ValidationError):
        make_complaint(make_customer(branch), compensation="compensation", compensation_amount=Decimal("-50"))
    assert Complaint.select().count() == 0
    complaint = make_complaint(make_customer(branch, name="李雷", phone="13900000001"))
    with pytest.raises(ValidationError) as refused:
        Rectification.create(complaint=complaint, problem_description="x", cause_analysis="x",
                             immediate_measures="x", long_term_measures="x", promised_date=date(2062, 5, 20))
    assert set(refused.value.errors) == {"promised_date"}
    with pytest.raises(ValidationError) as refused:
        RewardPenalty.create(staff=office["staff"], kind="promotion", amount=Decimal("-100"), reason="表扬")
    assert set(refused.value.errors) == {"amount"}
    # a partial save checks only what it writes: an old bad phone does not block another change
    Staff.update(phone="123").where(Staff.id == office["staff"].id).execute()
    person = Staff.get_by_id(office["staff"].id)
    person.position = "客服主管"
    person.save(only=[Staff.position])
    with pytest.raises(ValidationError):
        person.save()


def test_admin_form_shows_each_error_next_to_its_field_and_keeps_what_was_typed(app, login_as, office):
    clock.freeze(T0)
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    response = staff.post("/admin/customer/new/", {
        "name": "赵六", "organisation": "恒信科技", "phone": "1391234", "email": "zhao@", "kind": "enterprise",
        "grade": "regular", "monthly_spend": "-5", "lifecycle": "new", "deal_state": "none",
        "branch": office["branch"].id, "first_deal_date": "2062-05-04", "habits": "喜欢电话沟通"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not Customer.select().where(Customer.name == "赵六").exists()
    for field, message in (("phone", "does not look like a Chinese mobile"), ("email", "is not an e-mail address"),
                           ("monthly_spend", "cannot be negative"), ("first_deal_date", "cannot be in the future")):
        field_html = page[page.index(f'name="{field}"'):]
        assert message in field_html[:1500], field  # the message follows its own field
    for typed in ('value="赵六"', 'value="恒信科技"', 'value="1391234"', "喜欢电话沟通"):
        assert typed in page
    response = staff.post("/admin/customer/new/", {
        "name": "赵六", "phone": "139 1234 5678 转 8", "kind": "enterprise", "grade": "regular",
        "lifecycle": "new", "deal_state": "none", "branch": office["branch"].id, "first_deal_date": "2026-05-04"})
    assert response.status_code == 302
    assert Customer.get(Customer.name == "赵六").phone == "139 1234 5678 转 8"


def test_complaint_form_refuses_a_negative_compensation(app, login_as, office):
    clock.freeze(T0)
    customer = make_customer(office["branch"])
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    response = staff.post("/admin/complaint/new/", {
        "customer": customer.id, "branch": office["branch"].id, "channel": "phone", "category": "other",
        "severity": "normal", "title": "赔偿金额录入错误：负数", "compensation": "compensation",
        "compensation_amount": "-50"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "cannot be negative" in page
    assert 'value="赔偿金额录入错误：负数"' in page
    assert Complaint.select().count() == 0


def test_staff_form_refuses_a_hire_date_decades_ahead(app, login_as, office):
    clock.freeze(T0)
    manager = login_as("manager")
    manager.http.set_cookie("lang", "en")
    response = manager.post("/admin/staff/new/", {"name": "新人", "employee_no": "E0300",
                                                  "branch": office["branch"].id, "hire_date": "2062-05-04",
                                                  "phone": "0931-8123456 转 12", "active": "y"})
    assert response.status_code == 200 and "check the year" in response.get_data(as_text=True)
    assert not Staff.select().where(Staff.employee_no == "E0300").exists()


@pytest.mark.parametrize("mobile, ok", [
    ("13912345678", True), ("139 1234 5678", True), ("+86 139-1234-5678", True), ("008613912345678", True),
    ("", True), ("010-12345678", False), ("1391234", False), ("12345678901", False), ("abc", False),
])
def test_text_messages_need_a_mobile_number(mobile, ok):
    assert (mobile_problem(mobile) is None) == ok


def test_alert_addresses_of_staff_and_accounts_follow_the_rules(app, login_as, office):
    """Where alerts go (e-mail, SMS) is checked on every save, from the staff form too."""
    with pytest.raises(ValidationError) as refused:
        make_staff(office["branch"], "E0301", email="wang@", mobile="13912345678")
    assert set(refused.value.errors) == {"email"}
    with pytest.raises(ValidationError) as refused:
        User.create(username="new-user", role="staff", password_hash="x", mobile="0931-8123456")
    assert set(refused.value.errors) == {"mobile"}
    manager = login_as("manager")
    manager.http.set_cookie("lang", "en")
    response = manager.post("/admin/staff/new/", {"name": "新人", "employee_no": "E0302", "branch": office["branch"].id,
                                                  "mobile": "139 1234", "email": "xin@example.cn", "active": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "is not a mobile number" in page and 'value="139 1234"' in page
    assert not Staff.select().where(Staff.employee_no == "E0302").exists()


def test_the_customer_import_uses_the_same_rules(app, office):
    from exports.importer import preview_customers
    clock.freeze(T0)
    data = ("Name,Phone,Email,Average monthly spend,First deal date,Branch\n"
            "钱七,1391234,qian@example.cn,100,2026-01-01,江苏分公司\n"
            "孙八,+86 139 1234 5678,sun@,-3,2062-01-01,江苏分公司\n"
            "周九,021-61234567 转 8,zhou@example.cn,\"1,200.50\",2026-05-04,江苏分公司\n").encode()
    preview = preview_customers(data, "csv")
    errors = {(e.row, e.column): e.message for e in preview.errors}
    assert errors[(2, "Phone")] == phone_problem("1391234")
    assert errors[(3, "Email")] == email_problem("sun@")
    assert errors[(3, "Average monthly spend")] == amount_problem("-3")
    assert "future" in errors[(3, "First deal date")]
    assert [row.values["name"] for row in preview.valid_rows] == ["周九"]
    assert preview.valid_rows[0].values["monthly_spend"] == Decimal("1200.50")
