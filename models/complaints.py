"""投诉: complaints, their rectification worksheets and callbacks.

A complaint moves received → acknowledged → result given → rectification filed →
callback done → closed. Deadlines count from received_at (defaults 1 h, 24 h, 48 h,
72 h; see SlaPolicy). The due time of each stage is stored on the complaint when it
is received, so a later change of policy does not rewrite history, and a stage done
after its due time is an SLA breach for that stage.
"""
import calendar
from datetime import datetime, timedelta

from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField,
                    ForeignKeyField, IntegerField, SmallIntegerField, TextField)

from .base import BaseModel
from .clock import now
from .customers import GRADES, Customer
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
STAGES = [
    ("received", _l("Received")),
    ("acknowledged", _l("Acknowledged")),
    ("resolved", _l("Result given")),
    ("rectified", _l("Rectification filed")),
    ("called_back", _l("Callback done")),
    ("closed", _l("Closed")),
]
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

    severity = CharField(max_length=10, choices=SEVERITIES, null=True, verbose_name=_l("Severity"))
    customer_grade = CharField(max_length=20, choices=GRADES, null=True, verbose_name=_l("Customer grade"))
    acknowledge_hours = DecimalField(max_digits=6, decimal_places=2, default=1, verbose_name=_l("Acknowledge within (h)"))
    result_hours = DecimalField(max_digits=6, decimal_places=2, default=24, verbose_name=_l("Result within (h)"))
    rectify_hours = DecimalField(max_digits=6, decimal_places=2, default=48, verbose_name=_l("Rectification within (h)"))
    callback_hours = DecimalField(max_digits=6, decimal_places=2, default=72, verbose_name=_l("Callback within (h)"))

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
        hours = [self.acknowledge_hours, self.result_hours, self.rectify_hours, self.callback_hours]
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
    channel = CharField(max_length=10, choices=CHANNELS, default="phone", verbose_name=_l("Channel"))
    category = CharField(max_length=20, choices=CATEGORIES, default="other", index=True, verbose_name=_l("Category"))
    severity = CharField(max_length=10, choices=SEVERITIES, default="normal", verbose_name=_l("Severity"))
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

    compensation = CharField(max_length=15, choices=COMPENSATIONS, default="none", verbose_name=_l("Compensation"))
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
    def open(cls):
        return cls.select().where(cls.stage != "closed")

    @classmethod
    def overdue(cls, moment=None):
        """Open complaints past their next deadline (done exactly at the due second is on time)."""
        return cls.open().where(cls.due_at < (moment or now()))

    @classmethod
    def due_soon(cls, moment=None, hours=2):
        """Open complaints due from `moment` up to `hours` ahead."""
        moment = moment or now()
        return cls.open().where(cls.due_at >= moment, cls.due_at < moment + timedelta(hours=hours))

    def save(self, *args, **kwargs):
        """A new complaint gets its number, its stage deadlines and its owner when first saved
        (the owner: models.ownership, whoever received it unless one was given)."""
        if self.id is not None or self.number:
            return super().save(*args, **kwargs)
        self.received_at = self.received_at or now()
        if self.assignee_id is None:
            from .ownership import owner_of_new_complaint
            self.assignee_id = owner_of_new_complaint(self.first_responder_id, self.branch_id)
        with self._meta.database.atomic():
            # The counter write comes first so that SQLite takes the write lock before this
            # transaction reads anything (a read first could make the upgrade fail under load).
            self.year = self.received_at.year
            self.seq = next_sequence(self.year)
            self.number = format_number(self.year, self.seq)
            self.set_deadlines()
            return super().save(*args, **kwargs)

    def set_deadlines(self):
        """Stage due times from received_at and the SLA policy for this severity and grade."""
        grade = Customer.select(Customer.grade).where(Customer.id == self.customer_id).scalar()
        hours = sla_hours(self.severity, grade)
        start = self.received_at
        self.acknowledge_due_at = start + timedelta(hours=hours["acknowledge"])
        self.result_due_at = start + timedelta(hours=hours["result"])
        self.rectify_due_at = start + timedelta(hours=hours["rectify"])
        self.callback_due_at = start + timedelta(hours=hours["callback"])
        if self.stage == "received":
            self.due_at = self.acknowledge_due_at


class Rectification(BaseModel):
    """问题整改工作单: one per complaint, numbered like it, with five sections."""

    complaint = ForeignKeyField(Complaint, unique=True, backref="rectifications", on_delete="RESTRICT",
                                verbose_name=_l("Complaint"))
    problem_description = TextField(verbose_name=_l("1. Problem description"),
                                    help_text=_l("Title, basic information, course of events"))
    cause_analysis = TextField(verbose_name=_l("2. Cause analysis"),
                               help_text=_l("Concrete, factual, investigated"))
    immediate_measures = TextField(verbose_name=_l("3. Immediate measures"),
                                   help_text=_l("What solved the customer's problem now"))
    accountability = TextField(default="", verbose_name=_l("3. Accountability"),
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
    channel = CharField(max_length=10, choices=CALLBACK_CHANNELS, default="phone", verbose_name=_l("Channel"))
    outcome = TextField(default="", verbose_name=_l("Outcome"))
    satisfaction = SmallIntegerField(choices=SATISFACTION, null=True, verbose_name=_l("Satisfaction"))

    def __str__(self):
        when = self.done_at or self.due_date
        return f"{self.customer.name} {when:%Y-%m-%d}" if when else self.customer.name


# ---------------------------------------------------------------- numbering and deadlines

DEFAULT_SLA_HOURS = {"acknowledge": 1, "result": 24, "rectify": 48, "callback": 72}


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
    """Deadlines in hours for a complaint: the most specific SlaPolicy row, else the defaults."""
    candidates = SlaPolicy.select().where(
        (SlaPolicy.severity.is_null() | (SlaPolicy.severity == severity))
        & (SlaPolicy.customer_grade.is_null() | (SlaPolicy.customer_grade == customer_grade)))
    best = None
    for policy in candidates:
        rank = (policy.severity is not None) * 2 + (policy.customer_grade is not None)
        if best is None or rank > best[0]:
            best = (rank, policy)
    if best is None:
        return dict(DEFAULT_SLA_HOURS)
    policy = best[1]
    return {"acknowledge": float(policy.acknowledge_hours), "result": float(policy.result_hours),
            "rectify": float(policy.rectify_hours), "callback": float(policy.callback_hours)}


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


def callbacks_due(today, horizon_days=0, branches=None):
    """Customers whose next scheduled callback falls on or before today + horizon_days,
    most overdue first; of `branches` (ids) only when given (models.scope.branch_ids).
    Two queries whatever the number of customers."""
    from peewee import JOIN, fn
    last_done = (Callback.select(Callback.customer, fn.MAX(Callback.done_at).alias("last_done"))
                 .where(Callback.kind == "scheduled", Callback.done_at.is_null(False))
                 .group_by(Callback.customer))
    last_by_customer = {row.customer_id: row.last_done for row in last_done}
    Manager = Staff.alias()
    customers = (Customer.select(Customer, Branch, Manager)
                 .join(Branch, on=(Customer.branch == Branch.id))
                 .switch(Customer).join(Manager, JOIN.LEFT_OUTER, on=(Customer.account_manager == Manager.id),
                                        attr="manager")
                 .where(Customer.first_deal_date.is_null(False), Customer.churned == False)  # noqa: E712
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
