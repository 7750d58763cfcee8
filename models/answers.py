"""A submitted questionnaire: validated as a whole, stored as a whole, and a low score
is followed up (不满意项闭环) so it does not vanish.

A submission is a dict {question id: raw value}; the raw value is a string, a list of
strings (multiple choice) or an (expectation, perception) pair (SERVQUAL). Nothing is
written unless every answer is valid; then the Response, its Answers, the invitation's
answered time and the follow-up are written in ONE transaction.

One response per personal invitation is enforced by the UNIQUE constraint on
Response.invitation: the transaction's first statement is that INSERT, so on SQLite the
writer lock is taken before anything is read (no lock upgrade, concurrent submitters
queue on the busy timeout) and the loser of a race gets IntegrityError, reported as
LinkUnavailable, the same polite answer as an unknown or expired link.

The follow-up of a low score (follow_up(), the one place that decides it):

* the answer has a customer (a personal invitation of a survey that is not anonymous):
  a follow-up complaint against that customer, with every SLA stage;
* the customer of an open link (or of an anonymous survey) left a phone number in the
  optional "may we call you back? 电话/称呼" block: the branch's customer file with that
  phone, else a new one (models.contacts), and a follow-up complaint against it; the
  response is attributed to that customer;
* nobody to call back: anonymous feedback for the branch (models.feedback): on the review
  list, counted, and without any deadline, since nobody can be apologised to.

The branch is the link's (open link's branch, else its staff member's branch, else the
complaint's or customer's for an invitation), else the setting
survey.unattributed_branch_id, else the first active branch. A submission held for review
(models.survey_guard) is stored without a follow-up; releasing it runs follow_up() then.
"""
import json
import re
from contextlib import contextmanager

from flask import current_app, has_app_context
from flask_babel import force_locale
from peewee import JOIN, IntegrityError

from .audit import Setting, record
from .base import db, db_values, execute_reusing_sql, select_reusing_sql
from .clock import now
from .complaints import Complaint
from .contacts import check_contact, customer_for_contact
from .customers import Customer
from .feedback import record_feedback
from .i18n import _l, babel_locale
from .org import Branch, Staff
from .surveys import Answer, Choice, Invitation, OpenLink, Question, Response, Survey

# (lowest, highest) accepted value per numeric question kind
SCALES = {"rating": (1, 5), "score": (0, 10), "servqual": (1, 7)}
# no text answer is ever longer than this, whatever a question's own limit says
TEXT_HARD_LIMIT = 5000
# closed loop: a rating at or below / a score at or below opens a follow-up complaint
FOLLOWUP_DEFAULTS = {"survey.followup_rating_max": 2, "survey.followup_score_max": 6}
# the form fields of the optional "may we call you back?" block
CONTACT_FIELDS = ("contact_name", "contact_phone")
CONTACT_ERROR_KEY = "contact"


class LinkUnavailable(Exception):
    """Unknown, expired or already answered link, or a closed survey. The public sees one
    page for all of them, so a token's state cannot be probed."""


# ---------------------------------------------------------------- reading the form

def field_name(question, part=""):
    """Name of the form field(s) of a question: q12, or q12_e / q12_p for a SERVQUAL pair."""
    return f"q{question.id}{'_' + part if part else ''}"


def raw_from_form(questions, form):
    """The submission dict from a request.form-like MultiDict."""
    raw = {}
    for question in questions:
        if question.kind == "multiple":
            raw[question.id] = form.getlist(field_name(question))
        elif question.kind == "servqual":
            raw[question.id] = (form.get(field_name(question, "e"), ""), form.get(field_name(question, "p"), ""))
        else:
            raw[question.id] = form.get(field_name(question), "")
    return raw


