"""Personal invitations and their life: created → sent → opened → answered (or expired),
and bulk creation for a list of customers or for closed complaints (callback survey).
(The response rate of invitations is a figure: models.reports.response_rate.)

One invitation per customer and survey: bulk creation skips customers who already have
one for that survey (answered or not), so running it twice does not spam anybody.
"""
from .base import db
from .clock import now
from .complaints import Complaint
from .customers import Customer
from .i18n import _l
from .surveys import Invitation

INVITATION_STATUSES = [
    ("created", _l("Not sent yet")),
    ("sent", _l("Sent")),
    ("opened", _l("Opened")),
    ("answered", _l("Answered")),
    ("expired", _l("Expired")),
]
# customers invited at once (one request); more than this: filter the list further
BULK_LIMIT = 5000


def invitation_status(invitation, moment=None):
    """One of INVITATION_STATUSES' codes."""
    moment = moment or now()
    if invitation.answered_at is not None:
        return "answered"
    if invitation.expires_at is not None and invitation.expires_at <= moment:
        return "expired"
    if invitation.opened_at is not None:
        return "opened"
    if invitation.sent_at is not None:
        return "sent"
    return "created"


def status_condition(status, moment=None):
    """A where-clause selecting the invitations in `status` (same rules as invitation_status)."""
    moment = moment or now()
    answered = Invitation.answered_at.is_null(False)
    expired = Invitation.answered_at.is_null() & Invitation.expires_at.is_null(False) & (Invitation.expires_at <= moment)
    live = Invitation.answered_at.is_null() & (Invitation.expires_at.is_null() | (Invitation.expires_at > moment))
    conditions = {
        "answered": answered,
        "expired": expired,
        "opened": live & Invitation.opened_at.is_null(False),
        "sent": live & Invitation.opened_at.is_null() & Invitation.sent_at.is_null(False),
        "created": live & Invitation.opened_at.is_null() & Invitation.sent_at.is_null(),
    }
    if status not in conditions:
        raise ValueError(str(_l("Unknown invitation status: %(status)s", status=status)))
    return conditions[status]


def invite_customers(survey, customer_ids, expires_at=None):
    """Create one invitation per customer not yet invited to `survey`.
    Returns (created invitations, number skipped because already invited)."""
    ids = list(dict.fromkeys(int(i) for i in customer_ids))
    if len(ids) > BULK_LIMIT:
        raise ValueError(str(_l("At most %(limit)d customers at once; please filter the list further.",
                                limit=BULK_LIMIT)))
    if expires_at is not None and expires_at <= now():
        raise ValueError(str(_l("The expiry date must be in the future.")))
    created = []
    with db.atomic():
        existing = set()
        for start in range(0, len(ids), 500):  # stay under SQL parameter limits
            chunk = ids[start:start + 500]
            existing |= {row.customer_id for row in Invitation.select(Invitation.customer).where(
                (Invitation.survey == survey) & Invitation.customer.in_(chunk))}
            known = {c.id for c in Customer.select(Customer.id).where(Customer.id.in_(chunk))}
            existing |= set(chunk) - known  # unknown ids are skipped too
        for customer_id in ids:
            if customer_id not in existing:
                created.append(Invitation.create(survey=survey, customer=customer_id, expires_at=expires_at))
    return created, len(ids) - len(created)


def customers_matching(branch_id=None, grade=None, lifecycle=None, kind=None, include_churned=False):
    """The customer list to invite, filtered like the customer view (all filters optional)."""
    query = Customer.select(Customer.id)
    if branch_id:
        query = query.where(Customer.branch == branch_id)
    if grade:
        query = query.where(Customer.grade == grade)
    if lifecycle:
        query = query.where(Customer.lifecycle == lifecycle)
    if kind:
        query = query.where(Customer.kind == kind)
    if not include_churned:
        query = query.where(Customer.churned == False)  # noqa: E712 - peewee expression
    return query


def invite_closed_complaints(survey, expires_at=None, complaints=None):
    """One invitation (callback survey) for each closed complaint that has none for `survey`
    (among `complaints`, a Complaint query, when given: e.g. the user's branch scope)."""
    already = Invitation.select(Invitation.complaint).where(
        (Invitation.survey == survey) & Invitation.complaint.is_null(False))
    complaints = (complaints if complaints is not None else Complaint.select()).where(
        ~Complaint.open_condition() & Complaint.id.not_in(already))
    with db.atomic():
        return [Invitation.create(survey=survey, complaint=c, customer=c.customer_id, expires_at=expires_at)
                for c in complaints]


def mark_sent(invitation_ids, moment=None):
    """Record that these links were handed to the customers (SMS, letter, e-mail)."""
    moment = moment or now()
    return (Invitation.update(sent_at=moment)
            .where(Invitation.id.in_(list(invitation_ids)) & Invitation.sent_at.is_null()).execute())


def mark_opened(invitation, moment=None):
    """First time the customer opens the page (later openings keep the first time)."""
    moment = moment or now()
    if invitation.opened_at is None:
        # one autocommit statement: SQLite's write lock is held only while it runs
        Invitation.update(opened_at=moment).where(
            (Invitation.id == invitation.id) & Invitation.opened_at.is_null()).execute()
        invitation.opened_at = moment


def _in_branches(query, model, branches):
    """`query` limited to the rows of `model` in `branches` (ids; None: every branch)."""
    if branches is None:
        return query
    from .scope import condition
    return query.where(condition(model, branches))


def survey_summary(survey, branches=None):
    """Counts per invitation status for one survey (for its admin page), of `branches` (ids)
    when given (models.scope)."""
    moment = now()
    return {code: _in_branches(Invitation.select(), Invitation, branches)
            .where((Invitation.survey == survey) & status_condition(code, moment)).count()
            for code, _label in INVITATION_STATUSES}

