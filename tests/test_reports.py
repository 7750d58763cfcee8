"""Scoring figures (models.reports) against values computed by hand on small fixtures."""
from datetime import date, datetime, timedelta

import pytest

from models import (Answer, Callback, Complaint, Invitation, Question, Response, RewardPenalty, Setting,
                    Survey, clock)
from models import reports

from .helpers import make_branch, make_complaint, make_customer, make_staff

# A Wednesday; its week is [Mon 2026-11-23, Mon 2026-11-30), its month November 2026.
NOW = datetime(2026, 11, 25, 10, 0)
WEEK = reports.period_of("week", NOW)
MONTH = reports.period_of("month", NOW)


@pytest.fixture
def db_ready(app):
    clock.freeze(NOW)
    with app.app_context():
        yield app


def question(kind="rating", dimension=None, survey=None, text=None):
    survey = survey or Survey.create(title=f"{kind} survey")
    return Question.create(survey=survey, text=text or f"{kind} question", kind=kind, dimension=dimension)


def answer(q, value=None, at=NOW - timedelta(hours=1), branch=None, staff=None, customer=None, vote=None, **fields):
    """One response to q's survey with one answer; `staff` is whom the response is about,
    `vote` the staff member picked on a "pick a staff member" question."""
    response = Response.create(survey=q.survey_id, submitted_at=at, customer=customer, staff=staff,
                               branch=branch or (customer.branch if customer else None))
    return Answer.create(response=response, question=q, value=value, staff=vote, **fields)


def complaint_at(customer, received_at, **stages):
    """A complaint received at `received_at` with stage times given as offsets from the due time,
    e.g. acknowledged=timedelta(0) (exactly on time) or resolved=timedelta(minutes=1) (late)."""
    complaint = make_complaint(customer, received_at=received_at, responsible_staff=stages.pop("staff", None))
    due = {"acknowledged": ("acknowledged_at", complaint.acknowledge_due_at),
           "resolved": ("resolved_at", complaint.result_due_at),
           "rectified": ("rectified_at", complaint.rectify_due_at),
           "called_back": ("called_back_at", complaint.callback_due_at)}
    for stage, offset in stages.items():
        column, due_at = due[stage]
        setattr(complaint, column, due_at + offset)
        complaint.stage = stage
    # as the workflow does: the next deadline is the one of the stage now waited for
    complaint.due_at = {"received": complaint.acknowledge_due_at, "acknowledged": complaint.result_due_at,
                        "resolved": complaint.rectify_due_at, "rectified": complaint.callback_due_at}.get(complaint.stage)
    complaint.save()
    return complaint


# ---------------------------------------------------------------- periods

def test_week_starts_monday_and_is_half_open():
    sunday_night = datetime(2026, 11, 29, 23, 59, 59)
    monday = datetime(2026, 11, 30)
    week = reports.period_of("week", sunday_night)
    assert (week.start, week.end, week.label) == (datetime(2026, 11, 23), monday, "2026-W48")
    assert reports.period_of("week", monday).start == monday
    assert reports.period_of("week", date(2026, 1, 1)).label == "2026-W01"  # ISO week of a Thursday


def test_month_and_quarter_edges():
    assert reports.period_of("month", datetime(2026, 11, 30, 23, 59, 59)).label == "2026-11"
    december = reports.period_of("month", datetime(2026, 12, 1))
    assert (december.start, december.end) == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    q4 = reports.period_of("quarter", datetime(2026, 12, 31, 23, 59))
    assert (q4.start, q4.end, q4.label) == (datetime(2026, 10, 1), datetime(2027, 1, 1), "2026-Q4")
    assert reports.period_of("quarter", datetime(2026, 3, 31)).end == datetime(2026, 4, 1)
    months = reports.last_periods("month", 12, NOW)
    assert [p.label for p in months[:2]] == ["2025-12", "2026-01"] and months[-1].label == "2026-11"
    assert all(a.end == b.start for a, b in zip(months, months[1:]))


def test_custom_period_includes_both_days_and_rejects_reversed_dates():
    period = reports.custom_period(date(2026, 11, 1), date(2026, 11, 3))
    assert (period.start, period.end) == (datetime(2026, 11, 1), datetime(2026, 11, 4))
    with pytest.raises(ValueError):
        reports.custom_period(date(2026, 11, 3), date(2026, 11, 1))
    with pytest.raises(ValueError, match="2026-11-23"):
        reports.parse_period("custom", first="23/11/2026", last="2026-11-30")


