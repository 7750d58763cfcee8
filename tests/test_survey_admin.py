"""The survey area of the admin: builder, templates, links and QR codes, invitations,
read-only responses with their follow-up complaint, and escaping of customer text."""
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from models import Answer, Choice, Complaint, Invitation, OpenLink, Question, Response, Survey
from models import clock
from models.survey_templates import TEMPLATES, create_from_template

from .helpers import Client, make_customer
from .images import decode_qr

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


# ---------------------------------------------------------------- builder

def test_builder_round_trip(app, login_as, office):
    manager = login_as("manager")
    response = manager.post("/admin/survey/new/", {
        "title": "门店服务调查", "intro": "请花一分钟", "kind": "custom", "language": "zh_CN", "active": "y",
        "questions-0-position": "2", "questions-0-text": "您对门店环境的评价", "questions-0-kind": "rating",
        "questions-0-required": "y", "questions-0-max_length": "200",
        "questions-0-dimension": "tangibles",
        "questions-1-position": "1", "questions-1-text": "您是怎么知道我们的？", "questions-1-kind": "single",
        "questions-1-max_length": "200", "questions-1-dimension": "__None",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        survey = Survey.get(Survey.title == "门店服务调查")
        questions = list(survey.questions.order_by(Question.position))
        assert [(q.position, q.kind, q.required, q.dimension) for q in questions] == [
            (1, "single", False, None), (2, "rating", True, "tangibles")]
        single = questions[0]
    response = manager.post(f"/admin/question/edit/?id={single.id}", {
        "survey": str(survey.id), "position": "1", "text": "您是怎么知道我们的？", "kind": "single",
        "max_length": "200", "dimension": "__None",
        "choices-0-position": "1", "choices-0-text": "朋友介绍", "choices-0-score": "",
        "choices-1-position": "2", "choices-1-text": "网站", "choices-1-score": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        assert [c.text for c in Choice.select().where(Choice.question == single).order_by(Choice.position)] == [
            "朋友介绍", "网站"]
        link = OpenLink.create(survey=survey, label="门店")
    details = manager.get(f"/admin/survey/details/?id={survey.id}").get_data(as_text=True)
    assert "您对门店环境的评价" in details and f"/q/{link.short_code}" in details
    page = Client(app.test_client()).get(f"/s/o/{link.token}").get_data(as_text=True)
    assert page.index("您是怎么知道我们的？") < page.index("您对门店环境的评价")
    assert "朋友介绍" in page and "网站" in page


def test_every_template_in_one_click_in_both_languages(app, login_as):
    manager = login_as("manager")
    picker = manager.get("/admin/survey/templates/").get_data(as_text=True)
    for kind in TEMPLATES:
        for language in ("zh_CN", "en"):
            assert f'id="tpl-{kind}-{language}"' in picker
            response = manager.post("/admin/survey/templates/", {"template": kind, "language": language})
            assert response.status_code == 302
            with app.app_context():
                survey = Survey.select().order_by(Survey.id.desc()).get()
                assert f"/admin/survey/details/?id={survey.id}" in response.headers["Location"]
                assert (survey.kind, survey.language, survey.active) == (kind, language, True)
                kinds = [q.kind for q in survey.questions.order_by(Question.position)]
                assert kinds == [q[0] for q in TEMPLATES[kind][language]["questions"]]
                if kind == "servqual":
                    dimensions = {q.dimension for q in survey.questions if q.kind == "servqual"}
                    assert dimensions == {"tangibles", "reliability", "responsiveness", "assurance", "empathy"}
                if kind == "csat":
                    assert kinds.count("rating") == 5
                if kind == "star":
                    assert "staff" in kinds
                if kind == "callback":
                    assert Choice.select().join(Question).where(Question.survey == survey).count() == 3
    with app.app_context():
        assert Survey.select().count() == 2 * len(TEMPLATES)
        assert Survey.select().where(Survey.language == "en").count() == len(TEMPLATES)


def test_unknown_template_is_refused_with_a_message(app, login_as):
    manager = login_as("manager")
    response = manager.post("/admin/survey/templates/", {"template": "nope", "language": "zh_CN"},
                            follow_redirects=True)
    assert "nope" in response.get_data(as_text=True)
    with app.app_context():
        assert Survey.select().count() == 0


def test_staff_cannot_build_surveys(login_as):
    staff = login_as("staff")
    assert staff.get("/admin/survey/templates/").status_code == 403
    assert staff.post("/admin/survey/templates/", {"template": "csat", "language": "zh_CN"}).status_code == 403


# ---------------------------------------------------------------- QR codes

@pytest.mark.parametrize("endpoint", ["openlink", "invitation"])
def test_qr_code_decodes_back_to_the_link(app, login_as, office, endpoint):
    with app.app_context():
        survey = create_from_template("csat", "zh_CN")
        link = (OpenLink.create(survey=survey, label="前台") if endpoint == "openlink"
                else Invitation.create(survey=survey, customer=make_customer(office["branch"])))
    manager = login_as("manager")
    # an open link's QR code carries its short address, an invitation its long personal token
    expected = (f"http://localhost/q/{link.short_code}" if endpoint == "openlink"
                else f"http://localhost/s/i/{link.token}")
    png = manager.get(f"/admin/{endpoint}/qr/{link.id}.png?download=1")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert "attachment" in png.headers["Content-Disposition"]
    assert decode_qr(png.data) == [expected]
    svg = manager.get(f"/admin/{endpoint}/qr/{link.id}.svg")
    assert svg.mimetype == "image/svg+xml"
    assert ET.fromstring(svg.data).tag.endswith("svg")
    printable = manager.get(f"/admin/{endpoint}/print/{link.id}").get_data(as_text=True)
    assert expected in printable and f"/admin/{endpoint}/qr/{link.id}.svg" in printable
    listing = manager.get(f"/admin/{endpoint}/").get_data(as_text=True)
    assert f"/admin/{endpoint}/qr/{link.id}.png" in listing
    assert manager.get(f"/admin/{endpoint}/qr/{link.id}.gif").status_code == 404
    assert manager.get(f"/admin/{endpoint}/qr/999999.png").status_code == 404


def test_public_base_url_setting_is_used_in_qr_codes(app, login_as):
    app.config["PUBLIC_BASE_URL"] = "https://fuwu.example.cn/"
    with app.app_context():
        link = OpenLink.create(survey=create_from_template("nps", "zh_CN"))
    png = login_as("manager").get(f"/admin/openlink/qr/{link.id}.png").data
    assert decode_qr(png) == [f"https://fuwu.example.cn/q/{link.short_code}"]


# ---------------------------------------------------------------- invitations

def test_bulk_invitations_from_the_customer_list(app, login_as, office):
    with app.app_context():
        survey = create_from_template("csat", "zh_CN")
        customers = [make_customer(office["branch"], name=f"客户{i}") for i in range(3)]
    staff = login_as("staff")
    ids = [str(c.id) for c in customers]
    form = staff.post("/admin/customer/action/", {"action": "invite_to_survey", "rowid": ids})
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert "3" in html and survey.title in html and 'action="/admin/invitation/bulk/"' in html
    done = staff.post("/admin/invitation/bulk/", {"survey": survey.id, "customer": ids, "expires_in_days": "14"},
                      follow_redirects=True)
    assert done.status_code == 200
    with app.app_context():
        invitations = list(Invitation.select())
        assert sorted(i.customer_id for i in invitations) == sorted(c.id for c in customers)
        assert all(i.expires_at is not None for i in invitations)
    staff.post("/admin/invitation/bulk/", {"survey": survey.id, "customer": ids})
    bad = staff.post("/admin/invitation/bulk/", {"survey": survey.id, "customer": ids, "expires_in_days": "-3"},
                     follow_redirects=True)
    assert "366" in bad.get_data(as_text=True)
    with app.app_context():
        assert Invitation.select().count() == 3  # nobody invited twice


def test_invitation_status_column_filter_and_mark_sent(app, login_as, office):
    with app.app_context():
        clock.freeze(datetime(2026, 3, 2, 9, 0))
        survey = create_from_template("nps", "zh_CN")
        fresh = Invitation.create(survey=survey, customer=make_customer(office["branch"], name="新客户"))
        Invitation.create(survey=survey, customer=make_customer(office["branch"], name="过期客户"),
                          expires_at=datetime(2026, 3, 1))
    staff = login_as("staff")
    staff.post("/admin/invitation/action/", {"action": "mark_sent", "rowid": [fresh.id]})
    with app.app_context():
        assert Invitation.get_by_id(fresh.id).sent_at == datetime(2026, 3, 2, 9, 0)
    listing = staff.get("/admin/invitation/").get_data(as_text=True)
    assert "badge-primary" in listing and "badge-secondary" in listing
    only_expired = staff.get("/admin/invitation/?flt0_0=expired").get_data(as_text=True)
    assert "过期客户" in only_expired and "新客户" not in only_expired


def test_closed_complaints_get_callback_invitations(app, login_as, office):
    from .helpers import make_complaint
    with app.app_context():
        survey = create_from_template("callback", "zh_CN")
        closed = make_complaint(make_customer(office["branch"]), stage="closed")
        make_complaint(make_customer(office["branch"], name="未结案客户"))
    manager = login_as("manager")
    for _ in range(2):
        manager.post("/admin/survey/action/", {"action": "invite_closed_complaints", "rowid": [survey.id]})
    with app.app_context():
        invitation = Invitation.get()
        assert Invitation.select().count() == 1
        assert (invitation.complaint_id, invitation.customer_id) == (closed.id, closed.customer_id)


# ---------------------------------------------------------------- responses

@pytest.fixture
def answered(app, office):
    """A customer answered the CSAT survey with a low score and a hostile comment."""
    with app.app_context():
        survey = create_from_template("csat", "zh_CN")
        customer = make_customer(office["branch"], name="刘洋")
        invitation = Invitation.create(survey=survey, customer=customer, sent_at=clock.now())
        questions = list(survey.questions.order_by(Question.position))
    client = Client(app.test_client())
    url = f"/s/i/{invitation.token}"
    client.fetch_csrf(url)
    form = {f"q{q.id}": ("1" if q.kind == "rating" else XSS) for q in questions}
    assert client.post(url, form).status_code == 302
    with app.app_context():
        response = Response.get()
        return {"survey": survey, "response": response, "complaint": Complaint.get(), "customer": customer}


def test_response_page_shows_answers_and_links_the_followup(app, login_as, answered):
    staff = login_as("staff")
    complaint = answered["complaint"]
    details = staff.get(f"/admin/response/details/?id={answered['response'].id}").get_data(as_text=True)
    assert f"/admin/complaint/details/?id={complaint.id}" in details and complaint.number in details
    assert "您对服务人员服务态度的满意程度" in details
    listing = staff.get("/admin/response/").get_data(as_text=True)
    assert complaint.number in listing
    rate = login_as("manager").get("/admin/survey/").get_data(as_text=True)
    assert 'data-sent="1" data-answered="1" data-rate="100.0"' in rate and "100.0%" in rate
    assert "col-response_rate" in rate


def test_responses_are_read_only(app, login_as, answered):
    admin = login_as("admin")
    response_id = answered["response"].id
    assert admin.get(f"/admin/response/edit/?id={response_id}").status_code in (302, 403, 404)
    assert admin.post(f"/admin/response/edit/?id={response_id}", {"language": "en"}).status_code in (302, 403, 404)
    assert admin.post("/admin/response/delete/", {"id": response_id}).status_code in (302, 403, 404)
    assert admin.post("/admin/answer/delete/", {"id": 1}).status_code in (302, 403, 404)
    with app.app_context():
        assert Response.select().count() == 1 and Answer.select().count() == 6


def test_xss_probes_in_answers_are_escaped_on_every_admin_page(app, login_as, answered):
    admin = login_as("admin")
    response_id, complaint_id = answered["response"].id, answered["complaint"].id
    with app.app_context():
        answer_id = Answer.get(Answer.text != "").id
    shown = [  # pages that show the customer's words
        f"/admin/response/details/?id={response_id}",
        "/admin/answer/",
        f"/admin/answer/details/?id={answer_id}",
        f"/admin/complaint/details/?id={complaint_id}",
        "/admin/answer/?search=script",
    ]
    others = [
        "/admin/", "/admin/response/", "/admin/complaint/", "/admin/survey/",
        f"/admin/survey/details/?id={answered['survey'].id}", "/admin/invitation/", "/admin/customer/",
        f"/admin/complaint/edit/?id={complaint_id}", "/admin/history/",
    ]
    for url in shown + others:
        page = admin.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        if url in shown:
            assert "&lt;script&gt;alert(" in html, url


def test_print_letters_for_selected_invitations(app, login_as, office):
    with app.app_context():
        survey = create_from_template("csat", "zh_CN")
        invitations = [Invitation.create(survey=survey, customer=make_customer(office["branch"], name=name),
                                         expires_at=datetime(2026, 12, 31))
                       for name in ("赵敏", XSS)]
    page = login_as("staff").post("/admin/invitation/action/",
                                  {"action": "print_letters", "rowid": [i.id for i in invitations]})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('class="letter"') == 2
    assert "赵敏" in html and "2026-12-31" in html and invitations[1].token in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_one_click_open_link_from_the_survey_page(app, login_as, office):
    with app.app_context():
        survey = create_from_template("nps", "zh_CN")
    assert login_as("staff").post("/admin/survey/open-link/", {"survey": survey.id}).status_code == 403
    manager = login_as("manager")
    response = manager.post("/admin/survey/open-link/", {"survey": survey.id, "label": "南京门店"})
    with app.app_context():
        link = OpenLink.get()
        assert (link.survey_id, link.label) == (survey.id, "南京门店")
    assert response.headers["Location"].endswith(f"/admin/openlink/print/{link.id}")
    assert manager.post("/admin/survey/open-link/", {"survey": 999999}).status_code == 404


def test_responses_listed_per_survey(app, login_as, office):
    with app.app_context():
        first, second = create_from_template("csat", "zh_CN"), create_from_template("nps", "en")
        Response.create(survey=first, customer=make_customer(office["branch"], name="甲客户"))
        Response.create(survey=second, customer=make_customer(office["branch"], name="乙客户"))
    staff = login_as("staff")
    html = staff.get(f"/admin/response/?flt0_0={first.id}").get_data(as_text=True)
    assert "甲客户" in html and "乙客户" not in html
    details = login_as("manager").get(f"/admin/survey/details/?id={first.id}").get_data(as_text=True)
    assert f"/admin/response/?flt0_0={first.id}" in details


def test_answers_are_never_deleted_with_their_survey_or_question(app, login_as, answered):
    admin = login_as("admin")
    survey = answered["survey"]
    with app.app_context():
        question = Question.select().where(Question.survey == survey).order_by(Question.position).first()
    refused = admin.post("/admin/survey/delete/", {"id": survey.id}, follow_redirects=True)
    assert "Active" in refused.get_data(as_text=True) or "启用" in refused.get_data(as_text=True)
    admin.post("/admin/question/delete/", {"id": question.id})
    # removing the question from the survey's inline form is refused too
    with app.app_context():
        rows = list(Question.select().where(Question.survey == survey).order_by(Question.position))
    form = {"title": survey.title, "intro": "", "kind": "csat", "language": "zh_CN", "active": "y"}
    for i, row in enumerate(rows):
        form.update({f"questions-{i}-id": str(row.id), f"questions-{i}-position": str(row.position),
                     f"questions-{i}-text": row.text, f"questions-{i}-kind": row.kind,
                     f"questions-{i}-max_length": str(row.max_length), f"questions-{i}-dimension": row.dimension or "__None"})
        if row.required:
            form[f"questions-{i}-required"] = "y"
    form["del-questions-0"] = "on"
    edited = admin.post(f"/admin/survey/edit/?id={survey.id}", form, follow_redirects=True)
    assert "cannot be deleted" in edited.get_data(as_text=True) or "不能删除" in edited.get_data(as_text=True)
    with app.app_context():
        assert Survey.get_or_none(Survey.id == survey.id) is not None
        assert Question.get_or_none(Question.id == question.id) is not None
        assert Answer.select().count() == 6 and Response.select().count() == 1
    # an unanswered question can still be removed from the builder
    with app.app_context():
        spare = Question.create(survey=survey, position=99, text="临时题", kind="text", required=False)
    form.pop("del-questions-0")
    n = len(rows)
    form.update({f"questions-{n}-id": str(spare.id), f"questions-{n}-position": "99", f"questions-{n}-text": "临时题",
                 f"questions-{n}-kind": "text", f"questions-{n}-max_length": "1000",
                 f"questions-{n}-dimension": "__None", f"del-questions-{n}": "on"})
    assert admin.post(f"/admin/survey/edit/?id={survey.id}", form).status_code == 302
    with app.app_context():
        assert Question.get_or_none(Question.id == spare.id) is None
        assert Question.select().where(Question.survey == survey).count() == len(rows)


def test_invite_every_customer_of_a_filtered_list(app, login_as, office):
    from .helpers import make_branch
    with app.app_context():
        survey = create_from_template("csat", "zh_CN")
        other_branch = make_branch("新疆分公司", region="新疆")
        vip = [make_customer(office["branch"], name=f"大客户{i}", grade="vip") for i in range(3)]
        make_customer(office["branch"], name="已流失大客户", grade="vip", churned=True, churn_reason="price")
        make_customer(office["branch"], name="普通客户", grade="regular")
        make_customer(other_branch, name="新疆大客户", grade="vip")
    staff = login_as("staff")
    query = {"branch": office["branch"].id, "grade": "vip"}
    page = staff.get("/admin/invitation/invite/", query_string=query).get_data(as_text=True)
    matching = re.search(r'id="matching">(.*?)</p>', page, re.S).group(1)
    assert re.findall(r"\d+", matching) == ["3"]
    done = staff.post("/admin/invitation/invite/", {**query, "survey": survey.id, "expires_in_days": "30"})
    assert done.status_code == 302
    with app.app_context():
        invited = {i.customer.name for i in Invitation.select()}
        assert invited == {c.name for c in vip}
    staff.post("/admin/invitation/invite/", {**query, "survey": survey.id, "expires_in_days": ""})
    with app.app_context():
        assert Invitation.select().count() == 3
