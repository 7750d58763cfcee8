"""Rankings: the branch ranking (各分公司排名) with its composite score, and the staff
scoreboard with the service-star candidates (definitions: the glossary in models.reports)."""
from collections import OrderedDict
from fractions import Fraction

from peewee import fn

from ..complaints import Complaint
from ..customers import Customer
from ..i18n import _l
from ..org import Branch, Staff
from ..recognition import PENALTY_KINDS, RewardPenalty
from ..surveys import Answer, Question, Response
from .base import (complaint_filters, count_if, grouped, in_branch, listed_branches, real_customers,
                   response_filters, rounded)
from .complaints import sla_by, sla_result
from .satisfaction import NO_SATISFACTION, satisfaction_by

# Column headings for the stable keys of branch_ranking() and staff_scoreboard(), in display
# order, for pages and spreadsheets alike (one msgid per figure across the app).
RANKING_COLUMNS = OrderedDict([
    ("rank", _l("Rank")), ("branch", _l("Branch")), ("region", _l("Region")), ("score", _l("Score")),
    ("sla_rate", _l("SLA compliance")), ("sla_done", _l("Stages done")), ("sla_on_time", _l("Stages on time")),
    ("csat", _l("CSAT")), ("csat_answers", _l("Ratings")), ("nps", _l("NPS")), ("complaints", _l("Complaints")),
    ("customers", _l("Customers")), ("complaints_per_100", _l("Complaints per 100 customers")),
    ("complaint_score", _l("Complaint score")), ("status", _l("Note")),
])
STAFF_COLUMNS = OrderedDict([
    ("rank", _l("Rank")), ("name", _l("Name")), ("employee_no", _l("Employee number")), ("branch", _l("Branch")),
    ("votes", _l("Votes")), ("survey_answers", _l("Ratings about them")), ("survey_mean", _l("Mean rating")),
    ("csat", _l("CSAT")), ("complaints", _l("Complaints (responsible)")), ("stages_done", _l("Stages done")),
    ("stages_on_time", _l("Stages on time")), ("sla_rate", _l("SLA compliance")), ("rewards", _l("Rewards")),
    ("penalties", _l("Penalties")),
])
# the parts of the composite score, as a branch without data for some of them is told
RANKING_PARTS = OrderedDict([("sla", _l("SLA compliance")), ("satisfaction", _l("CSAT")),
                             ("complaints", _l("Complaint score"))])


def ranking_note(row):
    """What the ranking shows instead of a rank: "Not enough data: CSAT" ('' when ranked)."""
    if row.get("status") != "not_enough_data":
        return ""
    return str(_l("Not enough data: %(parts)s", parts=", ".join(str(RANKING_PARTS[p]) for p in row["missing"])))

DEFAULT_RANKING_WEIGHTS = {"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2}


def ranking_weights():
    """(weights, problem): the Setting "ranking_weights" ({"sla": w, "satisfaction": w,
    "complaints": w}, non-negative numbers, not all zero), else the defaults and why."""
    from ..audit import Setting
    value = Setting.get_value("ranking_weights", DEFAULT_RANKING_WEIGHTS)
    if (isinstance(value, dict) and set(value) == set(DEFAULT_RANKING_WEIGHTS)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value.values())
            and sum(value.values()) > 0):
        return {k: float(v) for k, v in value.items()}, None
    return dict(DEFAULT_RANKING_WEIGHTS), (
        'setting "ranking_weights" must look like {"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2} '
        "(non-negative numbers, not all zero); the defaults are used")


def _exact_weight(weight):
    return Fraction(repr(float(weight)))


def branch_ranking(start, end, grade=None, weights=None, include_inactive=False):
    """各分公司排名 for [start, end): a list of dicts, ranked branches first (best first),
    then the branches without enough data, with the stable keys

        rank, branch_id, branch, region, status ("ranked" / "not_enough_data"), missing
        (the parts without data), complaints, customers, complaints_per_100, sla_done,
        sla_on_time, sla_rate (%), csat_answers, csat (%), nps, sla_score,
        satisfaction_score, complaint_score (0–100), score (0–100).

    Headings: RANKING_COLUMNS. The rules (parts, weights, missing data, ties): the glossary."""
    weights = weights or ranking_weights()[0]
    sla = sla_by(Complaint.branch, start, end, grade=grade)
    satisfaction = satisfaction_by(Response.branch, start, end, grade=grade)
    received = {k: row[0] for k, row in grouped(complaint_filters(
        Complaint.select(Complaint.branch, fn.COUNT(Complaint.id)), start, end, grade=grade), Complaint.branch).items()}
    customers_query = Customer.select(Customer.branch, fn.COUNT(Customer.id)).where(
        Customer.churned == False, real_customers())  # noqa: E712 - peewee expression
    if grade:
        customers_query = customers_query.where(Customer.grade == grade)
    customers = {k: row[0] for k, row in grouped(customers_query, Customer.branch).items()}
    with_data = set(sla) | set(satisfaction) | set(received)
    branches = listed_branches(with_data, include_inactive)

    rows = []
    for branch in branches:
        branch_sla = sla.get(branch.id, sla_result())["overall"]
        sat = satisfaction.get(branch.id, NO_SATISFACTION)
        complaints, base = received.get(branch.id, 0), customers.get(branch.id, 0)
        rows.append({
            "branch_id": branch.id, "branch": branch.name, "region": branch.region,
            "complaints": complaints, "customers": base,
            "complaints_per_100": rounded(100 * complaints, base, 1) if base else None,
            "sla_done": branch_sla["done"], "sla_on_time": branch_sla["on_time"], "sla_rate": branch_sla["rate"],
            "csat_answers": sat["csat"]["answers"], "csat": sat["csat"]["csat"], "nps": sat["nps"]["nps"],
            "_rate": Fraction(complaints, base) if base else None,
        })
    rates = [r["_rate"] for r in rows if r["_rate"] is not None]
    worst = max(rates) if rates else 0
    for row in rows:
        rate = row.pop("_rate")
        row["sla_score"] = row["sla_rate"]
        row["satisfaction_score"] = row["csat"]
        if rate is None:
            row["complaint_score"] = None if row["complaints"] == 0 else 0.0
        else:
            row["complaint_score"] = 100.0 if worst == 0 else rounded(100 * (1 - rate / worst), 1, 1)
        parts = {"sla": row["sla_score"], "satisfaction": row["satisfaction_score"],
                 "complaints": row["complaint_score"]}
        weighted = {name: weight for name, weight in weights.items() if weight > 0}
        row["missing"] = [name for name in weighted if parts[name] is None]
        if row["missing"]:
            row["score"], row["status"] = None, "not_enough_data"
        else:
            total = sum(_exact_weight(w) * Fraction(repr(parts[name])) for name, w in weighted.items())
            row["score"] = rounded(total, sum(_exact_weight(w) for w in weighted.values()), 2)
            row["status"] = "ranked"
    return _ranked(rows, lambda r: (-(r["sla_rate"] if r["sla_rate"] is not None else -1),
                                    r["complaints_per_100"] if r["complaints_per_100"] is not None else 0,
                                    r["branch"]), unscored_order=lambda r: r["branch"])


