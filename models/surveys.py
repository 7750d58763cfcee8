"""满意度调查: surveys, their questions, links (personal invitations and open links) and answers.

A personal invitation carries an unguessable token and admits one response (enforced by
a unique constraint on Response.invitation). An open link admits many anonymous
responses, optionally attributed to a branch or a staff member.
"""
import secrets

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    SmallIntegerField, TextField)

from .base import BaseModel
from .clock import now
from .complaints import Complaint
from .customers import Customer
from .i18n import LANGUAGES, _l
from .org import Branch, Staff

SURVEY_KINDS = [
    ("csat", _l("CSAT (5-point)")),
    ("nps", _l("NPS")),
    ("callback", _l("Complaint callback")),
    ("servqual", _l("SERVQUAL")),
    ("star", _l("Service-star vote")),
    ("custom", _l("Custom")),
]
QUESTION_KINDS = [
    ("rating", _l("Rating 1-5")),
    ("score", _l("Score 0-10 (NPS)")),
    ("single", _l("Single choice")),
    ("multiple", _l("Multiple choice")),
    ("text", _l("Free text")),
    ("staff", _l("Pick a staff member")),
    ("servqual", _l("Expectation / perception pair")),
]
DIMENSIONS = [
    ("quality", _l("Product quality")),
    ("attitude", _l("Service attitude")),
    ("speed", _l("Response speed")),
    ("price", _l("Price fairness")),
    ("professionalism", _l("Professionalism")),
    ("tangibles", _l("Tangibles")),
    ("reliability", _l("Reliability")),
    ("responsiveness", _l("Responsiveness")),
    ("assurance", _l("Assurance")),
    ("empathy", _l("Empathy")),
]


def new_token():
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class Survey(BaseModel):
    title = CharField(max_length=200, verbose_name=_l("Title"))
    intro = TextField(default="", verbose_name=_l("Introduction"))
    kind = CharField(max_length=10, choices=SURVEY_KINDS, default="custom", verbose_name=_l("Kind"))
    language = CharField(max_length=5, choices=LANGUAGES, default="zh_CN", verbose_name=_l("Language"))
    opens_at = DateTimeField(null=True, verbose_name=_l("Opens at"))
    closes_at = DateTimeField(null=True, verbose_name=_l("Closes at"))
    active = BooleanField(default=True, verbose_name=_l("Active"))
    anonymous = BooleanField(default=False, verbose_name=_l("Anonymous"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))

    def __str__(self):
        return self.title

    def is_open(self, moment=None):
        moment = moment or now()
        return (self.active and (self.opens_at is None or self.opens_at <= moment)
                and (self.closes_at is None or moment < self.closes_at))


class Question(BaseModel):
    survey = ForeignKeyField(Survey, backref="questions", on_delete="RESTRICT", verbose_name=_l("Survey"))
    position = IntegerField(default=0, verbose_name=_l("Order"))
    text = CharField(max_length=500, verbose_name=_l("Question"))
    kind = CharField(max_length=10, choices=QUESTION_KINDS, default="rating", verbose_name=_l("Kind"))
    required = BooleanField(default=True, verbose_name=_l("Required"))
    dimension = CharField(max_length=20, choices=DIMENSIONS, null=True, verbose_name=_l("Dimension"))
    max_length = IntegerField(default=1000, verbose_name=_l("Max. answer length"))

    class Meta:
        indexes = ((("survey", "position"), False),)

    def __str__(self):
        return self.text


class Choice(BaseModel):
    question = ForeignKeyField(Question, backref="choices", on_delete="RESTRICT", verbose_name=_l("Question"))
    position = IntegerField(default=0, verbose_name=_l("Order"))
    text = CharField(max_length=200, verbose_name=_l("Text"))
    score = SmallIntegerField(null=True, verbose_name=_l("Score"))

    def __str__(self):
        return self.text


