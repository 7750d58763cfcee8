"""Report workbooks: the weekly report (周报) and the monthly report (月报).

A workbook is a list of sheet builders; a builder takes the Period and the moment the
figures are counted at ("now", one moment for the whole workbook) and returns a Sheet (or
several): a title, header labels and a row iterator (REPORT_SHEETS below). Every figure on
every sheet comes from the glossary, models.reports (the same functions as the pages), so a
sheet and the page showing the same figure agree; this module only lays them out.

Times are office-local naive datetimes; the period is [start, end) (models.reports.Period).

A workbook covers the branches of the user who downloads it (report_sheets(branches=...),
from models.scope.branch_ids): every sheet counts only their rows, and the branch ranking
shows the other branches' ranks and scores only (models.scope.ranking_for).
"""
from flask_babel import gettext as _
from peewee import JOIN

from models import Answer, Branch, Choice, Complaint, Customer, Invitation, Question, Rectification, Response, Staff, \
    Survey
from models.clock import now
from models.complaints import CATEGORY_LIST, STAGE_TABLE, TIMED_STAGES
from models.customers import GRADE_LIST
from models.i18n import label_of
from models.reports import (RANKING_COLUMNS, STAFF_COLUMNS, NO_RESPONSE_RATE, NO_SATISFACTION,
                            branch_ranking, complaints_by_category, complaints_by_stage, counted_responses, listed_branches,
                            no_breaches, no_complaints_by_stage, ranking_note, response_rates, responses_by,
                            report_title, satisfaction_by, sla_breaches, staff_scoreboard, total_score)
from models.scope import condition, ranking_for
from models.surveys import SURVEY_KINDS

from .writers import DATE, DATETIME, NUMBER, PERCENT, TEXT, Column, Sheet

def period_text(period):
    """"2026-11-23 – 2026-11-29": the days the period covers (both included)."""
    first, last = period.start.date().isoformat(), period.last_day.isoformat()
    return first if first == last else f"{first} – {last}"


def office_name():
    """The office's name for printed pages: the setting "office.name", else the product's name."""
    from models.audit import Setting
    return (Setting.get_value("office.name", "") or "").strip() or _("Service desk")


def covered(period):
    """The branch ids the report covers (None: every branch); set by report_sheets()."""
    return getattr(period, "branches", None)


def _in_scope(query, model, period):
    """`query` limited to the rows of `model` in the branches the report covers."""
    branches = covered(period)
    return query if branches is None else query.where(condition(model, branches))


def _figures_branch(period):
    """The `branch` argument of models.reports for this report: None or a list of ids."""
    branches = covered(period)
    return None if branches is None else sorted(branches)


def _fraction(percentage):
    """A glossary percentage (0-100, rounded) as the workbook's percent cell (0-1)."""
    return None if percentage is None else percentage / 100


# --------------------------------------------------------------------------- sheets

def overview_sheet(period, moment):
    rows = [
        (_("Report"), report_title(period)),
        (_("From"), period.start),
        (_("To (exclusive)"), period.end),
        (_("Figures counted at"), moment),
        (_("Generated at"), moment),
    ]
    if covered(period) is not None:
        names = [name for (name,) in Branch.select(Branch.name).where(Branch.id.in_(sorted(covered(period))))
                 .order_by(Branch.name).tuples()]
        rows.append((_("Branches"), "、".join(names)))
    return Sheet(_("Overview"), [Column(_("Item"), TEXT, 20), Column(_("Value"), "any", 40)], iter(rows))


def _branch_rows(by_branch, period=None):
    """The listed branches (active, or with data) ordered by region and name; of the branches
    the report covers."""
    branches = covered(period) if period is not None else None
    return sorted((b for b in listed_branches(by_branch) if branches is None or b.id in branches),
                  key=lambda b: (b.region or "", b.name, b.id))


def complaints_by_stage_sheet(period, moment):
    """Per branch: complaints received in the period, the stage they are at now, overdue now
    (models.reports.complaints_by_stage)."""
    by_branch = complaints_by_stage(period.start, period.end, Complaint.branch, moment,
                                    branch=_figures_branch(period))
    columns = ([Column(_("Branch"), TEXT), Column(_("Region"), TEXT, 10), Column(_("Complaints received"), NUMBER)]
               + [Column(_("Now at: %(stage)s", stage=stage.label), NUMBER) for stage in STAGE_TABLE]
               + [Column(_("Overdue now"), NUMBER)])

    def rows():
        for branch in _branch_rows(by_branch, period):
            figures = by_branch.get(branch.id, no_complaints_by_stage())
            yield [branch.name, branch.region, figures["received"]] + list(figures["stages"].values()) + [
                figures["overdue"]]
    return Sheet(_("Complaints by stage"), columns, rows())


def complaints_by_category_sheet(period, moment):
    """Complaints received in the period per category, as the office's list names them now,
    counted by the stored code (models.reports.complaints_by_category)."""
    counts = complaints_by_category(period.start, period.end)
    columns = [Column(_("Category"), TEXT, 24), Column(_("Complaints received"), NUMBER)]
    return Sheet(_("Complaints by category"), columns,
                 iter([[CATEGORY_LIST.label(code), count] for code, count in counts.items()]))