def test_complaints_at_week_edges_fall_in_the_right_week(db_ready, office):
    customer = make_customer(office["branch"])
    for moment in (datetime(2026, 11, 22, 23, 59, 59), datetime(2026, 11, 23), datetime(2026, 11, 29, 23, 59, 59),
                   datetime(2026, 11, 30)):
        make_complaint(customer, received_at=moment)
    assert reports.complaints_received(WEEK.start, WEEK.end) == 2
    assert reports.complaints_received(WEEK.previous().start, WEEK.previous().end) == 1
    rows = reports.trend("week", 12, datetime(2026, 11, 30, 8, 0))
    assert [row["complaints"] for row in rows[-3:]] == [1, 2, 1]
    assert rows[-1]["label"] == "2026-W49" and len(rows) == 12


# ---------------------------------------------------------------- satisfaction

@pytest.mark.parametrize("value, promoters, passives, detractors, score", [
    (6, 0, 0, 1, -100.0), (7, 0, 1, 0, 0.0), (8, 0, 1, 0, 0.0), (9, 1, 0, 0, 100.0), (10, 1, 0, 0, 100.0),
    (0, 0, 0, 1, -100.0)])
def test_nps_boundaries(db_ready, value, promoters, passives, detractors, score):
    answer(question("score"), value)
    result = reports.nps(WEEK.start, WEEK.end)
    assert (result["promoters"], result["passives"], result["detractors"], result["nps"]) == \
        (promoters, passives, detractors, score)


def test_nps_mixed(db_ready):
    q = question("score")
    for value in (6, 7, 8, 9, 9, 10, 3):  # promoters 9, 9, 10; passives 7, 8; detractors 6, 3
        answer(q, value)
    answer(q, 10, at=WEEK.start - timedelta(seconds=1))  # last week: not counted
    answer(question("rating"), 5)  # a 5-point rating is not an NPS answer
    result = reports.nps(WEEK.start, WEEK.end)
    assert result["answers"] == 7
    assert result["nps"] == round(100 * (3 - 2) / 7, 1) == 14.3
    assert result["mean"] == round(52 / 7, 2)


def test_csat_share_of_four_and_five(db_ready, office):
    other = make_branch("新疆分公司", region="新疆")
    q = question("rating")
    for value in (5, 4, 3, 2, 1, 4):
        answer(q, value, branch=office["branch"])
    answer(q, 1, branch=other)
    answer(question("score"), 10, branch=office["branch"])
    result = reports.csat(WEEK.start, WEEK.end, branch=office["branch"])
    assert (result["answers"], result["satisfied"], result["csat"], result["mean"]) == (6, 3, 50.0, 3.17)
    everyone = reports.csat(WEEK.start, WEEK.end)
    assert (everyone["answers"], everyone["satisfied"], everyone["csat"]) == (7, 3, 42.9)
    assert reports.csat(WEEK.start - timedelta(days=7), WEEK.start)["csat"] is None  # no data, not 0 %


def test_csat_by_customer_grade(db_ready, office):
    vip = make_customer(office["branch"], grade="vip")
    regular = make_customer(office["branch"], grade="regular")
    q = question("rating")
    answer(q, 5, customer=vip)
    answer(q, 2, customer=regular)
    assert reports.csat(WEEK.start, WEEK.end, grade="vip")["csat"] == 100.0
    assert reports.csat(WEEK.start, WEEK.end, grade="regular")["csat"] == 0.0


def test_servqual_gap_per_dimension(db_ready):
    survey = Survey.create(title="SERVQUAL")
    reliability = question("servqual", "reliability", survey)
    empathy = question("servqual", "empathy", survey)
    answer(reliability, 3, expectation=5)   # gap -2
    answer(reliability, 4, expectation=4)   # gap 0
    answer(reliability, 4)                  # no expectation: not a pair
    answer(empathy, 5, expectation=3)       # gap +2
    gaps = reports.servqual_gaps(WEEK.start, WEEK.end)
    assert gaps["reliability"] == {"pairs": 2, "expectation": 4.5, "perception": 3.5, "gap": -1.0}
    assert gaps["empathy"] == {"pairs": 1, "expectation": 3.0, "perception": 5.0, "gap": 2.0}


def test_dimension_scores(db_ready):
    attitude = question("rating", "attitude")
    for value in (5, 3, 4):
        answer(attitude, value)
    answer(question("rating"), 1)  # no dimension
    assert reports.dimension_scores(WEEK.start, WEEK.end) == {"attitude": {"answers": 3, "mean": 4.0, "csat": 66.7}}


