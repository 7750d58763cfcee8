"""The office's side of surveys in the field: posters and table cards, QR files named after
the survey, warnings about the public address, the right survey preselected, template
previews, the analytics index, and reviewing held submissions and anonymous feedback."""
import re
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest

from models import (AnonymousFeedback, Complaint, History, Invitation, OpenLink, Question, Response, Survey, clock)
from models.answers import submit_response
from models.survey_templates import create_from_template

from .helpers import make_branch, make_customer, make_staff

MOMENT = datetime(2026, 6, 10, 10, 0)


@pytest.fixture
def links(app, office):
    """A CSAT survey (after another one) with an open link for the branch's front desk."""
    with app.app_context():
        create_from_template("nps", "zh_CN")
        survey = create_from_template("csat", "zh_CN")
        link = OpenLink.create(survey=survey, branch=office["branch"], label="前台")
    return {"survey": survey, "link": link}


def test_qr_files_are_named_after_the_survey_and_the_branch(app, login_as, links):
    link = links["link"]
    manager = login_as("manager")
    for kind in ("png", "svg"):
        header = manager.get(f"/admin/openlink/qr/{link.id}.{kind}?download=1").headers["Content-Disposition"]
        ascii_name = re.search(r'filename="([^"]+)"', header).group(1)
        assert ascii_name.isascii() and ascii_name == f"survey-{links['survey'].id}-branch-{link.branch_id}-link-{link.id}-qr.{kind}"
        readable = unquote(re.search(r"filename\*=UTF-8''(\S+)", header).group(1))
        assert readable == f"{links['survey'].title}-江苏分公司-前台-QR.{kind}"
    with app.app_context():
        english = create_from_template("nps", "en")
        plain = OpenLink.create(survey=english)
    header = manager.get(f"/admin/openlink/qr/{plain.id}.png?download=1").headers["Content-Disposition"]
    assert header.startswith(f'attachment; filename="would-you-recommend-us-nps-june-2026-link-{plain.id}-qr.png"') or \
        re.match(r'attachment; filename="would-you-recommend-us-nps-[a-z]+-\d{4}-link-\d+-qr\.png"', header)


def test_link_buttons_look_like_buttons_people_can_press(app, login_as, links):
    manager = login_as("manager")
    page = manager.get(f"/admin/openlink/print/{links['link'].id}").get_data(as_text=True)
    for button in ("download-png", "download-svg"):
        tag = re.search(rf'<a [^>]*id="{button}"[^>]*>', page).group(0)
        assert "btn-primary" in tag and "disabled" not in tag and "secondary" not in tag
    assert 'id="poster-a4"' in page and 'id="poster-a6"' in page
    listing = manager.get("/admin/openlink/").get_data(as_text=True)
    assert "下载 PNG" in listing and "A4 海报" in listing and "btn-outline-secondary" not in listing


