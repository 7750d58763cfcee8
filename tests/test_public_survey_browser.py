"""Browser test of the whole loop: a manager creates a CSAT survey from a template and its
QR link, a customer answers on a phone-sized Chromium and leaves a phone number for a call
back, the low score shows up in the admin as a response with its follow-up complaint.

Runs Debian's Chromium (/usr/bin/chromium) through Playwright against a real server on a
free port. Never skipped in CI (CI=true); elsewhere it skips only when Chromium is missing."""
from models import Complaint, Question, Response, Survey

from .browser import log_in
from .helpers import PASSWORD

PHONE = {"width": 390, "height": 844}


def _log_in(page, base, username):
    log_in(page, base, username, PASSWORD)


def test_template_qr_phone_answer_and_followup(app, office, live_url, browser, tmp_path):
    live_server = live_url
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0  # tests/test_survey_field_browser.py waits like a customer
    # the manager: CSAT from the template, an open link, its printable QR code
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin = desk.new_page()
    _log_in(admin, live_server, "manager")
    admin.goto(f"{live_server}/admin/survey/templates/")
    with admin.expect_navigation(url="**/admin/survey/details/**"):
        admin.locator("#tpl-csat-zh_CN").click()
    admin.fill("input[name='label']", "江苏分公司前台")
    with admin.expect_navigation(url="**/admin/openlink/print/**"):
        admin.locator("#new-open-link").click()
    assert admin.locator(".qr-sheet img").evaluate("img => img.complete && img.naturalWidth > 0")
    survey_url = admin.locator(".qr-url").inner_text().strip()
    assert survey_url.startswith(f"{live_server}/q/")
    with app.app_context():
        survey = Survey.get()
        questions = list(survey.questions.order_by(Question.position))
    ratings = [q for q in questions if q.kind == "rating"]
    comment = next(q for q in questions if q.kind == "text")

    # the customer, on a phone
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                locale="zh-CN")
    page = phone.new_page()
    page.goto(survey_url)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    first_pick = page.locator(f"label.pick:has(input[name='q{ratings[0].id}'])").first.bounding_box()
    assert first_pick["height"] >= 44 and first_pick["width"] >= 44  # thumb-sized tap targets
    # forget one question: the error is shown next to it and the other answers stay
    for question in ratings[1:]:
        page.locator(f"label.pick:has(input[name='q{question.id}'][value='4'])").tap()
    page.fill(f"textarea[name='q{comment.id}']", "前台等候时间太长 <b>不满意</b>")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").tap()
    error = page.locator(f"#q{ratings[0].id} .error")
    assert error.is_visible() and "请回答" in error.inner_text()
    assert page.locator(f"input[name='q{ratings[1].id}'][value='4']").is_checked()
    assert page.input_value(f"textarea[name='q{comment.id}']") == "前台等候时间太长 <b>不满意</b>"
    page.screenshot(path=str(tmp_path / "survey-error.png"), full_page=True)
    page.locator(f"label.pick:has(input[name='q{ratings[0].id}'][value='2'])").tap()
    page.fill("input[name='contact_phone']", "137 0000 1234")
    page.fill("input[name='contact_name']", "孙女士")
    with page.expect_navigation(url="**/s/thanks*"):
        page.get_by_role("button", name="提交").tap()
    assert "感谢" in page.locator("h1").inner_text()
    phone.close()

    with app.app_context():
        response = Response.get()
        complaint = Complaint.get()
        assert response.followup_complaint_id == complaint.id and complaint.channel == "survey"
        # open link with a phone left: a real customer file of the branch
        assert (complaint.customer.name, complaint.customer.phone) == ("孙女士", "13700001234")
        assert complaint.branch_id == office["branch"].id

    # the office sees the response and follows the low score to its complaint
    admin.goto(f"{live_server}/admin/response/")
    assert complaint.number in admin.locator("table.model-list").inner_text()
    admin.goto(f"{live_server}/admin/response/details/?id={response.id}")
    assert "前台等候时间太长 <b>不满意</b>" in admin.locator("#answers").inner_text()  # text, not markup
    with admin.expect_navigation(url=f"**/admin/complaint/details/?id={complaint.id}*"):
        admin.locator("#followup a").click()
    desk.close()
