"""Staff recognition: awards (service star 服务之星, innovation awards), rewards and penalties."""
from peewee import CharField, DateField, DateTimeField, DecimalField, ForeignKeyField, IntegerField, TextField

from .base import BaseModel
from .clock import now
from .complaints import Complaint
from .i18n import _l
from .org import Staff, User

AWARD_KINDS = [
    ("star_month", _l("Service star of the month")),
    ("star_quarter", _l("Service star of the quarter")),
    ("innovation_individual", _l("Individual service innovation award")),
    ("innovation_team", _l("Team service innovation award")),
]
REWARD_PENALTY_KINDS = [
    ("cash", _l("Cash bonus")),
    ("leave", _l("Extra leave")),
    ("promotion", _l("Promotion")),
    ("verbal_warning", _l("Verbal warning")),
    ("written_warning", _l("Written warning")),
    ("demotion", _l("Demotion")),
]
PENALTY_KINDS = {"verbal_warning", "written_warning", "demotion"}


class Award(BaseModel):
    staff = ForeignKeyField(Staff, backref="awards", on_delete="RESTRICT", verbose_name=_l("Staff"))
    kind = CharField(max_length=25, choices=AWARD_KINDS, verbose_name=_l("Award"))
    period = CharField(max_length=20, default="", verbose_name=_l("Period"),
                       help_text=_l("e.g. 2026-11 or 2026-Q4"))
    team_name = CharField(max_length=100, default="", verbose_name=_l("Team"))
    reason = TextField(verbose_name=_l("Reason"))
    prize = CharField(max_length=200, default="", verbose_name=_l("Material reward"))
    awarded_on = DateField(default=lambda: now().date(), verbose_name=_l("Awarded on"))
    approved_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Approved by"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))

    class Meta:
        indexes = ((("staff", "kind", "period"), False),)

    def __str__(self):
        return f"{self.staff.name} {self.period}".strip()


# One service star award per person, kind and period (partial unique index: SQLite and PostgreSQL).
Award.add_index(Award.index(Award.staff, Award.kind, Award.period, unique=True, safe=True,
                            name="award_one_star_per_period").where(Award.kind.in_(["star_month", "star_quarter"])))


class RewardPenalty(BaseModel):
    """A reward (cash bonus, extra leave, promotion) or penalty (verbal or written warning,
    demotion) decided for a staff member, with the reason and the complaint behind it.
    A cash bonus needs an amount above zero, extra leave a number of days above zero
    (validate(), on every save)."""

    staff = ForeignKeyField(Staff, backref="rewards_penalties", on_delete="RESTRICT", verbose_name=_l("Staff"))
    kind = CharField(max_length=20, choices=REWARD_PENALTY_KINDS, verbose_name=_l("Kind"))
    amount = DecimalField(max_digits=12, decimal_places=2, null=True, verbose_name=_l("Amount (yuan)"))
    leave_days = IntegerField(null=True, verbose_name=_l("Leave days"))
    reason = TextField(verbose_name=_l("Reason"))
    complaint = ForeignKeyField(Complaint, null=True, backref="rewards_penalties", on_delete="RESTRICT",
                                verbose_name=_l("Complaint"))
    decided_on = DateField(default=lambda: now().date(), verbose_name=_l("Decided on"))
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Recorded by"))

    class Meta:
        table_name = "reward_penalty"

    @property
    def is_penalty(self):
        return self.kind in PENALTY_KINDS

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        """Raises ValueError (message for the user) when the decision is incomplete."""
        if self.kind == "cash" and not (self.amount is not None and self.amount > 0):
            raise ValueError(str(_l("A cash bonus needs an amount.")))
        if self.kind == "leave" and not (self.leave_days is not None and self.leave_days > 0):
            raise ValueError(str(_l("Extra leave needs a number of days.")))

    def __str__(self):
        return f"{self.staff.name} {self.kind}"


STAR_KINDS = {"month": "star_month", "quarter": "star_quarter"}


class NotACandidate(ValueError):
    """A service-star approval refused: str() says why, for the user."""


def approve_service_star(staff, kind, period, user=None, reason="", prize=""):
    """A manager approves `staff` as service star (kind star_month / star_quarter) of `period`
    (label like 2026-11 or 2026-Q4).

    Only a candidate can be approved: a staff member with at least one customer vote and no
    penalty decided in that month or quarter (models.reports.star_candidates, the same list
    the scoreboard shows); anyone else is refused with NotACandidate and nothing is written.
    Among the candidates the manager chooses (equal votes share a rank). Idempotent:
    approving the same person for the same award and period again returns the existing
    Award instead of creating a second one (also under concurrent approvals: the unique
    index award_one_star_per_period settles a race). Returns (award, created)."""
    from peewee import IntegrityError

    from .audit import record
    from .reports import period_of_star_label, star_candidates

    staff_id = getattr(staff, "id", staff)
    span = period_of_star_label(kind, period)
    if span is None:
        raise NotACandidate(str(_l("Not approved: choose a staff member from the candidate list of a month or "
                                   "quarter.")))
    existing = Award.get_or_none(Award.staff == staff_id, Award.kind == kind, Award.period == period)
    if existing is not None:
        return existing, False
    if staff_id not in {row["staff_id"] for row in star_candidates(span.start, span.end)}:
        name = staff.name if hasattr(staff, "name") else Staff.get_by_id(staff_id).name
        raise NotACandidate(str(_l("Not approved: %(name)s is not a candidate for %(period)s (no customer vote, "
                                   "or a penalty in the period).", name=name, period=period)))
    try:
        with Award._meta.database.atomic():
            award = Award.create(staff=staff_id, kind=kind, period=period, approved_by=user,
                                 reason=reason, prize=prize)
            record(award, "create", user)
    except IntegrityError:
        return Award.get(Award.staff == staff_id, Award.kind == kind, Award.period == period), False
    return award, True
