"""The complaint workflow as data: the stages in order (models.complaints.STAGE_TABLE: each
with its due-time column, its done-at column and the deliverable it needs), the only moves
allowed between them, and one function per deliverable.

received → acknowledged (apology, director told) → resolved (result told to the customer)
→ rectified (worksheet with all five sections) → called_back (callback with satisfaction)
→ closed (effect confirmed by the issuing side).

A stage is done at clock.now(); done at or before its due time is on time, one second
later is an SLA breach for that stage (a 'breach' history row). Every change of stage,
deadline, assignee or responsible staff/branch writes history rows in the same transaction.
"""
from collections import namedtuple
from datetime import timedelta

from peewee import JOIN

from .audit import History, history_values, record, record_changes
from .base import db
from .clock import now
from .complaints import (CALLBACK_CHANNELS, DUE_SOON_HOURS, NEXT_STAGE, SATISFACTION, STAGE_BY_CODE, STAGE_TABLE,
                         STAGES, Callback, Complaint, Rectification)
from .i18n import _l, label_of
from .org import Branch, Staff
from .validation import promised_date_problem


class WorkflowError(ValueError):
    """A workflow step refused: wrong order or a missing deliverable. str() is for the user."""


# The stages in order (code, label, done/due columns, policy hours, deliverable): models.complaints.STAGE_TABLE.
STAGE_FLOW = STAGE_TABLE
# The only allowed moves: each stage to the one after it; closed is final.
TRANSITIONS = NEXT_STAGE

# The worksheet's five sections as printed on the form (问题整改工作单): number, title and its
# parts (field, label of the part or None when the section is one field). Section 3 has two
# parts: the immediate measures and who was held accountable. Every part must be filled.
WorksheetSection = namedtuple("WorksheetSection", "number title parts")
WORKSHEET_LAYOUT = [
    WorksheetSection(1, _l("Problem description"), [("problem_description", None)]),
    WorksheetSection(2, _l("Cause analysis"), [("cause_analysis", None)]),
    WorksheetSection(3, _l("Immediate measures"), [("immediate_measures", _l("(1) Measures taken")),
                                                   ("accountability", _l("(2) Accountability"))]),
    WorksheetSection(4, _l("Long-term measures"), [("long_term_measures", None)]),
    WorksheetSection(5, _l("Effect confirmation"), [("effect_confirmation", None)]),
]
WORKSHEET_SECTIONS = [name for section in WORKSHEET_LAYOUT for name, _part in section.parts]
# Complaint fields whose change is a hand-over (首问责任人 / owner changes), recorded as 'handover'.
HANDOVER_FIELDS = ["first_responder", "assignee", "responsible_staff", "responsible_branch"]


def stage_label(code):
    return label_of(STAGES, code)


def stage_action(code):
    """The button that completes stage `code` ("Record the handling result")."""
    return str(STAGE_BY_CODE[code].action)


def next_stage(complaint):
    """The stage that can be completed next, or None once closed."""
    return TRANSITIONS.get(complaint.stage)


def due_for(complaint, code):
    stage = STAGE_BY_CODE[code]
    return getattr(complaint, stage.due_field) if stage.due_field else None


def is_breach(done_at, due_at):
    """Done exactly at the due time is on time; any later is a breach."""
    return due_at is not None and done_at > due_at


def _text(value):
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


def _require(value, message):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise WorkflowError(str(message))
    return value.strip() if isinstance(value, str) else value


# ------------------------------------------------------------------ deliverables per stage

def _acknowledge(complaint, user, moment, apology_note=None, director_notified=False, **_):
    complaint.apology_note = _require(apology_note, _l("Record the reply / apology given to the customer."))
    if not director_notified:
        raise WorkflowError(str(_l("Confirm that the incident was reported to the service director.")))
    complaint.director_notified = True


def _resolve(complaint, user, moment, result_text=None, **_):
    complaint.result_text = _require(result_text, _l("Record the handling result told to the customer."))


