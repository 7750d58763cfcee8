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
    staff = ForeignKeyField(Staff, backref="awards", on_delete="CASCADE", verbose_name=_l("Staff"))
    kind = CharField(max_length=25, choices=AWARD_KINDS, verbose_name=_l("Award"))
    period = CharField(max_length=20, default="", verbose_name=_l("Period"),
                       help_text=_l("e.g. 2026-11 or 2026-Q4"))
    team_name = CharField(max_length=100, default="", verbose_name=_l("Team"))
    reason = TextField(verbose_name=_l("Reason"))
    prize = CharField(max_length=200, default="", verbose_name=_l("Material reward"))
    awarded_on = DateField(default=lambda: now().date(), verbose_name=_l("Awarded on"))
    approved_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", verbose_name=_l("Approved by"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))

    class Meta:
        indexes = ((("staff", "kind", "period"), False),)

    def __str__(self):
        return f"{self.staff.name} {self.period}".strip()


class RewardPenalty(BaseModel):
    staff = ForeignKeyField(Staff, backref="rewards_penalties", on_delete="CASCADE", verbose_name=_l("Staff"))
    kind = CharField(max_length=20, choices=REWARD_PENALTY_KINDS, verbose_name=_l("Kind"))
    amount = DecimalField(max_digits=12, decimal_places=2, null=True, verbose_name=_l("Amount (yuan)"))
    leave_days = IntegerField(null=True, verbose_name=_l("Leave days"))
    reason = TextField(verbose_name=_l("Reason"))
    complaint = ForeignKeyField(Complaint, null=True, backref="rewards_penalties", on_delete="SET NULL",
                                verbose_name=_l("Complaint"))
    decided_on = DateField(default=lambda: now().date(), verbose_name=_l("Decided on"))
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", verbose_name=_l("Recorded by"))

    class Meta:
        table_name = "reward_penalty"

    @property
    def is_penalty(self):
        return self.kind in PENALTY_KINDS

    def __str__(self):
        return f"{self.staff.name} {self.kind}"
