"""Validating and storing a questionnaire (models.answers), and the closed loop for low scores."""
from datetime import datetime, timedelta

import pytest

from models import (AnonymousFeedback, Answer, Choice, Complaint, Customer, History, Invitation, OpenLink, Question,
                    Response, Survey)
from models import clock
from models.answers import LinkUnavailable, link_by_token, reject_held, release_held, submit_response, survey_questions
from models.base import select_reusing_sql
from models.audit import Setting
from models.reports import survey_response_rates
from models.survey_links import invitation_status, invite_customers, status_condition

from .helpers import make_branch, make_customer, make_staff

MOMENT = datetime(2026, 5, 11, 10, 0)


@pytest.fixture
def office(app):
    """Branch and staff without login accounts (hashing passwords is slow and not needed here)."""
    with app.app_context():
        branch = make_branch()
        return {"branch": branch, "staff": make_staff(branch), "other": make_staff(branch, "E0002", name="李强")}


@pytest.fixture
def survey(app, office):
    """One question of every kind."""
    with app.test_request_context():
        clock.freeze(MOMENT)
        survey = Survey.create(title="全题型问卷", language="zh_CN")
        kinds = ["rating", "score", "single", "multiple", "text", "staff", "servqual"]
        questions = {kind: Question.create(survey=survey, position=i, text=f"{kind} 题", kind=kind, required=True,
                                           max_length=20)
                     for i, kind in enumerate(kinds, start=1)}
        for kind in ("single", "multiple"):
            for i, text in enumerate(["电话", "网站", "来访"], start=1):
                Choice.create(question=questions[kind], position=i, text=text, score=i)
        yield survey, questions
        clock.freeze(None)


def good_answers(questions, office):
    single = questions["single"].choices.order_by(Choice.id)
    multiple = list(questions["multiple"].choices.order_by(Choice.id))
    return {
        questions["rating"].id: "4",
        questions["score"].id: "9",
        questions["single"].id: str(single[0].id),
        questions["multiple"].id: [str(multiple[0].id), str(multiple[2].id)],
        questions["text"].id: "  服务很好  ",
        questions["staff"].id: str(office["staff"].id),
        questions["servqual"].id: ("6", "5"),
    }


def _link(survey, customer=None):
    return Invitation.create(survey=survey, customer=customer)


def test_valid_submission_stores_response_and_answers_in_one_go(app, office, survey):
    survey, questions = survey
    with app.test_request_context():
        customer = make_customer(office["branch"])
        invitation = _link(survey, customer)
        response, errors = submit_response(survey, good_answers(questions, office), invitation=invitation)
        assert errors == {}
        response = Response.get_by_id(response.id)
        assert (response.customer_id, response.branch_id, response.invitation_id) == (
            customer.id, office["branch"].id, invitation.id)
        assert response.staff_id == office["staff"].id  # picked in the staff question
        by_question = {}
        for answer in Answer.select().where(Answer.response == response):
            by_question.setdefault(answer.question.kind, []).append(answer)
        assert by_question["rating"][0].value == 4
        assert by_question["score"][0].value == 9
        assert by_question["single"][0].choice.text == "电话"
        assert sorted(a.choice.text for a in by_question["multiple"]) == ["来访", "电话"]
        assert by_question["text"][0].text == "服务很好"
        assert by_question["staff"][0].staff_id == office["staff"].id
        assert (by_question["servqual"][0].expectation, by_question["servqual"][0].value) == (6, 5)
        assert Invitation.get_by_id(invitation.id).answered_at == MOMENT
        assert response.followup_complaint is None


BAD_VALUES = [
    ("rating", "0"), ("rating", "6"), ("rating", "abc"), ("rating", "3.5"), ("rating", "²"), ("rating", ""),
    ("score", "11"), ("score", "-1"), ("score", ""),
    ("single", "999999"), ("single", ""),
    ("multiple", ["999999"]), ("multiple", []),
    ("text", "长" * 21), ("text", "   "),
    ("staff", "999999"), ("staff", ""), ("staff", "abc"),
    ("servqual", ("8", "5")), ("servqual", ("5", "")), ("servqual", ("", "")), ("servqual", ("0", "1")),
]


