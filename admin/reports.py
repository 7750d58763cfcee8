"""Scoring pages for managers: branch ranking, staff scoreboard and service star (with the
approval that creates the Award and its printable certificate), survey analytics and
customer quadrants. The figures come from models.reports; these views only parse the
filters, render, and link each figure to the admin list behind it."""
import re
from datetime import timedelta

import pygal
from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from pygal.style import Style

from models import AnonymousFeedback, Award, Branch, Complaint, Customer, Invitation, Response, Staff, Survey
from models import reports
from models.clock import now
from models.complaints import CATEGORY_LIST
from models.customers import GRADE_LIST
from models.feedback import feedback_counts
from models.i18n import label_of
from models.privacy import contact_shown_ids, mask
from models.recognition import AWARD_KINDS, STAR_KINDS, NotACandidate, approve_service_star
from models.scope import branch_choices, branch_ids, figure_branches, get_in_scope, ranking_for, scoped
from models.surveys import DIMENSION_LIST, QUESTION_KINDS

from redirects import safe_next

from .base import DashboardView, RoleBaseView, _user, scope_or_404

PERIOD_LABELS = {"week": _l("By week"), "month": _l("By month"), "quarter": _l("By quarter"),
                 "custom": _l("Custom")}
QUADRANT_LABELS = {
    "loyal": _l("Loyal (satisfied, quiet)"),
    "praiser": _l("Praiser (satisfied, vocal)"),
    "silent_protester": _l("Silent protester (dissatisfied, quiet)"),
    "complainer": _l("Complainer (dissatisfied, vocal)"),
}


# ---------------------------------------------------------------- links to filtered lists

def list_url(endpoint, conditions=(), **extra):
    """URL of the admin list `endpoint` filtered like Flask-Admin's own filter bar does
    (`flt<n>_<filter index>=value`). `conditions`: (field, filter class name, value) tuples,
    e.g. (Complaint.stage, "FilterEqual", "received"). None when the list has no such filter,
    so a figure is never linked to a list that would show something else."""
    view = _admin_view(endpoint)
    if view is None:
        return None
    args = {}
    for position, (field, filter_type, value) in enumerate(conditions):
        for index, flt in enumerate(view._filters or ()):
            column = getattr(flt, "column", None)
            if (type(flt).__name__ == filter_type and getattr(column, "name", None) == field.name
                    and getattr(column, "model", None) is field.model):
                args[f"flt{position}_{view.get_filter_arg(index, flt)}"] = value
                break
        else:
            return None
    return url_for(f"{endpoint}.index_view", **args, **extra)


def sorted_by(endpoint, column_name):
    """The `sort` argument that orders the list `endpoint` by `column_name` (ascending), or {}."""
    view = _admin_view(endpoint)
    names = [name for name, _label in (view._list_columns if view else [])]
    if column_name in names and column_name in (view._sortable_columns or {}):
        return {"sort": names.index(column_name)}
    return {}


def _admin_view(endpoint):
    for admin in current_app.extensions.get("admin", []):
        for view in admin._views:
            if view.endpoint == endpoint:
                return view
    return None


def between(period):
    """A half-open period as the inclusive "A to B" value of Flask-Admin's datetime-between
    filter (timestamps are stored to the second: clock.now() drops microseconds); written
    "A 至 B" on Chinese pages, as the date picker writes it there (admin/filters.py)."""
    separator = " 至 " if str(get_locale() or "").startswith("zh") else " to "
    return f"{period.start:%Y-%m-%d %H:%M:%S}{separator}{period.end - timedelta(seconds=1):%Y-%m-%d %H:%M:%S}"


# ---------------------------------------------------------------- filters from the query string

