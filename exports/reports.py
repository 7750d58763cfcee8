"""Report workbooks: the weekly report (周报) and the monthly report (月报).

A workbook is a list of sheet builders; a builder takes the Period and returns a Sheet
(or several), i.e. a title, header labels and a row iterator (REPORT_SHEETS below). The
branch ranking and staff scoreboard sheets render models.reports.branch_ranking() and
staff_scoreboard() with their documented headings.

Every figure is read with SQL aggregates or streamed rows (a few queries per sheet, never one
per row). Times are office-local naive datetimes; the period is [start, end).

A workbook covers the branches of the user who downloads it (Period.branches, from
models.scope.branch_ids): every sheet counts only their rows, and the branch ranking shows
the other branches' ranks and scores only (models.scope.ranking_for).
"""
import calendar
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Optional

from flask_babel import gettext as _
from peewee import JOIN, Case, fn

from models import (Answer, Branch, Choice, Complaint, Customer, Invitation, Question, Rectification, Response,
                    Staff, Survey)
from models.clock import now
from models.complaints import STAGES
from models.customers import GRADES
from models.i18n import label_of
from models.scope import condition
from models.surveys import SURVEY_KINDS

from .writers import DATE, DATETIME, NUMBER, PERCENT, TEXT, Column, Sheet

REPORT_KINDS = ("weekly", "monthly")

# (done-at field, due-at field, label) for each timed stage of a complaint
SLA_STAGES = [
    ("acknowledged_at", "acknowledge_due_at", "acknowledged"),
    ("resolved_at", "result_due_at", "resolved"),
    ("rectified_at", "rectify_due_at", "rectified"),
    ("called_back_at", "callback_due_at", "called_back"),
]


@dataclass
class Period:
    kind: str  # weekly | monthly
    start: datetime
    end: datetime  # exclusive
    branches: Optional[frozenset] = None  # branch ids the report covers; None: every branch

    @classmethod
    def of(cls, kind, day, branches=None):
        """The calendar week (Monday to Sunday) or month containing `day`."""
        branches = None if branches is None else frozenset(branches)
        if kind == "weekly":
            monday = day - timedelta(days=day.weekday())
            start = datetime.combine(monday, time())
            return cls(kind, start, start + timedelta(days=7), branches)
        if kind == "monthly":
            start = datetime.combine(day.replace(day=1), time())
            days = calendar.monthrange(day.year, day.month)[1]
            return cls(kind, start, start + timedelta(days=days), branches)
        raise ValueError(kind)

    def scoped(self, query, model):
        """`query` limited to the rows of `model` in the branches the report covers."""
        return query if self.branches is None else query.where(condition(model, self.branches))

    @property
    def last_day(self):
        return (self.end - timedelta(days=1)).date()

    @property
    def as_of(self):
        """The moment overdue items are counted at: the end of the period, or now if earlier."""
        return min(now(), self.end)

    def title(self):
        if self.kind == "weekly":
            return _("Weekly report %(start)s to %(end)s", start=self.start.date().isoformat(),
                     end=self.last_day.isoformat())
        return _("Monthly report %(month)s", month=f"{self.start:%Y-%m}")

    def contains(self, column):
        return (column >= self.start) & (column < self.end)


def _share(part, whole):
    return part / whole if whole else None


# --------------------------------------------------------------------------- sheets

def overview_sheet(period):
    rows = [
        (_("Report"), period.title()),
        (_("From"), period.start),
        (_("To (exclusive)"), period.end),
        (_("Overdue counted at"), period.as_of),
        (_("Generated at"), now()),
    ]
    if period.branches is not None:
        names = [name for (name,) in Branch.select(Branch.name).where(Branch.id.in_(sorted(period.branches)))
                 .order_by(Branch.name).tuples()]
        rows.append((_("Branches"), "、".join(names)))
    return Sheet(_("Overview"), [Column(_("Item"), TEXT, 20), Column(_("Value"), "any", 36)], iter(rows))