class OpenLink(BaseModel):
    """A public link (and QR code) anyone may answer, optionally attributed to a branch or staff member."""

    survey = ForeignKeyField(Survey, backref="open_links", on_delete="RESTRICT", verbose_name=_l("Survey"))
    token = CharField(unique=True, max_length=64, default=new_token, verbose_name=_l("Token"))
    label = CharField(max_length=100, default="", verbose_name=_l("Label"))
    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Branch"))
    staff = ForeignKeyField(Staff, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Staff"))
    active = BooleanField(default=True, verbose_name=_l("Active"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))

    def __str__(self):
        return f"{self.survey.title} {self.label}".strip()


class Invitation(BaseModel):
    """A personal link for one customer (or one closed complaint's callback survey)."""

    survey = ForeignKeyField(Survey, backref="invitations", on_delete="RESTRICT", verbose_name=_l("Survey"))
    customer = ForeignKeyField(Customer, null=True, backref="invitations", on_delete="RESTRICT",
                               verbose_name=_l("Customer"))
    complaint = ForeignKeyField(Complaint, null=True, backref="invitations", on_delete="RESTRICT",
                                verbose_name=_l("Complaint"))
    token = CharField(unique=True, max_length=64, default=new_token, verbose_name=_l("Token"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))
    expires_at = DateTimeField(null=True, verbose_name=_l("Expires at"))
    sent_at = DateTimeField(null=True, verbose_name=_l("Sent at"))
    opened_at = DateTimeField(null=True, verbose_name=_l("Opened at"))
    answered_at = DateTimeField(null=True, verbose_name=_l("Answered at"))

    class Meta:
        indexes = ((("survey", "customer"), False),)

    def __str__(self):
        return f"{self.survey.title} → {self.customer or self.complaint or '-'}"


class Response(BaseModel):
    """One submitted questionnaire. Read-only once stored."""

    label_joins = ("survey",)  # __str__ shows the survey title: admin lists load it with the row

    survey = ForeignKeyField(Survey, backref="responses", on_delete="RESTRICT", verbose_name=_l("Survey"))
    invitation = ForeignKeyField(Invitation, null=True, unique=True, backref="responses", on_delete="RESTRICT",
                                 verbose_name=_l("Invitation"))
    open_link = ForeignKeyField(OpenLink, null=True, backref="responses", on_delete="RESTRICT",
                                verbose_name=_l("Open link"))
    customer = ForeignKeyField(Customer, null=True, backref="responses", on_delete="RESTRICT",
                               verbose_name=_l("Customer"))
    branch = ForeignKeyField(Branch, null=True, backref="responses", on_delete="RESTRICT", verbose_name=_l("Branch"))
    staff = ForeignKeyField(Staff, null=True, backref="responses", on_delete="RESTRICT", verbose_name=_l("Staff"))
    submitted_at = DateTimeField(default=now, index=True, verbose_name=_l("Submitted at"))
    language = CharField(max_length=5, default="zh_CN", verbose_name=_l("Language"))
    followup_complaint = ForeignKeyField(Complaint, null=True, backref="source_responses", on_delete="RESTRICT",
                                         verbose_name=_l("Follow-up complaint"))

    class Meta:
        indexes = ((("survey", "submitted_at"), False),)

    def __str__(self):
        return f"{self.survey.title} #{self.id}"


class Answer(BaseModel):
    """One answer. Numbers in `value` (rating, score, or perception for a SERVQUAL pair,
    whose expectation is in `expectation`); one row per ticked choice for multiple choice."""

    response = ForeignKeyField(Response, backref="answers", on_delete="RESTRICT", verbose_name=_l("Response"))
    question = ForeignKeyField(Question, backref="answers", on_delete="RESTRICT", verbose_name=_l("Question"))
    value = SmallIntegerField(null=True, verbose_name=_l("Value"))
    expectation = SmallIntegerField(null=True, verbose_name=_l("Expectation"))
    choice = ForeignKeyField(Choice, null=True, backref="answers", on_delete="RESTRICT", verbose_name=_l("Choice"))
    staff = ForeignKeyField(Staff, null=True, backref="votes", on_delete="RESTRICT", verbose_name=_l("Staff"))
    text = TextField(default="", verbose_name=_l("Text"))

    class Meta:
        indexes = (
            (("question", "value"), False),
            (("response", "question", "value"), False),  # scoring by branch/staff/period (migration 1)
        )

    def __str__(self):
        return f"{self.question_id}: {self.value if self.value is not None else self.text[:30]}"
