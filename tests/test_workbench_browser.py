"""A staff member's day in a real browser (Chromium, zh-CN): log in, land on My work, take a
phone complaint, move it through every stage to closure without leaving its page; look a
customer up on their page; and no English word on the zh-CN pages of that day."""
import re
from datetime import date, datetime

import pytest

from models import Callback, Complaint, Invitation, Question, Rectification, Survey, clock

from .browser import english_words, log_in, screenshot
from .helpers import PASSWORD, make_complaint, make_customer, make_staff

@pytest.fixture
def desk(app, office, live_url, browser):
    """A zh-CN browser logged in as the staff member 王芳 (E0001, 江苏分公司)."""
    clock.freeze(None)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _on_complaint_page(page, complaint_id):
    assert re.search(rf"/admin/complaint/details/\?id={complaint_id}$", page.url), page.url


def test_staffs_day_from_my_work_to_a_closed_complaint(app, office, live_url, desk):
    page = desk
    customer = make_customer(office["branch"], name="钱多多", organisation="恒信科技有限公司", phone="13912345678")
    make_customer(office["branch"], name="钱少少", phone="13700000000")
    seen = {}

    log_in(page, live_url, "staff", PASSWORD)
    assert page.url.endswith("/admin/my-work/")
    assert page.inner_text("#queue-owner").startswith("我的工作")
    seen["my-work"] = english_words(page, {"staff"})
    screenshot(page, "day-1-my-work")

    # a customer calls: record the complaint, finding the customer by the digits of the phone number
    page.click("#new-complaint")
    page.wait_for_selector("#s2id_customer")
    page.click("#s2id_customer a")
    page.keyboard.type("1391234")
    page.wait_for_selector(".select2-result-label:has-text('钱多多')")
    seen["picker"] = english_words(page, {"staff"})
    # the phone tells the customers apart (masked: the caller is not yet this staff member's, models.privacy)
    assert "139****5678" in page.inner_text(".select2-results")
    page.click(".select2-result-label:has-text('钱多多')")
    page.select_option("#channel", "phone")
    page.select_option("#category", "quality")
    page.fill("#title", "热水器漏水：安装不规范")
    page.fill("#description", "客户来电：新装热水器接口漏水，地板受损。")
    seen["new-complaint"] = english_words(page, {"staff"})
    screenshot(page, "day-2-new-complaint")
    page.click("input[type=submit].btn-primary")
    page.wait_for_url("**/admin/complaint/details/**")
    complaint = Complaint.get(Complaint.title == "热水器漏水：安装不规范")
    assert f"投诉 {complaint.number} 已登记" in page.inner_text(".alert-success")
    assert complaint.customer_id == customer.id and complaint.assignee_id == office["staff"].id
    assert "tel:13912345678" in page.inner_html("#customer-phone")
    seen["complaint-received"] = english_words(page, {"staff"})
    screenshot(page, "day-3-complaint-page")

    # every stage from the complaint page: the button says what is done, the page stays the same
    assert page.inner_text("#complete-stage") == "登记致歉回复"
    page.fill("#apology_note", "已电话向客户致歉")
    page.click("#complete-stage")  # the director box is not ticked: refused, what was typed is kept
    assert "服务总监" in page.inner_text(".alert-danger")
    assert page.input_value("#apology_note") == "已电话向客户致歉"
    page.check("#director_notified")
    page.click("#complete-stage")
    _on_complaint_page(page, complaint.id)

    assert page.inner_text("#complete-stage") == "登记处理结果"
    page.fill("#result_text", "已上门更换接口，赔偿地板清洁费")
    page.click("#complete-stage")
    _on_complaint_page(page, complaint.id)

    assert page.inner_text("#complete-stage") == "填写整改工作单"
    assert page.input_value("#problem_description") == complaint.title  # prefilled
    for name, text in (("cause_analysis", "安装工未按规范打压测试"), ("immediate_measures", "当天更换接口"),
                       ("accountability", "安装班组长扣绩效"), ("long_term_measures", "安装后一律打压测试"),
                       ("effect_confirmation", "客户确认不再漏水")):
        page.fill(f"#{name}", text)
    page.fill("#promised_date", f"{datetime.now().year + 30}-05-20")  # a typo decades ahead: refused
    page.click("#complete-stage")
    assert "请检查年份" in page.inner_text(".alert-danger")
    assert page.input_value("#accountability") == "安装班组长扣绩效"
    page.fill("#promised_date", (complaint.received_at.date()).isoformat())
    seen["worksheet-form"] = english_words(page, {"staff"})
    screenshot(page, "day-4-worksheet")
    page.click("#complete-stage")
    _on_complaint_page(page, complaint.id)

    assert page.inner_text("#complete-stage") == "登记回访"
    page.select_option("#channel", "phone")
    page.select_option("#satisfaction", "4")
    page.fill("#outcome", "客户表示满意")
    page.click("#complete-stage")
    _on_complaint_page(page, complaint.id)

    assert page.inner_text("#complete-stage") == "确认结案"
    page.fill("#closing_note", "发出单位确认整改有效")
    page.click("#complete-stage")
    _on_complaint_page(page, complaint.id)
    assert page.locator("#next-stage").count() == 0 and page.locator("#assign-form").count() == 0
    records = page.inner_text("#stage-records")
    for text in ("已电话向客户致歉", "已上门更换接口", "安装班组长扣绩效", "客户表示满意", "4 - 满意",
                 "发出单位确认整改有效", "王芳 (E0001)"):
        assert text in records, text
    seen["complaint-closed"] = english_words(page, {"staff"})
    screenshot(page, "day-5-closed")

    stored = Complaint.get_by_id(complaint.id)
    assert stored.stage == "closed" and stored.director_notified
    assert Rectification.get(Rectification.complaint == complaint.id).verifier_id == office["staff"].id
    assert Callback.get(Callback.complaint == complaint.id).satisfaction == 4

    # the complaint list and the error page of the same day
    page.goto(f"{live_url}/admin/complaint/")
    seen["complaint-list"] = english_words(page, {"staff"})
    page.goto(f"{live_url}/admin/setting/")
    assert page.locator("#error-page").count() == 1
    seen["403"] = english_words(page, {"staff"})
    assert {name: words for name, words in seen.items() if words} == {}