def survey_questions(survey):
    """Questions in order, each with `.choice_list` loaded (two queries in all)."""
    query = Question.select().where(Question.survey == survey.id).order_by(Question.position, Question.id)
    questions = list(select_reusing_sql(query, ("questions",), survey.id))
    by_question = {q.id: [] for q in questions}
    if questions:
        ids = list(by_question)
        query = Choice.select().where(Choice.question.in_(ids)).order_by(Choice.position, Choice.id)
        for choice in select_reusing_sql(query, ("choices", len(ids)), *ids):
            by_question[choice.question_id].append(choice)
    for question in questions:
        question.choice_list = by_question[question.id]
    return questions


def staff_candidates(branch_id=None):
    """Active staff a customer may pick (of the link's branch when it has one)."""
    query = Staff.select().where(Staff.active).order_by(Staff.name, Staff.id)
    if branch_id is not None:
        query = query.where(Staff.branch == branch_id)
    return list(query)


# ---------------------------------------------------------------- validation

def _single(value):
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()


# an optional minus and at most three digits ("--5", "5-", "1e3" are not numbers)
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,3}")


def _number(value, kind):
    low, high = SCALES[kind]
    if not _WHOLE_NUMBER.fullmatch(value):
        return None, _l("Please choose a value from %(low)d to %(high)d.", low=low, high=high)
    number = int(value)
    if not low <= number <= high:
        return None, _l("Please choose a value from %(low)d to %(high)d.", low=low, high=high)
    return number, None


def _clean_text(value):
    return value.replace("\x00", "").replace("\r\n", "\n").strip()


def validate_answers(questions, raw, staff_ids):
    """Check every question; return (rows, errors).

    rows: dicts ready for Answer(...) (question set, response missing);
    errors: {question id: message}. Unknown question ids in `raw` are ignored."""
    rows, errors = [], {}
    for question in questions:
        value = raw.get(question.id, raw.get(str(question.id), ""))
        kind = question.kind
        if kind == "servqual":
            pair = value if isinstance(value, (list, tuple)) and len(value) == 2 else ("", "")
            expectation, perception = _single(pair[0]), _single(pair[1])
            if not expectation and not perception:
                if question.required:
                    errors[question.id] = _l("Please give both marks: expected and perceived.")
                continue
            if not expectation or not perception:
                errors[question.id] = _l("Please give both marks: expected and perceived.")
                continue
            expected, error = _number(expectation, kind)
            perceived, error2 = _number(perception, kind)
            if error or error2:
                errors[question.id] = error or error2
                continue
            rows.append({"question": question, "value": perceived, "expectation": expected})
        elif kind == "multiple":
            values = value if isinstance(value, (list, tuple)) else [value]
            picked = [v for v in (_single(v) for v in values) if v]
            if not picked:
                if question.required:
                    errors[question.id] = _l("Please tick at least one answer.")
                continue
            valid = {str(c.id): c for c in question.choice_list}
            if any(v not in valid for v in picked):
                errors[question.id] = _l("Please choose among the answers shown.")
                continue
            for choice_id in dict.fromkeys(picked):  # ticked twice counts once
                rows.append({"question": question, "choice": valid[choice_id], "value": valid[choice_id].score})
        else:
            text = _clean_text(_single(value)) if kind == "text" else _single(value)
            if not text:
                if question.required:
                    errors[question.id] = _l("This question needs an answer.")
                continue
            if kind in ("rating", "score"):
                number, error = _number(text, kind)
                if error:
                    errors[question.id] = error
                    continue
                rows.append({"question": question, "value": number})
            elif kind == "single":
                valid = {str(c.id): c for c in question.choice_list}
                if text not in valid:
                    errors[question.id] = _l("Please choose among the answers shown.")
                    continue
                rows.append({"question": question, "choice": valid[text], "value": valid[text].score})
            elif kind == "staff":
                if not (text.isascii() and text.isdigit()) or int(text) not in staff_ids:
                    errors[question.id] = _l("Please choose among the staff shown.")
                    continue
                rows.append({"question": question, "staff": int(text)})
            else:  # text
                limit = min(question.max_length or TEXT_HARD_LIMIT, TEXT_HARD_LIMIT)
                if len(text) > limit:
                    errors[question.id] = _l("At most %(limit)d characters, please (you wrote %(length)d).",
                                             limit=limit, length=len(text))
                    continue
                rows.append({"question": question, "text": text})
    return rows, errors