def period_from_args(default_kind, kinds):
    """The period asked for in ?period=&at= (or &from=&to= for custom); a bad value is
    reported and the current default period is shown instead."""
    kind = request.args.get("period") or default_kind
    if kind not in kinds:
        flash(_("Unknown period %(kind)s; showing the current %(default)s.", kind=kind,
                default=PERIOD_LABELS[default_kind]), "error")
        return reports.period_of(default_kind)
    try:
        return reports.parse_period(kind, at=request.args.get("at") or None,
                                    first=request.args.get("from"), last=request.args.get("to"))
    except ValueError:
        flash(_("Invalid dates: use YYYY-MM-DD, the end not before the start. Showing the current %(default)s.",
                default=PERIOD_LABELS[default_kind]), "error")
        return reports.period_of(default_kind)


def _int_arg(name, model):
    """The id in ?name= if such a row exists in the user's branch scope; a bad, unknown or
    out-of-scope id is reported the same way and ignored."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    row = get_in_scope(model, raw, _user())
    if row is not None:
        return row.id
    flash(_("Unknown %(what)s %(value)s: filter ignored.", what=name, value=raw[:20]), "error")
    return None


def _figures_branch(branch):
    """The `branch` argument of the figures: the chosen branch, else the user's branches (or
    None for every branch: the director and the administrator)."""
    return figure_branches(_user(), branch)[0]


def _grade_arg():
    grade = request.args.get("grade") or None
    if grade and grade not in GRADE_LIST.labels():
        flash(_("Unknown customer grade %(value)s: filter ignored.", value=grade), "error")
        return None
    return grade


def _branches():
    return branch_choices(_user())


# the query arguments the scoring pages read; links keep these and nothing else
PAGE_ARGS = ("period", "at", "from", "to", "branch", "staff", "grade", "trend", "quadrant")


def kept_args(**changes):
    """The page's own query arguments (PAGE_ARGS) with `changes`, for links to the same page:
    anything else in the query string (e.g. ?endpoint= or ?_method=, which url_for would take
    as its own arguments) is dropped."""
    args = {k: v[:40] for k, v in request.args.items() if k in PAGE_ARGS}
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def _nav(period):
    """Query args of the previous and next period, keeping the other filters."""
    args = {k: v for k, v in kept_args().items() if k not in ("at", "from", "to")}
    if period.kind == "custom":
        return None, None
    return ({**args, "period": period.kind, "at": period.previous().start.date().isoformat()},
            {**args, "period": period.kind, "at": period.next().start.date().isoformat()})


# ---------------------------------------------------------------- charts (pygal, server-side SVG, no JS)

CHART_STYLE = Style(background="transparent", plot_background="#ffffff", font_family="Noto Sans CJK SC, sans-serif",
                    colors=("#2fa4e7", "#73a839", "#dd5600", "#c71c22"), label_font_size=13,
                    major_label_font_size=13, legend_font_size=14, title_font_size=16)


_SVG_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _svg(chart):
    # js=[]: pygal's default tooltips script comes from a CDN; the app must work offline. The
    # inline config script it still writes is dropped: it only feeds that tooltips script, and
    # the Content-Security-Policy would refuse it.
    return Markup(_SVG_SCRIPT.sub("", chart.render(is_unicode=True)))


def trend_charts(rows):
    labels = [row["label"] for row in rows]
    common = dict(js=[], disable_xml_declaration=True, style=CHART_STYLE, width=760, height=300,
                  x_label_rotation=30, legend_at_bottom=True, print_values=False, explicit_size=False)
    rates = pygal.Line(title=_("SLA compliance, CSAT and NPS (%)"), allow_interruptions=True, **common)
    rates.x_labels = labels
    rates.add(_("SLA compliance"), [row["sla"] for row in rows])
    rates.add(_("CSAT"), [row["csat"] for row in rows])
    rates.add(_("NPS"), [row["nps"] for row in rows])
    received = pygal.Bar(title=_("Complaints received"), show_legend=False, **common)
    received.x_labels = labels
    received.add(_("Complaints received"), [row["complaints"] for row in rows])
    return _svg(rates), _svg(received)


_SPARKLINE_NOISE = re.compile(r"<script.*?</script>|<style.*?</style>|<!--.*?-->|<title>.*?</title>", re.S)


def sparkline(values, title):
    """A small line (pygal, server-side SVG, no script) of `values`, e.g. responses per week.
    Styled by the page's .sparkline CSS; `title` is what a screen reader or a hover says."""
    chart = pygal.Line(js=[], css=[], disable_xml_declaration=True, no_prefix=True, explicit_size=True, width=160,
                       height=36, style=Style(background="transparent", plot_background="transparent"))
    chart.add("", list(values))
    svg = _SPARKLINE_NOISE.sub("", chart.render_sparkline(interpolate=None, show_dots=False))
    svg = svg.replace('id=""', "", 1).replace('class="pygal-chart pygal-sparkline"', 'class="sparkline" role="img"', 1)
    return Markup(svg.replace(">", "><title>" + str(Markup.escape(title)) + "</title>", 1))


