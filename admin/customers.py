"""Customer files, and the filters and search settings other areas reuse (branch, staff, ajax lookups).
Complaints, worksheets and callbacks live in admin/complaints.py."""
from flask import has_request_context
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import lazy_gettext as _l

from models import Branch, Customer, Staff

from .base import DomainModelView
from .custom_fields import CustomFieldsMixin


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


# Pickers of a customer or a complaint in forms: DomainModelView makes their loader search
# through the search index (models.search), like the lists' search boxes; "fields" is what
# Flask-Admin requires of a loader.
CUSTOMER_AJAX = {"fields": ["name", "organisation", "phone"], "page_size": 20}
COMPLAINT_AJAX = {"fields": ["number", "title"], "page_size": 20}


class CustomerAdmin(CustomFieldsMixin, DomainModelView):
    custom_entity = "customer"  # the administrator's own fields (System → Custom fields)
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