def complaints_by_stage_sheet(period):
    """Per branch: complaints received in the period, where they stand now, overdue now."""
    moment = now()
    stage_counts = [fn.SUM(Case(None, [(Complaint.stage == code, 1)], 0)) for code, _label in STAGES]
    overdue = fn.SUM(Case(None, [((Complaint.stage != "closed") & (Complaint.due_at < moment), 1)], 0))
    query = (Branch.select(Branch.name, Branch.region, fn.COUNT(Complaint.id), *stage_counts, overdue)
             .join(Complaint, JOIN.LEFT_OUTER, on=((Complaint.branch == Branch.id) & period.contains(Complaint.received_at)))
             .group_by(Branch.id, Branch.name, Branch.region)
             .order_by(Branch.region, Branch.name))
    query = period.scoped(query, Branch).tuples()
    columns = ([Column(_("Branch"), TEXT), Column(_("Region"), TEXT, 10), Column(_("Complaints received"), NUMBER)]
               + [Column(_("Now at: %(stage)s", stage=label), NUMBER) for _code, label in STAGES]
               + [Column(_("Overdue now"), NUMBER)])
    rows = ([name, region] + [int(n or 0) for n in counts] for name, region, *counts in query.iterator())
    return Sheet(_("Complaints by stage"), columns, rows)


def sla_breaches_sheet(period):
    """Per branch, for the complaints received in the period: stages done after their due
    time, or not done although due before the cut-off (end of period or now) and still open."""
    as_of = period.as_of
    breaches = []
    for done, due, _stage in SLA_STAGES:
        done_f, due_f = getattr(Complaint, done), getattr(Complaint, due)
        breaches.append((done_f.is_null(False) & (done_f > due_f))
                        | (done_f.is_null() & (due_f < as_of) & (Complaint.stage != "closed")))
    any_breach = breaches[0]
    for breach in breaches[1:]:
        any_breach = any_breach | breach
    sums = [fn.SUM(Case(None, [(breach, 1)], 0)) for breach in breaches + [any_breach]]
    query = (Branch.select(Branch.name, Branch.region, fn.COUNT(Complaint.id), *sums)
             .join(Complaint, JOIN.LEFT_OUTER, on=((Complaint.branch == Branch.id) & period.contains(Complaint.received_at)))
             .group_by(Branch.id, Branch.name, Branch.region)
             .order_by(Branch.region, Branch.name))
    query = period.scoped(query, Branch).tuples()
    stage_labels = dict(STAGES)
    columns = ([Column(_("Branch"), TEXT), Column(_("Region"), TEXT, 10), Column(_("Complaints received"), NUMBER)]
               + [Column(_("Late: %(stage)s", stage=stage_labels[stage]), NUMBER) for _d, _u, stage in SLA_STAGES]
               + [Column(_("Complaints with a breach"), NUMBER), Column(_("SLA compliance rate"), PERCENT)])

    def rows():
        for name, region, received, *late in query.iterator():
            late = [int(n or 0) for n in late]
            yield [name, region, received] + late + [_share(received - late[-1], received)]
    return Sheet(_("SLA breaches"), columns, rows())