def test_response_rate_counts_invitations_sent_in_the_period(db_ready, office):
    survey = Survey.create(title="CSAT")
    customer = make_customer(office["branch"])
    inside = WEEK.start + timedelta(hours=1)
    for answered in (True, True, True, False):
        Invitation.create(survey=survey, customer=customer, sent_at=inside, answered_at=NOW if answered else None)
    Invitation.create(survey=survey, customer=customer, sent_at=WEEK.start - timedelta(seconds=1), answered_at=NOW)
    Invitation.create(survey=survey, customer=customer)  # never sent
    assert reports.response_rate(WEEK.start, WEEK.end) == {"sent": 4, "answered": 3, "rate": 75.0}
    other = make_branch("甘宁分公司", region="甘宁")
    assert reports.response_rate(WEEK.start, WEEK.end, branch=other) == {"sent": 0, "answered": 0, "rate": None}


# ---------------------------------------------------------------- SLA

def test_sla_compliance_on_time_late_and_exactly_on_time(db_ready, office):
    customer = make_customer(office["branch"])
    received = datetime(2026, 11, 24, 9, 0)
    complaint_at(customer, received, acknowledged=timedelta(0), resolved=timedelta(minutes=1))  # on the dot, late
    complaint_at(customer, received, acknowledged=timedelta(seconds=1))                          # late by 1 s
    complaint_at(customer, received, acknowledged=-timedelta(minutes=30), resolved=-timedelta(hours=1),
                 rectified=-timedelta(hours=2), called_back=timedelta(hours=3))                 # 3 on time, 1 late
    make_complaint(customer, received_at=received)                                               # nothing done yet
    complaint_at(customer, WEEK.start - timedelta(hours=1), acknowledged=timedelta(hours=5))     # last week
    sla = reports.sla_compliance(WEEK.start, WEEK.end)
    assert sla["acknowledged"] == {"done": 3, "on_time": 2, "late": 1, "rate": 66.7}
    assert sla["resolved"] == {"done": 2, "on_time": 1, "late": 1, "rate": 50.0}
    assert sla["rectified"] == {"done": 1, "on_time": 1, "late": 0, "rate": 100.0}
    assert sla["called_back"] == {"done": 1, "on_time": 0, "late": 1, "rate": 0.0}
    assert sla["overall"] == {"done": 7, "on_time": 4, "late": 3, "rate": 57.1}
    previous = reports.sla_compliance(WEEK.start - timedelta(days=7), WEEK.start)
    assert previous["overall"] == {"done": 1, "on_time": 0, "late": 1, "rate": 0.0}


def test_open_by_stage_counts_overdue(db_ready, office):
    customer = make_customer(office["branch"])
    make_complaint(customer, received_at=NOW - timedelta(hours=2))        # acknowledge due 1 h ago: overdue
    make_complaint(customer, received_at=NOW - timedelta(minutes=30))     # due in 30 min
    complaint_at(customer, NOW - timedelta(hours=3), acknowledged=timedelta(0))
    Complaint.update(due_at=NOW + timedelta(hours=20)).where(Complaint.stage == "acknowledged").execute()
    closed = make_complaint(customer, received_at=NOW - timedelta(days=3))
    Complaint.update(stage="closed", due_at=None).where(Complaint.id == closed.id).execute()
    counts = reports.open_by_stage()
    assert counts["received"] == (2, 1)
    assert counts["acknowledged"] == (1, 0)
    assert "closed" not in counts and sum(n for n, _ in counts.values()) == 3


# ---------------------------------------------------------------- branch ranking

def _branch_with(name, customers, sla_results, ratings=()):
    """A branch with `customers` customer files, one complaint per SLA result (True on time,
    False late; acknowledgement stage only) and rating answers."""
    branch = make_branch(name, region="华东")
    files = [make_customer(branch, name=f"{name}客户{i}") for i in range(customers)]
    for on_time in sla_results:
        complaint_at(files[0], datetime(2026, 11, 24, 9, 0),
                     acknowledged=timedelta(0) if on_time else timedelta(minutes=5))
    q = question("rating")
    for value in ratings:
        answer(q, value, branch=branch)
    return branch


