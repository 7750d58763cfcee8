"""Figures for managers, computed with SQL aggregates (GROUP BY). One function per figure.

Conventions shared by every function here:

* Time: every timestamp is a naive datetime in office-local time (config TIMEZONE, default
  Asia/Shanghai, see models.clock). Periods are half-open intervals [start, end) of such
  datetimes. A week starts on Monday 00:00; a month on the 1st 00:00; a quarter on
  1 Jan / 1 Apr / 1 Jul / 1 Oct 00:00. A custom period from date A to date B includes both
  days: [A 00:00, B+1 00:00).
* Filters: `branch` (a Branch, its id, or a list of ids: a user's branch scope, see
  models.scope — an empty list selects nothing) and `grade` (a customer grade code, e.g.
  "vip"); both optional. Every figure takes the period first: fn(start, end, branch=None, grade=None).
* Results are plain data (dicts, lists, numbers); percentages are floats 0–100, or None
  when there is nothing to divide by ("no data" is not the same as 0 %).
* SQL is portable (SQLite and PostgreSQL): counts of conditions are SUM(CASE … THEN 1
  ELSE 0 END), never SUM over booleans; buckets of a trend are computed in Python and
  grouped with a CASE expression (GROUP BY 1), never with a database date function.

Definitions:

* CSAT = share of answers 4 or 5 among answers to rating (1–5) questions.
* NPS = % of 9–10 minus % of 0–6 among answers to score (0–10) questions (7–8 are passives).
* SLA compliance, per stage = stages done on time / stages done, for complaints RECEIVED in
  the period (a cohort: so the complaints behind the figure are the complaint list filtered
  by "received at"); a stage is on time when done at or before its due time (exactly on
  time counts as on time) or when it has no due time. Overall = all stages together.
* Response rate = invitations answered / invitations sent in the period (by sent_at).
* SERVQUAL gap = mean(perception − expectation) per dimension, over answered pairs.
"""
from collections import OrderedDict
from datetime import date, datetime, time, timedelta

from peewee import JOIN, SQL, Case, fn

from .clock import now
from .complaints import STAGES, Callback, Complaint
from .customers import Customer
from .i18n import _l
from .org import Branch, Staff
from .recognition import PENALTY_KINDS, RewardPenalty
from .surveys import Answer, Choice, Invitation, Question, Response

OPEN_STAGES = [code for code, _ in STAGES if code != "closed"]
# Timed stages: (stage code, column "done at", column "due at").
SLA_STAGES = [
    ("acknowledged", Complaint.acknowledged_at, Complaint.acknowledge_due_at),
    ("resolved", Complaint.resolved_at, Complaint.result_due_at),
    ("rectified", Complaint.rectified_at, Complaint.rectify_due_at),
    ("called_back", Complaint.called_back_at, Complaint.callback_due_at),
]
PERIOD_KINDS = ("week", "month", "quarter")

# Column headings for the stable keys of branch_ranking() and staff_scoreboard(), in display
# order, for pages and spreadsheets alike (one msgid per figure across the app).
RANKING_COLUMNS = OrderedDict([
    ("rank", _l("Rank")), ("branch", _l("Branch")), ("region", _l("Region")), ("score", _l("Score")),
    ("sla_rate", _l("SLA compliance")), ("sla_done", _l("Stages done")), ("sla_on_time", _l("Stages on time")),
    ("csat", _l("CSAT")), ("csat_answers", _l("Ratings")), ("nps", _l("NPS")), ("complaints", _l("Complaints")),
    ("customers", _l("Customers")), ("complaint_rate", _l("Complaints per customer")),
    ("complaint_score", _l("Complaint score")),
])
STAFF_COLUMNS = OrderedDict([
    ("rank", _l("Rank")), ("name", _l("Name")), ("employee_no", _l("Employee number")), ("branch", _l("Branch")),
    ("votes", _l("Votes")), ("survey_answers", _l("Ratings about them")), ("survey_mean", _l("Mean rating")),
    ("csat", _l("CSAT")), ("complaints", _l("Complaints (responsible)")), ("stages_done", _l("Stages done")),
    ("stages_on_time", _l("Stages on time")), ("sla_rate", _l("SLA compliance")), ("rewards", _l("Rewards")),
    ("penalties", _l("Penalties")),
])


# ---------------------------------------------------------------- periods

class Period:
    """A half-open interval [start, end) of office-local time with a label like 2026-11."""

    def __init__(self, kind, start, end, label):
        self.kind, self.start, self.end, self.label = kind, start, end, label

    def __repr__(self):
        return f"Period({self.kind}, {self.start:%Y-%m-%d %H:%M}, {self.end:%Y-%m-%d %H:%M})"

    def __eq__(self, other):
        return isinstance(other, Period) and (self.start, self.end) == (other.start, other.end)

    @property
    def last_day(self):
        """The last calendar day inside the period."""
        return (self.end - timedelta(seconds=1)).date()

    def previous(self):
        return period_of(self.kind, self.start - timedelta(seconds=1))

    def next(self):
        return period_of(self.kind, self.end)