@pytest.mark.parametrize("kind,value", BAD_VALUES)
def test_each_kind_rejects_bad_values_and_writes_nothing(app, office, survey, kind, value):
    survey, questions = survey
    with app.test_request_context():
        invitation = _link(survey, make_customer(office["branch"]))
        raw = good_answers(questions, office)
        raw[questions[kind].id] = value
        counts = (Response.select().count(), Answer.select().count(), Complaint.select().count())
        response, errors = submit_response(survey, raw, invitation=invitation)
        assert response is None
        assert list(errors) == [questions[kind].id]
        assert str(errors[questions[kind].id])
        assert (Response.select().count(), Answer.select().count(), Complaint.select().count()) == counts
        assert Invitation.get_by_id(invitation.id).answered_at is None


def test_over_long_text_error_names_the_limit(app, office, survey):
    survey, questions = survey
    with app.test_request_context():
        raw = good_answers(questions, office)
        raw[questions["text"].id] = "x" * 25
        _response, errors = submit_response(survey, raw, invitation=_link(survey))
        assert "20" in str(errors[questions["text"].id]) and "25" in str(errors[questions["text"].id])


def test_optional_questions_may_stay_empty(app, office, survey):
    survey, questions = survey
    with app.test_request_context():
        Question.update(required=False).where(Question.survey == survey).execute()
        response, errors = submit_response(survey, {}, open_link=OpenLink.create(survey=survey))
        assert errors == {} and response.answers.count() == 0


def test_used_expired_and_closed_links_are_refused(app, office, survey):
    survey, questions = survey
    with app.test_request_context():
        raw = good_answers(questions, office)
        invitation = _link(survey)
        submit_response(survey, raw, invitation=invitation)
        with pytest.raises(LinkUnavailable):
            submit_response(survey, raw, invitation=Invitation.get_by_id(invitation.id))
        expired = Invitation.create(survey=survey, expires_at=MOMENT - timedelta(minutes=1))
        with pytest.raises(LinkUnavailable):
            submit_response(survey, raw, invitation=expired)
        closed_link = OpenLink.create(survey=survey, active=False)
        with pytest.raises(LinkUnavailable):
            submit_response(survey, raw, open_link=closed_link)
        Survey.update(closes_at=MOMENT).where(Survey.id == survey.id).execute()
        with pytest.raises(LinkUnavailable):
            submit_response(Survey.get_by_id(survey.id), raw, invitation=_link(Survey.get_by_id(survey.id)))
        assert Response.select().count() == 1


# ---------------------------------------------------------------- closed loop

def _rating_survey():
    survey = Survey.create(title="回访问卷")
    rating = Question.create(survey=survey, position=1, text="您对处理结果的满意程度", kind="rating", dimension="attitude")
    score = Question.create(survey=survey, position=2, text="推荐意愿", kind="score", required=False)
    words = Question.create(survey=survey, position=3, text="意见", kind="text", required=False)
    return survey, rating, score, words


@pytest.mark.parametrize("rating,score,expected", [
    ("2", "", 1), ("1", "10", 1), ("3", "6", 1), ("2", "0", 1),  # one complaint however many low items
    ("3", "7", 0), ("5", "", 0),
])
def test_low_score_opens_exactly_one_followup_complaint(app, office, rating, score, expected):
    with app.app_context():  # no request: a script or job may store answers too
        survey, q_rating, q_score, q_words = _rating_survey()
        customer = make_customer(office["branch"], name="陈静", account_manager=office["other"])
        response, errors = submit_response(
            survey, {q_rating.id: rating, q_score.id: score, q_words.id: "等了三天没人来"},
            invitation=Invitation.create(survey=survey, customer=customer))
        assert errors == {}
        complaints = list(Complaint.select())
        assert len(complaints) == expected
        response = Response.get_by_id(response.id)
        if expected:
            complaint = complaints[0]
            assert response.followup_complaint_id == complaint.id
            assert (complaint.channel, complaint.customer_id, complaint.branch_id) == ("survey", customer.id,
                                                                                       office["branch"].id)
            assert complaint.number.startswith("问字【") and complaint.stage == "received"
            assert complaint.assignee_id == office["other"].id  # owned by the customer's account manager
            assert complaint.acknowledge_due_at is not None and complaint.due_at == complaint.acknowledge_due_at
            assert "等了三天没人来" in complaint.description
            assert "满意度低分" in complaint.title  # written in the office's language
            if not score:
                assert complaint.category == "attitude"  # from the low item's dimension
            assert History.select().where((History.object_type == "Complaint")
                                          & (History.object_id == complaint.id)).exists()
        else:
            assert response.followup_complaint_id is None


