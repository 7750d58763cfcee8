"""Who owns a complaint and who is told about it (首问责任制, 专人负责制).

* Owner (当前负责人) = `Complaint.assignee`: the staff member who must act on the complaint's
  next stage. Every complaint has one from the moment it is recorded:
  - a complaint taken by a person is owned by whoever received it, its first responder
    (首问责任人, "whoever first takes the call owns it until it is handed over on record");
  - a survey follow-up (opened by the product after a low score) is owned by the customer's
    account manager (专人负责) when they are active, else by the branch's duty person
    (值班负责人, `Staff.on_duty`), else by the branch's longest-serving active staff member,
    so that no follow-up waits without an owner.
  - a complaint recorded without a first responder (an account without a staff record, a
    script) is owned like a follow-up without an account manager: the branch's duty person,
    else its longest-serving active staff member;
  - at a branch without any active staff (a branch just opened), the service department at
    headquarters owns it: a service director's staff record, else the office's longest-serving
    active staff member. Only an office without any active staff cannot record a complaint
    (ValidationError on the first responder), so that no complaint is ever without an owner.
* A hand-over changes the owner on record: `hand_over()` writes a 'handover' history row
  (old → new owner) and, when given, the reason as a 'note' row. It is offered only while
  the complaint is open, to active staff in the branch scope of whoever hands it over
  (`handover_candidates()`: sorted by branch, then
  name, each shown with its branch).
* The duty person (值班负责人) is a setting per branch: `set_duty_person()` (one per branch;
  the administrator picks it on the branch form, a manager can tick it on the staff form).
* Told about a complaint: its owner; the managers of its branch (accounts with role "manager"
  whose staff record belongs to the branch, or linked to it: models.scope); the service directors (role "director"; when the
  office has none, the administrators) for escalations.
"""
from .i18n import _l
from .org import Branch, Staff, User


def _active_staff_id(staff_id):
    if staff_id is None:
        return None
    return Staff.select(Staff.id).where(Staff.id == staff_id, Staff.active == True).scalar()  # noqa: E712


def duty_person(branch_id):
    """The branch's duty person (an active staff member marked on duty), or None."""
    return (Staff.select().where(Staff.branch == branch_id, Staff.on_duty == True, Staff.active == True)  # noqa: E712
            .order_by(Staff.id).first())


def longest_serving(branch_id):
    """The branch's active staff member with the earliest hire date (id), or None."""
    return (Staff.select(Staff.id).where(Staff.branch == branch_id, Staff.active == True)  # noqa: E712
            .order_by(Staff.hire_date.asc(nulls="LAST"), Staff.id).scalar())


def owner_of_new_complaint(first_responder_id, branch_id=None):
    """A complaint someone received is owned by its first responder (the receiver); without
    an active first responder, by the branch's duty person, else its longest-serving active
    staff member. None only when the branch has no active staff."""
    owner = _active_staff_id(first_responder_id)
    if owner is None and branch_id is not None:
        duty = duty_person(branch_id)
        owner = duty.id if duty is not None else longest_serving(branch_id)
    return owner if owner is not None else headquarters_owner()


def headquarters_owner():
    """For a branch without active staff: an active service director's staff record, else the
    office's longest-serving active staff member (id), else None."""
    director = (Staff.select(Staff.id).join(User, on=(User.staff == Staff.id))
                .where(User.role == "director", User.active == True, Staff.active == True)  # noqa: E712
                .order_by(User.id).scalar())
    if director is not None:
        return director
    return (Staff.select(Staff.id).where(Staff.active == True)  # noqa: E712
            .order_by(Staff.hire_date.asc(nulls="LAST"), Staff.id).scalar())


def no_owner_message(branch_id=None):
    return str(_l("Nobody can own this complaint: the office has no active staff member. Add the staff "
                  "(Staff & recognition → Staff) first."))


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
    return longest_serving(branch_id)


def branch_managers(branch_id):
    """Active accounts with role "manager" that belong to the branch: through their staff record
    or a branch link (a manager of several branches, models.scope)."""
    return managers_by_branch([branch_id]).get(branch_id, [])


def managers_by_branch(branch_ids):
    """{branch id: [its managers]} for several branches in two queries (same rule as
    branch_managers: the staff record's branch, or a branch link)."""
    from .org import UserBranch
    managers = {}
    wanted = list(set(branch_ids))
    if not wanted:
        return managers
    by_staff = (User.select(User, Staff.branch.alias("member_branch")).join(Staff, on=(User.staff == Staff.id))
                .where(User.role == "manager", User.active == True, Staff.branch.in_(wanted)))  # noqa: E712
    by_link = (User.select(User, UserBranch.branch.alias("member_branch"))
               .join(UserBranch, on=(UserBranch.user == User.id))
               .where(User.role == "manager", User.active == True, UserBranch.branch.in_(wanted)))  # noqa: E712
    seen = set()
    for user in sorted(list(by_staff.objects()) + list(by_link.objects()), key=lambda u: u.id):
        if (user.member_branch, user.id) not in seen:
            seen.add((user.member_branch, user.id))
            managers.setdefault(user.member_branch, []).append(user)
    return managers


def service_directors():
    """Active service directors; the administrators when the office has no director."""
    for role in ("director", "admin"):
        users = list(User.select().where(User.role == role, User.active == True).order_by(User.id))  # noqa: E712
        if users:
            return users
    return []


def handover_candidates(complaint, user=None):
    """Who a complaint can be handed over to: every active staff member except its owner,
    sorted by branch name then name (the branch is loaded with each, one query); when handed
    over by `user`, only the staff in their branch scope (models.scope). Nobody once the
    complaint is closed."""
    if not complaint.is_open:
        return []
    query = (Staff.select(Staff, Branch).join(Branch).where(Staff.active == True)  # noqa: E712
             .order_by(Branch.name, Staff.name, Staff.id))
    if complaint.assignee_id is not None:
        query = query.where(Staff.id != complaint.assignee_id)
    if user is not None:
        from .scope import scoped
        query = scoped(query, user, Staff)
    return list(query)


def hand_over(complaint, staff, user=None, reason=""):
    """Hand `complaint` over to `staff` on record ('handover' history row, plus the reason as a
    'note'). Refused (WorkflowError) for a closed complaint or an inactive staff member.
    Returns True when the owner changed."""
    from .audit import record
    from .base import db
    from .workflow import WorkflowError, assign
    if not complaint.is_open:
        raise WorkflowError(str(_l("Complaint %(number)s is closed: it is no longer handed over.",
                                   number=complaint.number)))
    with db.atomic():
        changed = assign([complaint], staff, user) == 1
        if changed and reason.strip():
            record(complaint, "note", user, "handover_reason", "", reason.strip()[:2000])
    return changed


def set_duty_person(branch_id, staff, user=None):
    """Make `staff` (a Staff of the branch, or None for nobody) the branch's duty person;
    the previous one is cleared. History rows record both changes."""
    from .audit import record_changes
    from .base import db
    if staff is not None and staff.branch_id != branch_id:
        raise ValueError(str(_l("The duty person must work at this branch.")))
    with db.atomic():
        for previous in Staff.select().where(Staff.branch == branch_id, Staff.on_duty == True):  # noqa: E712
            if staff is not None and previous.id == staff.id:
                return False
            before = dict(previous.__data__)
            previous.on_duty = False
            previous.save(only=[Staff.on_duty])
            record_changes(previous, before, user)
        if staff is not None:
            before = dict(staff.__data__)
            staff.on_duty = True
            staff.save(only=[Staff.on_duty])
            record_changes(staff, before, user)
    return True