def _midnight(day):
    return datetime.combine(day, time.min)


def period_of(kind, moment=None):
    """The week (Monday start), month or quarter containing `moment` (default now)."""
    moment = moment or now()
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = _midnight(moment)
    day = moment.date()
    if kind == "week":
        start = _midnight(day - timedelta(days=day.weekday()))
        year, week, _ = start.isocalendar()
        return Period(kind, start, start + timedelta(days=7), f"{year}-W{week:02d}")
    if kind == "month":
        start = _midnight(day.replace(day=1))
        end = _midnight(date(day.year + (day.month == 12), day.month % 12 + 1, 1))
        return Period(kind, start, end, f"{day.year}-{day.month:02d}")
    if kind == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = _midnight(date(day.year, first_month, 1))
        end = _midnight(date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1))
        return Period(kind, start, end, f"{day.year}-Q{(first_month - 1) // 3 + 1}")
    raise ValueError(f"unknown period kind {kind!r}")


def custom_period(first_day, last_day):
    """Both days included: [first_day 00:00, last_day + 1 00:00)."""
    if last_day < first_day:
        raise ValueError("the period ends before it starts")
    end = _midnight(last_day + timedelta(days=1))
    return Period("custom", _midnight(first_day), end, f"{first_day:%Y-%m-%d}–{last_day:%Y-%m-%d}")


