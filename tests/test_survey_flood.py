"""Open links on a shared network: many customers behind one address are all counted, a
script is stopped, and no answer a customer typed is ever lost (models.survey_guard).

These tests run with rate limiting on and the default limits unless a test says otherwise;
the waits are the minimum fill time (3 s), spent once per test like a customer reading."""
import re
import time
from datetime import timedelta

import pytest

from models import OpenLink, Question, Response, Survey, clock, reports
from models.survey_guard import DEFAULT_MIN_FILL_SECONDS, FormStart, assess, form_token
from models.survey_templates import create_from_template

from .conftest import make_app
from .helpers import Client, make_branch

BRANCH_WIFI = "203.0.113.7"  # the branch's Wi-Fi: every customer in the shop has this address


@pytest.fixture
def guarded(tmp_path):
    """make(**config) -> (app, poster url, questions): a CSAT open link of a branch, on an app
    with rate limiting on (default limits unless overridden)."""
    apps = []

    def make(**config):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, **config)
        apps.append(app)
        with app.app_context():
            branch = make_branch()
            survey = create_from_template("csat", "zh_CN")
            link = OpenLink.create(survey=survey, branch=branch, label="前台")
            questions = list(survey.questions.order_by(Question.position))
        return app, f"/q/{link.short_code}", questions
    yield make
    clock.freeze(None)
    from models.base import release_connections
    release_connections()


def customer_at(app, address):
    client = Client(app.test_client())
    client.http.environ_base["REMOTE_ADDR"] = address
    return client


def answers(questions, rating):
    return {f"q{q.id}": (str(rating) if q.kind == "rating" else "") for q in questions}


def counted():
    return Response.select().where(Response.status == "counted")


def today():
    return clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)


def test_thirty_customers_behind_one_address_within_a_minute_are_all_stored_and_counted(guarded):
    app, url, questions = guarded()
    started = time.monotonic()
    customers = [customer_at(app, BRANCH_WIFI) for _ in range(30)]
    for customer in customers:
        customer.fetch_csrf(url)  # thirty phones open the poster's page
    time.sleep(DEFAULT_MIN_FILL_SECONDS + 0.2)  # and answer it
    codes = [customer.post(url, answers(questions, 1 + i % 5)).status_code for i, customer in enumerate(customers)]
    assert time.monotonic() - started < 60
    assert codes == [302] * 30
    with app.app_context():
        assert counted().count() == 30 and Response.select().count() == 30
        assert reports.csat(*today())["answers"] == 30 * 5  # five rating questions each


def test_a_scripted_flood_from_the_branch_wifi_is_stopped_without_losing_a_customer_answer(guarded):
    app, url, questions = guarded()
    shoppers = [customer_at(app, BRANCH_WIFI) for _ in range(10)]
    for shopper in shoppers:
        shopper.fetch_csrf(url)  # real customers open the page and start reading
    script = customer_at(app, BRANCH_WIFI)  # a script on the same Wi-Fi
    script.fetch_csrf(url)
    captured = {**answers(questions, 1), "csrf_token": script.csrf, "form_token": script.form_token}
    codes, refused_page = [], None
    for _ in range(100):  # replaying one captured submission
        codes.append(script.http.post(url, data=captured).status_code)
    for _ in range(100):  # posting without ever reading the form page
        codes.append(script.http.post(url, data={**answers(questions, 1), "csrf_token": script.csrf}).status_code)
    for _ in range(100):  # reading the page, answering at once
        script.fetch_csrf(url)
        response = script.post(url, answers(questions, 1))
        codes.append(response.status_code)
        refused_page = response if response.status_code == 429 else refused_page
    time.sleep(DEFAULT_MIN_FILL_SECONDS + 0.2)
    shopper_codes = [shopper.post(url, answers(questions, 4 + i % 2)).status_code for i, shopper in enumerate(shoppers)]

    assert shopper_codes == [302] * 10  # every customer: stored, counted, thanked
    assert codes.count(302) == 20 and codes.count(429) == 280  # 20 held for review (SURVEY_HELD_LIMIT), then stopped
    html = refused_page.get_data(as_text=True)  # a refused page keeps what was typed
    assert "请过一分钟再提交一次" in html and re.search(rf'name="q{questions[0].id}" value="1" checked', html)
    with app.app_context():
        assert counted().count() == 10
        held = Response.select().where(Response.status == "held")
        assert held.count() == 20 and {r.hold_reason for r in held} <= {"duplicate", "no_form_token", "too_fast"}
        assert reports.csat(*today()) == {"answers": 50, "satisfied": 50, "csat": 100.0, "mean": 4.5}


