"""Surveys with their questions and choices, the links customers answer through
(invitations, open links, QR codes), and responses (read-only)."""
from datetime import timedelta

from flask import abort, flash, g, redirect, request, url_for
from flask import Response as HttpResponse
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_admin.contrib.peewee.form import InlineFormAdmin
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup

from models import Answer, Branch, Choice, Complaint, Customer, Invitation, OpenLink, Question, Response, Survey
from models.audit import record
from models.clock import now
from models.customers import CUSTOMER_KINDS, GRADES, LIFECYCLES
from models.i18n import label_of
from models.survey_links import (BULK_LIMIT, INVITATION_STATUSES, customers_matching, invitation_status,
                                 invite_closed_complaints, invite_customers, mark_sent, status_condition,
                                 survey_summary)
from models.reports import survey_response_rates
from models.survey_templates import create_from_template, template_choices
from models.scope import branch_choices, branch_ids, get_in_scope, ids_in_scope, parse_id, scoped
from surveys.links import public_url, qr_bytes

from .base import INLINE_ID, DomainModelView, ReadOnlyModelView, _user, attach_related, scope_or_404
from .customers import COMPLAINT_AJAX, CUSTOMER_AJAX, RelatedFilter, branch_filter


def survey_filter(column):
    return RelatedFilter(column=column, name=_l("Survey"),
                         options=lambda: [(s.id, s.title) for s in Survey.select().order_by(Survey.id.desc())])




class QuestionInline(InlineFormAdmin):
    form_columns = ["id", "position", "text", "kind", "required", "dimension", "max_length"]
    form_overrides = INLINE_ID["form_overrides"]
    form_args = INLINE_ID["form_args"]


def response_rate_text(stats):
    """The survey list's and survey page's response rate (models.reports.survey_response_rates)."""
    if stats["rate"] is None:
        return _("%(n)d responses, no invitation sent", n=stats["responses"])
    return _("%(answered)d / %(sent)d sent answered (%(rate).1f%%), %(n)d responses", answered=stats["answered"],
             sent=stats["sent"], rate=stats["rate"], n=stats["responses"])


def _response_rate(view, context, model, name):
    stats = getattr(g, "survey_rates", {}).get(model.id)
    return Markup('<span class="response-rate" data-sent="{}" data-answered="{}" data-rate="{}">{}</span>').format(
        stats["sent"], stats["answered"], "" if stats["rate"] is None else stats["rate"],
        response_rate_text(stats)) if stats else ""