def test_branch_ranking_composite_by_hand(db_ready):
    _branch_with("X分公司", customers=2, sla_results=[True, False], ratings=[5, 2])
    _branch_with("Y分公司", customers=4, sla_results=[True])
    _branch_with("Z分公司", customers=5, sla_results=[True, True], ratings=[5, 4, 4, 1])
    rows = reports.branch_ranking(WEEK.start, WEEK.end)
    by_name = {row["branch"]: row for row in rows}
    x, y, z = by_name["X分公司"], by_name["Y分公司"], by_name["Z分公司"]
    # X: SLA 50, CSAT 50, 100 complaints per 100 customers = the worst -> complaint score 0
    assert (x["sla_rate"], x["csat"], x["complaints_per_100"], x["complaint_score"]) == (50.0, 50.0, 100.0, 0.0)
    assert x["score"] == 40.0  # (0.4*50 + 0.4*50 + 0.2*0) / 1.0
    # Z: SLA 100, CSAT 75, 40 per 100 -> 100*(1-0.4/1.0) = 60; (40 + 30 + 12) / 1.0
    assert (z["complaint_score"], z["score"]) == (60.0, 82.0)
    # Y: no rating at all: not ranked on the other parts but "not enough data"
    assert (y["sla_rate"], y["csat"], y["complaint_score"]) == (100.0, None, 75.0)
    assert (y["score"], y["rank"], y["status"], y["missing"]) == (None, None, "not_enough_data", ["satisfaction"])
    assert [(r["rank"], r["branch"]) for r in rows] == [(1, "Z分公司"), (2, "X分公司"), (None, "Y分公司")]
    assert set(rows[0]) >= {"rank", "branch_id", "branch", "region", "complaints", "customers", "complaints_per_100",
                            "sla_done", "sla_on_time", "sla_rate", "csat_answers", "csat", "nps", "score"}


def test_branch_ranking_ties_share_a_rank_and_are_ordered_consistently(db_ready):
    Setting.set_value("ranking_weights", {"sla": 1, "satisfaction": 0, "complaints": 0})
    _branch_with("A分公司", customers=2, sla_results=[True, False])   # 50 %, 1.0 per customer
    _branch_with("B分公司", customers=4, sla_results=[False, True])   # 50 %, 0.5 per customer
    _branch_with("C分公司", customers=1, sla_results=[True])          # 100 %
    _branch_with("D分公司", customers=3, sla_results=[])              # no data at all
    rows = reports.branch_ranking(WEEK.start, WEEK.end)
    # only SLA is weighted: a branch with no stage done has nothing to be ranked on
    assert [(r["branch"], r["rank"], r["score"]) for r in rows] == [
        ("C分公司", 1, 100.0), ("B分公司", 2, 50.0), ("A分公司", 2, 50.0), ("D分公司", None, None)]
    assert reports.branch_ranking(WEEK.start, WEEK.end) == rows  # same order every time


def test_invalid_ranking_weights_fall_back_to_defaults_with_a_reason(db_ready):
    Setting.set_value("ranking_weights", {"sla": -1, "satisfaction": 1, "complaints": 1})
    weights, problem = reports.ranking_weights()
    assert weights == reports.DEFAULT_RANKING_WEIGHTS and "ranking_weights" in problem
    Setting.set_value("ranking_weights", {"sla": 2, "satisfaction": 1, "complaints": 1})
    assert reports.ranking_weights() == ({"sla": 2.0, "satisfaction": 1.0, "complaints": 1.0}, None)


# ---------------------------------------------------------------- staff scoreboard

