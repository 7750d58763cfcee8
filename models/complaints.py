"""投诉: complaints, their rectification worksheets and callbacks.

A complaint moves received → acknowledged → result given → rectification filed →
callback done → closed. STAGE_TABLE below is the one description of those stages: each
entry has the stage's label, the column recording when it was done, the column holding
its due time, the SlaPolicy column giving its hours, the default hours (the seeds' 1 h,
24 h, 48 h, 72 h) and the deliverable staff must record. Everything else (the choice list,
the workflow's moves, the deadlines, the SLA figures, the workbooks, the demo data) is
derived from it.

Deadlines count from received_at. The due time of each stage is stored on the complaint
when it is received, so a later change of SLA policy does not rewrite history; a stage
done after its due time is an SLA breach for that stage. Correcting a complaint's severity,
customer or branch recomputes the due times of the stages not yet done (Complaint.save).

A policy's hours are calendar hours (around the clock, the default) or working hours (only
inside the working calendar of the complaint's branch, else the office's: models.calendars).
The complaint keeps how its due times were counted (sla_hours_kind), so that its alerts
place their 50 % / 80 % points the same way (models.calendars.sla_clock). Due soon, overdue
and breaches compare the stored due times, so they follow whatever counted them.
"""
import calendar
from collections import namedtuple
from datetime import datetime, timedelta

from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField,
                    ForeignKeyField, IntegerField, SmallIntegerField, TextField)

from .base import BaseModel
from .calendars import HOURS_KINDS, sla_clock
from .choices import ProductList
from .clock import now
from .customers import GRADE_LIST, Customer
from .i18n import _l
from .org import Branch, Staff, User

CHANNELS = [
    ("phone", _l("Phone")),
    ("email", _l("Email")),
    ("web", _l("Website")),
    ("visit", _l("Visit")),
    ("letter", _l("Letter")),
    ("survey", _l("Survey follow-up")),
]
CATEGORIES = [
    ("attitude", _l("Service attitude")),
    ("staff_error", _l("Staff error")),
    ("system", _l("System / process failure")),
    ("misunderstanding", _l("Customer misunderstanding")),
    ("quality", _l("Product quality")),
    ("other", _l("Other")),
]
SEVERITIES = [
    ("low", _l("Low")),
    ("normal", _l("Normal")),
    ("high", _l("High")),
    ("critical", _l("Critical")),
]
# The lists as the office keeps them (models.choices): the constants above are their first values.
# A survey follow-up is recorded with channel "survey" (models.answers) and reports leave those out
# of "raised by the customer" by that code: built in.
CHANNEL_LIST = ProductList("complaint_channel", _l("Complaint channels"), CHANNELS, built_in=("survey",))
CATEGORY_LIST = ProductList("complaint_category", _l("Complaint categories"), CATEGORIES)
SEVERITY_LIST = ProductList("complaint_severity", _l("Severities"), SEVERITIES)
class Stage(namedtuple("Stage", "code label done_field due_field policy_field default_hours deliverable action")):
    """One stage of the complaint workflow: its code and label, the Complaint column with
    the time it was done, the Complaint column with its due time and the SlaPolicy column
    with its hours (both None for a stage without deadline), the default hours from
    receipt, what staff must record to complete it, and the button that records it (a
    verb, what the person does: "Record the handling result", not the state it leads to)."""

    @property
    def timed(self):
        return self.due_field is not None