def test_thresholds_come_from_the_settings(app, office):
    with app.app_context():  # no request: a script or job may store answers too
        survey, q_rating, _q_score, _q_words = _rating_survey()
        Setting.set_value("survey.followup_rating_max", 3)
        submit_response(survey, {q_rating.id: "3"}, open_link=OpenLink.create(survey=survey, branch=office["branch"]))
        assert AnonymousFeedback.select().count() == 1
        Setting.set_value("survey.followup_rating_max", 1)
        submit_response(survey, {q_rating.id: "2"}, open_link=OpenLink.create(survey=survey, branch=office["branch"]))
        assert AnonymousFeedback.select().count() == 1


def test_anonymous_low_score_without_contact_is_feedback_for_the_branch_without_deadline(app, office):
    with app.app_context():  # no request: a script or job may store answers too
        clock.freeze(MOMENT)
        survey, q_rating, _q_score, q_words = _rating_survey()
        staff_link = OpenLink.create(survey=survey, staff=office["staff"])  # branch through the staff member
        customers = Customer.select().count()
        for _ in range(2):
            response, _errors = submit_response(survey, {q_rating.id: "1", q_words.id: "排队太久"}, open_link=staff_link)
            assert response.customer is None and response.branch_id == office["branch"].id
            assert response.followup_complaint_id is None
        assert Complaint.select().count() == 0  # nobody to apologise to: no complaint, no SLA deadline
        assert Customer.select().count() == customers  # and no made-up customer
        feedback = list(AnonymousFeedback.to_review())
        assert len(feedback) == 2 and {f.branch_id for f in feedback} == {office["branch"].id}
        assert all(f.received_at == MOMENT and f.reviewed_at is None for f in feedback)
        assert "排队太久" in feedback[0].description and "1/5" in feedback[0].description
        assert feedback[0].response_id == Response.select().order_by(Response.id).first().id


def test_contact_left_on_an_open_link_files_the_complaint_against_a_new_customer_of_the_branch(app, office):
    with app.app_context():
        clock.freeze(MOMENT)
        survey, q_rating, _q_score, _q_words = _rating_survey()
        other_branch = make_branch("新疆分公司", region="新疆")
        make_customer(other_branch, name="别处的客户", phone="13912345678")  # same phone, another branch
        link = OpenLink.create(survey=survey, branch=office["branch"])
        response, errors = submit_response(survey, {q_rating.id: "2"}, open_link=link,
                                           contact={"contact_name": "周先生", "contact_phone": "+86 139-1234-5678"})
        assert errors == {}
        complaint = Complaint.get()
        customer = complaint.customer
        assert (customer.name, customer.phone, customer.branch_id) == ("周先生", "13912345678", office["branch"].id)
        assert Response.get_by_id(response.id).customer_id == customer.id
        assert (response.contact_name, response.contact_phone) == ("周先生", "13912345678")
        assert complaint.acknowledge_due_at == MOMENT + timedelta(hours=1)  # a real complaint, with its deadlines
        assert "13912345678" in complaint.description
        history = {(h.action, h.field) for h in History.select().where(
            (History.object_type == "Customer") & (History.object_id == customer.id))}
        assert ("create", "phone") in history and ("note", "source") in history
        assert AnonymousFeedback.select().count() == 0


def test_contact_matching_a_customer_file_by_phone_goes_to_that_customer(app, office):
    with app.app_context():
        survey, q_rating, _q_score, _q_words = _rating_survey()
        regular = make_customer(office["branch"], name="老客户刘女士", phone="138-0000-1111")
        make_customer(office["branch"], name="已流失的同号客户", phone="13800001111", churned=True,
                      churn_reason="price")
        link = OpenLink.create(survey=survey, branch=office["branch"])
        customers = Customer.select().count()
        submit_response(survey, {q_rating.id: "1"}, open_link=link,
                        contact={"contact_name": "", "contact_phone": "138 0000 1111"})
        assert Customer.select().count() == customers
        assert Complaint.get().customer_id == regular.id
        assert History.select().where((History.object_type == "Customer") & (History.object_id == regular.id)
                                      & (History.action == "note")).exists()