def last_periods(kind, count=12, moment=None):
    """`count` consecutive periods of `kind`, oldest first, the last one containing `moment`."""
    periods = [period_of(kind, moment)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


# Days a page may ask about: a period around 9999-12-31 would end after the last date Python
# (and the databases) can hold, and nobody ranks branches in the year 1.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_period(kind, at=None, first=None, last=None, moment=None):
    """The period a page asks for: kind week/month/quarter around date `at` (text YYYY-MM-DD,
    default today), or kind "custom" from `first` to `last`. Raises ValueError with a message
    a user can act on."""
    def _day(text, what):
        try:
            day = date.fromisoformat(text)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: expected a date like 2026-11-23, got {text!r}") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"{what}: {day} is outside {FIRST_DAY} to {LAST_DAY}")
        return day
    if kind == "custom":
        return custom_period(_day(first, "from"), _day(last, "to"))
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    return period_of(kind, _day(at, "date") if at else moment)


# ---------------------------------------------------------------- filters and helpers

def _id(value):
    return getattr(value, "id", value)


def _in_branch(column, branch):
    """`column` (a foreign key to Branch) is `branch`: a Branch, an id, or a collection of ids."""
    if isinstance(branch, (list, tuple, set, frozenset)):
        return column.in_(list(branch))
    return column == _id(branch)


def _count_if(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def _customers_of_grade(grade):
    return Customer.select(Customer.id).where(Customer.grade == grade)


def _complaint_filters(query, start, end, branch=None, grade=None, staff=None):
    query = query.where(Complaint.received_at >= start, Complaint.received_at < end)
    if branch is not None:
        query = query.where(_in_branch(Complaint.branch, branch))
    if grade:
        query = query.where(Complaint.customer.in_(_customers_of_grade(grade)))
    if staff:
        query = query.where(Complaint.responsible_staff == _id(staff))
    return query


def _response_filters(query, start, end, branch=None, grade=None, staff=None, survey=None):
    query = query.where(Response.submitted_at >= start, Response.submitted_at < end)
    if branch is not None:
        query = query.where(_in_branch(Response.branch, branch))
    if grade:
        query = query.where(Response.customer.in_(_customers_of_grade(grade)))
    if staff:
        query = query.where(Response.staff == _id(staff))
    if survey:
        query = query.where(Response.survey == _id(survey))
    return query


def _grouped(query, key):
    """Run an aggregate query whose first column is the group key (or none): {key: row tuple}."""
    if key is None:
        row = query.tuples().first() or ()
        return {None: tuple(row)}
    return {row[0]: tuple(row[1:]) for row in query.group_by(SQL("1")).tuples()}


def bucket_of(column, periods):
    """CASE expression numbering which of the consecutive `periods` a timestamp falls in."""
    return Case(None, [(column < p.end, index) for index, p in enumerate(periods)])


# ---------------------------------------------------------------- complaints now

def open_by_stage(branch=None, moment=None):
    """{stage: (open, overdue)} for every stage before closed; overdue = next deadline passed."""
    moment = moment or now()
    overdue = _count_if(Complaint.due_at < moment)
    query = (Complaint.select(Complaint.stage, fn.COUNT(Complaint.id), overdue)
             .where(Complaint.stage.in_(OPEN_STAGES)).group_by(Complaint.stage))
    if branch is not None:
        query = query.where(_in_branch(Complaint.branch, branch))
    found = {stage: (count, int(late or 0)) for stage, count, late in query.tuples()}
    return {stage: found.get(stage, (0, 0)) for stage in OPEN_STAGES}


# ---------------------------------------------------------------- SLA

def _sla_aggregates():
    columns = []
    for _stage, done_at, due_at in SLA_STAGES:
        columns.append(_count_if(done_at.is_null(False)))
        columns.append(_count_if(done_at.is_null(False) & (due_at.is_null() | (done_at <= due_at))))
    return columns


def _sla_result(row):
    row = [int(v or 0) for v in row] or [0] * (2 * len(SLA_STAGES))
    result, done_total, on_time_total = OrderedDict(), 0, 0
    for index, (stage, _done, _due) in enumerate(SLA_STAGES):
        done, on_time = row[2 * index], row[2 * index + 1]
        result[stage] = {"done": done, "on_time": on_time, "late": done - on_time, "rate": _pct(on_time, done)}
        done_total += done
        on_time_total += on_time
    result["overall"] = {"done": done_total, "on_time": on_time_total, "late": done_total - on_time_total,
                         "rate": _pct(on_time_total, done_total)}
    return result


def _sla_by(key, start, end, **filters):
    columns = ([key] if key is not None else []) + _sla_aggregates()
    query = _complaint_filters(Complaint.select(*columns), start, end, **filters)
    return {k: _sla_result(row) for k, row in _grouped(query, key).items()}


def sla_compliance(start, end, branch=None, grade=None, staff=None):
    """{stage: {done, on_time, late, rate}, …, "overall": {…}} for complaints received in [start, end)."""
    return _sla_by(None, start, end, branch=branch, grade=grade, staff=staff)[None]


def complaints_received(start, end, branch=None, grade=None, staff=None):
    """Number of complaints received in [start, end)."""
    return _complaint_filters(Complaint.select(), start, end, branch, grade, staff).count()


# ---------------------------------------------------------------- satisfaction

def _satisfaction_by(key, start, end, **filters):
    """{key: {"csat": {...}, "nps": {...}}} from rating and score answers, one query."""
    columns = ([key] if key is not None else []) + [
        Question.kind, fn.COUNT(Answer.id), fn.SUM(Answer.value),
        _count_if(Answer.value >= 4), _count_if(Answer.value >= 9), _count_if(Answer.value <= 6)]
    query = (Answer.select(*columns).join(Question).switch(Answer).join(Response)
             .where(Question.kind.in_(["rating", "score"]), Answer.value.is_null(False)))
    query = _response_filters(query, start, end, **filters)
    query = query.group_by(SQL("1"), SQL("2")) if key is not None else query.group_by(SQL("1"))
    found = {}
    for row in query.tuples():
        k, rest = (row[0], row[1:]) if key is not None else (None, row)
        found.setdefault(k, {})[rest[0]] = [int(v or 0) for v in rest[1:]]
    return {k: _satisfaction_result(kinds) for k, kinds in found.items()}


def _satisfaction_result(kinds):
    total, value_sum, four_five, _, _ = kinds.get("rating", [0] * 5)
    csat = {"answers": total, "satisfied": four_five, "csat": _pct(four_five, total),
            "mean": round(value_sum / total, 2) if total else None}
    total, value_sum, _, promoters, detractors = kinds.get("score", [0] * 5)
    nps = {"answers": total, "promoters": promoters, "detractors": detractors,
           "passives": total - promoters - detractors,
           "nps": round(100.0 * (promoters - detractors) / total, 1) if total else None,
           "mean": round(value_sum / total, 2) if total else None}
    return {"csat": csat, "nps": nps}


_NO_SATISFACTION = _satisfaction_result({})


def csat(start, end, branch=None, grade=None, staff=None, survey=None):
    """{answers, satisfied, csat (% of 4–5), mean} over rating (1–5) answers."""
    return _satisfaction_by(None, start, end, branch=branch, grade=grade, staff=staff, survey=survey).get(
        None, _NO_SATISFACTION)["csat"]


def nps(start, end, branch=None, grade=None, staff=None, survey=None):
    """{answers, promoters (9–10), passives (7–8), detractors (0–6), nps, mean} over score (0–10) answers."""
    return _satisfaction_by(None, start, end, branch=branch, grade=grade, staff=staff, survey=survey).get(
        None, _NO_SATISFACTION)["nps"]


def response_rate(start, end, branch=None, grade=None):
    """{sent, answered, rate}: invitations sent in [start, end) and how many of them were answered."""
    query = Invitation.select(fn.COUNT(Invitation.id), _count_if(Invitation.answered_at.is_null(False))).where(
        Invitation.sent_at >= start, Invitation.sent_at < end)
    if branch is not None:
        query = query.where(Invitation.customer.in_(Customer.select(Customer.id).where(_in_branch(Customer.branch, branch))))
    if grade:
        query = query.where(Invitation.customer.in_(_customers_of_grade(grade)))
    sent, answered = [int(v or 0) for v in query.tuples().first()]
    return {"sent": sent, "answered": answered, "rate": _pct(answered, sent)}


def responses_received(start, end, branch=None, grade=None, staff=None, survey=None):
    return _response_filters(Response.select(), start, end, branch, grade, staff, survey).count()


def dimension_scores(start, end, branch=None, grade=None, staff=None, survey=None):
    """{dimension: {answers, mean, csat}} over rating (1–5) answers of questions with a dimension."""
    query = (Answer.select(Question.dimension, fn.COUNT(Answer.id), fn.AVG(Answer.value), _count_if(Answer.value >= 4))
             .join(Question).switch(Answer).join(Response)
             .where(Question.kind == "rating", Question.dimension.is_null(False), Answer.value.is_null(False)))
    query = _response_filters(query, start, end, branch, grade, staff, survey)
    return {dim: {"answers": n, "mean": round(float(avg), 2), "csat": _pct(int(ok or 0), n)}
            for dim, n, avg, ok in query.group_by(SQL("1")).order_by(SQL("1")).tuples()}


def servqual_gaps(start, end, branch=None, grade=None, staff=None, survey=None):
    """{dimension: {pairs, expectation, perception, gap}}: gap = mean(perception − expectation)
    over SERVQUAL answers having both numbers (dimension "" when the question has none)."""
    dimension = fn.COALESCE(Question.dimension, "")
    query = (Answer.select(dimension, fn.COUNT(Answer.id), fn.AVG(Answer.expectation), fn.AVG(Answer.value),
                           fn.SUM(Answer.value - Answer.expectation))
             .join(Question).switch(Answer).join(Response)
             .where(Question.kind == "servqual", Answer.value.is_null(False), Answer.expectation.is_null(False)))
    query = _response_filters(query, start, end, branch, grade, staff, survey)
    return {dim: {"pairs": n, "expectation": round(float(exp), 2), "perception": round(float(per), 2),
                  "gap": round(int(diff) / n, 2)}
            for dim, n, exp, per, diff in query.group_by(SQL("1")).order_by(SQL("1")).tuples()}


# ---------------------------------------------------------------- trend

def trend(kind="week", count=12, moment=None, branch=None, grade=None):
    """The last `count` weeks or months (oldest first): complaints received, SLA compliance,
    CSAT and NPS per period. Three queries whatever `count` and the amount of data."""
    periods = last_periods(kind, count, moment)
    start, end = periods[0].start, periods[-1].end
    received = {k: row[0] for k, row in _grouped(
        _complaint_filters(Complaint.select(bucket_of(Complaint.received_at, periods), fn.COUNT(Complaint.id)),
                           start, end, branch, grade), bucket_of(Complaint.received_at, periods)).items()}
    sla = _sla_by(bucket_of(Complaint.received_at, periods), start, end, branch=branch, grade=grade)
    satisfaction = _satisfaction_by(bucket_of(Response.submitted_at, periods), start, end, branch=branch, grade=grade)
    rows = []
    for index, period in enumerate(periods):
        sat = satisfaction.get(index, _NO_SATISFACTION)
        rows.append({"period": period, "label": period.label, "complaints": received.get(index, 0),
                     "sla": sla.get(index, _sla_result([]))["overall"]["rate"],
                     "csat": sat["csat"]["csat"], "nps": sat["nps"]["nps"]})
    return rows


# ---------------------------------------------------------------- branch ranking

DEFAULT_RANKING_WEIGHTS = {"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2}


def ranking_weights():
    """(weights, problem): the Setting "ranking_weights" ({"sla": w, "satisfaction": w,
    "complaints": w}, non-negative numbers, not all zero), else the defaults and why."""
    from .audit import Setting
    value = Setting.get_value("ranking_weights", DEFAULT_RANKING_WEIGHTS)
    if (isinstance(value, dict) and set(value) == set(DEFAULT_RANKING_WEIGHTS)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value.values())
            and sum(value.values()) > 0):
        return {k: float(v) for k, v in value.items()}, None
    return dict(DEFAULT_RANKING_WEIGHTS), (
        'setting "ranking_weights" must look like {"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2} '
        "(non-negative numbers, not all zero); the defaults are used")


def branch_ranking(start, end, grade=None, weights=None, include_inactive=False):
    """各分公司排名 for [start, end): a list of dicts, best first, with the stable keys

        rank, branch_id, branch, region,
        complaints, customers, complaint_rate (complaints per customer),
        sla_done, sla_on_time, sla_rate (%), csat_answers, csat (%), nps,
        sla_score, satisfaction_score, complaint_score (0–100), score (0–100).

    Headings for these keys: RANKING_COLUMNS.

    Composite: score = Σ weight × component / Σ weight over the components the branch has
    data for (a branch without any SLA stage done or any rating answer is not punished with
    0 for it); components: sla_score = SLA compliance %, satisfaction_score = CSAT %,
    complaint_score = 100 × (1 − rate / highest rate among the branches) (100 for every
    branch when none had complaints). Weights come from the setting "ranking_weights".
    Customers of a branch = its customer files not marked lost (of `grade` if given).
    Ties: equal scores (rounded to 0.01) share a rank ("1, 2, 2, 4"); among them the display
    order is higher SLA compliance, then lower complaint rate, then branch name. Branches
    without any data are listed last with score None and no rank.
    """
    weights = weights or ranking_weights()[0]
    branches = Branch.select().order_by(Branch.name)
    if not include_inactive:
        branches = branches.where(Branch.active == True)  # noqa: E712
    branches = list(branches)
    sla = _sla_by(Complaint.branch, start, end, grade=grade)
    satisfaction = _satisfaction_by(Response.branch, start, end, grade=grade)
    received = {k: row[0] for k, row in _grouped(_complaint_filters(
        Complaint.select(Complaint.branch, fn.COUNT(Complaint.id)), start, end, grade=grade), Complaint.branch).items()}
    customers_query = Customer.select(Customer.branch, fn.COUNT(Customer.id)).where(Customer.churned == False)  # noqa: E712
    if grade:
        customers_query = customers_query.where(Customer.grade == grade)
    customers = {k: row[0] for k, row in _grouped(customers_query, Customer.branch).items()}

    rows = []
    for branch in branches:
        branch_sla = sla.get(branch.id, _sla_result([]))["overall"]
        sat = satisfaction.get(branch.id, _NO_SATISFACTION)
        complaints, base = received.get(branch.id, 0), customers.get(branch.id, 0)
        rows.append({
            "branch_id": branch.id, "branch": branch.name, "region": branch.region,
            "complaints": complaints, "customers": base,
            "complaint_rate": round(complaints / base, 4) if base else None,
            "sla_done": branch_sla["done"], "sla_on_time": branch_sla["on_time"], "sla_rate": branch_sla["rate"],
            "csat_answers": sat["csat"]["answers"], "csat": sat["csat"]["csat"], "nps": sat["nps"]["nps"],
        })
    rates = [r["complaint_rate"] for r in rows if r["complaint_rate"] is not None]
    worst = max(rates) if rates else 0
    for row in rows:
        rate = row["complaint_rate"]
        row["sla_score"] = row["sla_rate"]
        row["satisfaction_score"] = row["csat"]
        if rate is None:
            row["complaint_score"] = None if row["complaints"] == 0 else 0.0
        else:
            row["complaint_score"] = 100.0 if worst == 0 else round(100.0 * (1 - rate / worst), 1)
        parts = [(weights["sla"], row["sla_score"]), (weights["satisfaction"], row["satisfaction_score"]),
                 (weights["complaints"], row["complaint_score"])]
        parts = [(w, v) for w, v in parts if v is not None and w > 0]
        if not (row["sla_done"] or row["csat_answers"] or row["complaints"]) or not parts:
            row["score"] = None
        else:
            row["score"] = round(sum(w * v for w, v in parts) / sum(w for w, _ in parts), 2)
    return _ranked(rows, lambda r: (-(r["sla_rate"] or 0),
                                    r["complaint_rate"] if r["complaint_rate"] is not None else 0, r["branch"]))


def _ranked(rows, tie_break):
    """Sort by score (best first) then `tie_break`; equal scores share the rank; None last, no rank."""
    scored = sorted((r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], tie_break(r)))
    previous, rank = None, 0
    for position, row in enumerate(scored, start=1):
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank
    unscored = sorted((r for r in rows if r["score"] is None), key=tie_break)
    for row in unscored:
        row["rank"] = None
    return scored + unscored


# ---------------------------------------------------------------- staff scoreboard

def staff_scoreboard(start, end, branch=None, grade=None):
    """Per active staff member in [start, end): a list of dicts, best service-star candidate
    first, with the stable keys

        rank, staff_id, name, employee_no, branch_id, branch,
        votes (customers who picked them on a "pick a staff member" question),
        survey_answers, survey_mean, csat (rating answers of responses attributed to them),
        complaints (received in the period with them responsible),
        stages_done, stages_on_time, sla_rate (%) (SLA stages of those complaints),
        rewards, penalties (decided in the period), eligible, score.

    Headings for these keys: STAFF_COLUMNS.
    Candidates for service star: eligible = at least one vote and no penalty decided in the
    period. score = votes; rank among eligible staff by votes, equal votes share a rank; display
    order among equal votes: higher CSAT, fewer complaints, higher SLA compliance, name.
    """
    staff_query = (Staff.select(Staff, Branch).join(Branch).where(Staff.active == True)  # noqa: E712
                   .order_by(Staff.name, Staff.employee_no))
    if branch is not None:
        staff_query = staff_query.where(_in_branch(Staff.branch, branch))
    people = list(staff_query)

    votes_query = (Answer.select(Answer.staff, fn.COUNT(Answer.id)).join(Question).switch(Answer).join(Response)
                   .where(Question.kind == "staff", Answer.staff.is_null(False)))
    votes = {k: row[0] for k, row in _grouped(_response_filters(votes_query, start, end, grade=grade),
                                               Answer.staff).items()}
    satisfaction = _satisfaction_by(Response.staff, start, end, grade=grade)
    sla = _sla_by(Complaint.responsible_staff, start, end, grade=grade)
    received = {k: row[0] for k, row in _grouped(_complaint_filters(
        Complaint.select(Complaint.responsible_staff, fn.COUNT(Complaint.id)), start, end, grade=grade),
        Complaint.responsible_staff).items()}
    decided = (RewardPenalty.select(RewardPenalty.staff, _count_if(RewardPenalty.kind.not_in(list(PENALTY_KINDS))),
                                    _count_if(RewardPenalty.kind.in_(list(PENALTY_KINDS))))
               .where(RewardPenalty.decided_on >= start.date(), RewardPenalty.decided_on < end.date()))
    recognition = _grouped(decided, RewardPenalty.staff)

    rows = []
    for person in people:
        sat = satisfaction.get(person.id, _NO_SATISFACTION)["csat"]
        done = sla.get(person.id, _sla_result([]))["overall"]
        rewards, penalties = [int(v or 0) for v in recognition.get(person.id, (0, 0))]
        count = votes.get(person.id, 0)
        rows.append({
            "staff_id": person.id, "name": person.name, "employee_no": person.employee_no,
            "branch_id": person.branch_id, "branch": person.branch.name,
            "votes": count, "survey_answers": sat["answers"], "survey_mean": sat["mean"], "csat": sat["csat"],
            "complaints": received.get(person.id, 0), "stages_done": done["done"],
            "stages_on_time": done["on_time"], "sla_rate": done["rate"],
            "rewards": rewards, "penalties": penalties,
            "eligible": count > 0 and penalties == 0, "score": count if count > 0 and penalties == 0 else None,
        })
    return _ranked(rows, lambda r: (-(r["csat"] if r["csat"] is not None else -1), r["complaints"],
                                    -(r["sla_rate"] if r["sla_rate"] is not None else -1), r["name"]))


def star_candidates(start, end, branch=None, grade=None):
    """The ranked service-star candidates (eligible rows of staff_scoreboard)."""
    return [row for row in staff_scoreboard(start, end, branch, grade) if row["eligible"]]


# ---------------------------------------------------------------- survey analytics

def survey_analytics(survey, start, end, branch=None, staff=None, grade=None, comment_limit=200):
    """Everything about one survey's answers in [start, end): per question its distribution
    (value or choice or staff member → count), mean, CSAT/NPS, SERVQUAL means and gap; plus
    per-dimension scores, SERVQUAL gaps per dimension and the latest free-text comments.
    A constant number of queries whatever the amount of data."""
    filters = dict(branch=branch, grade=grade, staff=staff, survey=survey)
    questions = list(Question.select().where(Question.survey == _id(survey)).order_by(Question.position, Question.id))
    by_id = {q.id: {"question": q, "answers": 0, "distribution": OrderedDict(), "mean": None} for q in questions}

    def answers(*columns):
        return _response_filters(Answer.select(*columns).join(Question).switch(Answer).join(Response),
                                 start, end, **filters)

    numeric = answers(Answer.question, Answer.value, fn.COUNT(Answer.id)).where(
        Question.kind.in_(["rating", "score"]), Answer.value.is_null(False)).group_by(SQL("1"), SQL("2"))
    for question_id, value, n in numeric.order_by(SQL("1"), SQL("2")).tuples():
        by_id[question_id]["distribution"][value] = n
    choices = answers(Answer.question, Answer.choice, fn.COUNT(Answer.id)).where(
        Question.kind.in_(["single", "multiple"]), Answer.choice.is_null(False)).group_by(SQL("1"), SQL("2"))
    choice_counts = {(q, c): n for q, c, n in choices.tuples()}
    choice_rows = Choice.select().where(Choice.question.in_([q.id for q in questions])).order_by(
        Choice.question, Choice.position, Choice.id) if questions else []
    for choice in choice_rows:
        by_id[choice.question_id]["distribution"][choice.text] = choice_counts.get((choice.question_id, choice.id), 0)
    respondents = answers(Answer.question, fn.COUNT(fn.DISTINCT(Answer.response))).group_by(SQL("1"))
    for question_id, n in respondents.tuples():
        by_id[question_id]["answers"] = n
    picked = answers(Answer.question, Staff.name, Staff.employee_no, fn.COUNT(Answer.id)).join(
        Staff, on=(Answer.staff == Staff.id)).where(Question.kind == "staff").group_by(SQL("1"), SQL("2"), SQL("3"))
    for question_id, name, number, n in picked.order_by(SQL("4").desc(), SQL("2")).tuples():
        by_id[question_id]["distribution"][f"{name} ({number})"] = n
    pairs = answers(Answer.question, fn.COUNT(Answer.id), fn.AVG(Answer.expectation), fn.AVG(Answer.value)).where(
        Question.kind == "servqual", Answer.value.is_null(False), Answer.expectation.is_null(False)).group_by(SQL("1"))
    for question_id, n, expectation, perception in pairs.tuples():
        by_id[question_id]["servqual"] = {"pairs": n, "expectation": round(float(expectation), 2),
                                          "perception": round(float(perception), 2),
                                          "gap": round(float(perception) - float(expectation), 2)}
    for item in by_id.values():
        kind, dist = item["question"].kind, item["distribution"]
        total = sum(dist.values())
        if kind in ("rating", "score") and total:
            item["mean"] = round(sum(v * n for v, n in dist.items()) / total, 2)
            if kind == "rating":
                item["csat"] = _pct(sum(n for v, n in dist.items() if v >= 4), total)
                item["distribution"] = OrderedDict((v, dist.get(v, 0)) for v in range(1, 6))
            else:
                promoters = sum(n for v, n in dist.items() if v >= 9)
                detractors = sum(n for v, n in dist.items() if v <= 6)
                item["nps"] = round(100.0 * (promoters - detractors) / total, 1)
                item["distribution"] = OrderedDict((v, dist.get(v, 0)) for v in range(0, 11))
        item["total"] = total

    comments = (answers(Question.text, Answer.text, Response.submitted_at, Branch.name)
                .join(Branch, JOIN.LEFT_OUTER, on=(Response.branch == Branch.id))
                .where(Question.kind == "text", Answer.text != "")
                .order_by(Response.submitted_at.desc(), Answer.id.desc()).limit(comment_limit).tuples())
    sat = _satisfaction_by(None, start, end, **filters).get(None, _NO_SATISFACTION)
    return {
        "questions": [by_id[q.id] for q in questions],
        "responses": responses_received(start, end, **filters),
        "csat": sat["csat"], "nps": sat["nps"],
        "dimensions": dimension_scores(start, end, **filters),
        "servqual": servqual_gaps(start, end, **filters),
        "comments": [{"question": q, "text": t, "submitted_at": at, "branch": b or ""} for q, t, at, b in comments],
    }


# ---------------------------------------------------------------- customer quadrants

QUADRANTS = ("loyal", "praiser", "silent_protester", "complainer")
SATISFIED_AT = 4.0


def customer_quadrants(start, end, branch=None, grade=None):
    """Customers placed by satisfaction × voice over [start, end):

    * satisfaction = mean of everything they scored, on a 1–5 scale: rating answers, callback
      satisfaction, and score (0–10) answers halved; satisfied when the mean is ≥ 4 (like CSAT).
      A customer with a complaint and no score at all counts as dissatisfied.
    * voice = they filed a complaint or wrote a free-text comment in the period (vocal), else quiet.

    loyal 忠诚者 = satisfied & quiet, praiser 称赞者 = satisfied & vocal, silent_protester 无声抗议者
    = dissatisfied & quiet (the call list), complainer 投诉者 = dissatisfied & vocal. Customers with
    neither a score nor a voice are not placed. Returns {quadrant: [customer dict, …]} sorted
    by mean satisfaction (lowest first) then name; each dict: customer_id, name, organisation,
    phone, branch, grade, mean, scores, complaints, comments.
    """
    def customer_scope(query, customer_column):
        if branch is not None:
            query = query.where(customer_column.in_(Customer.select(Customer.id).where(_in_branch(Customer.branch, branch))))
        if grade:
            query = query.where(customer_column.in_(_customers_of_grade(grade)))
        return query

    scale = Case(Question.kind, [("score", Answer.value / 2.0)], Answer.value * 1.0)
    answered = customer_scope(_response_filters(
        Answer.select(Response.customer, fn.COUNT(Answer.id), fn.SUM(scale)).join(Question).switch(Answer).join(Response)
        .where(Question.kind.in_(["rating", "score"]), Answer.value.is_null(False), Response.customer.is_null(False)),
        start, end), Response.customer)
    called = customer_scope(Callback.select(Callback.customer, fn.COUNT(Callback.id), fn.SUM(Callback.satisfaction))
                            .where(Callback.done_at >= start, Callback.done_at < end,
                                   Callback.satisfaction.is_null(False)), Callback.customer)
    complained = customer_scope(Complaint.select(Complaint.customer, fn.COUNT(Complaint.id)).where(
        Complaint.received_at >= start, Complaint.received_at < end), Complaint.customer)
    commented = customer_scope(_response_filters(
        Answer.select(Response.customer, fn.COUNT(Answer.id)).join(Question).switch(Answer).join(Response)
        .where(Question.kind == "text", Answer.text != "", Response.customer.is_null(False)), start, end),
        Response.customer)

    facts = {}
    for source, key in ((answered, Response.customer), (called, Callback.customer)):
        for customer_id, (n, total) in _grouped(source, key).items():
            entry = facts.setdefault(customer_id, {"scores": 0, "sum": 0.0, "complaints": 0, "comments": 0})
            entry["scores"] += int(n)
            entry["sum"] += float(total or 0)
    for source, key, name in ((complained, Complaint.customer, "complaints"),
                              (commented, Response.customer, "comments")):
        for customer_id, (n,) in _grouped(source, key).items():
            facts.setdefault(customer_id, {"scores": 0, "sum": 0.0, "complaints": 0, "comments": 0})[name] = int(n)

    result = {q: [] for q in QUADRANTS}
    if not facts:
        return result
    people = {c.id: c for c in Customer.select(Customer, Branch).join(Branch).where(Customer.id.in_(list(facts)))}
    for customer_id, entry in facts.items():
        customer = people.get(customer_id)
        if customer is None:
            continue
        mean = round(entry["sum"] / entry["scores"], 2) if entry["scores"] else None
        satisfied = mean is not None and mean >= SATISFIED_AT
        vocal = entry["complaints"] > 0 or entry["comments"] > 0
        quadrant = ("praiser" if vocal else "loyal") if satisfied else ("complainer" if vocal else "silent_protester")
        result[quadrant].append({
            "customer_id": customer.id, "name": customer.name, "organisation": customer.organisation,
            "phone": customer.phone, "branch": customer.branch.name, "grade": customer.grade,
            "mean": mean, "scores": entry["scores"], "complaints": entry["complaints"], "comments": entry["comments"]})
    for rows in result.values():
        rows.sort(key=lambda r: (r["mean"] if r["mean"] is not None else 0, r["name"], r["customer_id"]))
    return result


# ---------------------------------------------------------------- dashboard

def _today(moment):
    start = _midnight(moment.date())
    return start, start + timedelta(days=1)


def dashboard_summary(period=None, trend_kind="week", branch=None):
    """The landing page's figures (no personal data: staff see it too)."""
    moment = now()
    period = period or period_of("month", moment)
    by_stage = open_by_stage(branch, moment)
    open_complaints = Complaint.select().where(Complaint.stage.in_(OPEN_STAGES))
    if branch is not None:
        open_complaints = open_complaints.where(_in_branch(Complaint.branch, branch))
    sat = _satisfaction_by(None, period.start, period.end, branch=branch).get(None, _NO_SATISFACTION)
    return {
        "now": moment,
        "period": period,
        "by_stage": by_stage,
        "open_total": sum(count for count, _ in by_stage.values()),
        "overdue_total": sum(late for _, late in by_stage.values()),
        "due_soon": open_complaints.where(Complaint.due_at >= moment,
                                          Complaint.due_at < moment + timedelta(hours=2)).count(),
        "received_today": complaints_received(*_today(moment), branch=branch),
        "received": complaints_received(period.start, period.end, branch=branch),
        "sla": sla_compliance(period.start, period.end, branch=branch),
        "csat": sat["csat"],
        "nps": sat["nps"],
        "responses": responses_received(period.start, period.end, branch=branch),
        "response_rate": response_rate(period.start, period.end, branch=branch),
        "trend": trend(trend_kind, 12, moment, branch=branch),
        "trend_kind": trend_kind,
    }
