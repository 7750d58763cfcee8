"""Surveys with their questions and choices, the links customers answer through, and responses."""
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_admin.contrib.peewee.form import InlineFormAdmin
from flask_babel import lazy_gettext as _l

from models import Answer, Choice, Invitation, OpenLink, Question, Response

from .base import DomainModelView, ReadOnlyModelView
from .customers import COMPLAINT_AJAX, CUSTOMER_AJAX, branch_filter


class QuestionInline(InlineFormAdmin):
    form_columns = ["id", "position", "text", "kind", "required", "dimension", "max_length"]


class SurveyAdmin(DomainModelView):
    column_list = ["title", "kind", "language", "active", "anonymous", "opens_at", "closes_at", "created_at"]
    column_searchable_list = ["title"]
    column_filters = ["kind", "language", "active"]
    column_default_sort = ("id", True)
    form_excluded_columns = ["created_at", "questions", "open_links", "invitations", "responses"]
    inline_models = [QuestionInline(Question)]


class QuestionAdmin(DomainModelView):
    column_list = ["survey", "position", "text", "kind", "required", "dimension"]
    column_filters = ["kind", "dimension", "required"]
    column_searchable_list = ["text"]
    column_default_sort = [("survey", False), ("position", False)]
    form_excluded_columns = ["answers"]
    inline_models = [(Choice, {"form_columns": ["id", "position", "text", "score"]})]


class OpenLinkAdmin(DomainModelView):
    column_list = ["survey", "label", "branch", "staff", "active", "created_at"]
    column_filters = ["active", branch_filter(OpenLink.branch)]
    form_excluded_columns = ["token", "created_at", "responses"]


class InvitationAdmin(DomainModelView):
    column_list = ["survey", "customer", "complaint", "created_at", "expires_at", "sent_at", "opened_at",
                   "answered_at"]
    column_filters = ["created_at", "expires_at", "sent_at", "opened_at", "answered_at"]
    form_ajax_refs = {"customer": CUSTOMER_AJAX, "complaint": COMPLAINT_AJAX}
    form_excluded_columns = ["token", "created_at", "opened_at", "answered_at", "responses"]


class ResponseAdmin(ReadOnlyModelView):
    column_list = ["id", "survey", "customer", "branch", "staff", "submitted_at", "followup_complaint"]
    column_filters = ["submitted_at", branch_filter(Response.branch)]
    column_default_sort = ("submitted_at", True)


class AnswerAdmin(ReadOnlyModelView):
    column_list = ["response", "question", "value", "expectation", "choice", "staff", "text"]
    column_searchable_list = ["text"]
    column_filters = [FilterEqual(column=Answer.value, name=_l("Value"), options=[(v, str(v)) for v in range(11)])]
