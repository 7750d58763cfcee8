"""One complaint from receipt to closure in a real browser (headless Chromium): the stage forms
on the complaint page post what the workflow needs, and a refused step keeps what was typed."""
from datetime import datetime

import pytest

from models import Callback, Complaint, History, Rectification, clock

from .browser import log_in
from .helpers import PASSWORD, make_complaint, make_customer


@pytest.fixture
def page(live_url, browser):
    context = browser.new_context()
    context.add_cookies([{"name": "lang", "value": "en", "url": live_url}])
    tab = context.new_page()
    tab.set_default_timeout(15000)
    log_in(tab, live_url, "staff", PASSWORD)
    yield tab
    context.close()


def test_staff_takes_a_complaint_from_receipt_to_closure(app, office, live_url, page):
    clock.freeze(datetime(2026, 5, 4, 10, 0))
    complaint = make_complaint(make_customer(office["branch"]), responsible_staff=office["staff"])
    page.goto(f"{live_url}/admin/complaint/details/?id={complaint.id}")

    page.fill("#apology_note", "已电话向客户致歉")
    page.click("#next-stage button[type=submit]")  # the director box is not ticked: refused, text kept
    assert "reported to the service director" in page.inner_text(".alert-danger")
    assert page.input_value("#apology_note") == "已电话向客户致歉"
    page.check("#director_notified")
    page.click("#next-stage button[type=submit]")
    assert "Acknowledged recorded" in page.inner_text(".alert")

    page.fill("#result_text", "已重新上门维修，客户认可")
    page.click("#next-stage button[type=submit]")

    for name in ("cause_analysis", "immediate_measures", "accountability", "long_term_measures",
                 "effect_confirmation"):
        page.fill(f"#{name}", f"{name} 内容")
    page.fill("#promised_date", "2026-05-20")
    page.click("#next-stage button[type=submit]")

    page.select_option("#satisfaction", "4")
    page.fill("#outcome", "客户表示满意")
    page.click("#next-stage button[type=submit]")

    page.fill("#closing_note", "发出单位确认整改有效")
    page.click("#next-stage button[type=submit]")
    assert "Closed recorded" in page.inner_text(".alert")
    assert page.locator("#next-stage").count() == 0
    assert page.locator("#timeline tr.action-stage").count() == 5

    stored = Complaint.get_by_id(complaint.id)
    assert stored.stage == "closed" and stored.director_notified
    worksheet = Rectification.get(Rectification.complaint == complaint.id)
    assert worksheet.problem_description == complaint.title  # prefilled from the title
    assert worksheet.verifier_id == office["staff"].id  # the logged-in staff member, preselected
    assert Callback.get(Callback.complaint == complaint.id).satisfaction == 4
    assert History.select().where(History.action == "stage", History.object_id == complaint.id).count() == 5

    with page.context.expect_page() as opened:
        page.click("text=Print rectification worksheet")
    printable = opened.value
    printable.wait_for_load_state()
    assert complaint.number in printable.inner_text("#worksheet")