def sla_breaches_sheet(period, moment):
    """Per branch, for the complaints received in the period: breaches per stage (done late
    or overdue now), complaints with a breach and the breach-free share
    (models.reports.sla_breaches; not "SLA compliance", which counts stages done)."""
    by_branch = sla_breaches(period.start, period.end, Complaint.branch, moment, branch=_figures_branch(period))
    columns = ([Column(_("Branch"), TEXT), Column(_("Region"), TEXT, 10), Column(_("Complaints received"), NUMBER)]
               + [Column(_("Breaches: %(stage)s", stage=stage.label), NUMBER) for stage in TIMED_STAGES]
               + [Column(_("Complaints with a breach"), NUMBER), Column(_("Breach-free complaints"), PERCENT)])

    def rows():
        for branch in _branch_rows(by_branch, period):
            figures = by_branch.get(branch.id, no_breaches())
            yield ([branch.name, branch.region, figures["received"]]
                   + [stage["breaches"] for stage in figures["stages"].values()]
                   + [figures["with_breach"], _fraction(figures["breach_free_rate"])])
    return Sheet(_("SLA breaches"), columns, rows())


def survey_summary_sheet(period, moment):
    """Per survey with responses or invitations sent in the period: responses received,
    invitations sent and answered, response rate, ratings, mean rating, CSAT, score answers
    and NPS (models.reports: responses_by, response_rates, satisfaction_by)."""
    branch = _figures_branch(period)
    responses = responses_by(Response.survey, period.start, period.end, branch=branch)
    invitations = response_rates(period.start, period.end, key=Invitation.survey, branch=branch)
    satisfaction = satisfaction_by(Response.survey, period.start, period.end, branch=branch)
    ids = set(responses) | set(invitations) | set(satisfaction)
    surveys = Survey.select(Survey.id, Survey.title, Survey.kind).where(Survey.id.in_(list(ids))).order_by(Survey.id)
    columns = [Column(_("Survey"), TEXT, 30), Column(_("Kind"), TEXT), Column(_("Responses"), NUMBER),
               Column(_("Invitations sent"), NUMBER), Column(_("Invitations answered"), NUMBER),
               Column(_("Response rate"), PERCENT), Column(_("Rating answers"), NUMBER),
               Column(_("Average rating (1-5)"), NUMBER), Column(_("CSAT (4-5)"), PERCENT),
               Column(_("Score answers (0-10)"), NUMBER), Column(_("NPS"), NUMBER)]

    def rows():
        for survey_id, title, kind in surveys.tuples().iterator() if ids else ():
            sent = invitations.get(survey_id, NO_RESPONSE_RATE)
            sat = satisfaction.get(survey_id, NO_SATISFACTION)
            yield [title, label_of(SURVEY_KINDS, kind), responses.get(survey_id, 0), sent["sent"], sent["answered"],
                   _fraction(sent["rate"]), sat["csat"]["answers"], sat["csat"]["mean"],
                   _fraction(sat["csat"]["csat"]), sat["nps"]["answers"], sat["nps"]["nps"]]
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