@pytest.mark.parametrize("size,page_size", [("a4", "A4"), ("a6", "A6")])
def test_poster_and_table_card_carry_branch_title_qr_and_short_address(app, login_as, links, size, page_size):
    app.config["PUBLIC_BASE_URL"] = "https://fuwu.example.cn"
    link = links["link"]
    manager = login_as("manager")
    page = manager.get(f"/admin/openlink/poster/{link.id}?size={size}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"size: {page_size} portrait" in html and f'class="sheet {size}"' in html
    code = link.short_code
    assert "江苏分公司" in html and "前台" in html and links["survey"].title in html
    assert f"fuwu.example.cn/q/{code[:5]}-{code[5:]}" in html and "<svg" in html and "扫码告诉我们您的感受" in html
    assert 'id="public-address-warning"' not in html
    assert login_as("staff").get(f"/admin/openlink/poster/{link.id}").status_code == 403
    assert manager.get("/admin/openlink/poster/999999").status_code == 404


def test_an_english_survey_gets_an_english_poster(app, login_as, office):
    with app.app_context():
        link = OpenLink.create(survey=create_from_template("csat", "en"), branch=office["branch"])
    html = login_as("manager").get(f"/admin/openlink/poster/{link.id}?size=a6").get_data(as_text=True)
    assert "Scan to tell us how we did" in html and "扫码" not in html
    assert "打印" in html  # the toolbar speaks the admin's language


@pytest.mark.parametrize("base,shown", [
    ("", "http://localhost"),  # unset: the admin's own address, here the test client's localhost
    ("http://127.0.0.1:5000", "127.0.0.1"),
    ("http://192.168.1.20", "192.168.1.20"),
    ("http://servicedesk", "servicedesk"),
    ("http://fuwu.example.cn", "http"),
    ("https://fuwu.example.cn", None),
])
def test_the_public_address_warning_says_what_is_wrong_and_how_to_set_it(app, login_as, links, base, shown):
    app.config["PUBLIC_BASE_URL"] = base
    manager = login_as("manager")
    for url in (f"/admin/survey/details/?id={links['survey'].id}", f"/admin/openlink/print/{links['link'].id}",
                "/admin/openlink/", f"/admin/openlink/poster/{links['link'].id}"):
        html = manager.get(url).get_data(as_text=True)
        if shown is None:
            assert 'id="public-address-warning"' not in html, url
        else:
            assert 'id="public-address-warning"' in html and shown in html, url
            if "poster" not in url:
                assert "PUBLIC_BASE_URL=https://survey.example.cn" in html
                assert ("尚未设置 PUBLIC_BASE_URL" in html) == (base == ""), url


def test_new_links_and_invitations_start_with_the_survey_they_were_opened_from(app, login_as, links):
    survey = links["survey"]
    manager = login_as("manager")
    details = manager.get(f"/admin/survey/details/?id={survey.id}").get_data(as_text=True)
    for element in ("open-link-for", "new-invitation"):
        href = re.search(rf'id="{element}" href="([^"]+)"', details).group(1).replace("&amp;", "&")
        form = manager.get(href).get_data(as_text=True)
        selected = re.search(r'<select[^>]*name="survey".*?</select>', form, re.S).group(0)
        assert re.search(rf'<option selected value="{survey.id}"|<option value="{survey.id}" selected', selected), element
    # "Create" on the invitation list filtered by this survey
    listing = manager.get(f"/admin/invitation/?flt0_1={survey.id}").get_data(as_text=True)
    create = re.search(r'href="(/admin/invitation/new/[^"]*)"', listing).group(1).replace("&amp;", "&")
    selected = re.search(r'<select[^>]*name="survey".*?</select>', manager.get(create).get_data(as_text=True), re.S)
    assert re.search(rf'value="{survey.id}" selected|selected value="{survey.id}"', selected.group(0))
    bulk = manager.get(f"/admin/invitation/invite/?survey={survey.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{survey.id}" selected>', bulk)


def test_template_preview_shows_the_questions_and_creates_nothing(app, login_as):
    manager = login_as("manager")
    picker = manager.get("/admin/survey/templates/").get_data(as_text=True)
    assert 'id="preview-servqual-zh_CN"' in picker
    page = manager.get("/admin/survey/templates/servqual/zh_CN/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "服务质量差距调查" in html and "营业场所、设备和服务人员的仪表整洁、现代" in html
    assert "预览" in html and re.search(r'<button type="submit" class="submit" disabled>', html)
    assert "需要我们回电吗" in html
    english = manager.get("/admin/survey/templates/nps/en/preview").get_data(as_text=True)
    assert "How likely are you to recommend us" in english and "创建此问卷" in english
    assert manager.get("/admin/survey/templates/nope/zh_CN/preview").status_code == 404
    assert login_as("staff").get("/admin/survey/templates/csat/zh_CN/preview").status_code == 403
    with app.app_context():
        assert Survey.select().count() == 0


def test_surveys_from_one_template_get_distinct_names(app):
    with app.app_context():
        clock.freeze(MOMENT)
        titles = [create_from_template("csat", "zh_CN").title for _ in range(3)]
        english = create_from_template("csat", "en").title
    assert titles == ["客户满意度调查 · 2026年6月", "客户满意度调查 · 2026年6月（2）", "客户满意度调查 · 2026年6月（3）"]
    assert english == "Customer satisfaction survey · June 2026"


def test_response_times_show_no_microseconds(app, login_as, office):
    with app.app_context():
        survey = create_from_template("nps", "zh_CN")
        Response.create(survey=survey, branch=office["branch"], submitted_at=datetime(2026, 6, 1, 9, 30, 15, 123456))
    staff = login_as("staff")
    listing = staff.get("/admin/response/").get_data(as_text=True)
    assert "2026-06-01 09:30:15" in listing and "123456" not in listing
    details = staff.get("/admin/response/details/?id=1").get_data(as_text=True)
    assert "2026-06-01 09:30:15" in details and "123456" not in details


# ---------------------------------------------------------------- analytics

def _answer(survey, link, rating, **extra):
    questions = list(survey.questions.order_by(Question.position))
    raw = {q.id: str(rating) for q in questions if q.kind == "rating"}
    return submit_response(survey, raw, open_link=link, **extra)[0]


def test_analytics_index_has_the_numbers_of_every_survey_with_a_sparkline(app, login_as, office, links):
    with app.app_context():
        clock.freeze(MOMENT)
        survey, link = links["survey"], links["link"]
        for rating in (5, 4, 1):
            _answer(survey, link, rating)
        _answer(survey, link, 5, hold_reason="too_fast")
        customer = make_customer(office["branch"])
        Invitation.create(survey=survey, customer=customer, sent_at=MOMENT - timedelta(days=1))
        answered = Invitation.create(survey=survey, customer=customer, sent_at=MOMENT - timedelta(days=1))
        submit_response(survey, {q.id: "2" for q in survey.questions if q.kind == "rating"}, invitation=answered)
    page = login_as("manager").get("/admin/scoring/surveys/")
    html = page.get_data(as_text=True)
    row = re.search(rf'<tr data-survey="{survey.id}">.*?</tr>', html, re.S).group(0)
    cell = lambda name: re.sub(r"<[^>]+>|\s+", " ", re.search(rf'class="[^"]*\b{name}\b[^"]*">(.*?)</td>', row, re.S).group(1)).strip()  # noqa: E731
    assert cell("responses").startswith("4")  # counted: three open-link answers and one invitation
    assert cell("rate").startswith("50.0%")  # one of two invitations sent was answered
    assert cell("csat").startswith("50.0%")  # 4 and 5 among 20 ratings (5, 4, 1, 2 on five items): 10
    assert cell("complaints").startswith("1") and cell("feedback").startswith("1") and "1 条待审阅" in cell("feedback")
    assert cell("held").startswith("1")
    assert '<svg' in row and "sparkline" in row and "<script" not in html.split('id="survey-list"')[1].split("</table>")[0]
    assert re.search(r"最近 12 周每周答卷数：(0, ){11}4", row)
    responses_link = re.search(r'class="text-right responses"><a href="([^"]+)"', row).group(1).replace("&amp;", "&")
    listed = login_as("manager").get(responses_link).get_data(as_text=True)
    assert listed.count('class="badge badge-success"') == 4  # the same four responses, all counted
    other = re.search(r'<tr data-survey="(\d+)">', html.split(row)[1])
    assert other is not None  # the other survey is listed too, with its own (empty) figures


def test_survey_page_shows_servqual_and_dimension_sections_only_for_such_questions(app, login_as):
    with app.app_context():
        nps = create_from_template("nps", "zh_CN")
        servqual = create_from_template("servqual", "zh_CN")
        csat = create_from_template("csat", "zh_CN")
    manager = login_as("manager")
    html = {s.kind: manager.get(f"/admin/scoring/surveys/{s.id}/").get_data(as_text=True) for s in (nps, servqual, csat)}
    assert 'id="servqual"' not in html["nps"] and 'id="dimensions"' not in html["nps"]
    assert 'id="servqual"' in html["servqual"] and 'id="dimensions"' not in html["servqual"]
    assert 'id="dimensions"' in html["csat"] and 'id="servqual"' not in html["csat"]
    assert 'id="nps"' in html["nps"] and 'id="csat"' not in html["nps"]  # the figure cards too
    assert 'id="csat"' in html["csat"] and 'id="nps"' not in html["csat"]
    assert 'id="csat"' not in html["servqual"] and 'id="feedback"' in html["servqual"]


# ---------------------------------------------------------------- reviewing

def test_staff_review_anonymous_feedback_with_a_note(app, login_as, office, links):
    with app.app_context():
        clock.freeze(MOMENT)
        _answer(links["survey"], links["link"], 1)
        feedback = AnonymousFeedback.get()
    staff = login_as("staff")
    listing = staff.get("/admin/anonymous_feedback/?flt0_0=to_review").get_data(as_text=True)
    assert feedback.title in listing and "待审阅" in listing
    refused = staff.post(f"/admin/anonymous_feedback/review/{feedback.id}", {"review_note": "   "})
    assert refused.status_code == 422 and 'id="review-error"' in refused.get_data(as_text=True)
    too_long = staff.post(f"/admin/anonymous_feedback/review/{feedback.id}", {"review_note": "长" * 2001})
    assert too_long.status_code == 422 and "长" * 2001 in too_long.get_data(as_text=True)  # kept as typed
    done = staff.post(f"/admin/anonymous_feedback/review/{feedback.id}", {"review_note": "已在晨会通报，前台增派一人"})
    assert done.status_code == 302
    with app.app_context():
        reviewed = AnonymousFeedback.get_by_id(feedback.id)
        assert reviewed.reviewed_at == MOMENT and reviewed.review_note == "已在晨会通报，前台增派一人"
        assert reviewed.reviewed_by.username == "staff"
        assert History.select().where((History.object_type == "AnonymousFeedback")
                                      & (History.field == "review_note")).count() == 1
    assert feedback.title not in staff.get("/admin/anonymous_feedback/?flt0_0=to_review").get_data(as_text=True)
    again = staff.post(f"/admin/anonymous_feedback/review/{feedback.id}", {"review_note": "再审一次"})
    assert again.status_code == 422 and "已经审阅" in again.get_data(as_text=True)
    assert staff.post("/admin/anonymous_feedback/delete/", {"id": feedback.id}).status_code in (302, 403)
    with app.app_context():
        assert AnonymousFeedback.select().count() == 1


def test_managers_count_or_reject_held_submissions(app, login_as, office, links):
    with app.app_context():
        clock.freeze(MOMENT)
        genuine = _answer(links["survey"], links["link"], 1, hold_reason="too_fast",
                          contact={"contact_name": "冯先生", "contact_phone": "13600000000"})
        script = _answer(links["survey"], links["link"], 1, hold_reason="no_form_token")
    assert login_as("staff").get("/admin/held_response/").status_code == 403
    manager = login_as("manager")
    listing = manager.get("/admin/held_response/").get_data(as_text=True)
    assert "提交速度快得不可能读完题目" in listing and "13600000000" in listing
    manager.post("/admin/held_response/action/", {"action": "release", "rowid": [genuine.id]})
    manager.post("/admin/held_response/action/", {"action": "reject", "rowid": [script.id]})
    with app.app_context():
        assert Response.get_by_id(genuine.id).status == "counted"
        assert Response.get_by_id(script.id).status == "rejected"
        complaint = Complaint.get()  # the genuine one's follow-up opens on release, with its contact
        assert complaint.customer.phone == "13600000000" and complaint.received_at == MOMENT
    assert manager.get("/admin/held_response/").get_data(as_text=True).count("13600000000") == 0
    assert manager.post("/admin/held_response/delete/", {"id": script.id}).status_code in (302, 403, 404)
    with app.app_context():
        assert Response.select().count() == 2


def test_follow_up_complaints_of_contacts_land_in_the_links_branch(app, office):
    with app.app_context():
        other = make_branch("甘宁分公司", region="甘宁")
        make_staff(other, "E0100", name="马军")
        survey = create_from_template("csat", "zh_CN")
        link = OpenLink.create(survey=survey, branch=other)
        _answer(survey, link, 2, contact={"contact_name": "", "contact_phone": "0931-8123456"})
        complaint = Complaint.get()
        assert complaint.branch_id == other.id and complaint.customer.branch_id == other.id
        assert complaint.customer.phone == "0931-8123456" and complaint.customer.name == "问卷客户 0931-8123456"