def test_staff_scoreboard_and_star_candidates(db_ready, office):
    branch = office["branch"]
    first, second = office["staff"], office["other"]
    third = make_staff(branch, "E0003", name="赵敏")
    punished = make_staff(branch, "E0004", name="钱进")
    survey = Survey.create(title="服务之星投票")
    vote = question("staff", survey=survey)
    rating = question("rating", survey=survey)
    for person, votes in ((first, 3), (second, 3), (third, 1), (punished, 4)):
        for _ in range(votes):
            answer(vote, vote=person)
    answer(rating, 5, staff=first)
    answer(rating, 4, staff=first)
    answer(rating, 2, staff=second)
    answer(rating, 5, staff=second)
    customer = make_customer(branch)
    complaint_at(customer, datetime(2026, 11, 3, 9, 0), staff=second, acknowledged=timedelta(0))
    complaint_at(customer, datetime(2026, 11, 4, 9, 0), staff=second, acknowledged=timedelta(hours=1))
    RewardPenalty.create(staff=punished, kind="written_warning", reason="态度冷淡", decided_on=date(2026, 11, 10))
    RewardPenalty.create(staff=first, kind="cash", amount=500, reason="表扬", decided_on=date(2026, 10, 31))

    rows = reports.staff_scoreboard(MONTH.start, MONTH.end)
    by_name = {row["name"]: row for row in rows}
    assert by_name["李强"]["complaints"] == 2
    assert (by_name["李强"]["stages_done"], by_name["李强"]["stages_on_time"], by_name["李强"]["sla_rate"]) == (2, 1, 50.0)
    assert (by_name["王芳"]["csat"], by_name["王芳"]["survey_mean"], by_name["李强"]["csat"]) == (100.0, 4.5, 50.0)
    assert by_name["王芳"]["rewards"] == 0  # decided in October
    assert (by_name["钱进"]["votes"], by_name["钱进"]["penalties"], by_name["钱进"]["eligible"]) == (4, 1, False)
    candidates = reports.star_candidates(MONTH.start, MONTH.end)
    # equal votes share rank 1; the higher CSAT comes first
    assert [(r["name"], r["rank"], r["votes"]) for r in candidates] == [("王芳", 1, 3), ("李强", 1, 3), ("赵敏", 3, 1)]


# ---------------------------------------------------------------- quadrants

def test_customer_quadrants(db_ready, office):
    branch = office["branch"]
    rating, score, comment = question("rating"), question("score"), question("text")
    loyal = make_customer(branch, name="忠诚")
    answer(rating, 5, customer=loyal)
    praiser = make_customer(branch, name="称赞")
    answer(rating, 4, customer=praiser)
    answer(comment, text="很满意", customer=praiser)
    silent = make_customer(branch, name="无声")
    answer(rating, 2, customer=silent)
    answer(comment, text="", customer=silent)  # an empty comment is no voice
    complainer = make_customer(branch, name="投诉无评分")
    make_complaint(complainer, received_at=NOW - timedelta(days=2))
    unhappy = make_customer(branch, name="回访不满")
    make_complaint(unhappy, received_at=NOW - timedelta(days=2))
    Callback.create(customer=unhappy, done_at=NOW - timedelta(days=1), satisfaction=2)
    promoter = make_customer(branch, name="推荐者")
    answer(score, 8, customer=promoter)  # 8/2 = 4.0: satisfied
    make_customer(branch, name="没有记录")
    placed = reports.customer_quadrants(MONTH.start, MONTH.end)
    names = {q: [c["name"] for c in rows] for q, rows in placed.items()}
    assert names == {"loyal": ["推荐者", "忠诚"], "praiser": ["称赞"], "silent_protester": ["无声"],
                     "complainer": ["投诉无评分", "回访不满"]}
    assert placed["silent_protester"][0]["phone"] == silent.phone
    other = make_branch("甘宁分公司", region="甘宁")
    assert all(not rows for rows in reports.customer_quadrants(MONTH.start, MONTH.end, branch=other).values())


# ---------------------------------------------------------------- survey analytics

def test_survey_analytics_distribution_choices_votes_and_comments(db_ready, office):
    from models import Choice
    survey = Survey.create(title="年度满意度")
    rating = question("rating", "attitude", survey)
    channel = question("single", survey=survey)
    phone = Choice.create(question=channel, text="电话")
    Choice.create(question=channel, text="微信")  # offered, never chosen: counted as 0
    star = question("staff", survey=survey)
    comment = question("text", survey=survey)
    for value in (5, 5, 3):
        answer(rating, value)
    answer(channel, choice=phone)
    answer(star, vote=office["staff"])
    answer(comment, text="希望更准时")
    answer(question("rating"), 1)  # another survey
    figures = reports.survey_analytics(survey, WEEK.start, WEEK.end)
    items = {item["question"].id: item for item in figures["questions"]}
    assert list(items[rating.id]["distribution"].items()) == [(1, 0), (2, 0), (3, 1), (4, 0), (5, 2)]
    assert (items[rating.id]["mean"], items[rating.id]["csat"]) == (4.33, 66.7)
    assert dict(items[channel.id]["distribution"]) == {"电话": 1, "微信": 0}
    assert dict(items[star.id]["distribution"]) == {"王芳 (E0001)": 1}
    assert [c["text"] for c in figures["comments"]] == ["希望更准时"]
    assert figures["csat"]["answers"] == 3 and figures["responses"] == 6
    assert reports.survey_analytics(survey, WEEK.start, WEEK.end, staff=office["other"])["responses"] == 0
