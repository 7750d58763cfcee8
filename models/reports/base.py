"""What every figure shares: rounding, the conditions that decide what counts (a counted
response, a real customer), the period and scope filters, and grouped SQL aggregates.
The rules themselves are written in the glossary (models.reports' docstring)."""
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from peewee import SQL, Case, fn

from ..complaints import Complaint
from ..customers import Customer
from ..org import Branch
from ..surveys import Response

# CSAT: a rating (1-5) of at least this is "satisfied"
CSAT_SATISFIED_MIN = 4
# NPS: a score (0-10) of at least this is a promoter, at most that a detractor (7-8 passives)
NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
# customer quadrants: satisfied when the mean of their scores on the 1-5 scale is at least this
QUADRANT_SATISFIED_MEAN = 4
# which question kinds carry which number
RATING, SCORE = "rating", "score"


# ---------------------------------------------------------------- rounding (exact, halves away from zero)

def rounded(numerator, denominator=1, places=1):
    """numerator / denominator rounded to `places` decimals, halves away from zero (66.65 →
    66.7, -14.25 → -14.3), computed exactly from integers / Decimals / Fractions; a float."""
    value = Fraction(numerator) / Fraction(denominator)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def percent(part, whole):
    """100 × part / whole to 0.1, or None when whole is 0 ("no data", never 0 %)."""
    return rounded(100 * part, whole, 1) if whole else None


def mean(total, count, places=2):
    """total / count to 0.01, or None when count is 0."""
    return rounded(total, count, places) if count else None


def nps_of(promoters, detractors, answers):
    """% promoters − % detractors, to 0.1, from the counts; None without answers."""
    return rounded(100 * (promoters - detractors), answers, 1) if answers else None


def exact(value):
    """A database number (int, Decimal, float from SQLite's SUM) as an exact Fraction."""
    if value is None:
        return Fraction(0)
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


# ---------------------------------------------------------------- what counts

def counted_responses():
    """The condition every figure puts on survey responses: the responses that count, those
    with status "counted" (Response.counted()). A submission held for review counts from the
    moment a manager releases it; one found not to be a customer's answer never counts
    (models.survey_guard)."""
    return Response.counted()


def real_customers():
    """The condition on customer files that are customers. Anonymous low scores are anonymous
    feedback now (models.feedback), not complaints against a placeholder; a database from
    before that may keep its placeholder file "匿名问卷客户" (no phone, no organisation) when
    somebody had worked on one of its follow-ups (migration 51). That file is not a customer:
    it is neither counted among a branch's customers nor placed in the quadrants. A real
    customer of that name, with a phone or an organisation, is."""
    from ..migrations import LEGACY_PLACEHOLDER_NAME
    placeholder = ((Customer.name == LEGACY_PLACEHOLDER_NAME) & (Customer.phone == "")
                   & (Customer.organisation == ""))
    return ~placeholder


def raised_by_customer():
    """A complaint the customer raised themselves (phone, visit, letter …), as opposed to a
    follow-up the product opened after a low survey score (channel "survey")."""
    return Complaint.channel != "survey"


# ---------------------------------------------------------------- filters and grouping

def id_of(value):
    return getattr(value, "id", value)


def count_if(condition):
    """Portable count of rows meeting `condition` (SUM(CASE …)), never SUM over booleans."""
    return fn.SUM(Case(None, [(condition, 1)], 0))


def sum_if(condition, value):
    return fn.SUM(Case(None, [(condition, value)], 0))


def customers_of_grade(grade):
    return Customer.select(Customer.id).where(Customer.grade == grade)


def in_branch(column, branch):
    """`column` (a foreign key to Branch) is `branch`: a Branch, an id, or a collection of ids
    (a user's branch scope, models.scope.branch_ids; an empty one selects nothing)."""
    if isinstance(branch, (list, tuple, set, frozenset)):
        return column.in_(list(branch))
    return column == id_of(branch)


def customers_of_branch(branch):
    return Customer.select(Customer.id).where(in_branch(Customer.branch, branch))


def complaint_filters(query, start, end, branch=None, grade=None, staff=None):
    """Complaints RECEIVED in [start, end), of a branch / customer grade / responsible staff."""
    query = query.where(Complaint.received_at >= start, Complaint.received_at < end)
    return complaint_scope(query, branch, grade, staff)


def complaint_scope(query, branch=None, grade=None, staff=None):
    if branch is not None:
        query = query.where(in_branch(Complaint.branch, branch))
    if grade:
        query = query.where(Complaint.customer.in_(customers_of_grade(grade)))
    if staff:
        query = query.where(Complaint.responsible_staff == id_of(staff))
    return query


def response_filters(query, start=None, end=None, branch=None, grade=None, staff=None, survey=None):
    """Counted responses SUBMITTED in [start, end) (no period: all), attributed to a branch /
    staff member, from customers of a grade, of one survey."""
    query = query.where(counted_responses())
    if start is not None:
        query = query.where(Response.submitted_at >= start, Response.submitted_at < end)
    if branch is not None:
        query = query.where(in_branch(Response.branch, branch))
    if grade:
        query = query.where(Response.customer.in_(customers_of_grade(grade)))
    if staff:
        query = query.where(Response.staff == id_of(staff))
    if survey:
        query = query.where(Response.survey == id_of(survey))
    return query


def grouped(query, key):
    """Run an aggregate query whose first column is the group key (or none): {key: row tuple}."""
    if key is None:
        row = query.tuples().first() or ()
        return {None: tuple(row)}
    return {row[0]: tuple(row[1:]) for row in query.group_by(SQL("1")).tuples()}


def bucket_of(column, periods):
    """CASE expression numbering which of the consecutive `periods` a timestamp falls in."""
    return Case(None, [(column < p.end, index) for index, p in enumerate(periods)])


def listed_branches(with_data=(), include_inactive=False):
    """The branches a per-branch table lists: every active branch, and an inactive one that has
    data in the period (so the rows always add up to the office's total), by name."""
    query = Branch.select().order_by(Branch.name, Branch.id)
    if not include_inactive:
        ids = [i for i in with_data if i is not None]
        active = Branch.active == True  # noqa: E712 - peewee expression
        query = query.where(active | Branch.id.in_(ids)) if ids else query.where(active)
    return list(query)
