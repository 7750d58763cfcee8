"""Search as office staff use it while a customer is on the phone, in a real browser (headless
Chromium, Chinese UI): the list's search box, and the customer picker of a new complaint."""
import pytest

from .browser import log_in, screenshot
from .helpers import PASSWORD, make_complaint, make_customer, make_staff


@pytest.fixture
def page(live_url, browser):
    context = browser.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15000)
    log_in(tab, live_url, "staff", PASSWORD)
    yield tab
    context.close()


def test_staff_find_a_caller_by_phone_tail_and_pick_them_for_a_new_complaint(app, office, live_url, page):
    branch = office["branch"]
    caller = make_customer(branch, name="张伟", organisation="南京市水务局", phone="138-0013-8000")
    make_customer(branch, name="张伟明", phone="13912345678")
    # another staff member owns the caller's complaint: the caller is not this staff member's
    leak = make_complaint(caller, title="物业管家响应速度：漏水三天无人处理",
                          assignee=make_staff(branch, "E0998", name="另一位"))
    make_complaint(make_customer(branch, name="李娜", phone="13700001111"), title="账单收费争议：多收费用")

    page.goto(f"{live_url}/admin/complaint/")
    box = page.locator("input[name=search]")
    assert "客户" in box.get_attribute("placeholder") and "电话" in box.get_attribute("placeholder")
    box.fill("8000")
    box.press("Enter")
    page.wait_for_url("**search=8000**")
    assert page.locator("td.col-number").all_inner_texts() == [leak.number]
    screenshot(page, "search-complaints-phone-tail")

    page.goto(f"{live_url}/admin/customer/")
    page.fill("input[name=search]", "张伟")
    page.press("input[name=search]", "Enter")
    page.wait_for_url("**search=**")
    assert [t.strip() for t in page.locator("td.col-name").all_inner_texts()] == ["张伟", "张伟明"]  # exact first
    screenshot(page, "search-customers-name")

    page.goto(f"{live_url}/admin/complaint/new/")
    page.click("#s2id_customer")  # select2 3.x: the picker opens a search field
    page.keyboard.type("水务局")
    # the phone is masked for a staff member who does not own the caller (models.privacy)
    option = page.locator(".select2-result-label", has_text="张伟 (南京市水务局) · 138****8000")
    option.wait_for()
    assert page.locator(".select2-result-label").count() == 1
    screenshot(page, "search-customer-picker")
    option.click()
    assert page.locator("#customer").input_value() == str(caller.id)
