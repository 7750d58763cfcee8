"""Surveys in the field, in a real Chromium (Debian's, through Playwright; never skipped in CI):
a customer on a phone inside WeChat answers a poster's short link with and without a phone
number for a call back; the office sees the public-address warning come and go with
PUBLIC_BASE_URL; the printed poster and table card scan back to the short address.
Screenshots land in test-artifacts/ (phone page, posters, analytics index)."""
import time
from datetime import timedelta

import pytest

from models import AnonymousFeedback, Complaint, Customer, OpenLink, Question, Response, clock
from models.answers import submit_response
from models.survey_guard import DEFAULT_MIN_FILL_SECONDS
from models.survey_templates import create_from_template

from .browser import log_in, screenshot
from .helpers import PASSWORD, make_staff
from .images import decode_qr

WECHAT_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def poster_link(app, office):
    """A CSAT survey with an open link on the front desk of the office's branch."""
    with app.app_context():
        make_staff(office["branch"], "E0009", name="值班员", on_duty=True)
        survey = create_from_template("csat", "zh_CN")
        link = OpenLink.create(survey=survey, branch=office["branch"], label="前台")
        questions = list(survey.questions.order_by(Question.position))
    return {"survey": survey, "link": link, "questions": questions}


def _answer_on_the_phone(page, url, questions, first_rating, contact=None, shot=None):
    """Open the poster's address, answer like a customer (taking the time to read), send."""
    page.goto(url)
    opened = time.monotonic()
    ratings = [q for q in questions if q.kind == "rating"]
    comment = next(q for q in questions if q.kind == "text")
    page.locator(f"label.pick:has(input[name='q{ratings[0].id}'][value='{first_rating}'])").tap()
    for question in ratings[1:]:
        page.locator(f"label.pick:has(input[name='q{question.id}'][value='4'])").tap()
    page.fill(f"textarea[name='q{comment.id}']", "排队等了很久")
    if contact:
        page.fill("input[name='contact_phone']", contact[0])
        page.fill("input[name='contact_name']", contact[1])
    if shot:
        screenshot(page, shot)
    page.wait_for_timeout(max(0, (DEFAULT_MIN_FILL_SECONDS + 0.3 - (time.monotonic() - opened)) * 1000))
    with page.expect_navigation(url="**/s/thanks*"):
        page.get_by_role("button", name="提交").tap()
    assert "感谢" in page.locator("h1").inner_text()


def test_a_customer_in_wechat_answers_a_poster_with_and_without_a_phone_number(app, office, poster_link, live_url,
                                                                               browser):
    link, questions = poster_link["link"], poster_link["questions"]
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                locale="zh-CN", user_agent=WECHAT_IPHONE)
    page = phone.new_page()
    url = f"{live_url}/q/{link.short_code}"
    page.goto(url)
    assert page.evaluate("navigator.userAgent").endswith("Language/zh_CN")
    assert page.evaluate("document.scripts.length") == 0  # nothing an in-app browser could choke on
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    for field in ("contact_phone", "contact_name"):
        box = page.locator(f"input[name='{field}']").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300  # thumb-sized, full width
    assert page.locator("input[name='contact_phone']").get_attribute("type") == "tel"

    _answer_on_the_phone(page, url, questions, 1, shot="phone-survey-wechat")
    with app.app_context():
        feedback = AnonymousFeedback.get()  # nobody to call: feedback for the link's branch, no deadline
        assert feedback.branch_id == office["branch"].id and "排队等了很久" in feedback.description
        assert Complaint.select().count() == 0
        customers = Customer.select().count()

    _answer_on_the_phone(page, url, questions, 2, contact=("138 1234 5678", "周女士"), shot="phone-survey-contact")
    with app.app_context():
        complaint = Complaint.get()  # a phone number: a complaint against a real customer of the branch
        customer = complaint.customer
        assert (customer.name, customer.phone, customer.branch_id) == ("周女士", "13812345678", office["branch"].id)
        assert Customer.select().count() == customers + 1
        assert complaint.branch_id == office["branch"].id and complaint.assignee is not None  # it has an owner
        assert complaint.acknowledge_due_at == complaint.received_at + timedelta(hours=1)
        assert AnonymousFeedback.select().count() == 1
        assert {r.status for r in Response.select()} == {"counted"}
    phone.close()