# ---------------------------------------------------------------- attribution and storing

def link_by_token(model, token):
    """The Invitation or OpenLink with this token, or None. Its survey (and an invitation's
    customer, which the response is attributed to) come in the same query: a public page
    is two or three queries less per request."""
    if model is Invitation:
        query = (Invitation.select(Invitation, Survey, Customer).join(Survey)
                 .switch(Invitation).join(Customer, JOIN.LEFT_OUTER))
    else:
        query = OpenLink.select(OpenLink, Survey).join(Survey)
    query = query.where(model.token == token)  # token is unique: one row at most
    return next(iter(select_reusing_sql(query, ("link", model.__name__), token)), None)


def open_link_by_short_code(code):
    """The OpenLink whose short code is `code` (already normalised), with its survey, or None."""
    query = OpenLink.select(OpenLink, Survey).join(Survey).where(OpenLink.short_code == code)
    return next(iter(select_reusing_sql(query, ("link", "OpenLink short code"), code)), None)


def link_is_usable(link, moment=None):
    """An invitation or open link may take an answer now."""
    moment = moment or now()
    survey = link.survey
    if not survey.is_open(moment):
        return False
    if isinstance(link, Invitation):
        # answered_at is written in the same transaction as the response (submit_response)
        return link.answered_at is None and (link.expires_at is None or moment < link.expires_at)
    return link.active


def attribution(survey, invitation=None, open_link=None):
    """(customer, branch id, staff id) a response from this link is attributed to."""
    customer = branch_id = staff_id = None
    if invitation is not None:
        customer = invitation.customer
        complaint = invitation.complaint
        if customer is None and complaint is not None:
            customer = complaint.customer
        if complaint is not None:
            branch_id = complaint.branch_id
            staff_id = complaint.responsible_staff_id
        if customer is not None and branch_id is None:
            branch_id = customer.branch_id
        if survey.anonymous:
            customer = None
    if open_link is not None:
        staff_id = open_link.staff_id
        branch_id = open_link.branch_id or (open_link.staff.branch_id if open_link.staff_id else None)
    return customer, branch_id, staff_id


_RESPONSE_FIELDS = (Response.survey, Response.invitation, Response.open_link, Response.customer, Response.branch,
                   Response.staff, Response.submitted_at, Response.language, Response.status, Response.hold_reason,
                   Response.contact_name, Response.contact_phone, Response.form_nonce)
_ANSWER_FIELDS = (Answer.response, Answer.question, Answer.value, Answer.expectation, Answer.choice, Answer.staff,
                  Answer.text)


def _answer_values(response_id, row):
    """One Answer row (a validate_answers row) for insert_many, in _ANSWER_FIELDS order."""
    choice = row.get("choice")
    return (response_id, row["question"].id, row.get("value"), row.get("expectation"),
            choice.id if choice is not None else None, row.get("staff"), row.get("text") or "")


