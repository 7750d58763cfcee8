"""匿名反馈: a low survey score from somebody the office cannot call back.

The closed loop (不满意项闭环) turns every low score into follow-up work. When the answer
comes with a customer (a personal invitation) or with a phone number the customer left in
the "may we call you back?" block, the follow-up is a complaint against that customer, with
its apology deadline and the other SLA stages (models.answers.open_followup_complaint).
Without anyone to apologise to, a complaint's stages cannot be met; the low score becomes
ANONYMOUS FEEDBACK for the branch instead:

* it carries the same words as a complaint would (which items were low, what the customer
  wrote) and the branch the answer is attributed to;
* it has NO deadline and no SLA stage: nobody can be phoned within the hour;
* it waits on the review list until a staff member marks it reviewed, with a note saying
  what the branch will do about it (who reviewed and when is kept, and written to history);
* it is counted: feedback_counts() gives the number received and still to review per
  branch and survey, next to the follow-up complaints, and its answers are in CSAT/NPS like
  any counted response. It is not a complaint (no number, not in complaint counts) and
  not a customer (no customer file).

Databases from before this rule filed such answers as complaints against a placeholder
customer "匿名问卷客户"; migration 51 turns the ones nobody worked on into feedback here
(keeping the old complaint number in former_complaint).
"""
from peewee import Case, CharField, DateTimeField, ForeignKeyField, TextField, fn

from .audit import record
from .base import BaseModel
from .clock import now
from .i18n import _l
from .org import Branch, User
from .surveys import Response, Survey

FEEDBACK_STATES = [("to_review", _l("To review")), ("reviewed", _l("Reviewed"))]


class AnonymousFeedback(BaseModel):
    """A low score without a customer to call back: reviewed by the branch, no SLA stages."""

    label_joins = ("branch",)

    response = ForeignKeyField(Response, null=True, unique=True, backref="anonymous_feedback", on_delete="RESTRICT",
                               verbose_name=_l("Response"))
    survey = ForeignKeyField(Survey, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Survey"))
    branch = ForeignKeyField(Branch, backref="anonymous_feedback", on_delete="RESTRICT", verbose_name=_l("Branch"))
    received_at = DateTimeField(default=now, index=True, verbose_name=_l("Received at"))
    title = CharField(max_length=200, verbose_name=_l("Title"))
    description = TextField(default="", verbose_name=_l("Description"))
    reviewed_at = DateTimeField(null=True, index=True, verbose_name=_l("Reviewed at"),
                                help_text=_l("Empty: still on the review list"))
    reviewed_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Reviewed by"))
    review_note = TextField(default="", verbose_name=_l("Review note"),
                            help_text=_l("What the branch will do about it"))
    former_complaint = CharField(max_length=40, default="", verbose_name=_l("Formerly complaint"),
                                 help_text=_l("The number it had when it was filed as a complaint"))

    class Meta:
        table_name = "anonymous_feedback"
        indexes = ((("branch", "received_at"), False),)

    def __str__(self):
        return f"{self.branch.name} {self.received_at:%Y-%m-%d %H:%M}"

    @property
    def state(self):
        return "reviewed" if self.reviewed_at is not None else "to_review"

    @classmethod
    def to_review(cls):
        """The review list: feedback nobody has reviewed yet, oldest first."""
        return cls.select().where(cls.reviewed_at.is_null()).order_by(cls.received_at, cls.id)


class ReviewError(ValueError):
    """A review refused; str() is for the user."""


def record_feedback(response, branch_id, title, description):
    """File the anonymous feedback of `response` (inside the caller's transaction)."""
    feedback = AnonymousFeedback.create(response=response, survey=response.survey_id, branch=branch_id,
                                        received_at=response.submitted_at, title=title[:200],
                                        description=description)
    record(feedback, "create", None, "response", "", response.id)
    return feedback


def mark_reviewed(feedback, user, note, moment=None):
    """A staff member has read the feedback and says what the branch does about it. The note
    is required (a tick alone tells the next reader nothing); reviewing twice is refused."""
    note = (note or "").strip()
    if not note:
        raise ReviewError(str(_l("Write what the branch will do about this feedback.")))
    if len(note) > 2000:
        raise ReviewError(str(_l("At most %(limit)d characters, please (you wrote %(length)d).",
                                 limit=2000, length=len(note))))
    moment = moment or now()
    updated = (AnonymousFeedback.update(reviewed_at=moment, reviewed_by=user, review_note=note)
               .where((AnonymousFeedback.id == feedback.id) & AnonymousFeedback.reviewed_at.is_null()).execute())
    if not updated:
        raise ReviewError(str(_l("This feedback was already reviewed.")))
    feedback.reviewed_at, feedback.reviewed_by, feedback.review_note = moment, user, note
    record(feedback, "update", user, "review_note", "", note)
    return feedback


def feedback_counts(start, end, group_by=None, branch=None, survey=None):
    """Anonymous feedback received in [start, end): {"received", "to_review"}, or per value of
    `group_by` ("branch" or "survey") a dict {id: {"received", "to_review"}}. `branch`: one branch,
    or a list of branch ids (an empty list: nothing)."""
    open_ = fn.SUM(Case(None, [(AnonymousFeedback.reviewed_at.is_null(), 1)], 0))  # portable: no SUM over booleans
    key = {"branch": AnonymousFeedback.branch, "survey": AnonymousFeedback.survey, None: None}[group_by]
    columns = ([key] if key is not None else []) + [fn.COUNT(AnonymousFeedback.id), open_]
    query = AnonymousFeedback.select(*columns).where(AnonymousFeedback.received_at >= start,
                                                     AnonymousFeedback.received_at < end)
    if isinstance(branch, (list, tuple, set, frozenset)):  # a user's branches (models.scope)
        query = query.where(AnonymousFeedback.branch.in_(list(branch)))
    elif branch:
        query = query.where(AnonymousFeedback.branch == getattr(branch, "id", branch))
    if survey:
        query = query.where(AnonymousFeedback.survey == getattr(survey, "id", survey))
    if key is None:
        received, waiting = query.tuples().first() or (0, 0)
        return {"received": int(received or 0), "to_review": int(waiting or 0)}
    return {k: {"received": int(n or 0), "to_review": int(w or 0)} for k, n, w in query.group_by(key).tuples()}
