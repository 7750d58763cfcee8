"""The customer's whole story (客户全貌), as the customer page shows it: the file, then what
happened with them, newest first.

* complaints (with stage and owner), callbacks (after complaints and scheduled ones, with
  satisfaction), survey responses with every answer and its score on its scale, the rewards
  and penalties staff received for this customer's complaints, the open invitations;
* the next scheduled callback (monthly in the first year after the first deal, quarterly
  after: models.complaints.next_callback_due, counting only scheduled callbacks);
* the customer's quadrant (loyal / praiser / silent protester / complainer) over the last
  QUADRANT_DAYS days, as placed by models.reports.customer_quadrants (the rule has one home
  there; this only looks the customer up in its result for the customer's branch and grade).

A fixed number of queries whatever the length of the story.

Seen by a user (models.scope): the customer is in their scope (the page answers 404
otherwise); of what happened, only the complaints in their scope (a complaint received by
another branch is that branch's) and the rewards and penalties of staff in their scope.
"""
from datetime import timedelta

from peewee import JOIN

from .answers import SCALES
from .clock import now
from .complaints import Callback, Complaint, next_callback_due
from .org import Staff
from .recognition import RewardPenalty
from .surveys import Answer, Choice, Invitation, Question, Response, Survey

QUADRANT_DAYS = 365


def customer_quadrant(customer, moment=None):
    """(quadrant code or None, the customer's entry of customer_quadrants, period)."""
    from . import reports
    today = (moment or now()).date()
    period = reports.custom_period(today - timedelta(days=QUADRANT_DAYS - 1), today)
    placed = reports.customer_quadrants(period.start, period.end, branch=customer.branch_id, grade=customer.grade)
    for quadrant, rows in placed.items():
        for row in rows:
            if row["customer_id"] == customer.id:
                return quadrant, row, period
    return None, None, period


def answer_score(answer):
    """What a customer answered, as text with its scale for numbers ("4 / 5")."""
    kind = answer.question.kind
    if kind == "servqual" and answer.value is not None and answer.expectation is not None:
        return f"{answer.expectation} → {answer.value} / {SCALES['servqual'][1]}"
    if kind in SCALES and answer.value is not None:
        return f"{answer.value} / {SCALES[kind][1]}"
    if answer.choice_id is not None and answer.choice is not None:
        return answer.choice.text
    if answer.staff_id is not None and answer.staff is not None:
        return answer.staff.name
    return answer.text


def customer_story(customer, moment=None, user=None):
    """Everything the customer page shows besides the file itself (see the module docstring),
    as `user` may see it (None: the whole story, for jobs)."""
    from .scope import SYSTEM, scoped
    moment = moment or now()
    user = SYSTEM if user is None else user
    Owner = Staff.alias()
    complaints = list(scoped(Complaint.select(Complaint, Owner)
                             .join(Owner, JOIN.LEFT_OUTER, on=(Complaint.assignee == Owner.id), attr="owner")
                             .where(Complaint.customer == customer.id)
                             .order_by(Complaint.received_at.desc(), Complaint.id.desc()), user, Complaint))
    by_id = {c.id: c for c in complaints}
    callbacks = list(Callback.select(Callback, Staff).join(Staff, JOIN.LEFT_OUTER, on=(Callback.staff == Staff.id))
                     .where(Callback.customer == customer.id)
                     .order_by(Callback.done_at.desc(nulls="FIRST"), Callback.id.desc()))
    for callback in callbacks:
        if callback.complaint_id is not None:  # None: a complaint out of the user's scope
            callback.__rel__["complaint"] = by_id.get(callback.complaint_id)
    responses = list(Response.select(Response, Survey).join(Survey)
                     .where(Response.customer == customer.id)
                     .order_by(Response.submitted_at.desc(), Response.id.desc()))
    answers = {}
    if responses:
        rows = (Answer.select(Answer, Question, Choice, Staff).join(Question)
                .switch(Answer).join(Choice, JOIN.LEFT_OUTER, on=(Answer.choice == Choice.id))
                .switch(Answer).join(Staff, JOIN.LEFT_OUTER, on=(Answer.staff == Staff.id))
                .where(Answer.response.in_([r.id for r in responses]))
                .order_by(Question.position, Question.id, Answer.id))
        for answer in rows:
            answers.setdefault(answer.response_id, []).append(answer)
    rewards_penalties = []
    if complaints:
        rewards_penalties = list(scoped(RewardPenalty.select(RewardPenalty, Staff).join(Staff)
                                        .where(RewardPenalty.complaint.in_(list(by_id)))
                                        .order_by(RewardPenalty.decided_on.desc(), RewardPenalty.id.desc()),
                                        user, RewardPenalty))
        for row in rewards_penalties:
            row.__rel__["complaint"] = by_id[row.complaint_id]
    invitations = list(Invitation.select(Invitation, Survey).join(Survey)
                       .where(Invitation.customer == customer.id).order_by(Invitation.id.desc()))
    scheduled = [c.done_at for c in callbacks if c.kind == "scheduled" and c.done_at is not None]
    next_callback = next_callback_due(customer.first_deal_date, max(scheduled).date() if scheduled else None)
    if customer.churned:
        next_callback = None
    quadrant, quadrant_entry, quadrant_period = customer_quadrant(customer, moment)
    return {
        "complaints": complaints,
        "complaint_ids": set(by_id),
        "open_complaints": [c for c in complaints if c.is_open],
        "callbacks": callbacks,
        "responses": responses,
        "answers": answers,
        "rewards_penalties": rewards_penalties,
        "invitations": invitations,
        "next_callback": next_callback,
        "quadrant": quadrant,
        "quadrant_entry": quadrant_entry,
        "quadrant_period": quadrant_period,
    }