def _store(survey, submission, invitation, open_link, language, moment, hold_reason=None, nonce=None):
    """The write transaction's statements, their SQL text generated once per shape
    (models.base.execute_reusing_sql): the transaction holds SQLite's write lock, and
    building the statements took most of its time. Returns the new Response."""
    contact = submission.contact or {}
    status = "held" if hold_reason else "counted"
    response = Response(survey=survey, invitation=invitation, open_link=open_link, customer=submission.customer,
                        branch=submission.branch_id, staff=submission.staff_id, submitted_at=moment,
                        language=language, status=status, hold_reason=hold_reason,
                        contact_name=contact.get("name", ""), contact_phone=contact.get("phone", ""),
                        form_nonce=nonce)
    values = [response.survey_id, response.invitation_id, response.open_link_id, response.customer_id,
              response.branch_id, response.staff_id, moment, language, status, hold_reason,
              response.contact_name, response.contact_phone, nonce]
    query = Response.insert_many([values], fields=_RESPONSE_FIELDS)
    returning = db.obj.returning_clause  # PostgreSQL; SQLite gives the id as lastrowid (any version)
    if returning:
        query = query.returning(Response.id)
    # first statement writes: the UNIQUE invitation decides a race here
    cursor = execute_reusing_sql(query, ("store: response",), *db_values(_RESPONSE_FIELDS, values))
    response.id = cursor.fetchone()[0] if returning else cursor.lastrowid
    if submission.rows:
        rows = [_answer_values(response.id, row) for row in submission.rows]
        query = Answer.insert_many(rows, fields=_ANSWER_FIELDS)
        execute_reusing_sql(query, ("store: answers", len(rows)),
                            *[value for row in rows for value in db_values(_ANSWER_FIELDS, row)])
    if invitation is not None:
        query = Invitation.update(answered_at=moment).where(Invitation.id == invitation.id)
        execute_reusing_sql(query, ("store: invitation answered",),
                            *db_values((Invitation.answered_at, Invitation.id), (moment, invitation.id)))
        invitation.answered_at = moment
    return response


class Submission:
    """A validated questionnaire, ready to store: who it is attributed to, its answer rows,
    the low scores among them and the contact left for a callback (everything that is read
    before the write transaction)."""

    def __init__(self, customer, branch_id, staff_id, rows, low, contact=None):
        self.customer, self.branch_id, self.staff_id = customer, branch_id, staff_id
        self.rows, self.low, self.contact = rows, low, contact


def asks_for_contact(survey, invitation=None):
    """The "may we call you back?" block is offered when the answer has no customer of its
    own: open links, and invitations of an anonymous survey."""
    return invitation is None or survey.anonymous


def contact_from_form(form):
    """The callback block's raw fields from a request.form-like mapping."""
    return {name: form.get(name, "") for name in CONTACT_FIELDS}


def prepare_submission(survey, raw, invitation=None, open_link=None, questions=None, contact=None):
    """Check the link, the answers and the optional contact ({"contact_name", "contact_phone"}).
    Returns (Submission, {}) or (None, errors), errors keyed by question id (and "contact");
    raises LinkUnavailable when the link can no longer take an answer."""
    link = invitation if invitation is not None else open_link
    if link is None or not link_is_usable(link):
        raise LinkUnavailable()
    questions = questions if questions is not None else survey_questions(survey)
    customer, branch_id, staff_id = attribution(survey, invitation, open_link)
    staff_ids = {s.id for s in staff_candidates(branch_id)} if any(q.kind == "staff" for q in questions) else set()
    rows, errors = validate_answers(questions, raw, staff_ids)
    left = None
    if contact and asks_for_contact(survey, invitation):
        left, problem = check_contact(contact.get("contact_name"), contact.get("contact_phone"))
        if problem:
            errors[CONTACT_ERROR_KEY] = problem
    if errors:
        return None, errors
    if staff_id is None:
        staff_id = next((row["staff"] for row in rows if row.get("staff")), None)
    # read before the write transaction, which holds SQLite's write lock
    return Submission(customer, branch_id, staff_id, rows, low_answers(rows), left), {}


def store_submission(survey, submission, invitation=None, open_link=None, language=None, hold_reason=None,
                     nonce=None):
    """Store a prepared submission, counted or held (`hold_reason`, see models.survey_guard),
    with its follow-up when it counts, in one transaction. Returns the Response.

    Raises LinkUnavailable when a concurrent submission of the same invitation won the race."""
    moment = now()
    try:
        with db.atomic():
            response = _store(survey, submission, invitation, open_link, language or survey.language, moment,
                              hold_reason, nonce)
            if not hold_reason:
                follow_up(response, submission.rows, submission.low, submission.contact)
    except IntegrityError:
        if invitation is not None and Response.select().where(Response.invitation == invitation).exists():
            raise LinkUnavailable() from None
        raise
    return response