def survey_summary_sheet(period):
    """Per survey with activity in the period: responses, invitations, response rate,
    average rating and CSAT (share of 4-5) on 1-5 items, NPS on 0-10 items."""
    in_period = period.contains(Response.submitted_at)
    responses = dict(period.scoped(Response.select(Response.survey, fn.COUNT(Response.id)).where(in_period),
                                   Response).group_by(Response.survey).tuples())
    invitations = {sid: (sent, answered) for sid, sent, answered in
                   period.scoped(Invitation.select(Invitation.survey, fn.COUNT(Invitation.id),
                                                   fn.SUM(Case(None, [(Invitation.answered_at.is_null(False), 1)], 0)))
                                 .where(period.contains(Invitation.created_at)), Invitation)
                   .group_by(Invitation.survey).tuples()}

    def answers_of(kind, *aggregates):
        return {row[0]: row[1:] for row in
                period.scoped(Answer.select(Response.survey, *aggregates)
                              .join(Question, on=(Answer.question == Question.id))
                              .switch(Answer).join(Response, on=(Answer.response == Response.id))
                              .where(in_period, Question.kind == kind, Answer.value.is_null(False)), Response)
                .group_by(Response.survey).tuples()}
    ratings = answers_of("rating", fn.COUNT(Answer.id), fn.AVG(Answer.value),
                         fn.SUM(Case(None, [(Answer.value >= 4, 1)], 0)))
    scores = answers_of("score", fn.COUNT(Answer.id), fn.SUM(Case(None, [(Answer.value >= 9, 1)], 0)),
                        fn.SUM(Case(None, [(Answer.value <= 6, 1)], 0)))
    ids = set(responses) | set(invitations)
    surveys = Survey.select(Survey.id, Survey.title, Survey.kind).where(Survey.id.in_(list(ids))).order_by(Survey.id)
    columns = [Column(_("Survey"), TEXT, 30), Column(_("Kind"), TEXT), Column(_("Responses"), NUMBER),
               Column(_("Invitations sent"), NUMBER), Column(_("Invitations answered"), NUMBER),
               Column(_("Response rate"), PERCENT), Column(_("Rating answers"), NUMBER),
               Column(_("Average rating (1-5)"), NUMBER), Column(_("CSAT (4-5)"), PERCENT),
               Column(_("Score answers (0-10)"), NUMBER), Column(_("NPS"), NUMBER)]

    def rows():
        for survey_id, title, kind in surveys.tuples().iterator() if ids else ():
            sent, answered = invitations.get(survey_id, (0, 0))
            answered = int(answered or 0)
            rated, average, happy = ratings.get(survey_id, (0, None, 0))
            scored, promoters, detractors = scores.get(survey_id, (0, 0, 0))
            nps = round(100 * (int(promoters or 0) - int(detractors or 0)) / scored, 1) if scored else None
            yield [title, label_of(SURVEY_KINDS, kind), responses.get(survey_id, 0), sent, answered,
                   _share(answered, sent), rated, round(float(average), 2) if average is not None else None,
                   _share(int(happy or 0), rated), scored, nps]
    return Sheet(_("Survey summary"), columns, rows())


def _merge(parents, children, key_of_child):
    """Yield (parent row, [child rows]) for two streams ordered by the parent's id (first
    item of a parent row); one pass over each, nothing else held in memory."""
    children = iter(children)
    pending = next(children, None)
    for parent in parents:
        mine = []
        while pending is not None and key_of_child(pending) < parent[0]:
            pending = next(children, None)
        while pending is not None and key_of_child(pending) == parent[0]:
            mine.append(pending)
            pending = next(children, None)
        yield parent, mine