def _rectify(complaint, user, moment, promised_date=None, **sections):
    """Create or complete the complaint's worksheet from `sections`; every section must be filled."""
    worksheet = Rectification.get_or_none(Rectification.complaint == complaint.id)
    values = {name: _text(sections[name]) for name in WORKSHEET_SECTIONS if name in sections}
    if worksheet is None:
        worksheet = Rectification(complaint=complaint, created_by=user, created_at=moment)
    for name, value in values.items():
        setattr(worksheet, name, value)
    if promised_date is not None:
        worksheet.promised_date = promised_date
    missing = [str(Rectification._meta.fields[name].verbose_name) for name in WORKSHEET_SECTIONS
               if not _text(getattr(worksheet, name, ""))]
    if missing:
        raise WorkflowError(str(_l("The rectification worksheet is incomplete; fill in: %(sections)s.",
                                   sections="; ".join(missing))))
    if worksheet.promised_date is None:
        raise WorkflowError(str(_l("The rectification worksheet needs a promised completion date.")))
    problem = promised_date_problem(worksheet.promised_date, complaint.received_at)
    if problem:
        raise WorkflowError(problem)
    created = worksheet.id is None
    before = {} if created else dict(Rectification.get_by_id(worksheet.id).__data__)
    worksheet.save()
    if created:
        record(worksheet, "create", user)
    else:
        record_changes(worksheet, before, user)


def _call_back(complaint, user, moment, satisfaction=None, outcome=None, channel="phone", staff=None, **_):
    try:
        satisfaction = int(satisfaction) if satisfaction not in (None, "") else None
    except (TypeError, ValueError):
        satisfaction = None
    if satisfaction not in {value for value, _label in SATISFACTION}:
        raise WorkflowError(str(_l("Record the customer's satisfaction (1 to 5) with the handling.")))
    outcome = _require(outcome, _l("Record what the customer said in the callback."))
    if channel not in {code for code, _label in CALLBACK_CHANNELS}:
        raise WorkflowError(str(_l("Choose how the customer was called back.")))
    callback = Callback.create(customer=complaint.customer_id, complaint=complaint, kind="complaint",
                    due_date=complaint.callback_due_at.date() if complaint.callback_due_at else None,
                    done_at=moment, staff=staff or (user.staff_id if user else None), channel=channel,
                    outcome=outcome, satisfaction=satisfaction)
    record(callback, "create", user)


def _close(complaint, user, moment, closing_note=None, verifier=None, **_):
    complaint.closing_note = _require(closing_note, _l("Record how the issuing side confirmed the effect."))
    verifier = verifier or (user.staff_id if user else None)
    if verifier is None:
        raise WorkflowError(str(_l("Name the staff member who verified the effect.")))
    worksheet = Rectification.get_or_none(Rectification.complaint == complaint.id)
    if worksheet is not None:
        worksheet.verifier = verifier
        worksheet.verified_at = moment
        worksheet.save()


DELIVERABLES = {"acknowledged": _acknowledge, "resolved": _resolve, "rectified": _rectify,
                "called_back": _call_back, "closed": _close}