def ranking_chart(rows):
    chart = pygal.HorizontalBar(js=[], disable_xml_declaration=True, style=CHART_STYLE, width=760,
                                height=60 + 36 * max(len(rows), 1), show_legend=False, range=(0, 100),
                                title=_("Composite score"), explicit_size=False)
    ordered = [r for r in rows if r["score"] is not None][::-1]
    chart.x_labels = [r["branch"] for r in ordered]
    chart.add(_("Score"), [r["score"] for r in ordered])
    return _svg(chart)


# ---------------------------------------------------------------- views

class ManagerView(RoleBaseView):
    required_role = "manager"

    def render(self, template, **kwargs):
        kwargs.setdefault("period_labels", PERIOD_LABELS)
        kwargs.setdefault("grades", GRADE_LIST)
        kwargs.setdefault("grade_label", GRADE_LIST.label)
        return super().render(template, **kwargs)


class BranchRankingView(ManagerView):
    """各分公司排名: weekly (Friday report) and monthly report."""

    @expose("/")
    def index(self):
        period = period_from_args("week", ("week", "month", "quarter", "custom"))
        grade = _grade_arg()
        weights, problem = reports.ranking_weights()
        if problem:
            flash(_('The setting "ranking_weights" is not valid, the default weights are used: '
                    '{"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2}.'), "warning")
        rows = ranking_for(reports.branch_ranking(period.start, period.end, grade=grade, weights=weights),
                           branch_ids(_user()))
        links = {}
        if not grade:
            for row in rows:
                if not row["in_scope"]:
                    continue  # another branch: its rank and scores, not its complaints
                links[row["branch_id"]] = list_url("complaint", [
                    (Complaint.received_at, "DateTimeBetweenFilter", between(period)),
                    (Complaint.branch, "RelatedFilter", row["branch_id"])])
        previous, following = _nav(period)
        return self.render("admin/reports/ranking.html", period=period, rows=rows, grade=grade, weights=weights,
                           chart=ranking_chart(rows), links=links, previous=previous, following=following,
                           ranking_note=reports.ranking_note)


