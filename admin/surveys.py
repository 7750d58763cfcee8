"""Surveys with their questions and choices, the links customers answer through
(invitations, open links, QR codes, posters and table cards), and responses (read-only).
Held submissions and anonymous feedback are reviewed in admin/survey_review.py."""
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask import Response as HttpResponse
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEmpty, FilterEqual
from flask_admin.contrib.peewee.form import InlineFormAdmin
from flask_admin.model import typefmt
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from markupsafe import Markup

from models import (AnonymousFeedback, Answer, Branch, Choice, Complaint, Customer, Invitation, OpenLink, Question,
                    Response, Survey)
from models.audit import record
from models.clock import now
from models.customers import CUSTOMER_KIND_LIST, GRADE_LIST, LIFECYCLE_LIST
from models.answers import SCALES, field_name
from models.i18n import babel_locale, label_of
from models.survey_links import (BULK_LIMIT, INVITATION_STATUSES, customers_matching, invitation_status,
                                 invite_closed_complaints, invite_customers, mark_sent, status_condition,
                                 survey_summary)
from models.reports import survey_response_rates
from models.survey_templates import TEMPLATES, create_from_template, template_choices, template_preview
from models.privacy import mask, response_contact_shown_ids
from models.scope import branch_choices, branch_ids, get_in_scope, ids_in_scope, parse_id, scoped
from models.surveys import RESPONSE_STATUSES
from surveys.links import (content_disposition, link_place, poster_address, public_address_problem, public_url,
                           qr_bytes, qr_download_name, qr_svg_inline)

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
            question_kind=lambda code: label_of(Question.kind.choices, code),
            address_problem=public_address_problem())
        return super().details_view()

    @expose("/templates/<kind>/<language>/preview")
    def template_preview(self, kind, language):
        """The template as a customer would see it on a phone, before anything is created;
        nothing can be sent from it."""
        if kind not in TEMPLATES or language not in ("zh_CN", "en"):
            abort(404)
        survey, questions = template_preview(kind, language)
        preview = {"text": _("Preview: this is what customers will see. Nothing can be sent from here."),
                   "back": _("Back to the templates"), "back_url": url_for(".from_template"),
                   "use": _("Create this survey"), "use_url": url_for(".from_template"), "kind": kind,
                   "language": language}
        with force_locale(babel_locale(language)):
            return render_template("surveys/form.html", survey=survey, questions=questions, staff=[], kept={},
                                   errors={}, notice=None, field_name=field_name, scales=SCALES, honeypot="website",
                                   action=None, form_token=None, ask_contact=True, contact={}, contact_error=None,
                                   preview=preview)

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


POSTER_SIZES = {"a4": _l("A4 poster"), "a6": _l("A6 table card")}


