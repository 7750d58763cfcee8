"""满意度调查: surveys, their questions, links (personal invitations and open links) and answers.

A personal invitation carries an unguessable token and admits one response (enforced by
a unique constraint on Response.invitation). An open link admits many anonymous
responses, optionally attributed to a branch or a staff member.
"""
import secrets

from peewee import (SQL, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField,
                    SmallIntegerField, TextField)

from .base import BaseModel
from .choices import ProductList
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
# the office's dimensions (models.choices); scoring keys on the code
DIMENSION_LIST = ProductList("survey_dimension", _l("Survey dimensions"), DIMENSIONS)


def new_token():
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


# Crockford's base-32 alphabet in lower case: no i, l, o or u, so nothing on a poster can be
# misread (1/l/i, 0/o) and no accidental words; 5 bits a character.
SHORT_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SHORT_CODE_LENGTH = 10
_READ_AS = str.maketrans({"o": "0", "i": "1", "l": "1"})


def new_short_code():
    """The code of an open link's short address /q/<code>: 10 characters, 50 random bits.

    The poster's own link is public by design (anyone who sees the poster may answer), so
    the code does not protect that link; it protects the OTHER links (a staff member's own
    link, an inactive link, another branch's) from being found by guessing and flooded.
    With 2^10 live links in an office a guess finds one with probability 2^-40: at the
    30 failed look-ups a minute /q/ allows an address, that is about one hit per 70 000
    address-years. 8 characters (40 bits) would be 2^10 times weaker, some fifteen hits a
    year from a thousand addresses; 12 characters would add typing and QR size for nothing the
    submission budgets do not already cover. A personal invitation keeps its 256-bit
    token: it identifies a customer and admits their one answer."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def normalise_short_code(typed):
    """A short code as typed from a poster: case, dashes and spaces do not matter, and o, i
    and l are read as 0, 1 and 1 (Crockford). None when it cannot be a short code."""
    code = "".join((typed or "").lower().split()).replace("-", "").translate(_READ_AS)
    if len(code) != SHORT_CODE_LENGTH or any(c not in SHORT_CODE_ALPHABET for c in code):
        return None
    return code


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
    dimension = CharField(max_length=20, choices=DIMENSION_LIST, null=True, verbose_name=_l("Dimension"))
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
    # /q/<short_code>: short enough to type from a poster (migration 50 gave existing links one)
    short_code = CharField(unique=True, max_length=16, default=new_short_code, verbose_name=_l("Short code"),
                           help_text=_l("The short address /q/<code> printed on posters; old /s/o/ links keep working"))
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
    # delivery by the outbox (models.notifications): how it was sent, how that went, the one reminder
    delivery_channel = CharField(max_length=10, default="", verbose_name=_l("Sent by"))
    delivery_status = CharField(max_length=10, default="", verbose_name=_l("Delivery"))
    delivery_error = TextField(default="", verbose_name=_l("Delivery error"))
    remind_at = DateTimeField(null=True, index=True, verbose_name=_l("Reminder due"))

    class Meta:
        indexes = ((("survey", "customer"), False),)

    def __str__(self):
        return f"{self.survey.title} → {self.customer or self.complaint or '-'}"


# A stored submission counts in the figures, or waits for a person's review, or was found not
# to be a customer's answer. Nothing is ever deleted: see models.survey_guard.
RESPONSE_STATUSES = [
    ("counted", _l("Counted")),
    ("held", _l("Held for review")),
    ("rejected", _l("Not a customer's answer")),
]
# why a submission was held (the rules are in models.survey_guard)
HOLD_REASONS = [
    ("honeypot", _l("Filled the field people cannot see")),
    ("no_form_token", _l("Not sent from our form page")),
    ("too_fast", _l("Sent faster than anyone can read the questions")),
    ("duplicate", _l("Second submission of the same form page")),
    ("busy_address", _l("Unusually many answers from one network")),
    ("link_budget", _l("Over the link's hourly budget")),
]


class Response(BaseModel):
    """One submitted questionnaire. Read-only once stored, except its review status.

    Only responses with status "counted" enter the figures (Response.counted()). A
    submission that looks scripted is stored "held" (hold_reason says why) and counts from
    the moment a manager releases it; "rejected" ones stay stored and never count.
    contact_name / contact_phone: what a customer answering an open link left in the
    optional "may we call you back?" block (personal data)."""

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
    # the DEFAULT in the table too: rows written by plain SQL (bulk loads, benches) count
    status = CharField(max_length=10, choices=RESPONSE_STATUSES, default="counted", index=True,
                       constraints=[SQL("DEFAULT 'counted'")],
                       verbose_name=_l("Review status"),
                       help_text=_l("Only counted responses enter the figures; held ones wait for a review"))
    hold_reason = CharField(max_length=20, choices=HOLD_REASONS, null=True, verbose_name=_l("Why it was held"))
    contact_name = CharField(max_length=50, default="", constraints=[SQL("DEFAULT ''")],
                             verbose_name=_l("Name left for a callback"))
    contact_phone = CharField(max_length=30, default="", constraints=[SQL("DEFAULT ''")],
                              verbose_name=_l("Phone left for a callback"))
    # the nonce of the form page this submission came from: a second submission of one page is a duplicate
    form_nonce = CharField(max_length=32, null=True, index=True, verbose_name=_l("Form page"))

    class Meta:
        indexes = ((("survey", "submitted_at"), False),)

    def __str__(self):
        return f"{self.survey.title} #{self.id}"

    @classmethod
    def counted(cls):
        """The condition every figure applies: held and rejected submissions do not count."""
        return cls.status == "counted"


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
