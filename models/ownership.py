"""Who owns a complaint and who is told about it (首问责任制, 专人负责制).

* Owner (当前负责人) = `Complaint.assignee`: the staff member who must act on the complaint's
  next stage. Every complaint has one from the moment it is recorded:
  - a complaint taken by a person is owned by whoever received it, its first responder
    (首问责任人, "whoever first takes the call owns it until it is handed over on record");
  - a survey follow-up (opened by the product after a low score) is owned by the customer's
    account manager (专人负责) when they are active, else by the branch's duty person
    (值班负责人, `Staff.on_duty`), else by the branch's longest-serving active staff member,
    so that no follow-up waits without an owner.
* A hand-over changes the owner and is recorded ('handover' history row, models.workflow.assign).
* Told about a complaint: its owner; the managers of its branch (accounts with role "manager"
  whose staff record belongs to the branch, or linked to it: models.scope); the service directors (role "director"; when the
  office has none, the administrators) for escalations.
"""
from .org import Staff, User


def _active_staff_id(staff_id):
    if staff_id is None:
        return None
    return Staff.select(Staff.id).where(Staff.id == staff_id, Staff.active == True).scalar()  # noqa: E712


def duty_person(branch_id):
    """The branch's duty person (an active staff member marked on duty), or None."""
    return (Staff.select().where(Staff.branch == branch_id, Staff.on_duty == True, Staff.active == True)  # noqa: E712
            .order_by(Staff.id).first())


def owner_of_new_complaint(first_responder_id, branch_id=None):
    """A complaint someone received is owned by its first responder (the receiver)."""
    return _active_staff_id(first_responder_id) or first_responder_id


def followup_owner(customer, branch_id):
    """Owner of a survey follow-up: the customer's account manager, else the branch's duty
    person, else the branch's longest-serving active staff member (None only when the branch
    has no active staff at all)."""
    manager_id = _active_staff_id(customer.account_manager_id) if customer is not None else None
    if manager_id is not None:
        return manager_id
    duty = duty_person(branch_id)
    if duty is not None:
        return duty.id
    return (Staff.select(Staff.id).where(Staff.branch == branch_id, Staff.active == True)  # noqa: E712
            .order_by(Staff.hire_date.asc(nulls="LAST"), Staff.id).scalar())


def branch_managers(branch_id):
    """Active accounts with role "manager" that belong to the branch: through their staff record
    or a branch link (a manager of several branches, models.scope)."""
    from .scope import members_of
    return list(User.select().where(User.role == "manager", User.active == True,  # noqa: E712
                                    User.id.in_(members_of([branch_id])))
                .order_by(User.id))


def service_directors():
    """Active service directors; the administrators when the office has no director."""
    for role in ("director", "admin"):
        users = list(User.select().where(User.role == role, User.active == True).order_by(User.id))  # noqa: E712
        if users:
            return users
    return []