class LinkQrMixin:
    """QR code downloads (PNG, SVG) and a printable page for a link of this view's model."""

    def _link(self, link_id):
        return scope_or_404(self.model, link_id)

    @expose("/qr/<int:link_id>.<kind>")
    def qr(self, link_id, kind):
        """The QR file, named after the survey and the branch (ASCII name plus RFC 5987 UTF-8 name)."""
        if kind not in ("png", "svg"):
            abort(404)
        link = self._link(link_id)
        body = qr_bytes(public_url(link), kind)
        mimetype = "image/png" if kind == "png" else "image/svg+xml"
        download = request.args.get("download") == "1"
        headers = {"Content-Disposition": content_disposition("attachment" if download else "inline",
                                                              *qr_download_name(link, kind)),
                   "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
        return HttpResponse(body, mimetype=mimetype, headers=headers)

    @expose("/print/<int:link_id>")
    def print_qr(self, link_id):
        link = self._link(link_id)
        return self.render("admin/surveys/print_qr.html", link=link, url=public_url(link),
                           customer=getattr(link, "customer", None), label=getattr(link, "label", ""),
                           place=link_place(link), is_open_link=isinstance(link, OpenLink),
                           poster_sizes=POSTER_SIZES, address_problem=public_address_problem())


def _link_column(view, context, model, name):
    url = public_url(model)
    html = Markup('<a href="{}" target="_blank" rel="noopener" class="public-url">{}</a><br>'
                  '<a class="btn btn-sm btn-outline-primary" href="{}">{}</a> '
                  '<a class="btn btn-sm btn-outline-primary" href="{}">{}</a> '
                  '<a class="btn btn-sm btn-outline-primary" href="{}">{}</a>').format(
        url, url.split("://", 1)[-1],
        url_for(".qr", link_id=model.id, kind="png", download=1), _("Download PNG"),
        url_for(".qr", link_id=model.id, kind="svg", download=1), _("Download SVG"),
        url_for(".print_qr", link_id=model.id), _("print"))
    if isinstance(model, OpenLink):
        for size, label in POSTER_SIZES.items():
            html += Markup(' <a class="btn btn-sm btn-outline-primary" href="{}">{}</a>').format(
                url_for(".poster", link_id=model.id, size=size), label)
    return html


def survey_from_request(view):
    """The survey a "New …" form was opened from: ?survey=N, else the survey filter of the
    list it was opened from (Flask-Admin passes that list's address in ?url=)."""
    survey_id = parse_id(request.args.get("survey"))
    if survey_id is None and request.args.get("url"):
        query = dict(parse_qsl(urlsplit(request.args["url"]).query))
        for index, flt in enumerate(view._filters or ()):
            if getattr(flt, "column", None) is getattr(view.model, "survey", None):
                arg = view.get_filter_arg(index, flt)
                values = [v for k, v in query.items() if re.fullmatch(rf"flt\d+_{re.escape(arg)}", k)]
                if values and parse_id(values[0]):
                    survey_id = parse_id(values[0])
    return get_in_scope(Survey, survey_id, _user()) if survey_id else None


class SurveyPreselected:
    """Mixin: "New …" opened from a survey starts with that survey chosen."""

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET" and "survey" in form and form.survey.data is None:
            form.survey.data = survey_from_request(self)
        return form


class OpenLinkAdmin(SurveyPreselected, LinkQrMixin, DomainModelView):
    """Public links (posters, counters, receipts), optionally attributed to a branch or staff member."""

    required_role = "manager"
    list_template = "admin/surveys/openlink_list.html"
    column_list = ["survey", "label", "branch", "staff", "active", "created_at", "link"]
    column_labels = {"link": _l("Link and QR code")}
    column_formatters = {"link": _link_column}
    column_filters = ["active", branch_filter(OpenLink.branch), survey_filter(OpenLink.survey)]
    form_excluded_columns = ["token", "short_code", "created_at", "responses"]

    def render(self, template, **kwargs):
        kwargs.setdefault("address_problem", public_address_problem())
        return super().render(template, **kwargs)

    @expose("/poster/<int:link_id>")
    def poster(self, link_id):
        """A printable A4 poster or A6 table card: branch, survey title, QR code, short address."""
        link = self._link(link_id)
        size = request.args.get("size", "a4")
        if size not in POSTER_SIZES:
            size = "a4"
        url = public_url(link)
        problem = public_address_problem()
        toolbar = {"print": _("Print"), "png": _("Download PNG"), "svg": _("Download SVG"), "back": _("Open links"),
                   "warning": _("Customers cannot use these links yet: %(address)s is not a public https address. "
                                "Set PUBLIC_BASE_URL before printing (see the open links page).",
                                address=problem["address"]) if problem else ""}
        sizes = {code: str(label) for code, label in POSTER_SIZES.items()}
        with force_locale(babel_locale(link.survey.language)):  # the poster speaks the survey's language
            return render_template("admin/surveys/poster.html", link=link, size=size, sizes=sizes, toolbar=toolbar,
                                   short_url=poster_address(link), qr_svg=Markup(qr_svg_inline(url)),
                                   place=link_place(link))


class InvitationStatusFilter(FilterEqual):
    """Invitations by their status (sent / opened / answered / expired), computed from the dates."""

    def apply(self, query, value, alias=None):
        return query.where(status_condition(value, now()))


def _invitation_status(view, context, model, name):
    code = invitation_status(model)
    css = {"answered": "success", "expired": "secondary", "opened": "info", "sent": "primary"}.get(code, "light")
    return Markup('<span class="badge badge-{}">{}</span>').format(css, label_of(INVITATION_STATUSES, code))


def _delivery(view, context, model, name):
    """How the outbox delivery went (and why not, on hover)."""
    from models.outbox import STATUSES
    if not model.delivery_status:
        return ""
    labels = dict(STATUSES) | {"queued": _l("Waiting")}
    css = {"sent": "success", "failed": "danger", "unknown": "warning"}.get(model.delivery_status, "secondary")
    return Markup('<span class="badge badge-{}" title="{}">{} · {}</span>').format(
        css, model.delivery_error, model.delivery_channel, labels.get(model.delivery_status, model.delivery_status))


class InvitationAdmin(SurveyPreselected, LinkQrMixin, DomainModelView):
    """Personal links, one per customer (or closed complaint), one answer each."""

    list_template = "admin/surveys/invitation_list.html"
    column_list = ["survey", "customer", "complaint", "status", "created_at", "expires_at", "sent_at", "opened_at",
                   "answered_at", "delivery_status", "link"]
    column_labels = {"status": _l("Status"), "link": _l("Link and QR code")}
    column_formatters = {"status": _invitation_status, "link": _link_column, "delivery_status": _delivery}
    column_filters = [InvitationStatusFilter(column=Invitation.answered_at, name=_l("Status"),
                                             options=list(INVITATION_STATUSES)),
                      survey_filter(Invitation.survey), "created_at", "expires_at", "sent_at", "opened_at",
                      "answered_at"]
    column_default_sort = ("id", True)
    form_ajax_refs = {"customer": CUSTOMER_AJAX, "complaint": COMPLAINT_AJAX}
    form_excluded_columns = ["token", "created_at", "opened_at", "answered_at", "responses", "delivery_channel",
                             "delivery_status", "delivery_error", "remind_at"]

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

    @action("send_email", _l("Send by e-mail"))
    def action_send_email(self, ids):
        return redirect(url_for(".send_view", ids=",".join(ids), channel="email"))

    @action("send_sms", _l("Send by SMS"))
    def action_send_sms(self, ids):
        return redirect(url_for(".send_view", ids=",".join(ids), channel="sms"))

    @expose("/send/", methods=("GET", "POST"))
    def send_view(self):
        """Confirm, then queue the personal invitations for delivery (models.notifications.send_invitations:
        spaced out at the set rate; unsubscribed customers and those without an address are skipped)."""
        from models.notifications import send_invitations
        source = request.values.get("ids", "")[:20000]
        ids = [parse_id(i) for i in source.split(",") if i.strip()][:BULK_LIMIT]
        if None in ids:
            abort(400)
        if set(ids) - ids_in_scope(Invitation, ids, _user()):
            abort(404)  # an invitation out of the user's branch scope (or gone)
        channel = request.values.get("channel", "email")
        if not ids or channel not in ("email", "sms"):
            flash(_("Select the invitations to send first."), "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            try:
                counts = send_invitations(ids, channel, with_qr=request.form.get("qr") == "y")
            except ValueError as exc:
                flash(str(exc), "error")
                return redirect(url_for(".index_view"))
            flash(_("%(queued)d invitations queued for delivery; skipped: %(opted_out)d unsubscribed, %(no_address)d "
                    "without address, %(closed)d answered or expired, %(already)d already sent this way.",
                    queued=counts.get("queued", 0), opted_out=counts.get("opted_out", 0),
                    no_address=counts.get("no_address", 0), closed=counts.get("closed", 0),
                    already=counts.get("already", 0)), "success")
            return redirect(url_for(".index_view"))
        return self.render("admin/surveys/send.html", ids=source, count=len(ids), channel=channel)

    @expose("/invite/", methods=("GET", "POST"))
    def invite_filtered(self):
        """Invite every customer of a filtered list (branch, grade, lifecycle, kind)."""
        source = request.form if request.method == "POST" else request.args
        branch = source.get("branch") or None
        if branch is not None:
            branch = scope_or_404(Branch, branch).id
        criteria = {"branch_id": branch, "grade": _choice(source, "grade", GRADE_LIST),
                    "lifecycle": _choice(source, "lifecycle", LIFECYCLE_LIST),
                    "kind": _choice(source, "kind", CUSTOMER_KIND_LIST),
                    "include_churned": source.get("include_churned") == "y"}
        matching = scoped(customers_matching(**criteria), _user(), Customer)
        if request.method == "POST":
            back_args = {k: v for k, v in request.form.to_dict().items() if k != "csrf_token"}
            return self._create_invitations(request.form.get("survey"), [c.id for c in matching],
                                            request.form.get("expires_in_days", "").strip(),
                                            back=url_for(".invite_filtered", **back_args))
        surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
        return self.render("admin/surveys/invite_filtered.html", surveys=surveys, count=matching.count(),
                           selected_survey=parse_id(source.get("survey")),
                           criteria=source, branches=branch_choices(_user()),
                           grades=GRADE_LIST, lifecycles=LIFECYCLE_LIST, kinds=CUSTOMER_KIND_LIST)

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


def _to_the_second(view, value, name):
    """Times as the office reads them: to the second, never with microseconds."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


# list and details show times without microseconds (rows written by scripts may carry them)
SECONDS = {**typefmt.BASE_FORMATTERS, datetime: _to_the_second}
SECONDS_DETAIL = {**typefmt.DETAIL_FORMATTERS, datetime: _to_the_second}


def _status_badge(view, context, model, name):
    css = {"counted": "success", "held": "warning", "rejected": "secondary"}.get(model.status, "light")
    return Markup('<span class="badge badge-{}">{}</span>').format(css, label_of(RESPONSE_STATUSES, model.status))


def _response_contact(view, context, model, name):
    """The callback contact a respondent left: in full to the managers of the response's branch
    and the owner of its follow-up (models.privacy), masked to everyone else."""
    value = getattr(model, name) or ""
    if not value or model.id in g.get("response_contact_shown", ()):
        return value
    return mask("phone", value) if name == "contact_phone" else value[:1] + "**"


class ResponseContactMasked:
    """Mixin of the response lists: remembers whose callback contact the user sees in full."""

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) is not False:
            g.setdefault("response_contact_shown", set()).update(response_contact_shown_ids(_user(), rows))
        return count, rows

    def get_one(self, id):
        response = super().get_one(id)
        g.setdefault("response_contact_shown", set()).update(response_contact_shown_ids(_user(), [response]))
        return response


class ResponseAdmin(ResponseContactMasked, ReadOnlyModelView):
    details_template = "admin/surveys/response_details.html"
    column_list = ["id", "survey", "customer", "branch", "staff", "submitted_at", "status", "followup_complaint"]
    column_formatters = {"followup_complaint": _followup_link, "status": _status_badge,
                         "contact_name": _response_contact, "contact_phone": _response_contact}
    column_filters = [survey_filter(Response.survey), "submitted_at", branch_filter(Response.branch), "status",
                      FilterEmpty(column=Response.followup_complaint, name=_l("Follow-up complaint"))]
    column_default_sort = ("submitted_at", True)
    column_type_formatters = SECONDS
    column_type_formatters_detail = SECONDS_DETAIL
    column_details_exclude_list = ["form_nonce"]
    column_export_exclude_list = ["form_nonce"]

    @expose("/details/")
    def details_view(self):
        self._template_args.update(response_details(self.get_one(request.args.get("id")).id))
        return super().details_view()


def response_details(response_id):
    """What a response's page shows below its fields: the answers, and its anonymous feedback."""
    answers = (Answer.select(Answer, Question).join(Question).where(Answer.response == response_id)
               .order_by(Question.position, Question.id, Answer.id))
    rows = list(answers)
    attach_related(rows, [Answer.choice, Answer.staff])
    return {"answers": rows, "kind_label": lambda code: label_of(Question.kind.choices, code),
            "feedback": AnonymousFeedback.get_or_none(AnonymousFeedback.response == response_id)}


class AnswerAdmin(ReadOnlyModelView):
    column_list = ["response", "question", "value", "expectation", "choice", "staff", "text"]
    column_searchable_list = ["text"]
    column_filters = [FilterEqual(column=Answer.value, name=_l("Value"), options=[(v, str(v)) for v in range(11)])]