def test_the_customer_page_in_the_browser(app, office, live_url, desk):
    page = desk
    clock.freeze(datetime(2026, 5, 4, 10, 0))
    customer = make_customer(office["branch"], name="钱多多", organisation="恒信科技有限公司", phone="13912345678",
                             account_manager=office["staff"], first_deal_date=date(2026, 1, 10))
    complaint = make_complaint(customer, title="热水器漏水：安装不规范", first_responder=make_staff(
        office["branch"], "E0300", name="赵敏"))
    survey = Survey.create(title="季度满意度调查")
    Question.create(survey=survey, text="总体满意度", kind="rating")
    clock.freeze(None)

    log_in(page, live_url, "staff", PASSWORD)
    page.goto(f"{live_url}/admin/customer/")
    page.click(f"a[href='/admin/customer/details/?id={customer.id}']")
    assert page.inner_text("#customer-name").startswith("钱多多")
    assert complaint.number in page.inner_text("#customer-complaints")
    assert page.inner_text("#next-callback").strip()
    seen = english_words(page, {"staff"})
    screenshot(page, "customer-page")

    page.click("#log-callback-button")
    page.select_option("#cb-channel", "phone")
    page.select_option("#cb-satisfaction", "5")
    page.fill("#cb-outcome", "客户对安装服务满意")
    page.click("#log-callback button[type=submit]")
    assert "客户对安装服务满意" in page.inner_text("#customer-callbacks")
    assert Callback.get(Callback.customer == customer.id).staff_id == office["staff"].id

    page.select_option("#invite-survey", str(survey.id))
    page.click("#send-survey button[type=submit]")
    page.wait_for_url("**/admin/invitation/details/**")
    invitation = Invitation.get(Invitation.customer == customer.id)
    assert page.url.endswith(f"/admin/invitation/details/?id={invitation.id}")

    page.goto(f"{live_url}/admin/customer/details/?id={customer.id}")
    page.click("#new-complaint")
    page.wait_for_url("**/admin/complaint/new/**")
    assert "钱多多 (恒信科技有限公司) · 13912345678" in page.inner_text("#s2id_customer")
    # the date picker of the customer form speaks Chinese too
    page.goto(f"{live_url}/admin/customer/edit/?id={customer.id}")
    page.click("#first_deal_date")
    picker = page.locator(".daterangepicker").first
    picker.wait_for(state="visible")
    assert "一\t二\t三" in picker.inner_text() and "11月" in picker.inner_text()  # weekdays and months
    seen += english_words(page, {"staff"})
    screenshot(page, "customer-date-picker")
    assert seen == []