@pytest.mark.parametrize("name,phone", [("王先生", ""), ("", "1391234"), ("", "400-800-1234"), ("王" * 51, "13912345678")])
def test_a_contact_that_cannot_be_called_back_is_an_error_and_stores_nothing(app, office, name, phone):
    with app.app_context():
        survey, q_rating, _q_score, _q_words = _rating_survey()
        link = OpenLink.create(survey=survey, branch=office["branch"])
        response, errors = submit_response(survey, {q_rating.id: "1"}, open_link=link,
                                           contact={"contact_name": name, "contact_phone": phone})
        assert response is None and list(errors) == ["contact"] and str(errors["contact"])
        assert Response.select().count() == 0 and Customer.select().count() == 0


def test_a_held_submission_counts_and_is_followed_up_only_once_released(app, office):
    from models import reports
    with app.app_context():
        clock.freeze(MOMENT)
        survey, q_rating, _q_score, _q_words = _rating_survey()
        link = OpenLink.create(survey=survey, branch=office["branch"])
        contact = {"contact_name": "吴女士", "contact_phone": "13700000000"}
        held, _ = submit_response(survey, {q_rating.id: "1"}, open_link=link, contact=contact, hold_reason="too_fast")
        spam, _ = submit_response(survey, {q_rating.id: "1"}, open_link=link, hold_reason="no_form_token")
        submit_response(survey, {q_rating.id: "5"}, open_link=link)
        day = (MOMENT - timedelta(days=1), MOMENT + timedelta(days=1))
        assert (held.status, held.hold_reason) == ("held", "too_fast")
        assert reports.csat(*day)["answers"] == 1 and reports.responses_received(*day) == 1
        assert Complaint.select().count() == 0 and AnonymousFeedback.select().count() == 0
        manager = make_user_for(office)
        complaint = release_held(Response.get_by_id(held.id), manager)
        assert complaint.customer.phone == "13700000000" and Complaint.select().count() == 1
        reject_held(Response.get_by_id(spam.id), manager)
        assert reports.csat(*day) == {"answers": 2, "satisfied": 1, "csat": 50.0, "mean": 3.0}
        assert Response.get_by_id(spam.id).status == "rejected"  # kept, never counted
        assert AnonymousFeedback.select().count() == 0
        with pytest.raises(ValueError):
            release_held(Response.get_by_id(spam.id), manager)
        assert History.select().where((History.object_type == "Response") & (History.field == "status")).count() == 2


def make_user_for(office):
    from models import User
    return User.create(username="reviewer", role="manager", password_hash="x", staff=office["staff"])


def test_complaint_callback_invitation_attributes_to_the_complaint(app, office):
    from .helpers import make_complaint
    with app.app_context():  # no request: a script or job may store answers too
        survey, q_rating, _q_score, _q_words = _rating_survey()
        complaint = make_complaint(make_customer(office["branch"]), responsible_staff=office["other"])
        invitation = Invitation.create(survey=survey, complaint=complaint)
        response, _errors = submit_response(survey, {q_rating.id: "5"}, invitation=invitation)
        assert (response.customer_id, response.branch_id, response.staff_id) == (
            complaint.customer_id, complaint.branch_id, office["other"].id)


# ---------------------------------------------------------------- invitations

