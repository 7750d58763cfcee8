"""Customer files and everything staff record against them: complaints, worksheets, callbacks."""
from flask import has_request_context
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from models import Branch, Callback, Complaint, Customer, Staff
from models.clock import now
from models.complaints import SATISFACTION

from .base import DomainModelView


class RelatedFilter(FilterEqual):
    """Equality filter on a foreign key of the listed model itself (no join), whose
    options are read from the database when the list is shown, not at start-up."""

    def get_options(self, view):
        if not has_request_context():
            return []
        return self.options()


def branch_filter(column, name=None):
    return RelatedFilter(column=column, name=name or _l("Branch"),
                       options=lambda: [(b.id, b.name) for b in Branch.select().order_by(Branch.name)])


def staff_filter(column, name):
    return RelatedFilter(column=column, name=name,
                       options=lambda: [(s.id, str(s)) for s in Staff.select().where(Staff.active).order_by(Staff.name)])


CUSTOMER_AJAX = {"fields": ["name", "organisation", "phone"], "page_size": 20}
COMPLAINT_AJAX = {"fields": ["number", "title"], "page_size": 20}


class CustomerAdmin(DomainModelView):
    # the columns an office looks a customer up by
    column_list = ["name", "organisation", "phone", "kind", "grade", "lifecycle", "deal_state", "branch",
                   "account_manager", "churned"]
    column_searchable_list = ["name", "organisation", "phone", "contact_person", "email"]
    column_filters = ["kind", "grade", "lifecycle", "deal_state", "churned", "churn_reason", "first_deal_date",
                      branch_filter(Customer.branch), staff_filter(Customer.account_manager, _l("Account manager"))]
    column_sortable_list = ["name", "organisation", "grade", "created_at", "first_deal_date"]
    column_default_sort = ("id", True)
    form_excluded_columns = ["created_at"]
    form_widget_args = {"habits": {"rows": 3}, "preferences": {"rows": 3}, "opinions": {"rows": 3}}

    @action("invite_to_survey", _l("Invite to a survey"))
    def action_invite_to_survey(self, ids):
        from .surveys import invite_form  # admin.surveys imports this module
        return invite_form(self, ids)


def _complaint_due(view, context, model, name):
    """Next deadline with time left, red when overdue."""
    if model.stage == "closed" or model.due_at is None:
        return ""
    left = model.due_at - now()
    minutes = int(left.total_seconds() // 60)
    text = f"{model.due_at:%m-%d %H:%M}"
    if minutes < 0:
        return Markup('<span class="overdue">{} ({})</span>').format(
            text, _l("overdue %(h)d h %(m)d min", h=(-minutes) // 60, m=(-minutes) % 60))
    css = "due-soon" if minutes < 120 else ""
    return Markup('<span class="{}">{} ({})</span>').format(
        css, text, _l("%(h)d h %(m)d min left", h=minutes // 60, m=minutes % 60))


class ComplaintAdmin(DomainModelView):
    # the number, what it is about, where it stands
    column_list = ["number", "title", "customer", "branch", "channel", "severity", "stage", "due_at",
                   "first_responder", "responsible_staff", "received_at"]
    column_searchable_list = ["number", "title", "description"]
    column_filters = ["stage", "channel", "category", "severity", "received_at",
                      branch_filter(Complaint.branch),
                      staff_filter(Complaint.responsible_staff, _l("Responsible staff"))]
    column_sortable_list = ["number", "received_at", "due_at", "stage", "severity"]
    column_default_sort = ("received_at", True)
    column_formatters = {"due_at": _complaint_due}
    form_ajax_refs = {"customer": CUSTOMER_AJAX}
    # workflow fields are set by stage actions, numbering by the database
    form_excluded_columns = ["number", "year", "seq", "created_by", "due_at", "escalation_level",
                             "acknowledge_due_at", "result_due_at", "rectify_due_at", "callback_due_at",
                             "acknowledged_at", "resolved_at", "rectified_at", "called_back_at", "closed_at",
                             "stage", "rectifications", "callbacks", "invitations", "source_responses",
                             "rewards_penalties"]
    form_widget_args = {"description": {"rows": 5}}

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.created_by = current_user.id
            if model.first_responder_id is None and current_user.staff_id:
                model.first_responder = current_user.staff_id


class RectificationAdmin(DomainModelView):
    column_list = ["complaint", "promised_date", "verifier", "verified_at", "created_at"]
    column_searchable_list = ["problem_description", "cause_analysis"]
    column_filters = ["promised_date", "verified_at"]
    form_ajax_refs = {"complaint": COMPLAINT_AJAX}
    form_excluded_columns = ["created_by", "created_at"]


class CallbackAdmin(DomainModelView):
    column_list = ["customer", "complaint", "kind", "due_date", "done_at", "staff", "channel", "satisfaction"]
    column_filters = ["kind", "due_date", "done_at", "channel",
                      FilterEqual(column=Callback.satisfaction, name=_l("Satisfaction"), options=SATISFACTION),
                      staff_filter(Callback.staff, _l("Staff"))]
    column_sortable_list = ["due_date", "done_at", "satisfaction"]
    column_default_sort = ("id", True)
    form_ajax_refs = {"customer": CUSTOMER_AJAX, "complaint": COMPLAINT_AJAX}