STAGE_TABLE = [
    Stage("received", _l("Received"), "received_at", None, None, None,
          _l("Who received it, channel, customer, branch"), _l("Record a complaint")),
    Stage("acknowledged", _l("Acknowledged"), "acknowledged_at", "acknowledge_due_at", "acknowledge_hours", 1,
          _l("Reply / apology to the customer; incident reported to the service director"),
          _l("Record the apology and reply")),
    Stage("resolved", _l("Result given"), "resolved_at", "result_due_at", "result_hours", 24,
          _l("The handling result told to the customer"), _l("Record the handling result")),
    Stage("rectified", _l("Rectification filed"), "rectified_at", "rectify_due_at", "rectify_hours", 48,
          _l("Rectification worksheet with all five sections and a promised completion date"),
          _l("File the rectification worksheet")),
    Stage("called_back", _l("Callback done"), "called_back_at", "callback_due_at", "callback_hours", 72,
          _l("Callback to the customer with their satisfaction"), _l("Record the callback")),
    Stage("closed", _l("Closed"), "closed_at", None, None, None, _l("Effect confirmed by the issuing side"),
          _l("Confirm closure")),
]
STAGE_BY_CODE = {stage.code: stage for stage in STAGE_TABLE}
STAGES = [(stage.code, stage.label) for stage in STAGE_TABLE]  # the choice list
FIRST_STAGE, FINAL_STAGE = STAGE_TABLE[0].code, STAGE_TABLE[-1].code
OPEN_STAGES = [stage.code for stage in STAGE_TABLE if stage.code != FINAL_STAGE]
# the stages with a deadline, in order: what SLA compliance and breaches are counted on
TIMED_STAGES = [stage for stage in STAGE_TABLE if stage.timed]
# the only allowed moves: each stage to the one after it; the final stage has none
NEXT_STAGE = {a.code: b.code for a, b in zip(STAGE_TABLE, STAGE_TABLE[1:])}
DEFAULT_SLA_HOURS = {stage.code: stage.default_hours for stage in TIMED_STAGES}
# "due soon": the next deadline falls within this many hours from now (dashboard, list filter, sla-check)
DUE_SOON_HOURS = 2


def _hours_column(stage_code, label):
    """The SlaPolicy column of a timed stage, defaulting to that stage's hours."""
    return DecimalField(max_digits=6, decimal_places=2, default=STAGE_BY_CODE[stage_code].default_hours,
                        verbose_name=label)


COMPENSATIONS = [
    ("none", _l("None")),
    ("apology", _l("Apology")),
    ("compensation", _l("Compensation")),
    ("indemnity", _l("Indemnity")),
]
CALLBACK_KINDS = [
    ("complaint", _l("After complaint")),
    ("scheduled", _l("Scheduled")),
]
CALLBACK_CHANNELS = [
    ("phone", _l("Phone")),
    ("visit", _l("Visit")),
    ("sms", _l("SMS / message")),
    ("email", _l("Email")),
]
COMPENSATION_LIST = ProductList("compensation", _l("Compensations"), COMPENSATIONS)
CALLBACK_CHANNEL_LIST = ProductList("callback_channel", _l("Callback channels"), CALLBACK_CHANNELS)
SATISFACTION = [
    (5, _l("5 - very satisfied")),
    (4, _l("4 - satisfied")),
    (3, _l("3 - neutral")),
    (2, _l("2 - dissatisfied")),
    (1, _l("1 - very dissatisfied")),
]


