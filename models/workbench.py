"""My work (我的工作): what a staff member has to act on today, as queries.

Every queue is a function returning a peewee query (or, for scheduled callbacks, the list
models.complaints.callbacks_due builds), so that branch scoping can wrap it and a page
costs the same number of SQL statements whatever the number of rows.

* **Complaints to act on** (`complaints_to_act_on(staff)`): the open complaints the person
  owns (当前负责人: they must complete the next stage), and those of which they are the
  responsible staff member (责任人: the worksheet's cause analysis and the effect confirmation
  need them). Ordered by the next deadline, the earliest first, so overdue ones come first.
* **Callbacks due to me** (`callbacks_due_to(staff, today)`): the scheduled callbacks
  (monthly in a customer's first year after the first deal, quarterly after) of the customers
  whose account manager (专人负责) the person is, due up to CALLBACK_HORIZON_DAYS ahead.
  Callbacks after a complaint are a stage of that complaint and appear in its queue.
* **Follow-ups waiting in the branch** (`waiting_followups(branch)`): survey follow-ups
  (complaints opened by a low score) of the branch that nobody has acknowledged yet,
  whoever owns them: anybody at the branch may take one over.
* The same queues per branch (`branch_complaints(branch)`) or per person serve managers.
* Seen by a user (every function's `user`, models.scope): only the complaints and customers
  in their branch scope; None (jobs, tests): every branch.
"""
from datetime import timedelta

from peewee import JOIN

from .clock import now
from .complaints import Complaint, callbacks_due
from .customers import Customer
from .org import Branch, Staff
from .scope import branch_ids, scoped

# scheduled callbacks shown this many days before they are due
CALLBACK_HORIZON_DAYS = 7


def _id(value):
    return getattr(value, "id", value)


def open_complaints(user=None):
    """Open complaints with their customer, branch and owner loaded (one query), ordered by
    the next deadline, earliest (most overdue) first; those in `user`'s scope when given."""
    Owner = Staff.alias()
    query = (Complaint.select(Complaint, Customer, Branch, Owner)
             .join(Customer, on=(Complaint.customer == Customer.id))
             .switch(Complaint).join(Branch, on=(Complaint.branch == Branch.id))
             .switch(Complaint).join(Owner, JOIN.LEFT_OUTER, on=(Complaint.assignee == Owner.id), attr="owner")
             .where(Complaint.open_condition())
             .order_by(Complaint.due_at.asc(nulls="LAST"), Complaint.id))
    return query if user is None else scoped(query, user, Complaint)


def complaints_to_act_on(staff, user=None):
    """Open complaints `staff` owns or is the responsible staff member of."""
    staff_id = _id(staff)
    return open_complaints(user).where((Complaint.assignee == staff_id) | (Complaint.responsible_staff == staff_id))


def branch_complaints(branch, user=None):
    """Every open complaint of `branch`."""
    return open_complaints(user).where(Complaint.branch == _id(branch))


def waiting_followups(branch, user=None):
    """Survey follow-ups of `branch` that nobody has acknowledged yet."""
    return open_complaints(user).where(Complaint.branch == _id(branch), Complaint.channel == "survey",
                                       Complaint.stage == "received")


def callbacks_due_to(staff, today=None, horizon_days=CALLBACK_HORIZON_DAYS, user=None):
    """Scheduled callbacks of the customers `staff` is the account manager of (list of dicts,
    see models.complaints.callbacks_due), due up to `horizon_days` ahead, earliest first."""
    return callbacks_due(today or now().date(), horizon_days, account_manager=_id(staff),
                         branches=None if user is None else branch_ids(user))


def callbacks_due_in_branch(branch, today=None, horizon_days=CALLBACK_HORIZON_DAYS, user=None):
    return callbacks_due(today or now().date(), horizon_days, branch=_id(branch),
                         branches=None if user is None else branch_ids(user))


def time_left(due_at, moment=None):
    """(minutes left, negative when overdue) until `due_at`; None without a deadline."""
    if due_at is None:
        return None
    moment = moment or now()
    seconds = (due_at - moment).total_seconds()
    return int(seconds // 60) if seconds >= 0 else -int((-seconds + 59) // 60)


def due_state(due_at, moment=None, soon_hours=2):
    """'overdue', 'soon' (within `soon_hours`), 'later', or '' without a deadline."""
    if due_at is None:
        return ""
    moment = moment or now()
    if due_at < moment:
        return "overdue"
    return "soon" if due_at < moment + timedelta(hours=soon_hours) else "later"