def satisfaction_table_sheet(period, moment):
    """满意度调查表 of the source documents: branch, region, customer, customer grade, total
    score, opinion, improvement plan (with date) — one row per response in the period.
    Total score: sum of the rating and 0-10 answers; opinion: the free-text answers; the
    plan: the long-term measures of the follow-up complaint's rectification worksheet."""
    own_branch, customer_branch = Branch.alias(), Branch.alias()
    followup = Complaint.alias()
    in_period = period.contains(Response.submitted_at) & counted_responses()
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
    responses = _in_scope(responses, Response, period).tuples()
    answers = (Answer.select(Answer.response, Question.kind, Answer.value, Answer.text)
               .join(Question, on=(Answer.question == Question.id))
               .switch(Answer).join(Response, on=(Answer.response == Response.id))
               .where(in_period).order_by(Answer.response, Question.position, Question.id, Answer.id))
    answers = _in_scope(answers, Response, period).tuples()
    columns = [Column(_("Submitted at"), DATETIME), Column(_("Survey"), TEXT, 24), Column(_("Branch"), TEXT),
               Column(_("Region"), TEXT, 10), Column(_("Customer"), TEXT, 24), Column(_("Customer grade"), TEXT),
               Column(_("Total score"), NUMBER), Column(_("Opinion"), TEXT, 40),
               Column(_("Improvement plan"), TEXT, 40), Column(_("Plan date"), DATE),
               Column(_("Follow-up complaint"), TEXT, 20)]
    grades = GRADE_LIST.labels()

    def rows():
        for parent, mine in _merge(responses.iterator(), answers.iterator(), lambda a: a[0]):
            (_id, submitted, survey, branch, region, c_branch, c_region, customer, organisation, grade,
             complaint_no, plan, plan_date) = parent
            numbers = [value for _r, kind, value, _t in mine if kind in ("rating", "score")]
            opinion = "; ".join(text.strip() for _r, kind, _v, text in mine if kind == "text" and text.strip())
            name = f"{customer} ({organisation})" if customer and organisation else customer
            yield [submitted, survey, branch or c_branch, region or c_region, name,
                   grades.get(grade, grade), total_score(numbers), opinion, plan, plan_date,
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


def survey_responses_sheets(period, moment):
    """Per survey with responses in the period, one sheet in wide format: one row per
    response, one column per question (like LimeSurvey / Formbricks exports)."""
    in_period = period.contains(Response.submitted_at) & counted_responses()
    survey_ids = [sid for (sid,) in _in_scope(Response.select(Response.survey).where(in_period), Response, period)
                  .distinct().order_by(Response.survey).tuples()]
    for survey in Survey.select().where(Survey.id.in_(survey_ids)).order_by(Survey.id) if survey_ids else ():
        questions = list(Question.select(Question.id, Question.text, Question.kind)
                         .where(Question.survey == survey.id).order_by(Question.position, Question.id).tuples())
        yield _survey_responses_sheet(period, survey, questions)


def _survey_responses_sheet(period, survey, questions):
    in_period = period.contains(Response.submitted_at) & counted_responses() & (Response.survey == survey.id)
    branch, staff = Branch.alias(), Staff.alias()
    responses = (Response.select(Response.id, Response.submitted_at, Customer.name, Customer.organisation,
                                 branch.name, staff.name)
                 .join(Customer, JOIN.LEFT_OUTER, on=(Response.customer == Customer.id))
                 .switch(Response).join(branch, JOIN.LEFT_OUTER, on=(Response.branch == branch.id))
                 .switch(Response).join(staff, JOIN.LEFT_OUTER, on=(Response.staff == staff.id))
                 .where(in_period).order_by(Response.id))
    responses = _in_scope(responses, Response, period).tuples()
    picked = Staff.alias()
    answers = (Answer.select(Answer.response, Answer.question, Answer.value, Answer.expectation, Choice.text,
                             picked.name, Answer.text)
               .join(Response, on=(Answer.response == Response.id))
               .switch(Answer).join(Choice, JOIN.LEFT_OUTER, on=(Answer.choice == Choice.id))
               .switch(Answer).join(picked, JOIN.LEFT_OUTER, on=(Answer.staff == picked.id))
               .where(in_period).order_by(Answer.response, Answer.id))
    answers = _in_scope(answers, Response, period).tuples()
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
_TEXT_KEYS = {"branch", "region", "name", "employee_no", "status"}


def _scoring_sheet(title, headings, rows, shown=None):
    """A sheet of models.reports rows (dicts) in the order of `headings` (key → label);
    `shown` {key: function(row)} for a cell that is not the row's own value."""
    keys = list(headings)
    shown = shown or {}
    columns = [Column(str(headings[k]), PERCENT if k in _PERCENT_KEYS else TEXT if k in _TEXT_KEYS else NUMBER)
               for k in keys]

    def values():
        for row in rows:
            yield tuple(shown[k](row) if k in shown else _fraction(row.get(k)) if k in _PERCENT_KEYS else row.get(k)
                        for k in keys)
    return Sheet(title, columns, values())


def branch_ranking_sheet(period, moment):
    """各分公司排名 of the period (composite and tie rules: models.reports.branch_ranking); the
    branches the report does not cover: rank and scores only (models.scope.ranking_for)."""
    rows = ranking_for(branch_ranking(period.start, period.end), covered(period))
    return _scoring_sheet(_("Branch ranking"), RANKING_COLUMNS, rows,
                          shown={"status": lambda row: ranking_note(row) or None})


def staff_scoreboard_sheet(period, moment):
    """Staff scoreboard of the period, service-star candidates first (models.reports.staff_scoreboard)."""
    return _scoring_sheet(_("Staff scoreboard"), STAFF_COLUMNS,
                          staff_scoreboard(period.start, period.end, branch=_figures_branch(period)))


# Sheet builders in workbook order. Each takes the Period and returns a Sheet or an iterable of Sheets.
REPORT_SHEETS = [
    overview_sheet,
    branch_ranking_sheet,
    complaints_by_stage_sheet,
    complaints_by_category_sheet,
    sla_breaches_sheet,
    survey_summary_sheet,
    staff_scoreboard_sheet,
    satisfaction_table_sheet,
    survey_responses_sheets,
]


def report_sheets(period, builders=None, moment=None, branches=None):
    """The sheets of the report for `period` (a models.reports.Period: report_period()),
    built one after the other as they are written; every "now" figure is counted at
    `moment` (default: now), one moment for the whole workbook; of `branches` (ids) only
    when given (models.scope.branch_ids of the user)."""
    moment = moment or now()
    if branches is not None:
        period.branches = frozenset(branches)
    title = (office_name(), report_title(period), period_text(period))
    for build in builders or REPORT_SHEETS:
        result = build(period, moment)
        for sheet in [result] if isinstance(result, Sheet) else result:
            sheet.print_title = (title[0], f"{title[1]} · {sheet.title}", title[2])
            yield sheet


def report_filename(period):
    return f"{report_title(period)}.xlsx".replace("/", "-")