class ComplaintCounter(BaseModel):
    """Last complaint sequence number handed out per year; numbers are never reused."""

    year = IntegerField(primary_key=True)
    last = IntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class SlaPolicy(BaseModel):
    """Deadlines in hours from receipt. The most specific row (severity and grade) wins;
    a row with both empty is the default."""

    severity = CharField(max_length=10, choices=SEVERITY_LIST, null=True, verbose_name=_l("Severity"))
    customer_grade = CharField(max_length=20, choices=GRADE_LIST, null=True, verbose_name=_l("Customer grade"))
    # one column per timed stage (STAGE_TABLE's policy_field)
    acknowledge_hours = _hours_column("acknowledged", _l("Acknowledge within (h)"))
    result_hours = _hours_column("resolved", _l("Result within (h)"))
    rectify_hours = _hours_column("rectified", _l("Rectification within (h)"))
    callback_hours = _hours_column("called_back", _l("Callback within (h)"))
    hours_kind = CharField(max_length=10, choices=HOURS_KINDS, default="calendar", verbose_name=_l("Hours count as"),
                           help_text=_l("Calendar hours run around the clock (1 h / 24 h / 48 h / 72 h as in the "
                                        "service standard); working hours only inside the branch's working calendar"))

    class Meta:
        indexes = ((("severity", "customer_grade"), True),)

    def __str__(self):
        return f"{self.severity or '*'} / {self.customer_grade or '*'}"

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        """Deadlines are positive and in stage order; one row per severity × grade (empty = any).
        The unique index cannot see two rows with empty columns as the same, so this checks it."""
        hours = [getattr(self, stage.policy_field) for stage in TIMED_STAGES]
        if any(h is None or h <= 0 for h in hours):
            raise ValueError(str(_l("Every deadline must be a positive number of hours.")))
        if any(earlier > later for earlier, later in zip(hours, hours[1:])):
            raise ValueError(str(_l("Deadlines must follow the stages: acknowledge ≤ result ≤ rectification ≤ callback.")))
        same = SlaPolicy.select().where(
            SlaPolicy.severity.is_null() if self.severity is None else SlaPolicy.severity == self.severity,
            SlaPolicy.customer_grade.is_null() if self.customer_grade is None
            else SlaPolicy.customer_grade == self.customer_grade)
        if self.id is not None:
            same = same.where(SlaPolicy.id != self.id)
        if same.exists():
            raise ValueError(str(_l("There is already a policy for this severity and customer grade (%(which)s).",
                                    which=str(self))))


