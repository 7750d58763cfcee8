"""The public survey pages: what a customer sees on /s/..., and what reaches the database."""
import re
import secrets
import threading
from datetime import datetime, timedelta

import pytest

from models import AnonymousFeedback, Answer, Complaint, Invitation, OpenLink, Question, Response, Survey, db
from models import clock
from models.survey_templates import create_from_template

from .helpers import make_branch, make_customer, make_staff

MOMENT = datetime(2026, 6, 1, 9, 0)


@pytest.fixture
def csat(app):
    """The CSAT template in Chinese, one customer invited, one open link at the branch counter.
    The minimum fill time is off here (tests/test_survey_flood.py tests it)."""
    app.config["SURVEY_MIN_FILL_SECONDS"] = 0
    with app.app_context():
        clock.freeze(MOMENT)
        branch = make_branch()
        make_staff(branch, "E0001", name="值班员", on_duty=True)  # owns the follow-ups of low scores
        survey = create_from_template("csat", "zh_CN")
        customer = make_customer(branch)
        invitation = Invitation.create(survey=survey, customer=customer)
        open_link = OpenLink.create(survey=survey, label="前台", branch=branch)
        questions = list(survey.questions.order_by(Question.position))
    yield {"survey": survey, "invitation": invitation, "open_link": open_link, "questions": questions,
           "customer": customer, "branch": branch}
    clock.freeze(None)


def answers(questions, rating="5", text="很好"):
    form = {}
    for question in questions:
        form[f"q{question.id}"] = rating if question.kind == "rating" else text
    return form