def test_beyond_the_address_limit_answers_are_held_then_refused_with_the_form_kept(guarded):
    from flask import current_app
    app, url, questions = guarded(SURVEY_RATE_LIMIT="5 per minute", SURVEY_HELD_LIMIT="3 per minute",
                                  SURVEY_MIN_FILL_SECONDS=0)
    lobby = customer_at(app, "198.51.100.20")
    codes, last = [], None
    for _ in range(10):
        lobby.fetch_csrf(url)
        last = lobby.post(url, answers(questions, 5))
        codes.append(last.status_code)
    assert codes == [302] * 8 + [429] * 2
    assert customer_at(app, "198.51.100.99").get(url).status_code == 200
    elsewhere = customer_at(app, "198.51.100.99")
    elsewhere.fetch_csrf(url)
    assert elsewhere.post(url, answers(questions, 5)).status_code == 302  # limits are per address
    with app.app_context():
        assert counted().count() == 6
        assert [r.hold_reason for r in Response.select().where(Response.status == "held")] == ["busy_address"] * 3
    # the refused customer sends the kept page again once the rush is over: counted, nothing lost
    kept_token = re.search(r'name="form_token" value="([^"]+)"', last.get_data(as_text=True)).group(1)
    with app.app_context():
        next(iter(current_app.extensions["limiter"])).reset()
    again = lobby.http.post(url, data={**answers(questions, 5), "csrf_token": lobby.csrf, "form_token": kept_token})
    assert again.status_code == 302
    with app.app_context():
        assert counted().count() == 7


def test_a_link_over_its_hourly_budget_holds_the_rest_for_review(guarded):
    app, url, questions = guarded(SURVEY_LINK_BUDGET="3 per hour", SURVEY_MIN_FILL_SECONDS=0)
    for number in range(5):
        visitor = customer_at(app, f"192.0.2.{number + 1}")  # five different networks
        visitor.fetch_csrf(url)
        assert visitor.post(url, answers(questions, 3)).status_code == 302
    with app.app_context():
        assert counted().count() == 3
        assert [r.hold_reason for r in Response.select().where(Response.status == "held")] == ["link_budget"] * 2


def test_form_page_checks_hold_a_copied_token_a_second_send_and_a_form_sent_too_fast(guarded):
    app, url, questions = guarded(SURVEY_MIN_FILL_SECONDS=2)
    with app.app_context():
        other_link = OpenLink.create(survey=Survey.get())
    visitor = customer_at(app, "192.0.2.50")
    visitor.fetch_csrf(f"/q/{other_link.short_code}")  # the token of another link's page
    assert visitor.post(url, answers(questions, 4)).status_code == 302
    visitor.fetch_csrf(url)
    assert visitor.post(url, answers(questions, 4)).status_code == 302  # sent at once
    time.sleep(2.1)
    assert visitor.post(url, answers(questions, 4)).status_code == 302  # same page again, after reading
    fresh = customer_at(app, "192.0.2.51")
    fresh.fetch_csrf(url)
    time.sleep(2.1)
    assert fresh.post(url, answers(questions, 4)).status_code == 302
    assert fresh.post(url, answers(questions, 4)).status_code == 302  # a second tap on "send"
    with app.app_context():
        rows = [(r.status, r.hold_reason) for r in Response.select().order_by(Response.id)]
    assert rows == [("held", "no_form_token"), ("held", "too_fast"), ("held", "duplicate"), ("counted", None),
                    ("held", "duplicate")]


def test_guessing_short_codes_is_refused_after_thirty_misses_but_a_real_code_still_opens(guarded):
    app, url, _questions = guarded()
    guesser = customer_at(app, "192.0.2.77")
    codes = [guesser.get(f"/q/{'k' * 9}{n % 10}").status_code for n in range(31)]
    assert codes == [404] * 30 + [429]
    assert guesser.get(url).status_code == 200


@pytest.mark.parametrize("facts,expected", [
    ({}, ("count", None)),
    ({"honeypot": True}, ("hold", "honeypot")),
    ({"start": None}, ("hold", "no_form_token")),
    ({"moment": 1001.0}, ("hold", "too_fast")),
    ({"duplicate": True}, ("hold", "duplicate")),
    ({"address_busy": True}, ("hold", "busy_address")),
    ({"link_over_budget": True}, ("hold", "link_budget")),
    ({"address_busy": True, "held_budget_spent": True}, ("refuse", "busy_address")),
    ({"held_budget_spent": True}, ("count", None)),  # a good submission never meets the held budget
    ({"honeypot": True, "held_budget_spent": True}, ("refuse", "honeypot")),
])
def test_the_verdict_rules(facts, expected):
    given = {"honeypot": False, "start": FormStart("n", 1000.0), "moment": 1010.0, "min_fill_seconds": 3,
             "duplicate": False, "address_busy": False, "link_over_budget": False, "held_budget_spent": False}
    given.update(facts)
    assert tuple(assess(**given)) == expected


def test_a_form_token_is_bound_to_its_link_and_cannot_be_forged():
    from models.survey_guard import read_form_token
    token = form_token("secret", "o7", 1000.5, "abc")
    assert read_form_token("secret", token, "o7") == FormStart("abc", 1000.5)
    assert read_form_token("secret", token, "o8") is None
    assert read_form_token("other secret", token, "o7") is None
    assert read_form_token("secret", token[:-2] + "xx", "o7") is None
    assert read_form_token("secret", "", "o7") is None


@pytest.mark.parametrize("name,value", [("SURVEY_RATE_LIMIT", "lots"), ("SURVEY_MIN_FILL_SECONDS", "soon")])
def test_a_mistyped_limit_stops_the_service_at_start_not_a_customer_later(tmp_path, name, value):
    from app import create_app
    with pytest.raises(RuntimeError, match=name):
        create_app({"SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", name: value})
