"""What people review after the public side: submissions held as possibly scripted (managers
count or reject them) and anonymous feedback (staff mark it reviewed with a note). The
rules are in models.survey_guard, models.answers (release_held, reject_held) and
models.feedback; these views only list and call."""
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup

from models import AnonymousFeedback, Response
from models.answers import reject_held, release_held
from models.feedback import FEEDBACK_STATES, ReviewError, mark_reviewed
from models.i18n import label_of

from .base import DomainModelView, _user
from .customers import branch_filter
from .surveys import (SECONDS, SECONDS_DETAIL, ResponseContactMasked, _response_contact, response_details,
                      survey_filter)


class ReviewOnly(DomainModelView):
    """Rows people review but never create, edit or delete here."""

    can_create = False
    can_edit = False
    column_editable_list = ()
    action_disallowed_list = ["delete"]
    column_type_formatters = SECONDS
    column_type_formatters_detail = SECONDS_DETAIL

    @property
    def can_delete(self):
        return False


def _response_link(view, context, model, name):
    return Markup('<a href="{}">#{}</a>').format(url_for("response.details_view", id=model.id), model.id)


class HeldResponseAdmin(ResponseContactMasked, ReviewOnly):
    """Submissions held for review (models.survey_guard): stored, not counted. Count the
    genuine ones (their follow-up opens then) or mark them as not a customer's answer."""

    required_role = "manager"  # releasing changes the figures
    details_template = "admin/surveys/response_details.html"
    column_list = ["id", "survey", "open_link", "branch", "submitted_at", "hold_reason", "contact_name",
                   "contact_phone"]
    column_labels = {"id": _l("Response")}
    column_formatters = {"id": _response_link, "contact_name": _response_contact, "contact_phone": _response_contact}
    column_filters = [survey_filter(Response.survey), "hold_reason", "submitted_at"]
    column_default_sort = ("submitted_at", True)
    column_details_exclude_list = ["form_nonce"]
    column_export_exclude_list = ["form_nonce"]

    def get_query(self):
        return super().get_query().where(Response.status == "held")

    @expose("/details/")
    def details_view(self):
        """The response with its answers (the same page as under Responses)."""
        self._template_args.update(response_details(self.get_one(request.args.get("id")).id))  # 404 out of scope
        return super().details_view()

    def _review(self, ids, decide, done_message):
        count = 0
        for response in Response.select().where(Response.id.in_([int(i) for i in ids]) & (Response.status == "held")):
            decide(response, _user())
            count += 1
        flash(done_message % {"n": count}, "success")

    @action("release", _l("Count these answers"),
            _l("Count the selected answers in the figures and open their follow-ups?"))
    def action_release(self, ids):
        self._review(ids, release_held, _("%(n)d held submissions now count."))

    @action("reject", _l("Not a customer's answer"),
            _l("Keep the selected submissions out of the figures for good?"))
    def action_reject(self, ids):
        self._review(ids, reject_held, _("%(n)d held submissions marked as not a customer's answer."))


class FeedbackStateFilter(FilterEqual):
    """Anonymous feedback still to review, or reviewed."""

    def apply(self, query, value, alias=None):
        return query.where(AnonymousFeedback.reviewed_at.is_null(value == "to_review"))


def _state_badge(view, context, model, name):
    css = "warning" if model.reviewed_at is None else "success"
    return Markup('<span class="badge badge-{}">{}</span>').format(css, label_of(FEEDBACK_STATES, model.state))


def _feedback_title(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.title)


class AnonymousFeedbackAdmin(ReviewOnly):
    """匿名反馈: low scores nobody can be called back about. No deadline; reviewed with a note."""

    details_template = "admin/surveys/feedback_details.html"
    list_template = "admin/surveys/feedback_list.html"
    column_list = ["received_at", "branch", "survey", "title", "state", "reviewed_at", "reviewed_by", "review_note"]
    column_labels = {"state": _l("Status")}
    column_formatters = {"state": _state_badge, "title": _feedback_title}
    column_filters = [FeedbackStateFilter(column=AnonymousFeedback.reviewed_at, name=_l("Status"),
                                          options=list(FEEDBACK_STATES)),
                      branch_filter(AnonymousFeedback.branch), survey_filter(AnonymousFeedback.survey),
                      "received_at"]
    column_searchable_list = ["title", "description", "review_note"]
    column_default_sort = ("received_at", True)

    @expose("/details/")
    def details_view(self):
        self._template_args.update(review_error=None, note="")
        return super().details_view()

    @expose("/review/<int:feedback_id>", methods=("POST",))
    def review(self, feedback_id):
        feedback = self.get_one(feedback_id)  # in the user's branch scope, else 404
        note = request.form.get("review_note", "")
        try:
            mark_reviewed(feedback, _user(), note)
        except ReviewError as exc:  # the page again, with the note as typed
            return self.render(self.details_template, model=feedback, details_columns=self._details_columns,
                               get_value=self.get_detail_value, return_url=url_for(".index_view"),
                               review_error=str(exc), note=note), 422
        flash(_("Marked as reviewed."), "success")
        return redirect(url_for(".index_view", flt0_0="to_review"))