class StaffScoreboardView(ManagerView):
    """Staff scoreboard, service-star candidates, approval and the award certificate."""

    @expose("/")
    def index(self):
        period = period_from_args("month", ("month", "quarter"))
        branch = _int_arg("branch", Branch)
        rows = reports.staff_scoreboard(period.start, period.end, branch=_figures_branch(branch))
        kind = STAR_KINDS[period.kind]
        awarded = {a.staff_id: a for a in Award.select().where(Award.kind == kind, Award.period == period.label)}
        previous, following = _nav(period)
        return self.render("admin/reports/scoreboard.html", period=period, rows=rows, branch=branch,
                           branches=_branches(), star_kind=kind, star_label=label_of(AWARD_KINDS, kind),
                           awarded=awarded, previous=previous, following=following,
                           candidates=[r for r in rows if r["eligible"]])

    @expose("/approve/", methods=("POST",))
    def approve(self):
        """Approve a candidate as service star; the candidacy rule is approve_service_star's."""
        kind = request.form.get("kind", "")
        period_label = request.form.get("period", "").strip()
        staff_id = request.form.get("staff_id", "")
        back = safe_next(request.form.get("next")) or url_for(".index")
        staff = get_in_scope(Staff, staff_id, _user())  # a staff member of the user's branches
        if staff is None:
            flash(_("Not approved: choose a staff member from the candidate list of a month or quarter."), "error")
            return redirect(back)
        try:
            award, created = approve_service_star(
                staff, kind, period_label, user=current_user._get_current_object(),
                reason=request.form.get("reason", "").strip()[:2000] or _("Chosen by the customers' votes"),
                prize=request.form.get("prize", "").strip()[:200])
        except NotACandidate as refused:
            flash(str(refused), "error")
            return redirect(back)
        if created:
            flash(_("%(name)s is %(award)s %(period)s.", name=staff.name, award=label_of(AWARD_KINDS, kind),
                    period=period_label), "success")
        else:
            flash(_("%(name)s was already approved as %(award)s %(period)s; nothing was added.", name=staff.name,
                    award=label_of(AWARD_KINDS, kind), period=period_label), "info")
        return redirect(url_for(".certificate", award_id=award.id))

    @expose("/certificate/<int:award_id>/")
    def certificate(self, award_id):
        award = scope_or_404(Award, award_id)
        return self.render("admin/reports/certificate.html", award=award, staff=award.staff,
                           branch=award.staff.branch, kind_label=label_of(AWARD_KINDS, award.kind))


class SurveyAnalyticsView(ManagerView):
    """Per survey: distribution per question, CSAT/NPS, dimensions, SERVQUAL gap, comments."""

    @expose("/")
    def index(self):
        """Every survey with its figures for the period (default: the last 90 days, like a survey's page)."""
        if not request.args.get("period"):
            period = reports.custom_period((now() - timedelta(days=89)).date(), now().date())
        else:
            period = period_from_args("month", ("week", "month", "quarter", "custom"))
        rows = reports.survey_overview(period.start, period.end, branch=_figures_branch(None))  # the user's branches
        for row in rows:
            counts = [n for _period, n in row["weekly"]]
            row["sparkline"] = sparkline(counts, _("Responses per week, last %(n)d weeks: %(counts)s", n=len(counts),
                                                   counts=", ".join(map(str, counts))))
            row["links"] = survey_index_links(row["survey"], period)
        period_args = {"period": "custom", "from": period.start.date().isoformat(),
                       "to": period.last_day.isoformat()}
        return self.render("admin/reports/surveys.html", rows=rows, period=period, period_args=period_args)

    @expose("/<int:survey_id>/")
    def survey(self, survey_id):
        survey = scope_or_404(Survey, survey_id)
        if not request.args.get("period"):
            period = reports.custom_period((now() - timedelta(days=89)).date(), now().date())
        else:
            period = period_from_args("month", ("week", "month", "quarter", "custom"))
        branch, staff = _int_arg("branch", Branch), _int_arg("staff", Staff)
        figures = reports.survey_analytics(survey, period.start, period.end, branch=_figures_branch(branch),
                                           staff=staff)
        staff_list = list(scoped(Staff.select(Staff.id, Staff.name, Staff.employee_no, Staff.branch)
                                 .where(Staff.active == True).order_by(Staff.name), _user()))  # noqa: E712
        questions = [item["question"] for item in figures["questions"]]
        sections = {"csat": any(q.kind == "rating" for q in questions),
                    "nps": any(q.kind == "score" for q in questions),
                    "dimensions": any(q.kind == "rating" and q.dimension for q in questions),
                    "servqual": any(q.kind == "servqual" for q in questions),
                    "comments": any(q.kind == "text" for q in questions)}
        feedback = feedback_counts(period.start, period.end, branch=_figures_branch(branch), survey=survey)
        feedback_link = list_url("anonymous_feedback", [
            (AnonymousFeedback.survey, "RelatedFilter", survey.id),
            (AnonymousFeedback.received_at, "DateTimeBetweenFilter", between(period))]
            + ([(AnonymousFeedback.branch, "RelatedFilter", branch)] if branch else []))
        return self.render("admin/reports/survey.html", survey=survey, period=period, figures=figures,
                           sections=sections, feedback=feedback, feedback_link=feedback_link,
                           branch=branch, staff=staff, branches=_branches(), staff_list=staff_list,
                           kind_label=lambda code: label_of(QUESTION_KINDS, code),
                           dimension_label=lambda code: DIMENSION_LIST.label(code) if code else _("(no dimension)"))