def test_invitation_page_is_mobile_ready_and_marks_the_invitation_opened(app, client, csat):
    page = client.get(f"/s/i/{csat['invitation'].token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'name="csrf_token"' in html and 'name="website"' in html
    assert "客户满意度调查" in html and "提交" in html  # the survey's language: Chinese chrome
    assert "http://" not in html.replace("http://localhost", "") and "cdn" not in html.lower()
    css = client.get(re.search(r'href="(/s/static/[^"]+\.css)"', html).group(1))
    assert css.status_code == 200 and b".pick" in css.data
    with app.app_context():
        assert Invitation.get_by_id(csat["invitation"].id).opened_at == MOMENT


def test_english_survey_gets_english_chrome(app, client):
    with app.app_context():
        survey = create_from_template("nps", "en")
        link = OpenLink.create(survey=survey)
    html = client.get(f"/s/o/{link.token}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Send my answers" in html and "Extremely likely" in html


def test_answering_an_invitation_stores_it_and_thanks(app, client, csat):
    url = f"/s/i/{csat['invitation'].token}"
    client.fetch_csrf(url)
    response = client.post(url, answers(csat["questions"]))
    assert response.status_code == 302
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200 and "感谢" in thanks.get_data(as_text=True)
    with app.app_context():
        stored = Response.get(Response.invitation == csat["invitation"].id)
        assert stored.customer_id == csat["customer"].id and stored.answers.count() == 6
        assert Invitation.get_by_id(csat["invitation"].id).answered_at == MOMENT
    # the link is now used: the polite page
    again = client.get(url)
    assert again.status_code == 404 and "无法使用" in again.get_data(as_text=True)


def test_errors_are_shown_next_to_the_question_with_the_answers_kept(app, client, csat):
    url = f"/s/o/{csat['open_link'].token}"
    client.fetch_csrf(url)
    form = answers(csat["questions"], text="<b>留言</b>")
    first, second = csat["questions"][0], csat["questions"][1]
    del form[f"q{first.id}"]
    form[f"q{second.id}"] = "9"
    response = client.post(url, form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    first_block = re.search(rf'<fieldset[^>]*id="q{first.id}".*?</fieldset>', html, re.S).group(0)
    second_block = re.search(rf'<fieldset[^>]*id="q{second.id}".*?</fieldset>', html, re.S).group(0)
    assert 'class="error"' in first_block and "请回答" in first_block
    assert 'class="error"' in second_block and "1" in second_block and "5" in second_block
    third = csat["questions"][2]
    assert re.search(rf'name="q{third.id}" value="5" checked', html)  # valid answers kept
    assert "&lt;b&gt;留言&lt;/b&gt;" in html  # the text kept, escaped
    with app.app_context():
        assert Response.select().count() == 0 and Answer.select().count() == 0


def test_over_long_answer_is_refused_with_its_limit(app, client, csat):
    url = f"/s/o/{csat['open_link'].token}"
    client.fetch_csrf(url)
    response = client.post(url, answers(csat["questions"], text="长" * 1001))
    assert response.status_code == 422 and "1000" in response.get_data(as_text=True)
    with app.app_context():
        assert Response.select().count() == 0


def test_expired_used_unknown_and_closed_links_look_the_same(app, client, csat):
    with app.app_context():
        expired = Invitation.create(survey=csat["survey"], expires_at=MOMENT - timedelta(seconds=1))
        used = Invitation.create(survey=csat["survey"], answered_at=MOMENT)
        closed_survey = create_from_template("nps", "en")
        Survey.update(active=False).where(Survey.id == closed_survey.id).execute()
        closed = Invitation.create(survey=closed_survey)
        inactive_link = OpenLink.create(survey=csat["survey"], active=False)
    pages = [client.get(f"/s/i/{expired.token}"), client.get(f"/s/i/{used.token}"),
             client.get(f"/s/i/{closed.token}"), client.get(f"/s/i/{secrets.token_urlsafe(32)}"),
             client.get(f"/s/o/{inactive_link.token}"), client.get("/s/i/" + "x" * 300),
             client.get(f"/q/{inactive_link.short_code}"), client.get("/q/zzzzzzzzzz"), client.get("/q/x")]
    bodies = {re.sub(r'value="[^"]*"', "", p.get_data(as_text=True)) for p in pages}
    assert {p.status_code for p in pages} == {404}
    assert len(bodies) == 1  # byte for byte the same page


def test_a_thousand_random_tokens_are_never_accepted(app, client, csat):
    client.fetch_csrf(f"/s/o/{csat['open_link'].token}")
    form = answers(csat["questions"])
    for i in range(1000):
        token = secrets.token_urlsafe(32)
        url = f"/s/i/{token}" if i % 2 else f"/s/o/{token}"
        response = client.post(url, form) if i % 10 == 0 else client.get(url)
        assert response.status_code == 404, url
    with app.app_context():
        assert Response.select().count() == 0


def test_honeypot_looks_like_success_and_is_held_not_counted(app, client, csat):
    url = f"/s/o/{csat['open_link'].token}"
    client.fetch_csrf(url)
    response = client.post(url, {**answers(csat["questions"], rating="1"), "website": "http://spam.example"})
    assert response.status_code == 302 and "/s/thanks" in response.headers["Location"]
    with app.app_context():
        stored = Response.get()  # never thrown away: a browser's autofill may have filled it
        assert (stored.status, stored.hold_reason) == ("held", "honeypot")
        assert Complaint.select().count() == 0 and AnonymousFeedback.select().count() == 0


def test_post_without_csrf_token_keeps_the_answers_and_stores_nothing(app, client, csat):
    url = f"/s/o/{csat['open_link'].token}"
    response = client.post(url, answers(csat["questions"], text="别丢了我的留言"), csrf=False)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "别丢了我的留言" in html and 'name="csrf_token"' in html
    with app.app_context():
        assert Response.select().count() == 0


def test_open_link_attributes_answers_and_low_scores_are_followed_up(app, client, csat):
    url = f"/s/o/{csat['open_link'].token}"
    client.fetch_csrf(url)
    assert client.post(url, answers(csat["questions"], rating="1", text="态度差")).status_code == 302
    client.fetch_csrf(url)
    assert client.post(url, answers(csat["questions"], rating="4")).status_code == 302
    client.fetch_csrf(url)
    with_contact = {**answers(csat["questions"], rating="2", text="请回电"), "contact_name": "赵先生",
                    "contact_phone": "139 0000 2222"}
    assert client.post(url, with_contact).status_code == 302
    with app.app_context():
        low, fine, called = Response.select().order_by(Response.id)
        assert {r.status for r in (low, fine, called)} == {"counted"}
        assert (low.open_link_id, low.branch_id, low.customer_id) == (csat["open_link"].id, csat["branch"].id, None)
        feedback = AnonymousFeedback.get()  # nobody to call: feedback for the branch, no complaint
        assert (feedback.response_id, feedback.branch_id) == (low.id, csat["branch"].id)
        assert "态度差" in feedback.description
        assert low.followup_complaint_id is None and fine.followup_complaint_id is None
        complaint = Complaint.get()  # a phone number: a complaint against a customer of the branch
        assert called.followup_complaint_id == complaint.id and complaint.customer.phone == "13900002222"
        assert complaint.channel == "survey" and complaint.branch_id == csat["branch"].id
        assert complaint.customer.branch_id == csat["branch"].id and "请回电" in complaint.description


def test_a_phone_that_cannot_be_called_keeps_every_answer_on_the_page(app, client, csat):
    url = f"/q/{csat['open_link'].short_code}"
    client.fetch_csrf(url)
    form = {**answers(csat["questions"], rating="3", text="留言还在"), "contact_name": "钱女士",
            "contact_phone": "12345"}
    response = client.post(url, form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    block = re.search(r'<fieldset[^>]*id="contact".*?</fieldset>', html, re.S).group(0)
    assert 'class="error"' in block and "010-12345678" in block
    assert 'value="钱女士"' in block and 'value="12345"' in block and "留言还在" in html
    assert re.search(rf'name="q{csat["questions"][0].id}" value="3" checked', html)
    with app.app_context():
        assert Response.select().count() == 0


def test_short_link_serves_the_same_survey_and_reads_typos_kindly(app, client, csat):
    code = csat["open_link"].short_code
    typed = f"{code[:5].upper()}-{code[5:]}".replace("0", "O").replace("1", "l")
    for path in (f"/q/{code}", f"/q/{typed}"):
        page = client.get(path)
        assert page.status_code == 200 and "客户满意度调查" in page.get_data(as_text=True), path
    client.fetch_csrf(f"/q/{typed}")
    assert client.post(f"/q/{typed}", answers(csat["questions"])).status_code == 302
    with app.app_context():
        assert Response.get().open_link_id == csat["open_link"].id


# ---------------------------------------------------------------- concurrency (real SQLite file, WAL)

def _submit_concurrently(app, urls, form):
    """POST form to every url at once, one thread and one client each; returns the status codes."""
    app.config["WTF_CSRF_ENABLED"] = False  # the subject here is the database, not the form token
    barrier = threading.Barrier(len(urls))
    codes = [None] * len(urls)

    def worker(index, url):
        http = app.test_client()
        barrier.wait()
        try:
            codes[index] = http.post(url, data=form).status_code
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=worker, args=(i, url)) for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def test_twenty_concurrent_submits_of_one_token_store_one_response(app, csat):
    url = f"/s/i/{csat['invitation'].token}"
    codes = _submit_concurrently(app, [url] * 20, answers(csat["questions"], rating="1"))
    assert sorted(codes) == [302] + [404] * 19, codes
    with app.app_context():
        assert Response.select().count() == 1
        assert Answer.select().count() == 6
        assert Complaint.select().count() == 1  # one follow-up, not twenty


def test_two_hundred_concurrent_submits_with_distinct_tokens(app, csat):
    with app.app_context():
        with db.atomic():
            tokens = [Invitation.create(survey=csat["survey"], customer=csat["customer"]).token for _ in range(200)]
    codes = _submit_concurrently(app, [f"/s/i/{t}" for t in tokens], answers(csat["questions"]))
    assert codes == [302] * 200
    with app.app_context():
        assert Response.select().count() == 200
        assert Invitation.select().where(Invitation.answered_at.is_null(False)).count() == 200


def test_huge_form_field_gets_a_polite_413(app, client, csat):
    url = f"/s/o/{csat['open_link'].token}"
    client.fetch_csrf(url)
    response = client.post(url, answers(csat["questions"], text="长" * 400_000))  # 1.2 MB in UTF-8
    assert response.status_code == 413 and "太长" in response.get_data(as_text=True)
    with app.app_context():
        assert Response.select().count() == 0


def test_post_without_csrf_token_answers_the_same_page_for_live_and_dead_links(app, client, csat):
    """No oracle: the page does not depend on whether the token exists (and nothing is stored)."""
    form = answers(csat["questions"], text="同样的页面")
    pages = []
    for url in (f"/s/o/{csat['open_link'].token}", "/s/o/" + "x" * 43, f"/s/i/{csat['invitation'].token}",
                "/s/i/" + "y" * 43):
        response = client.post(url, form, csrf=False)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        pages.append(re.sub(r'value="[^"]*" name="csrf_token"|name="csrf_token" value="[^"]*"|action="[^"]*"', "",
                            html))
    assert len(set(pages)) == 1
    with app.app_context():
        assert Response.select().count() == 0
