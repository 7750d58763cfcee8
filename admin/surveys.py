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
from wtforms.fields import HiddenField
from wtforms.validators import Optional

from models import Answer, Branch, Choice, Customer, Invitation, OpenLink, Question, Response, Survey
from models.audit import record
from models.clock import now
from models.customers import CUSTOMER_KINDS, GRADES, LIFECYCLES
from models.i18n import label_of
from models.survey_links import (INVITATION_STATUSES, customers_matching, invitation_status,
                                 invite_closed_complaints, invite_customers, mark_sent, response_rates,
                                 status_condition, survey_summary)
from models.survey_templates import create_from_template, template_choices
from surveys.links import public_url, qr_bytes

from .base import DomainModelView, ReadOnlyModelView, _user, attach_related
from .customers import COMPLAINT_AJAX, CUSTOMER_AJAX, RelatedFilter, branch_filter


def survey_filter(column):
    return RelatedFilter(column=column, name=_l("Survey"),
                         options=lambda: [(s.id, s.title) for s in Survey.select().order_by(Survey.id.desc())])


# Flask-Admin's peewee converter only knows the old PrimaryKeyField: without this, the
# AutoField id of an inline row is a required number and a NEW question or choice
# cannot be added (the browser sends an empty id).
INLINE_ID = {"form_overrides": {"id": HiddenField}, "form_args": {"id": {"validators": [Optional()]}}}


class QuestionInline(InlineFormAdmin):
    form_columns = ["id", "position", "text", "kind", "required", "dimension", "max_length"]
    form_overrides = INLINE_ID["form_overrides"]
    form_args = INLINE_ID["form_args"]


def _response_rate(view, context, model, name):
    stats = getattr(g, "survey_rates", {}).get(model.id)
    if not stats:
        return ""
    if stats["rate"] is None:
        return _("%(n)d responses, no invitations", n=stats["responses"])
    return _("%(answered)d / %(invited)d invited (%(rate).0f%%), %(n)d responses", answered=stats["answered"],
             invited=stats["invited"], rate=100 * stats["rate"], n=stats["responses"])


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
            g.survey_rates = response_rates([row.id for row in rows])
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
        survey = Survey.get_or_none(Survey.id == request.args.get("id", type=int))
        if survey is not None:
            questions = list(Question.select().where(Question.survey == survey).order_by(Question.position))
            self._template_args.update(
                survey_questions=questions,
                open_links=list(OpenLink.select().where(OpenLink.survey == survey).order_by(OpenLink.id)),
                status_counts=survey_summary(survey), status_labels=INVITATION_STATUSES,
                rate=response_rates([survey.id])[survey.id], public_url=public_url,
                question_kind=lambda code: label_of(Question.kind.choices, code))
        return super().details_view()

    @expose("/open-link/", methods=("POST",))
    def new_open_link(self):
        """One click from the survey page: a new open link, straight to its printable QR code."""
        survey = Survey.get_or_none(Survey.id == request.form.get("survey", type=int))
        if survey is None:
            abort(404)
        label = request.form.get("label", "").strip()[:100]
        link = OpenLink.create(survey=survey, label=label)
        record(link, "create", _user())
        return redirect(url_for("openlink.print_qr", link_id=link.id))

    @action("invite_closed_complaints", _l("Invite the customers of closed complaints (callback survey)"))
    def action_invite_closed_complaints(self, ids):
        created = 0
        for survey in Survey.select().where(Survey.id.in_(ids)):
            for invitation in invite_closed_complaints(survey):
                record(invitation, "create", _user())
                created += 1
        flash(_("%(n)d invitations created.", n=created), "success")


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
        link = self.model.get_or_none(self.model.id == link_id)
        if link is None:
            abort(404)
        return link

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
        criteria = {"branch_id": source.get("branch", type=int), "grade": source.get("grade") or None,
                    "lifecycle": source.get("lifecycle") or None, "kind": source.get("kind") or None,
                    "include_churned": source.get("include_churned") == "y"}
        matching = customers_matching(**criteria)
        if request.method == "POST":
            return self._create_invitations(request.form.get("survey", type=int), [c.id for c in matching],
                                            request.form.get("expires_in_days", "").strip(),
                                            back=url_for(".invite_filtered", **request.form.to_dict()))
        surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
        return self.render("admin/surveys/invite_filtered.html", surveys=surveys, count=matching.count(),
                           criteria=source, branches=list(Branch.select().order_by(Branch.name)),
                           grades=GRADES, lifecycles=LIFECYCLES, kinds=CUSTOMER_KINDS)

    def _create_invitations(self, survey_id, customer_ids, days, back):
        survey = Survey.get_or_none(Survey.id == survey_id)
        if survey is None or not customer_ids:
            flash(_("Choose a survey and at least one customer."), "error")
            return redirect(back)
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
        customer_ids = [i for i in request.form.getlist("customer") if i.isdigit()]
        return self._create_invitations(request.form.get("survey", type=int), customer_ids,
                                        request.form.get("expires_in_days", "").strip(),
                                        back=url_for("customer.index_view"))


def invite_form(view, customer_ids):
    """The page the customer list's action shows: which survey, how long the links stay valid."""
    surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
    count = Customer.select().where(Customer.id.in_([int(i) for i in customer_ids])).count()
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
        response_id = request.args.get("id", type=int)
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