def survey_index_links(survey, period):
    """The lists behind a survey's figures on the analytics index, filtered like the figure."""
    when = between(period)
    return {
        "responses": list_url("response", [(Response.survey, "RelatedFilter", survey.id),
                                           (Response.submitted_at, "DateTimeBetweenFilter", when),
                                           (Response.status, "FilterEqual", "counted")]),
        "held": list_url("held_response", [(Response.survey, "RelatedFilter", survey.id),
                                           (Response.submitted_at, "DateTimeBetweenFilter", when)]),
        "invitations": list_url("invitation", [(Invitation.survey, "RelatedFilter", survey.id),
                                               (Invitation.sent_at, "DateTimeBetweenFilter", when)]),
        "complaints": list_url("response", [(Response.survey, "RelatedFilter", survey.id),
                                            (Response.submitted_at, "DateTimeBetweenFilter", when),
                                            (Response.followup_complaint, "FilterEmpty", "0")]),
        "feedback": list_url("anonymous_feedback", [(AnonymousFeedback.survey, "RelatedFilter", survey.id),
                                                    (AnonymousFeedback.received_at, "DateTimeBetweenFilter", when)]),
    }


class CustomerQuadrantView(ManagerView):
    """Satisfied/dissatisfied × vocal/quiet; the silent protesters are the call list."""

    @expose("/")
    def index(self):
        if not request.args.get("period"):
            period = reports.custom_period((now() - timedelta(days=364)).date(), now().date())
        else:
            period = period_from_args("quarter", ("month", "quarter", "custom"))
        branch, grade = _int_arg("branch", Branch), _grade_arg()
        quadrant = request.args.get("quadrant", "silent_protester")
        if quadrant not in reports.QUADRANTS:
            quadrant = "silent_protester"
        placed = reports.customer_quadrants(period.start, period.end, branch=_figures_branch(branch), grade=grade)
        _mask_phones(placed)
        return self.render("admin/reports/quadrants.html", period=period, placed=placed, quadrant=quadrant,
                           kept_args=kept_args,
                           quadrant_labels=QUADRANT_LABELS, branch=branch, grade=grade, branches=_branches(),
                           satisfied_at=reports.SATISFIED_AT)


def _mask_phones(placed):
    """The quadrant lists show a phone in full only to the people who own the customer
    (models.privacy); the customer page has the logged "show"."""
    ids = [row["customer_id"] for rows in placed.values() for row in rows]
    customers = list(Customer.select(Customer.id, Customer.branch, Customer.account_manager)
                     .where(Customer.id.in_(ids))) if ids else []
    shown = contact_shown_ids(_user(), customers)
    for rows in placed.values():
        for row in rows:
            if row["customer_id"] not in shown:
                row["phone"] = mask("phone", row["phone"])


class ScoringDashboardView(DashboardView):
    """Landing page (every role): complaints now, this period's SLA, CSAT, NPS and response
    rate, the 12-week or 12-month trend. Aggregates only: no personal data."""

    @expose("/")
    def index(self):
        period = period_from_args("month", ("week", "month", "quarter"))
        trend_kind = request.args.get("trend", "week")
        if trend_kind not in ("week", "month"):
            trend_kind = "week"
        branch = _int_arg("branch", Branch)
        summary = reports.dashboard_summary(period, trend_kind, branch=_figures_branch(branch))
        rates_chart, received_chart = trend_charts(summary["trend"])
        previous, following = _nav(period)
        # a manager of one branch: the lists behind the figures are filtered to it, like the figures
        # (a complaint list also shows the complaints their branch is named responsible for)
        scope = branch_ids(_user())
        link_branch = branch or (next(iter(scope)) if scope is not None and len(scope) == 1 else None)
        return self.render("admin/dashboard.html", summary=summary, period=period,
                           links=dashboard_links(summary, link_branch),
                           category_label=CATEGORY_LIST.label,
                           rates_chart=rates_chart, received_chart=received_chart, branch=branch,
                           branches=_branches(), period_labels=PERIOD_LABELS, previous=previous, following=following)