def complete_stage(complaint, stage, user=None, **deliverable):
    """Complete `stage` of `complaint` now, with its deliverable. Refuses a stage out of
    order or a missing deliverable (WorkflowError, nothing written). Returns True when
    the stage was done on time, False when it was a breach."""
    if stage not in STAGE_BY_CODE or stage == STAGE_TABLE[0].code:
        raise WorkflowError(str(_l("Unknown stage: %(stage)s.", stage=stage)))
    expected = next_stage(complaint)
    if expected is None:
        raise WorkflowError(str(_l("Complaint %(number)s is closed; no further stage can be completed.",
                                   number=complaint.number)))
    if stage != expected:
        raise WorkflowError(str(_l("%(stage)s cannot be completed now: complaint %(number)s is at %(current)s, "
                                   "the next stage is %(next)s.",
                                   stage=stage_label(stage), number=complaint.number,
                                   current=stage_label(complaint.stage), next=stage_label(expected))))
    moment = now()
    definition = STAGE_BY_CODE[stage]
    due = due_for(complaint, stage)
    before = dict(complaint.__data__)
    with db.atomic():
        # Claim the step first: a write that only succeeds if nobody completed it meanwhile
        # (it also takes SQLite's write lock / PostgreSQL's row lock before anything is read).
        claimed = (Complaint.update(stage=stage)
                   .where(Complaint.id == complaint.id, Complaint.stage == before["stage"]).execute())
        if not claimed:
            raise WorkflowError(str(_l("Complaint %(number)s was changed by someone else in the meantime; "
                                       "reload the page and check its stage.", number=complaint.number)))
        DELIVERABLES[stage](complaint, user, moment, **deliverable)
        setattr(complaint, definition.done_field, moment)
        complaint.stage = stage
        following = TRANSITIONS.get(stage)
        complaint.due_at = due_for(complaint, following) if following else None
        complaint.alert_at = moment if following else None  # the scheduler looks at the new stage next tick
        # only what this step changed, so a concurrent edit of other fields is not overwritten
        changed = [name for name, value in complaint.__data__.items() if before.get(name) != value]
        complaint.save(only=[complaint._meta.fields[name] for name in changed])
        record(complaint, "stage", user, "stage", before["stage"], stage)
        record_changes(complaint, {**before, "stage": stage}, user)
        late = is_breach(moment, due)
        if late:
            record(complaint, "breach", user, definition.due_field, due, moment)
    return not late


# ------------------------------------------------------------------ assignment, hand-over, escalation

def record_complaint_changes(complaint, before, user=None):
    """History for an edit: 'handover' rows for owner fields, 'update' rows for the rest."""
    rows = []
    for name in complaint._meta.fields:
        old, new = before.get(name), complaint.__data__.get(name)
        if old == new:
            continue
        action = "handover" if name in HANDOVER_FIELDS else "update"
        row = record(complaint, action, user, name, _owner_label(name, old), _owner_label(name, new))
        rows.append(row)
        if name == "assignee" and new is not None:
            from .notifications import handed_over  # the new owner is told, in this transaction
            handed_over(complaint, new, user, row)
    return rows


def _owner_label(field_name, value):
    """Staff and branches are stored by id; history shows who they were."""
    if value is None or field_name not in HANDOVER_FIELDS:
        return value
    model = Branch if field_name == "responsible_branch" else Staff
    row = model.get_or_none(model.id == value)
    return f"{row} [#{value}]" if row else value


def assign(complaints, staff, user=None):
    """Hand complaints over to `staff` (assignee); closed complaints keep their owner.
    Returns how many changed owner."""
    if staff is None:
        raise WorkflowError(str(_l("Choose the staff member to assign the complaints to.")))
    if not staff.active:
        raise WorkflowError(str(_l("%(staff)s is no longer active.", staff=str(staff))))
    changed = 0
    with db.atomic():
        for complaint in complaints:
            if complaint.assignee_id == staff.id or not complaint.is_open:
                continue
            before = dict(complaint.__data__)
            complaint.assignee = staff
            complaint.save(only=[Complaint.assignee])
            record_complaint_changes(complaint, before, user)
            changed += 1
    return changed


def escalate(complaints, user=None, reason="", reasons=None):
    """Raise the escalation level of open complaints by one, with an 'escalate' history row and,
    when there is a reason (`reason` for all, or `reasons` by complaint id), a 'note' row. A few
    statements per 500 complaints (the scheduler escalates many at once after a backlog)."""
    escalated = [complaint for complaint in complaints if complaint.is_open]
    if not escalated:
        return 0
    rows = []
    with db.atomic():
        for start in range(0, len(escalated), 500):
            ids = [complaint.id for complaint in escalated[start:start + 500]]
            Complaint.update(escalation_level=Complaint.escalation_level + 1).where(Complaint.id.in_(ids)).execute()
            levels = dict(Complaint.select(Complaint.id, Complaint.escalation_level)
                          .where(Complaint.id.in_(ids)).tuples())
            for complaint in escalated[start:start + 500]:
                complaint.escalation_level = levels[complaint.id]
                rows.append(history_values(complaint, "escalate", user, "escalation_level",
                                           complaint.escalation_level - 1, complaint.escalation_level))
                text = (reasons or {}).get(complaint.id, reason)
                if text:
                    rows.append(history_values(complaint, "note", user, "escalation_reason", "", text))
        for start in range(0, len(rows), 500):
            History.insert_many(rows[start:start + 500]).execute()
    return len(escalated)