def submit_response(survey, raw, invitation=None, open_link=None, language=None, questions=None, contact=None,
                    hold_reason=None, nonce=None):
    """Validate and store one questionnaire. Returns (response, {}) or (None, errors).

    Raises LinkUnavailable when the link can no longer take an answer, including the
    case where a concurrent submission of the same invitation won the race."""
    submission, errors = prepare_submission(survey, raw, invitation, open_link, questions, contact)
    if errors:
        return None, errors
    return store_submission(survey, submission, invitation, open_link, language, hold_reason, nonce), {}


# ---------------------------------------------------------------- closed loop

def followup_thresholds():
    """{'rating': max rating that opens a follow-up, 'score': max score} from the settings."""
    keys = list(FOLLOWUP_DEFAULTS)
    query = Setting.select().where(Setting.key.in_(keys))
    stored = {row.key: json.loads(row.value) for row in select_reusing_sql(query, ("followup settings",), *keys)}
    values = {key: stored.get(key, default) for key, default in FOLLOWUP_DEFAULTS.items()}
    return {"rating": int(values["survey.followup_rating_max"]), "score": int(values["survey.followup_score_max"])}


def low_answers(rows, thresholds=None):
    """The rating/score answers at or below their threshold, as (question, value)."""
    thresholds = thresholds or followup_thresholds()
    return [(row["question"], row["value"]) for row in rows
            if row["question"].kind in thresholds and row.get("value") is not None
            and row["value"] <= thresholds[row["question"].kind]]


def unattributed_branch_id():
    configured = Setting.get_value("survey.unattributed_branch_id", None)
    if configured and Branch.select().where(Branch.id == configured).exists():
        return int(configured)
    return (Branch.select(Branch.id).where(Branch.active).order_by(Branch.id).limit(1).scalar()
            or Branch.select(Branch.id).order_by(Branch.id).limit(1).scalar())