def satisfaction_table_sheet(period):
    """满意度调查表 of the source documents: branch, region, customer, customer grade, total
    score, opinion, improvement plan (with date) — one row per response in the period.
    Total score: sum of the rating and 0-10 answers; opinion: the free-text answers; the
    plan: the long-term measures of the follow-up complaint's rectification worksheet."""
    own_branch, customer_branch = Branch.alias(), Branch.alias()
    followup = Complaint.alias()
    in_period = period.contains(Response.submitted_at)
    responses = (Response.select(Response.id, Response.submitted_at, Survey.title,
                                 own_branch.name, own_branch.region, customer_branch.name, customer_branch.region,
                                 Customer.name, Customer.organisation, Customer.grade,
                                 followup.number, Rectification.long_term_measures, Rectification.promised_date)
                 .join(Survey, on=(Response.survey == Survey.id))
                 .switch(Response).join(own_branch, JOIN.LEFT_OUTER, on=(Response.branch == own_branch.id))
                 .switch(Response).join(Customer, JOIN.LEFT_OUTER, on=(Response.customer == Customer.id))
                 .join(customer_branch, JOIN.LEFT_OUTER, on=(Customer.branch == customer_branch.id))
                 .switch(Response).join(followup, JOIN.LEFT_OUTER, on=(Response.followup_complaint == followup.id))
                 .join(Rectification, JOIN.LEFT_OUTER, on=(Rectification.complaint == followup.id))
                 .where(in_period).order_by(Response.id))
    responses = period.scoped(responses, Response).tuples()
    answers = (Answer.select(Answer.response, Question.kind, Answer.value, Answer.text)
               .join(Question, on=(Answer.question == Question.id))
               .switch(Answer).join(Response, on=(Answer.response == Response.id))
               .where(in_period).order_by(Answer.response, Question.position, Question.id, Answer.id))
    answers = period.scoped(answers, Response).tuples()
    columns = [Column(_("Submitted at"), DATETIME), Column(_("Survey"), TEXT, 24), Column(_("Branch"), TEXT),
               Column(_("Region"), TEXT, 10), Column(_("Customer"), TEXT, 24), Column(_("Customer grade"), TEXT),
               Column(_("Total score"), NUMBER), Column(_("Opinion"), TEXT, 40),
               Column(_("Improvement plan"), TEXT, 40), Column(_("Plan date"), DATE),
               Column(_("Follow-up complaint"), TEXT, 20)]
    grades = {code: str(label) for code, label in GRADES}

    def rows():
        for parent, mine in _merge(responses.iterator(), answers.iterator(), lambda a: a[0]):
            (_id, submitted, survey, branch, region, c_branch, c_region, customer, organisation, grade,
             complaint_no, plan, plan_date) = parent
            numbers = [value for _r, kind, value, _t in mine if kind in ("rating", "score") and value is not None]
            opinion = "; ".join(text.strip() for _r, kind, _v, text in mine if kind == "text" and text.strip())
            name = f"{customer} ({organisation})" if customer and organisation else customer
            yield [submitted, survey, branch or c_branch, region or c_region, name,
                   grades.get(grade, grade), sum(numbers) if numbers else None, opinion, plan, plan_date,
                   complaint_no]
    return Sheet(_("Satisfaction table"), columns, rows())


def _question_columns(questions):
    """One column per question; a SERVQUAL pair gets two (expectation, perception)."""
    columns, slots = [], {}
    for question_id, text, kind in questions:
        slots[question_id] = len(columns)
        if kind == "servqual":
            columns.append(Column(_("%(question)s (expectation)", question=text), NUMBER))
            columns.append(Column(_("%(question)s (perception)", question=text), NUMBER))
        elif kind in ("rating", "score"):
            columns.append(Column(text, NUMBER))
        else:
            columns.append(Column(text, TEXT))
    return columns, slots


def survey_responses_sheets(period):
    """Per survey with responses in the period, one sheet in wide format: one row per
    response, one column per question (like LimeSurvey / Formbricks exports)."""
    in_period = period.contains(Response.submitted_at)
    survey_ids = [sid for (sid,) in period.scoped(Response.select(Response.survey).where(in_period), Response)
                  .distinct().order_by(Response.survey).tuples()]
    for survey in Survey.select().where(Survey.id.in_(survey_ids)).order_by(Survey.id) if survey_ids else ():
        questions = list(Question.select(Question.id, Question.text, Question.kind)
                         .where(Question.survey == survey.id).order_by(Question.position, Question.id).tuples())
        yield _survey_responses_sheet(period, survey, questions)