def _ranked(rows, tie_break, unscored_order=None):
    """Sort by score (best first) then `tie_break`; equal scores share the rank ("1, 2, 2, 4");
    rows without a score last, without rank."""
    scored = sorted((r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], tie_break(r)))
    previous, rank = None, 0
    for position, row in enumerate(scored, start=1):
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank
    unscored = sorted((r for r in rows if r["score"] is None), key=unscored_order or tie_break)
    for row in unscored:
        row["rank"] = None
    return scored + unscored


# ---------------------------------------------------------------- staff scoreboard

def staff_scoreboard(start, end, branch=None, grade=None):
    """Per active staff member in [start, end): a list of dicts, best service-star candidate
    first, with the stable keys

        rank, staff_id, name, employee_no, branch_id, branch,
        votes, survey_answers, survey_mean, csat, complaints, stages_done, stages_on_time,
        sla_rate (%), rewards, penalties, eligible, score.

    Headings: STAFF_COLUMNS. The rules (votes, candidacy, order): the glossary."""
    staff_query = (Staff.select(Staff, Branch).join(Branch).where(Staff.active == True)  # noqa: E712
                   .order_by(Staff.name, Staff.employee_no))
    if branch is not None:
        staff_query = staff_query.where(in_branch(Staff.branch, branch))
    people = list(staff_query)

    votes_query = (Answer.select(Answer.staff, fn.COUNT(Answer.id)).join(Question).switch(Answer).join(Response)
                   .where(Question.kind == "staff", Answer.staff.is_null(False)))
    votes = {k: row[0] for k, row in grouped(response_filters(votes_query, start, end, grade=grade),
                                              Answer.staff).items()}
    satisfaction = satisfaction_by(Response.staff, start, end, grade=grade)
    sla = sla_by(Complaint.responsible_staff, start, end, grade=grade)
    received = {k: row[0] for k, row in grouped(complaint_filters(
        Complaint.select(Complaint.responsible_staff, fn.COUNT(Complaint.id)), start, end, grade=grade),
        Complaint.responsible_staff).items()}
    decided = (RewardPenalty.select(RewardPenalty.staff, count_if(RewardPenalty.kind.not_in(list(PENALTY_KINDS))),
                                    count_if(RewardPenalty.kind.in_(list(PENALTY_KINDS))))
               .where(RewardPenalty.decided_on >= start.date(), RewardPenalty.decided_on < end.date()))
    recognition = grouped(decided, RewardPenalty.staff)

    rows = []
    for person in people:
        sat = satisfaction.get(person.id, NO_SATISFACTION)["csat"]
        done = sla.get(person.id, sla_result())["overall"]
        rewards, penalties = [int(v or 0) for v in recognition.get(person.id, (0, 0))]
        count = votes.get(person.id, 0)
        eligible = count > 0 and penalties == 0
        rows.append({
            "staff_id": person.id, "name": person.name, "employee_no": person.employee_no,
            "branch_id": person.branch_id, "branch": person.branch.name,
            "votes": count, "survey_answers": sat["answers"], "survey_mean": sat["mean"], "csat": sat["csat"],
            "complaints": received.get(person.id, 0), "stages_done": done["done"],
            "stages_on_time": done["on_time"], "sla_rate": done["rate"],
            "rewards": rewards, "penalties": penalties,
            "eligible": eligible, "score": count if eligible else None,
        })
    return _ranked(rows, lambda r: (-(r["csat"] if r["csat"] is not None else -1), r["complaints"],
                                    -(r["sla_rate"] if r["sla_rate"] is not None else -1), r["name"],
                                    r["employee_no"]))


def star_candidates(start, end, branch=None, grade=None):
    """The ranked service-star candidates (eligible rows of staff_scoreboard)."""
    return [row for row in staff_scoreboard(start, end, branch, grade) if row["eligible"]]