@contextmanager
def office_language():
    """Texts written for the office (the follow-up complaint) are in the office's default
    language, whatever language the customer answered in; works without a request too."""
    if not has_app_context():
        yield
        return
    with force_locale(babel_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN"))):
        yield


# A follow-up's category from the dimension of its worst answer, by code (labels are the office's):
# the category mapped here, else a category with the dimension's own code, else "other" (built in),
# each only if it is an active value of the office's category list.
_CATEGORY_OF_DIMENSION = {"attitude": "attitude", "quality": "quality", "professionalism": "staff_error",
                          "speed": "system", "reliability": "system", "responsiveness": "system"}


def followup_category(dimension):
    """The category a survey follow-up is recorded with, for the dimension of its worst answer."""
    from .complaints import CATEGORY_LIST
    active = set(CATEGORY_LIST.codes(active_only=True))
    for code in (_CATEGORY_OF_DIMENSION.get(dimension), dimension):
        if code in active:
            return code
    return "other"


def _worst(low):
    return min(low, key=lambda item: item[1] / SCALES[item[0].kind][1])


def _followup_description(response, rows, low):
    """The survey, the low items and the customer's own words, in the office's language."""
    texts = [row["text"] for row in rows if row.get("text")]
    lines = [str(_l("Survey: %(survey)s (response #%(id)s)", survey=response.survey.title, id=response.id))]
    lines += [f"- {q.text}: {v}/{SCALES[q.kind][1]}" for q, v in low]
    if response.contact_phone:
        lines.append(str(_l("Call back: %(name)s %(phone)s", name=response.contact_name, phone=response.contact_phone)))
    if texts:
        lines.append(str(_l("Customer's words:")))
        lines += [f"  {text}" for text in texts]
    return "\n".join(lines)


def follow_up(response, rows, low=None, contact=None):
    """不满意项闭环 for a counted response (inside the caller's transaction): nothing when
    every score is fine; else a follow-up complaint when there is a customer to call back
    (the response's own, or the one the contact leads to), else anonymous feedback for the
    branch. Returns the complaint or the feedback, or None."""
    low = low_answers(rows) if low is None else low
    if not low or response.followup_complaint_id is not None:
        return None
    customer = response.customer
    branch_id = response.branch_id or (customer.branch_id if customer is not None else None) or unattributed_branch_id()
    if branch_id is None:
        return None  # no branch exists at all: nothing to file against (the response is stored)
    question, value = _worst(low)
    item = f"{question.text[:80]} {value}/{SCALES[question.kind][1]}"
    with office_language():
        if customer is None and contact:
            customer = customer_for_contact(branch_id, contact, str(_l("survey response #%(id)s", id=response.id)),
                                            str(_l("Survey customer %(phone)s", phone=contact["phone"])))
            Response.update(customer=customer).where(Response.id == response.id).execute()
            response.customer = customer
        description = _followup_description(response, rows, low)
        if customer is None:
            title = str(_l("Anonymous feedback: low satisfaction score – %(item)s", item=item))
            return record_feedback(response, branch_id, title, description)
        title = str(_l("%(customer)s: low satisfaction score – %(item)s", customer=customer.name, item=item))
        return open_followup_complaint(response, customer, branch_id, question, title[:200], description)


def open_followup_complaint(response, customer, branch_id, question, title, description):
    """THE place a survey follow-up complaint is created (channel "survey follow-up"), against
    `customer`, for `branch_id`, received when the answer was submitted, so its stage
    deadlines count from then; its owner is the one models.ownership.followup_owner() names
    (the customer's account manager, else the branch's duty person, …)."""
    from .ownership import followup_owner, headquarters_owner
    owner = followup_owner(customer, branch_id) or headquarters_owner()
    if owner is None:
        return None  # an office without any active staff: nobody could own the follow-up
    complaint = Complaint(customer=customer, branch=branch_id, channel="survey", assignee=owner,
                          category=followup_category(question.dimension),
                          title=title, description=description, received_at=response.submitted_at)
    complaint.save()
    record(complaint, "create", None, "channel", "", "survey")
    Response.update(followup_complaint=complaint).where(Response.id == response.id).execute()
    response.followup_complaint = complaint
    from .notifications import followup_opened
    followup_opened(complaint)  # the duty person (and owner) are told, in this transaction
    return complaint


def open_followup(response, rows, low=None):
    """The follow-up of a response whose answers are `rows` (kept for callers and scripts that
    store responses themselves): follow_up() without a contact."""
    return follow_up(response, rows, low)


# ---------------------------------------------------------------- held submissions

def stored_rows(response):
    """A stored response's answers as validate_answers rows (question, value, text)."""
    answers = (Answer.select(Answer, Question).join(Question).where(Answer.response == response.id)
               .order_by(Question.position, Question.id, Answer.id))
    return [{"question": a.question, "value": a.value, "text": a.text} for a in answers]


def release_held(response, user):
    """A manager finds a held submission genuine: it counts from now on, and its low score is
    followed up now (with the contact the customer left). Returns what follow_up() opened."""
    with db.atomic():
        changed = Response.update(status="counted").where(
            (Response.id == response.id) & (Response.status == "held")).execute()
        if not changed:
            raise ValueError(str(_l("Response #%(id)s is not held for review.", id=response.id)))
        record(response, "update", user, "status", "held", "counted")
        response.status = "counted"
        contact = None
        if response.contact_phone and response.customer_id is None:
            contact, _problem = check_contact(response.contact_name, response.contact_phone)
        return follow_up(response, stored_rows(response), contact=contact)


def reject_held(response, user):
    """A manager finds a held submission is not a customer's answer: it stays stored, never counts."""
    with db.atomic():
        changed = Response.update(status="rejected").where(
            (Response.id == response.id) & (Response.status == "held")).execute()
        if not changed:
            raise ValueError(str(_l("Response #%(id)s is not held for review.", id=response.id)))
        record(response, "update", user, "status", "held", "rejected")
        response.status = "rejected"