class Complaint(BaseModel):
    """A complaint. The first responder (首问责任人) owns it until a hand-over is recorded.
    Title: subject + nature + what went wrong (问题主体+问题性质+异常内容)."""

    number = CharField(unique=True, max_length=40, verbose_name=_l("Number"))
    year = IntegerField(verbose_name=_l("Year"))
    seq = IntegerField(verbose_name=_l("Sequence"))
    customer = ForeignKeyField(Customer, backref="complaints", on_delete="RESTRICT", verbose_name=_l("Customer"))
    branch = ForeignKeyField(Branch, backref="complaints", on_delete="RESTRICT", verbose_name=_l("Branch"))
    channel = CharField(max_length=10, choices=CHANNEL_LIST, default="phone", verbose_name=_l("Channel"))
    category = CharField(max_length=20, choices=CATEGORY_LIST, default="other", index=True, verbose_name=_l("Category"))
    severity = CharField(max_length=10, choices=SEVERITY_LIST, default="normal", verbose_name=_l("Severity"))
    title = CharField(max_length=200, verbose_name=_l("Title"),
                      help_text=_l("Subject + nature + what went wrong"))
    description = TextField(default="", verbose_name=_l("Description"))
    received_at = DateTimeField(default=now, index=True, verbose_name=_l("Received at"))
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Recorded by"))
    first_responder = ForeignKeyField(Staff, null=True, backref="first_responses", on_delete="RESTRICT",
                                      verbose_name=_l("First responder"))
    responsible_staff = ForeignKeyField(Staff, null=True, backref="responsible_for", on_delete="RESTRICT",
                                        verbose_name=_l("Responsible staff"))
    responsible_branch = ForeignKeyField(Branch, null=True, backref="responsible_for", on_delete="RESTRICT",
                                         verbose_name=_l("Responsible branch"))
    assignee = ForeignKeyField(Staff, null=True, backref="assigned", on_delete="RESTRICT", index=True,
                               verbose_name=_l("Owner"),
                               help_text=_l("Handles the next stage; set to the first responder when the complaint "
                                            "is recorded, changed only by a hand-over on record"))
    stage = CharField(max_length=15, choices=STAGES, default="received", index=True, verbose_name=_l("Stage"))
    due_at = DateTimeField(null=True, index=True, verbose_name=_l("Next deadline"))
    escalation_level = SmallIntegerField(default=0, verbose_name=_l("Escalation level"))
    sla_hours_kind = CharField(max_length=10, choices=HOURS_KINDS, default="calendar",
                               verbose_name=_l("SLA hours counted as"),
                               help_text=_l("How the due times were counted: around the clock, or in the branch's "
                                            "working calendar (the SLA policy's choice when they were set)"))
    # when the notification scheduler looks at this complaint next (models.notifications): the
    # next due-soon / overdue / escalation point of its current stage; NULL once closed
    alert_at = DateTimeField(null=True, index=True, verbose_name=_l("Next alert check"))

    acknowledge_due_at = DateTimeField(null=True, verbose_name=_l("Acknowledge due"))
    acknowledged_at = DateTimeField(null=True, verbose_name=_l("Acknowledged at"))
    apology_note = TextField(default="", verbose_name=_l("Reply / apology to the customer"))
    director_notified = BooleanField(default=False, verbose_name=_l("Reported to the service director"))

    result_due_at = DateTimeField(null=True, verbose_name=_l("Result due"))
    resolved_at = DateTimeField(null=True, verbose_name=_l("Result given at"))
    result_text = TextField(default="", verbose_name=_l("Handling result"))

    rectify_due_at = DateTimeField(null=True, verbose_name=_l("Rectification due"))
    rectified_at = DateTimeField(null=True, verbose_name=_l("Rectification filed at"))

    callback_due_at = DateTimeField(null=True, verbose_name=_l("Callback due"))
    called_back_at = DateTimeField(null=True, verbose_name=_l("Callback done at"))

    closed_at = DateTimeField(null=True, verbose_name=_l("Closed at"))
    closing_note = TextField(default="", verbose_name=_l("Effect confirmed by the issuing side"))

    compensation = CharField(max_length=15, choices=COMPENSATION_LIST, default="none", verbose_name=_l("Compensation"))
    compensation_amount = DecimalField(max_digits=12, decimal_places=2, null=True,
                                       verbose_name=_l("Compensation amount"))

    class Meta:
        indexes = (
            (("year", "seq"), True),
            (("branch", "stage"), False),
        )

    def __str__(self):
        return f"{self.number} {self.title}"

    # named queries: the complaints an office looks at first
    @classmethod
    def open_condition(cls):
        """THE test of "is it open?": not yet at the final stage (closed). Every count of open,
        overdue and due-soon complaints goes through it (open(), overdue(), due_soon(), is_open)."""
        return cls.stage != FINAL_STAGE

    @classmethod
    def open(cls):
        """Complaints not yet closed."""
        return cls.select().where(cls.open_condition())

    @property
    def is_open(self):
        """The same rule as open(), for a complaint in hand."""
        return self.stage != FINAL_STAGE

    @classmethod
    def past_due(cls, moment):
        """The next deadline has passed at `moment` (exactly at the due second is not yet late)."""
        return cls.due_at < moment

    @classmethod
    def overdue(cls, moment=None):
        """Open complaints past their next deadline (done exactly at the due second is on time)."""
        return cls.open().where(cls.past_due(moment or now()))

    @classmethod
    def due_soon(cls, moment=None, hours=DUE_SOON_HOURS):
        """Open complaints due from `moment` up to `hours` ahead."""
        moment = moment or now()
        return cls.open().where(cls.due_at >= moment, cls.due_at < moment + timedelta(hours=hours))

    def save(self, *args, **kwargs):
        """A new complaint gets its number, its stage deadlines and its owner when first saved
        (the owner: models.ownership, whoever received it unless one was given).

        Correcting an existing complaint's severity or customer (whose grade picks the SLA
        policy) or branch (whose calendar counts working hours) is a correction of the facts
        at receipt: the due times of the stages not yet done are recomputed from received_at
        with the policy for the corrected severity and grade (the policy in force now); stages
        already done keep the due time they were judged against, so a recorded breach stays a
        breach."""
        if self.id is not None or self.number:
            only = kwargs.get("only")
            if self.id is not None and self._policy_facts_changed(only):
                self.set_deadlines()
                if only is not None:
                    kwargs["only"] = list(only) + [Complaint.due_at, Complaint.sla_hours_kind] + [
                        getattr(Complaint, stage.due_field) for stage in TIMED_STAGES]
            return super().save(*args, **kwargs)
        self.received_at = self.received_at or now()
        if self.assignee_id is None:
            from .ownership import no_owner_message, owner_of_new_complaint
            self.assignee_id = owner_of_new_complaint(self.first_responder_id, self.branch_id)
            if self.assignee_id is None:
                from .validation import ValidationError
                raise ValidationError({"first_responder": no_owner_message(self.branch_id)}, Complaint)
        with self._meta.database.atomic():
            # The counter write comes first so that SQLite takes the write lock before this
            # transaction reads anything (a read first could make the upgrade fail under load).
            self.year = self.received_at.year
            self.seq = next_sequence(self.year)
            self.number = format_number(self.year, self.seq)
            self.set_deadlines()
            return super().save(*args, **kwargs)

    def _policy_facts_changed(self, only=None):
        """Severity, customer or branch differ from the stored row (what picks the SLA policy
        and the calendar its working hours are counted in)."""
        names = {getattr(field, "name", field) for field in only} if only is not None else None
        if names is not None and not names & {"severity", "customer", "branch"}:
            return False
        stored = (Complaint.select(Complaint.severity, Complaint.customer, Complaint.branch)
                  .where(Complaint.id == self.id).tuples().first())
        return stored is not None and stored != (self.severity, self.customer_id, self.branch_id)

    def set_deadlines(self):
        """Due times of the stages not yet done: received_at + the SLA policy's hours for this
        severity and customer grade (sla_policy), counted as the policy says (around the clock,
        or in the working calendar of the complaint's branch: models.calendars.sla_clock); then
        the next deadline (due_at) is the due time of the stage the complaint waits for (none
        once closed)."""
        grade = Customer.select(Customer.grade).where(Customer.id == self.customer_id).scalar()
        hours, self.sla_hours_kind = sla_policy(self.severity, grade)
        clock = sla_clock(self.sla_hours_kind, self.branch_id)
        for stage in TIMED_STAGES:
            if getattr(self, stage.done_field) is None:
                setattr(self, stage.due_field, clock.add(self.received_at, hours[stage.code]))
        waiting_for = STAGE_BY_CODE.get(NEXT_STAGE.get(self.stage))
        self.due_at = getattr(self, waiting_for.due_field) if waiting_for and waiting_for.timed else None
        # the scheduler works out the next alert at its next tick (models.notifications)
        self.alert_at = self.received_at if self.is_open else None