# ------------------------------------------------------------------ queries

def overdue(moment=None):
    return Complaint.overdue(moment)


def due_soon(moment=None, hours=DUE_SOON_HOURS):
    return Complaint.due_soon(moment, hours)


def timeline(complaint_id):
    """Every history row about the complaint, its worksheet and its callbacks, oldest first."""
    where = (History.object_type == "Complaint") & (History.object_id == complaint_id)
    for model in (Rectification, Callback):
        ids = model.select(model.id).where(model.complaint == complaint_id)
        where |= (History.object_type == model.__name__) & History.object_id.in_(ids)
    return list(History.select().where(where).order_by(History.at, History.id))


def stage_progress(complaint):
    """One row per stage after receipt: due time, done time, and whether it was on time."""
    rows = []
    moment = now()
    for stage in STAGE_FLOW:
        due = due_for(complaint, stage.code)
        done = getattr(complaint, stage.done_field)
        if done is not None:
            state = "late" if is_breach(done, due) else "done"
        elif due is not None and moment > due:
            state = "overdue"
        else:
            state = "open"
        rows.append({"code": stage.code, "label": stage_label(stage.code), "due": due, "done": done,
                     "state": state, "deliverable": stage.deliverable})
    return rows


def sla_check(moment=None, hours=DUE_SOON_HOURS):
    """Overdue and soon-due open complaints grouped by branch, for the sla-check command: the
    same complaints as Complaint.overdue(moment) and Complaint.due_soon(moment, hours), so its
    counts per branch are the dashboard's "Overdue" and "Due within 2 h" for that branch."""
    moment = moment or now()
    Responsible = Staff.alias()
    query = (Complaint.open().select(Complaint, Branch, Responsible)
             .join(Branch, on=(Complaint.branch == Branch.id))
             .switch(Complaint).join(Responsible, JOIN.LEFT_OUTER, on=(Complaint.responsible_staff == Responsible.id),
                                     attr="responsible")
             .where(Complaint.due_at < moment + timedelta(hours=hours))
             .order_by(Branch.name, Complaint.due_at))
    branches = {}
    for complaint in query:
        entry = branches.setdefault(complaint.branch.name, {"branch": complaint.branch.name, "overdue": [],
                                                             "due_soon": []})
        staff = getattr(complaint, "responsible", None)
        minutes = int((complaint.due_at - moment).total_seconds() // 60)
        item = {"number": complaint.number, "title": complaint.title, "stage": complaint.stage,
                "next_stage": TRANSITIONS.get(complaint.stage), "due_at": complaint.due_at.isoformat(sep=" "),
                "minutes_left": minutes, "responsible_staff": str(staff) if staff and staff.id else "",
                "escalation_level": complaint.escalation_level}
        entry["overdue" if complaint.due_at < moment else "due_soon"].append(item)  # Complaint.past_due
    return list(branches.values())


def record_scheduled_callback(customer, user=None, due_date=None, channel="phone", outcome="", satisfaction=None,
                              staff=None):
    """A scheduled callback made now (回访), with a 'create' history row."""
    outcome = _require(outcome, _l("Record what the customer said in the callback."))
    if channel not in {code for code, _label in CALLBACK_CHANNELS}:
        raise WorkflowError(str(_l("Choose how the customer was called back.")))
    if satisfaction in ("", None):
        satisfaction = None
    else:
        try:
            satisfaction = int(satisfaction)
        except (TypeError, ValueError):
            satisfaction = 0
        if satisfaction not in {value for value, _label in SATISFACTION}:
            raise WorkflowError(str(_l("Satisfaction must be between 1 and 5.")))
    with db.atomic():
        callback = Callback.create(customer=customer, kind="scheduled", due_date=due_date, done_at=now(),
                                   staff=staff or (user.staff_id if user else None), channel=channel,
                                   outcome=outcome, satisfaction=satisfaction)
        record(callback, "create", user)
    return callback
