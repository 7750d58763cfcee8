"""A real browser logs in and works the complaints list."""
from .browser import screenshot
from .helpers import PASSWORD, make_complaint, make_customer


def test_chromium_logs_in_and_opens_the_complaints_list(app, office, live_url, browser):
    with app.app_context():
        customer = make_customer(office["branch"], name="赵丽")
        complaint = make_complaint(customer, title="送货服务人为失误：送错地址导致延误")
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(live_url + "/admin/complaint/")
    assert "/login" in page.url  # not logged in yet
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_url + "/admin/complaint/")  # not the login page, whose ?next= matches a glob
    assert page.locator("text=" + complaint.number).count() == 1
    assert page.locator("text=送错地址导致延误").count() == 1
    assert "投诉" in page.title()
    screenshot(page, "admin-complaints")
    page.goto(live_url + "/admin/")
    assert page.locator("#open-by-stage").count() == 1
    screenshot(page, "admin-dashboard")