def test_the_loopback_warning_appears_and_goes_away_with_public_base_url(app, office, poster_link, live_url, browser):
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin = desk.new_page()
    log_in(admin, live_url, "manager", PASSWORD)
    details = f"{live_url}/admin/survey/details/?id={poster_link['survey'].id}"
    printable = f"{live_url}/admin/openlink/print/{poster_link['link'].id}"
    admin.goto(details)
    warning = admin.locator("#public-address-warning")
    assert warning.is_visible() and "127.0.0.1" in warning.inner_text() and "PUBLIC_BASE_URL" in warning.inner_text()
    screenshot(admin, "survey-details-loopback-warning")
    admin.goto(printable)
    assert admin.locator("#public-address-warning").is_visible()
    assert admin.locator(".qr-url").inner_text().startswith(f"{live_url}/q/")

    app.config["PUBLIC_BASE_URL"] = "https://fuwu.example.cn"
    for url in (details, printable):
        admin.goto(url)
        assert admin.locator("#public-address-warning").count() == 0, url
    assert admin.locator(".qr-url").inner_text() == f"https://fuwu.example.cn/q/{poster_link['link'].short_code}"
    desk.close()


@pytest.mark.parametrize("size", ["a4", "a6"])
def test_the_printed_poster_scans_back_to_the_short_address(app, office, poster_link, live_url, browser, size):
    app.config["PUBLIC_BASE_URL"] = "https://fuwu.example.cn"
    desk = browser.new_context(viewport={"width": 1000, "height": 1300}, locale="zh-CN")
    page = desk.new_page()
    log_in(page, live_url, "manager", PASSWORD)
    page.goto(f"{live_url}/admin/openlink/poster/{poster_link['link'].id}?size={size}")
    page.emulate_media(media="print")  # as it comes out of the printer: no toolbar
    assert not page.locator(".toolbar").is_visible()
    poster = page.locator("#poster")
    box = poster.bounding_box()
    expected_mm = (210, 297) if size == "a4" else (105, 148)
    assert abs(box["width"] - expected_mm[0] * 96 / 25.4) < 2 and abs(box["height"] - expected_mm[1] * 96 / 25.4) < 2
    assert "江苏分公司" in poster.inner_text() and poster_link["survey"].title in poster.inner_text()
    png = poster.screenshot()
    screenshot(page, f"poster-{size}")
    code = poster_link["link"].short_code
    assert decode_qr(png) == [f"https://fuwu.example.cn/q/{code}"]
    assert f"fuwu.example.cn/q/{code[:5]}-{code[5:]}" in poster.inner_text()
    desk.close()


def test_analytics_index_screenshot(app, office, poster_link, live_url, browser):
    with app.app_context():
        nps = create_from_template("nps", "zh_CN")
        nps_link = OpenLink.create(survey=nps, branch=office["branch"])
        score = nps.questions.where(Question.kind == "score").get()
        rating_ids = [q.id for q in poster_link["questions"] if q.kind == "rating"]
        now = clock.now()
        for week in range(8):
            clock.freeze(now - timedelta(days=7 * week))
            for n in range(week % 4 + 1):
                submit_response(poster_link["survey"], {q: str(2 + (n + week) % 4) for q in rating_ids},
                                open_link=poster_link["link"])
                submit_response(nps, {score.id: str(5 + (n * 3 + week) % 6)}, open_link=nps_link)
        clock.freeze(None)
    desk = browser.new_context(viewport={"width": 1400, "height": 700}, locale="zh-CN")
    page = desk.new_page()
    log_in(page, live_url, "manager", PASSWORD)
    page.goto(f"{live_url}/admin/scoring/surveys/")
    assert page.locator("#survey-list svg.sparkline").count() == 2
    screenshot(page, "survey-analytics-index")
    desk.close()