def dashboard_links(summary, branch=None):
    """The filtered admin list behind each dashboard figure (None where no list filter fits)."""
    scope = [(Complaint.branch, "RelatedFilter", branch)] if branch else []
    response_scope = [(Response.branch, "RelatedFilter", branch)] if branch else []
    period = summary["period"]
    by_deadline = sorted_by("complaint", "due_at")
    overdue = (Complaint.due_at, "OverdueFilter", "1")
    counted = (Response.status, "FilterEqual", "counted")  # held submissions are in no figure
    links = {
        "open_total": list_url("complaint", [(Complaint.stage, "FilterNotEqual", "closed")] + scope),
        # overdue figures open exactly the overdue complaints (of the stage), earliest deadline first
        "overdue_total": list_url("complaint", [overdue] + scope, **by_deadline),
        "overdue": {stage: list_url("complaint", [(Complaint.stage, "FilterEqual", stage), overdue] + scope,
                                    **by_deadline)
                    for stage in summary["by_stage"]},
        "stage": {stage: list_url("complaint", [(Complaint.stage, "FilterEqual", stage)] + scope)
                  for stage in summary["by_stage"]},
        "received": list_url("complaint", [(Complaint.received_at, "DateTimeBetweenFilter", between(period))] + scope),
        # the cards "due within 2 h" and "received today"
        "due_soon": list_url("complaint", [(Complaint.due_at, "DueSoonFilter", "1")] + scope, **by_deadline),
        "received_today": list_url("complaint", [(Complaint.received_at, "DateTimeBetweenFilter",
                                                  between(reports.custom_period(summary["now"].date(),
                                                                                summary["now"].date())))] + scope),
        # SLA table: per stage, the complaints received in the period whose stage was done / on time / late
        "sla": {stage: {state: list_url("complaint", [
            (Complaint.received_at, "DateTimeBetweenFilter", between(period)),
            (Complaint.stage, "SlaResultFilter", f"{stage}:{state}")] + scope)
            for state in ("done", "on_time", "late")} for stage in summary["sla"] if stage != "overall"},
        # CSAT and NPS are computed from the answers of the responses received in the period
        "satisfaction": list_url("response", [(Response.submitted_at, "DateTimeBetweenFilter", between(period)),
                                              counted] + response_scope),
        "trend_responses": {row["label"]: list_url("response", [(Response.submitted_at, "DateTimeBetweenFilter",
                                                                 between(row["period"])), counted] + response_scope)
                            for row in summary["trend"]},
        "responses": list_url("response", [(Response.submitted_at, "DateTimeBetweenFilter", between(period)),
                                           counted] + response_scope),
        "category": {code: list_url("complaint", [(Complaint.received_at, "DateTimeBetweenFilter", between(period)),
                                                  (Complaint.category, "FilterEqual", code)] + scope)
                     for code in summary["by_category"]},
        "trend": {row["label"]: list_url("complaint", [(Complaint.received_at, "DateTimeBetweenFilter",
                                                        between(row["period"]))] + scope)
                  for row in summary["trend"]},
    }
    # the overall SLA figures count the stages of the complaints received in the period: that cohort
    links["sla"]["overall"] = {state: links["received"] for state in ("done", "on_time", "late")}
    if not branch:  # the invitation list has no branch filter
        sent = (Invitation.sent_at, "DateTimeBetweenFilter", between(period))
        links["sent"] = list_url("invitation", [sent])
        links["answered"] = list_url("invitation", [sent, (Invitation.answered_at, "FilterEmpty", "0")])
    return links