class SurveyAdmin(DomainModelView):
    """The survey builder: a survey with its questions inline (choices under Questions)."""

    required_role = "manager"  # building and opening surveys
    list_template = "admin/surveys/survey_list.html"
    details_template = "admin/surveys/survey_details.html"
    column_list = ["title", "kind", "language", "active", "anonymous", "opens_at", "closes_at", "response_rate"]
    column_labels = {"response_rate": _l("Response rate")}
    column_formatters = {"response_rate": _response_rate}
    column_searchable_list = ["title"]
    column_filters = ["kind", "language", "active"]
    column_default_sort = ("id", True)
    form_excluded_columns = ["created_at", "questions", "open_links", "invitations", "responses"]
    inline_models = [QuestionInline(Question)]

    def on_model_change(self, form, model, is_created):
        """Answers are evidence: a question that has answers cannot be removed from the form."""
        if is_created or "questions" not in form:
            return
        questions = form.questions
        doomed = [str(entry.get_pk()) for entry in questions.entries if questions.should_delete(entry)]
        refuse_if_answered([int(i) for i in doomed if i.isdigit()])

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) is not False:
            # two grouped queries for the page's response rates, read by the column formatter
            # (kept on the request, not on the view object that all requests share)
            g.survey_rates = survey_response_rates([row.id for row in rows], branch=_figures_branch())
        return count, rows

    @expose("/templates/", methods=("GET", "POST"))
    def from_template(self):
        """Pick a ready questionnaire (CSAT, NPS, callback, SERVQUAL, service star) and language."""
        if request.method == "POST":
            kind, language = request.form.get("template", ""), request.form.get("language", "")
            try:
                survey = create_from_template(kind, language)
            except ValueError as exc:
                flash(str(exc), "error")
                return redirect(url_for(".from_template"))
            record(survey, "create", _user(), "kind", "", kind)
            flash(_("Survey created from the template. Check the texts, then share a link."), "success")
            return redirect(url_for(".details_view", id=survey.id))
        return self.render("admin/surveys/templates.html", templates=template_choices())

    @expose("/details/")
    def details_view(self):
        survey = self.get_one(request.args.get("id"))
        questions = list(Question.select().where(Question.survey == survey).order_by(Question.position))
        self._template_args.update(
            survey_questions=questions,
            open_links=list(scoped(OpenLink.select().where(OpenLink.survey == survey).order_by(OpenLink.id),
                                   _user())),
            status_counts=survey_summary(survey, branches=branch_ids(_user())), status_labels=INVITATION_STATUSES,
            rate=survey_response_rates([survey.id], branch=_figures_branch())[survey.id],
            rate_text=response_rate_text, public_url=public_url, link_branches=_link_branches(),
            question_kind=lambda code: label_of(Question.kind.choices, code))
        return super().details_view()

    @expose("/open-link/", methods=("POST",))
    def new_open_link(self):
        """One click from the survey page: a new open link, straight to its printable QR code.
        A manager of some branches makes a link of one of them (its answers count for it);
        the director and the administrator make a link of the whole office."""
        survey = scope_or_404(Survey, request.form.get("survey"))
        label = request.form.get("label", "").strip()[:100]
        branches = _link_branches()
        branch = None
        if branches:
            branch = scope_or_404(Branch, request.form.get("branch") or branches[0].id)
        link = OpenLink.create(survey=survey, label=label, branch=branch)
        record(link, "create", _user())
        return redirect(url_for("openlink.print_qr", link_id=link.id))

    @action("invite_closed_complaints", _l("Invite the customers of closed complaints (callback survey)"))
    def action_invite_closed_complaints(self, ids):
        created = 0
        closed = scoped(Complaint.select(), _user())
        for survey in Survey.select().where(Survey.id.in_([int(i) for i in ids])):
            for invitation in invite_closed_complaints(survey, complaints=closed):
                record(invitation, "create", _user())
                created += 1
        flash(_("%(n)d invitations created.", n=created), "success")


def _figures_branch():
    """The `branch` argument of models.reports figures for the user: None or a list of ids."""
    branches = branch_ids(_user())
    return None if branches is None else sorted(branches)


def _link_branches():
    """The branches a limited-scope user makes open links for (empty: the whole office)."""
    return [] if branch_ids(_user()) is None else branch_choices(_user())


def refuse_if_answered(question_ids):
    if question_ids and Answer.select().where(Answer.question.in_(question_ids)).exists():
        raise ValueError(_("A question that already has answers cannot be deleted; "
                           "change its text or add a new question instead."))


class QuestionAdmin(DomainModelView):
    required_role = "manager"
    column_list = ["survey", "position", "text", "kind", "required", "dimension"]
    column_filters = ["kind", "dimension", "required", survey_filter(Question.survey)]
    column_searchable_list = ["text"]
    column_default_sort = [("survey", False), ("position", False)]
    form_excluded_columns = ["answers"]
    inline_models = [(Choice, {"form_columns": ["id", "position", "text", "score"], **INLINE_ID})]

    def on_model_delete(self, model):
        refuse_if_answered([model.id])