def _survey_responses_sheet(period, survey, questions):
    in_period = period.contains(Response.submitted_at) & (Response.survey == survey.id)
    branch, staff = Branch.alias(), Staff.alias()
    responses = (Response.select(Response.id, Response.submitted_at, Customer.name, Customer.organisation,
                                 branch.name, staff.name)
                 .join(Customer, JOIN.LEFT_OUTER, on=(Response.customer == Customer.id))
                 .switch(Response).join(branch, JOIN.LEFT_OUTER, on=(Response.branch == branch.id))
                 .switch(Response).join(staff, JOIN.LEFT_OUTER, on=(Response.staff == staff.id))
                 .where(in_period).order_by(Response.id))
    responses = period.scoped(responses, Response).tuples()
    picked = Staff.alias()
    answers = (Answer.select(Answer.response, Answer.question, Answer.value, Answer.expectation, Choice.text,
                             picked.name, Answer.text)
               .join(Response, on=(Answer.response == Response.id))
               .switch(Answer).join(Choice, JOIN.LEFT_OUTER, on=(Answer.choice == Choice.id))
               .switch(Answer).join(picked, JOIN.LEFT_OUTER, on=(Answer.staff == picked.id))
               .where(in_period).order_by(Answer.response, Answer.id))
    answers = period.scoped(answers, Response).tuples()
    question_columns, slots = _question_columns(questions)
    kinds = {question_id: kind for question_id, _text, kind in questions}
    fixed = [Column(_("Response"), NUMBER, 9), Column(_("Submitted at"), DATETIME), Column(_("Customer"), TEXT),
             Column(_("Branch"), TEXT), Column(_("Staff"), TEXT)]

    def rows():
        for parent, mine in _merge(responses.iterator(), answers.iterator(), lambda a: a[0]):
            response_id, submitted, customer, organisation, branch_name, staff_name = parent
            cells = [None] * len(question_columns)
            for _r, question_id, value, expectation, choice, picked_name, text in mine:
                slot, kind = slots.get(question_id), kinds.get(question_id)
                if slot is None:
                    continue
                if kind == "servqual":
                    cells[slot], cells[slot + 1] = expectation, value
                elif kind in ("rating", "score"):
                    cells[slot] = value
                else:
                    part = choice or picked_name or (text.strip() or None)
                    if part and kind == "multiple" and cells[slot]:
                        cells[slot] = f"{cells[slot]}; {part}"
                    elif part:
                        cells[slot] = part
            name = f"{customer} ({organisation})" if customer and organisation else customer
            yield [response_id, submitted, name, branch_name, staff_name] + cells
    title = _("Responses %(survey)s", survey=survey.title)
    return Sheet(title, fixed + question_columns, rows())


# keys of models.reports rows that are percentages (0-100): written as Excel percent cells
_PERCENT_KEYS = {"sla_rate", "csat"}
_TEXT_KEYS = {"branch", "region", "name", "employee_no"}


def _scoring_sheet(title, headings, rows):
    """A sheet of models.reports rows (dicts) in the order of `headings` (key → label)."""
    keys = list(headings)
    columns = [Column(str(headings[k]), PERCENT if k in _PERCENT_KEYS else TEXT if k in _TEXT_KEYS else NUMBER)
               for k in keys]

    def values():
        for row in rows:
            yield tuple(None if row.get(k) is None else row[k] / 100 if k in _PERCENT_KEYS else row[k]
                        for k in keys)
    return Sheet(title, columns, values())


def branch_ranking_sheet(period):
    """各分公司排名 of the period (composite and tie rules: models.reports.branch_ranking); other
    branches than the report's: rank and scores only (models.scope.ranking_for)."""
    from models.reports import RANKING_COLUMNS, branch_ranking
    from models.scope import ranking_for
    rows = ranking_for(branch_ranking(period.start, period.end), period.branches)
    return _scoring_sheet(_("Branch ranking"), RANKING_COLUMNS, rows)


def staff_scoreboard_sheet(period):
    """Staff scoreboard of the period, service-star candidates first (models.reports.staff_scoreboard)."""
    from models.reports import STAFF_COLUMNS, staff_scoreboard
    branch = None if period.branches is None else sorted(period.branches)
    return _scoring_sheet(_("Staff scoreboard"), STAFF_COLUMNS, staff_scoreboard(period.start, period.end, branch=branch))


# Sheet builders in workbook order. Each takes the Period and returns a Sheet or an iterable of Sheets.
REPORT_SHEETS = [
    overview_sheet,
    branch_ranking_sheet,
    complaints_by_stage_sheet,
    sla_breaches_sheet,
    survey_summary_sheet,
    staff_scoreboard_sheet,
    satisfaction_table_sheet,
    survey_responses_sheets,
]


def report_sheets(period, builders=None, branches=None):
    """The sheets of the report for `period`, built one after the other as they are written;
    `branches`: the ids the report covers (None: every branch; models.scope.branch_ids)."""
    if branches is not None:
        period = Period(period.kind, period.start, period.end, frozenset(branches))
    for build in builders or REPORT_SHEETS:
        result = build(period)
        if isinstance(result, Sheet):
            yield result
        else:
            yield from result


def report_filename(period):
    return f"{period.title()}.xlsx".replace("/", "-")