class Rectification(BaseModel):
    """问题整改工作单: one per complaint, numbered like it, with five sections."""

    complaint = ForeignKeyField(Complaint, unique=True, backref="rectifications", on_delete="RESTRICT",
                                verbose_name=_l("Complaint"))
    problem_description = TextField(verbose_name=_l("1. Problem description"),
                                    help_text=_l("Title, basic information, course of events"))
    cause_analysis = TextField(verbose_name=_l("2. Cause analysis"),
                               help_text=_l("Concrete, factual, investigated"))
    # section 3 has two parts: the measures themselves and who was held accountable
    immediate_measures = TextField(verbose_name=_l("3. Immediate measures (1): what was done"),
                                   help_text=_l("What solved the customer's problem now"))
    accountability = TextField(default="", verbose_name=_l("3. Immediate measures (2): accountability"),
                               help_text=_l("Who was held accountable (external supplier, internal managers)"))
    long_term_measures = TextField(verbose_name=_l("4. Long-term measures"),
                                   help_text=_l("Prevent recurrence, detect early, respond fast"))
    promised_date = DateField(verbose_name=_l("Promised completion date"))
    effect_confirmation = TextField(default="", verbose_name=_l("5. Effect confirmation"),
                                    help_text=_l("Result reported by the responsible unit and the customer's satisfaction"))
    verifier = ForeignKeyField(Staff, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Verified by"))
    verified_at = DateTimeField(null=True, verbose_name=_l("Verified at"))
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Filed by"))
    created_at = DateTimeField(default=now, verbose_name=_l("Filed at"))

    def __str__(self):
        # the office's own name for the form; not translated, so history labels do not depend on the reader
        return f"{self.complaint.number} 问题整改工作单"


class Callback(BaseModel):
    """回访: after a complaint (within 72 h) or scheduled (monthly in the first year after
    the first deal, quarterly after that)."""

    customer = ForeignKeyField(Customer, backref="callbacks", on_delete="RESTRICT", verbose_name=_l("Customer"))
    complaint = ForeignKeyField(Complaint, null=True, backref="callbacks", on_delete="RESTRICT",
                                verbose_name=_l("Complaint"))
    kind = CharField(max_length=10, choices=CALLBACK_KINDS, default="scheduled", verbose_name=_l("Kind"))
    due_date = DateField(null=True, index=True, verbose_name=_l("Due date"))
    done_at = DateTimeField(null=True, index=True, verbose_name=_l("Done at"))
    staff = ForeignKeyField(Staff, null=True, backref="callbacks", on_delete="RESTRICT", verbose_name=_l("Staff"))
    channel = CharField(max_length=10, choices=CALLBACK_CHANNEL_LIST, default="phone", verbose_name=_l("Channel"))
    outcome = TextField(default="", verbose_name=_l("Outcome"))
    satisfaction = SmallIntegerField(choices=SATISFACTION, null=True, verbose_name=_l("Satisfaction"))

    def __str__(self):
        when = self.done_at or self.due_date
        return f"{self.customer.name} {when:%Y-%m-%d}" if when else self.customer.name

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        """The customer's satisfaction is what they said in a callback that took place: a
        satisfaction needs the time the callback was done (ValueError, message for the user)."""
        if self.satisfaction is not None and self.done_at is None:
            raise ValueError(str(_l("A callback with a satisfaction needs the time it was done.")))


# ---------------------------------------------------------------- numbering and deadlines

def format_number(year, seq):
    """问字【2026】001号; the sequence widens past 999 (order comes from (year, seq), not the text)."""
    return f"问字【{year}】{seq:03d}号"


def next_sequence(year):
    """Reserve the next number of `year` inside the caller's transaction.

    The first statement writes (INSERT … ON CONFLICT DO NOTHING), so SQLite takes the
    write lock before reading and concurrent callers queue on the busy timeout;
    PostgreSQL serialises them on the counter row's lock. Complaint (year, seq) is
    UNIQUE as a last line of defence.
    """
    ComplaintCounter.insert(year=year, last=0).on_conflict_ignore().execute()
    ComplaintCounter.update(last=ComplaintCounter.last + 1).where(ComplaintCounter.year == year).execute()
    return ComplaintCounter.get_by_id(year).last


def sla_hours(severity=None, customer_grade=None):
    """{timed stage code: hours from receipt} for a complaint (sla_policy)."""
    return sla_policy(severity, customer_grade)[0]


def sla_policy(severity=None, customer_grade=None):
    """({timed stage code: hours from receipt}, hours kind) for a complaint: the most specific
    SlaPolicy row (severity and grade > severity > grade > the row with both empty), else the
    defaults in calendar hours."""
    candidates = SlaPolicy.select().where(
        (SlaPolicy.severity.is_null() | (SlaPolicy.severity == severity))
        & (SlaPolicy.customer_grade.is_null() | (SlaPolicy.customer_grade == customer_grade)))
    best = None
    for policy in candidates:
        rank = (policy.severity is not None) * 2 + (policy.customer_grade is not None)
        if best is None or rank > best[0]:
            best = (rank, policy)
    if best is None:
        return dict(DEFAULT_SLA_HOURS), "calendar"
    hours = {stage.code: float(getattr(best[1], stage.policy_field)) for stage in TIMED_STAGES}
    return hours, best[1].hours_kind or "calendar"


# ---------------------------------------------------------------- scheduled callbacks

# A callback done up to this many days before a scheduled date counts for that date.
CALLBACK_EARLY_DAYS = 7


def add_months(day, months):
    """`day` moved by whole months; the 31st becomes the month's last day when needed."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def callback_schedule(first_deal_date, until):
    """Scheduled callback dates up to `until`: monthly in the first year after the first
    deal (months 1–12), then quarterly (months 15, 18, …)."""
    dates = []
    if first_deal_date is None:
        return dates
    months = 1
    while True:
        day = add_months(first_deal_date, months)
        if day > until:
            return dates
        dates.append(day)
        months += 1 if months < 12 else 3


def next_callback_due(first_deal_date, last_done=None):
    """The first scheduled date not yet covered by a scheduled callback.

    A callback covers every scheduled date up to CALLBACK_EARLY_DAYS after it was done, so a
    call made a few days early is not asked for again. None without a first deal."""
    if first_deal_date is None:
        return None
    covered = last_done + timedelta(days=CALLBACK_EARLY_DAYS) if last_done else first_deal_date
    months = 1
    while True:
        day = add_months(first_deal_date, months)
        if day > covered:
            return day
        months += 1 if months < 12 else 3


def callbacks_due(today, horizon_days=0, account_manager=None, branch=None, customer=None, branches=None):
    """Customers whose next scheduled callback falls on or before today + horizon_days,
    most overdue first; optionally only the customers of one account manager (the person the
    callback is due to), of one branch, or one customer (ids); of `branches` (ids) only when
    given (models.scope.branch_ids). Two queries whatever the number of customers."""
    from peewee import JOIN, fn
    conditions = [Customer.first_deal_date.is_null(False), Customer.churned == False]  # noqa: E712
    for column, value in ((Customer.account_manager, account_manager), (Customer.branch, branch),
                          (Customer.id, customer)):
        if value is not None:
            conditions.append(column == value)
    last_done = (Callback.select(Callback.customer, fn.MAX(Callback.done_at).alias("last_done"))
                 .where(Callback.kind == "scheduled", Callback.done_at.is_null(False))
                 .group_by(Callback.customer))
    if len(conditions) > 2:
        last_done = last_done.where(Callback.customer.in_(Customer.select(Customer.id).where(*conditions)))
    last_by_customer = {row.customer_id: row.last_done for row in last_done}
    Manager = Staff.alias()
    customers = (Customer.select(Customer, Branch, Manager)
                 .join(Branch, on=(Customer.branch == Branch.id))
                 .switch(Customer).join(Manager, JOIN.LEFT_OUTER, on=(Customer.account_manager == Manager.id),
                                        attr="manager")
                 .where(*conditions)
                 .order_by(Customer.id))
    if branches is not None:
        customers = customers.where(Customer.branch.in_(list(branches)))
    limit = today + timedelta(days=horizon_days)
    due = []
    for customer in customers:
        last = last_by_customer.get(customer.id)
        if isinstance(last, str):  # SQLite returns MAX() of a datetime column as text
            last = datetime.fromisoformat(last)
        next_due = next_callback_due(customer.first_deal_date, last.date() if last else None)
        if next_due <= limit:
            due.append({"customer": customer, "branch": customer.branch,
                        "account_manager": customer.manager if customer.manager and customer.manager.id else None,
                        "last_done": last, "due_date": next_due, "days_overdue": (today - next_due).days,
                        "first_year": next_due <= add_months(customer.first_deal_date, 12)})
    due.sort(key=lambda row: (row["due_date"], row["customer"].id))
    return due