class LinkQrMixin:
    """QR code downloads (PNG, SVG) and a printable page for a link of this view's model."""

    def _link(self, link_id):
        return scope_or_404(self.model, link_id)

    @expose("/qr/<int:link_id>.<kind>")
    def qr(self, link_id, kind):
        if kind not in ("png", "svg"):
            abort(404)
        link = self._link(link_id)
        body = qr_bytes(public_url(link), kind)
        mimetype = "image/png" if kind == "png" else "image/svg+xml"
        download = request.args.get("download") == "1"
        headers = {"Content-Disposition": f'{"attachment" if download else "inline"}; filename="survey-qr-{link.id}.{kind}"',
                   "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        return HttpResponse(body, mimetype=mimetype, headers=headers)

    @expose("/print/<int:link_id>")
    def print_qr(self, link_id):
        link = self._link(link_id)
        return self.render("admin/surveys/print_qr.html", link=link, url=public_url(link),
                           customer=getattr(link, "customer", None), label=getattr(link, "label", ""))


def _link_column(view, context, model, name):
    return Markup('<a href="{}" target="_blank" rel="noopener">{}</a> · '
                  '<a href="{}">PNG</a> · <a href="{}">SVG</a> · <a href="{}">{}</a>').format(
        public_url(model), _("visit"),
        url_for(".qr", link_id=model.id, kind="png", download=1),
        url_for(".qr", link_id=model.id, kind="svg", download=1),
        url_for(".print_qr", link_id=model.id), _("print"))


class OpenLinkAdmin(LinkQrMixin, DomainModelView):
    """Public links (posters, counters, receipts), optionally attributed to a branch or staff member."""

    required_role = "manager"
    column_list = ["survey", "label", "branch", "staff", "active", "created_at", "link"]
    column_labels = {"link": _l("Link and QR code")}
    column_formatters = {"link": _link_column}
    column_filters = ["active", branch_filter(OpenLink.branch), survey_filter(OpenLink.survey)]
    form_excluded_columns = ["token", "created_at", "responses"]


class InvitationStatusFilter(FilterEqual):
    """Invitations by their status (sent / opened / answered / expired), computed from the dates."""

    def apply(self, query, value, alias=None):
        return query.where(status_condition(value, now()))


def _invitation_status(view, context, model, name):
    code = invitation_status(model)
    css = {"answered": "success", "expired": "secondary", "opened": "info", "sent": "primary"}.get(code, "light")
    return Markup('<span class="badge badge-{}">{}</span>').format(css, label_of(INVITATION_STATUSES, code))


class InvitationAdmin(LinkQrMixin, DomainModelView):
    """Personal links, one per customer (or closed complaint), one answer each."""

    list_template = "admin/surveys/invitation_list.html"
    column_list = ["survey", "customer", "complaint", "status", "created_at", "expires_at", "sent_at", "opened_at",
                   "answered_at", "link"]
    column_labels = {"status": _l("Status"), "link": _l("Link and QR code")}
    column_formatters = {"status": _invitation_status, "link": _link_column}
    column_filters = [InvitationStatusFilter(column=Invitation.answered_at, name=_l("Status"),
                                             options=list(INVITATION_STATUSES)),
                      survey_filter(Invitation.survey), "created_at", "expires_at", "sent_at", "opened_at",
                      "answered_at"]
    column_default_sort = ("id", True)
    form_ajax_refs = {"customer": CUSTOMER_AJAX, "complaint": COMPLAINT_AJAX}
    form_excluded_columns = ["token", "created_at", "opened_at", "answered_at", "responses"]

    def on_model_change(self, form, model, is_created):
        """A personal link is for a customer (or a closed complaint's customer)."""
        if model.customer_id is None and model.complaint_id is None:
            raise ValueError(str(_l("An invitation needs a customer or a complaint.")))

    @action("print_letters", _l("Print invitation letters"))
    def action_print_letters(self, ids):
        invitations = list(Invitation.select().where(Invitation.id.in_([int(i) for i in ids])).order_by(Invitation.id))
        attach_related(invitations, [Invitation.survey, Invitation.customer])
        return self.render("admin/surveys/letters.html", invitations=invitations, public_url=public_url)

    @action("mark_sent", _l("Mark as sent"))
    def action_mark_sent(self, ids):
        count = mark_sent([int(i) for i in ids])
        flash(_("%(n)d invitations marked as sent.", n=count), "success")

    @expose("/invite/", methods=("GET", "POST"))
    def invite_filtered(self):
        """Invite every customer of a filtered list (branch, grade, lifecycle, kind)."""
        source = request.form if request.method == "POST" else request.args
        branch = source.get("branch") or None
        if branch is not None:
            branch = scope_or_404(Branch, branch).id
        criteria = {"branch_id": branch, "grade": _choice(source, "grade", GRADES),
                    "lifecycle": _choice(source, "lifecycle", LIFECYCLES), "kind": _choice(source, "kind", CUSTOMER_KINDS),
                    "include_churned": source.get("include_churned") == "y"}
        matching = scoped(customers_matching(**criteria), _user(), Customer)
        if request.method == "POST":
            back_args = {k: v for k, v in criteria.items() if v and k != "include_churned"}
            back_args = {{"branch_id": "branch"}.get(k, k): v for k, v in back_args.items()}
            if criteria["include_churned"]:
                back_args["include_churned"] = "y"
            return self._create_invitations(request.form.get("survey"), [c.id for c in matching],
                                            request.form.get("expires_in_days", "").strip(),
                                            back=url_for(".invite_filtered", **back_args))
        surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
        return self.render("admin/surveys/invite_filtered.html", surveys=surveys, count=matching.count(),
                           criteria=source, branches=branch_choices(_user()),
                           grades=GRADES, lifecycles=LIFECYCLES, kinds=CUSTOMER_KINDS)

    def _create_invitations(self, survey_id, customer_ids, days, back):
        survey = get_in_scope(Survey, survey_id, _user())
        if survey is None or not customer_ids:
            flash(_("Choose a survey and at least one customer."), "error")
            return redirect(back)
        if set(customer_ids) - ids_in_scope(Customer, customer_ids, _user()):
            abort(404)
        if days and not (days.isdigit() and 1 <= int(days) <= 366):
            flash(_("Validity must be a whole number of days from 1 to 366."), "error")
            return redirect(back)
        expires_at = now() + timedelta(days=int(days)) if days else None
        try:
            created, skipped = invite_customers(survey, customer_ids, expires_at)
        except ValueError as exc:
            flash(str(exc), "error")
            return redirect(back)
        for invitation in created:
            record(invitation, "create", _user())
        flash(_("%(created)d invitations created, %(skipped)d customers skipped (already invited).",
                created=len(created), skipped=skipped), "success")
        return redirect(url_for(".index_view"))

    @expose("/bulk/", methods=("POST",))
    def bulk_invite(self):
        """Target of the customer list's "Invite to a survey" action (the ticked customers)."""
        customer_ids = [parse_id(i) for i in request.form.getlist("customer")[:BULK_LIMIT + 1]]
        if None in customer_ids:
            abort(400)
        return self._create_invitations(request.form.get("survey"), customer_ids,
                                        request.form.get("expires_in_days", "").strip(),
                                        back=url_for("customer.index_view"))


def _choice(source, name, choices):
    """A choice code from the query or form, or None when absent or not one of `choices`."""
    value = source.get(name) or None
    return value if value in dict(choices) else None


def invite_form(view, customer_ids):
    """The page the customer list's action shows: which survey, how long the links stay valid."""
    surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
    count = scoped(Customer.select().where(Customer.id.in_([int(i) for i in customer_ids])), _user()).count()
    return view.render("admin/surveys/invite.html", surveys=surveys, customer_ids=customer_ids, count=count)


def _followup_link(view, context, model, name):
    complaint = model.followup_complaint
    if complaint is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("complaint.details_view", id=complaint.id), complaint.number)


class ResponseAdmin(ReadOnlyModelView):
    details_template = "admin/surveys/response_details.html"
    column_list = ["id", "survey", "customer", "branch", "staff", "submitted_at", "followup_complaint"]
    column_formatters = {"followup_complaint": _followup_link}
    column_filters = [survey_filter(Response.survey), "submitted_at", branch_filter(Response.branch)]
    column_default_sort = ("submitted_at", True)

    @expose("/details/")
    def details_view(self):
        response_id = self.get_one(request.args.get("id")).id
        answers = (Answer.select(Answer, Question).join(Question).where(Answer.response == response_id)
                   .order_by(Question.position, Question.id, Answer.id))
        rows = list(answers)
        attach_related(rows, [Answer.choice, Answer.staff])
        self._template_args.update(answers=rows, kind_label=lambda code: label_of(Question.kind.choices, code))
        return super().details_view()


class AnswerAdmin(ReadOnlyModelView):
    column_list = ["response", "question", "value", "expectation", "choice", "staff", "text"]
    column_searchable_list = ["text"]
    column_filters = [FilterEqual(column=Answer.value, name=_l("Value"), options=[(v, str(v)) for v in range(11)])]