def test_invitation_status_and_response_rate(app, office):
    with app.test_request_context():
        clock.freeze(MOMENT)
        survey, q_rating, _s, _w = _rating_survey()
        customers = [make_customer(office["branch"], name=f"客户{i}") for i in range(5)]
        created, skipped = invite_customers(survey, [c.id for c in customers] + [customers[0].id, 999999],
                                            expires_at=MOMENT + timedelta(days=7))
        assert (len(created), skipped) == (5, 1)  # the repeated id counts once, the unknown one is skipped
        assert invite_customers(survey, [c.id for c in customers])[0] == []  # nobody invited twice
        first, second, third, fourth, _fifth = created
        Invitation.update(sent_at=MOMENT).where(Invitation.id.in_([first.id, second.id, third.id])).execute()
        Invitation.update(opened_at=MOMENT).where(Invitation.id == second.id).execute()
        submit_response(survey, {q_rating.id: "5"}, invitation=Invitation.get_by_id(third.id))
        Invitation.update(expires_at=MOMENT - timedelta(hours=1)).where(Invitation.id == fourth.id).execute()
        statuses = [invitation_status(Invitation.get_by_id(i.id)) for i in created]
        assert statuses == ["sent", "opened", "answered", "expired", "created"]
        for code in set(statuses):
            ids = [i.id for i in Invitation.select().where(status_condition(code))]
            assert ids == [created[statuses.index(code)].id]
        # the one response rate (models.reports): answered / SENT; the two never sent do not count
        assert survey_response_rates([survey.id])[survey.id] == {"sent": 3, "answered": 1, "responses": 1,
                                                                 "rate": 33.3}
        with pytest.raises(ValueError):
            invite_customers(survey, [customers[0].id], expires_at=MOMENT - timedelta(days=1))


def test_tokens_are_long_random_and_unique(app, office):
    with app.test_request_context():
        survey = Survey.create(title="令牌")
        tokens = {Invitation.create(survey=survey).token for _ in range(200)}
        assert len(tokens) == 200
        assert all(len(t) >= 43 for t in tokens)  # 32 bytes = 256 bits, url-safe base64


def test_questions_are_listed_in_order_with_choices(app, office, survey):
    survey, questions = survey
    with app.test_request_context():
        Question.update(position=0).where(Question.id == questions["text"].id).execute()
        listed = survey_questions(survey)
        assert listed[0].kind == "text"
        assert [c.text for c in next(q for q in listed if q.kind == "single").choice_list] == ["电话", "网站", "来访"]


# ---------------------------------------------------------------- public pages' reads (statement text reused)

def test_link_lookup_loads_each_links_survey_and_customer(app, office, survey):
    with app.app_context():
        other_survey = Survey.create(title="第二份问卷", language="en")
        first = make_customer(office["branch"], name="王芳")
        second = make_customer(office["branch"], name="赵磊")
        links = [_link(survey[0], first), _link(other_survey, second), _link(other_survey)]
        open_link = OpenLink.create(survey=other_survey, branch=office["branch"], label="前台")
        for link, title, customer in zip(links, ["全题型问卷", "第二份问卷", "第二份问卷"], ["王芳", "赵磊", None]):
            found = link_by_token(Invitation, link.token)
            assert (found.id, found.survey.title) == (link.id, title)
            assert (found.customer.name if found.customer else None) == customer
        assert link_by_token(OpenLink, open_link.token).survey.title == "第二份问卷"
        assert link_by_token(Invitation, open_link.token) is None
        assert link_by_token(Invitation, "no-such-token") is None


def test_questions_of_each_survey_come_back_fresh(app, office, survey):
    with app.app_context():
        first, questions = survey
        second = Survey.create(title="两题问卷", language="zh_CN")
        pick = Question.create(survey=second, position=1, text="渠道", kind="single")
        Choice.create(question=pick, position=2, text="网站")
        Choice.create(question=pick, position=1, text="电话")
        Question.create(survey=second, position=2, text="建议", kind="text", required=False)
        for _ in range(2):
            assert [q.kind for q in survey_questions(first)] == list(questions)
            assert [len(q.choice_list) for q in survey_questions(first)] == [0, 0, 3, 3, 0, 0, 0]
            assert [(q.text, [c.text for c in q.choice_list]) for q in survey_questions(second)] == [
                ("渠道", ["电话", "网站"]), ("建议", [])]
        # the statement text is kept, the rows are not: a change shows at once
        Question.update(text="联系渠道").where(Question.id == pick.id).execute()
        Choice.create(question=pick, position=3, text="来访")
        assert [(q.text, len(q.choice_list)) for q in survey_questions(second)][0] == ("联系渠道", 3)


def test_reused_statement_refuses_parameters_that_are_not_the_querys(app):
    with app.app_context():
        query = Question.select().where(Question.survey == 1)
        with pytest.raises(ValueError):
            select_reusing_sql(query, ("test: wrong parameters",), 2)
