"""Customer files (with masked contact details, the logged "show" and anonymisation), and the
filters and search settings other areas reuse (branch, staff, ajax lookups).
Complaints, worksheets and callbacks live in admin/complaints.py."""
from flask import flash, g, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from models import Customer, Staff
from models.privacy import MASKED_FIELDS, anonymise_customer, contact_shown_ids, mask, record_reveal
from models.scope import branch_choices, scoped

from .base import DomainModelView, _user
from .custom_fields import CustomFieldsMixin


class RelatedFilter(FilterEqual):
    """Equality filter on a foreign key of the listed model itself (no join), whose
    options are read from the database when the list is shown, not at start-up, and are
    only the rows in the user's branch scope (models.scope). The value must be an id."""

    takes_ids = True  # DomainModelView refuses a value that cannot be an id

    def get_options(self, view):
        if not has_request_context():
            return []
        return self.options()


def branch_filter(column, name=None):
    return RelatedFilter(column=column, name=name or _l("Branch"),
                         options=lambda: [(b.id, b.name) for b in branch_choices(_user())])


def staff_filter(column, name):
    return RelatedFilter(column=column, name=name, options=lambda: [
        (s.id, str(s)) for s in scoped(Staff.select().where(Staff.active).order_by(Staff.name), _user())])


# Pickers of a customer or a complaint in forms: DomainModelView makes their loader search
# through the search index (models.search), like the lists' search boxes; "fields" is what
# Flask-Admin requires of a loader.
CUSTOMER_AJAX = {"fields": ["name", "organisation", "phone"], "page_size": 20}
COMPLAINT_AJAX = {"fields": ["number", "title"], "page_size": 20}


def _contact_shown(customers):
    """Remember (on the request) which of these customers' phone and e-mail the user sees."""
    shown = g.setdefault("contact_shown", set())
    shown |= contact_shown_ids(_user(), customers)
    return shown


def _contact(view, context, model, name):
    """Phone / e-mail: in full for the people who own the customer (models.privacy), else
    masked with a "show" button (a POST that is logged)."""
    value = getattr(model, name) or ""
    if not value or model.id in g.get("contact_shown", ()) or model.id in g.get("contact_revealed", ()):
        return value
    return Markup('<span class="masked">{}</span> <form method="post" action="{}" class="d-inline reveal-contact">'
                  '<input type="hidden" name="csrf_token" value="{}">'
                  '<button type="submit" class="btn btn-link btn-sm p-0 align-baseline">{}</button></form>').format(
        mask(name, value), url_for("customer.reveal_contact", id=model.id), generate_csrf(), _("show"))


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
    column_formatters = {name: _contact for name in MASKED_FIELDS}
    details_template = "admin/customers/details.html"
    form_excluded_columns = ["created_at", "anonymised_at", "complaints", "callbacks", "invitations", "responses"]
    form_widget_args = {"habits": {"rows": 3}, "preferences": {"rows": 3}, "opinions": {"rows": 3}}
    anonymise_role = "manager"

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) is not False:
            _contact_shown(rows)
        return count, rows

    def get_one(self, id):
        customer = super().get_one(id)
        _contact_shown([customer])
        return customer

    def edit_form(self, obj=None):
        """Someone who sees the contact details masked cannot overwrite them either."""
        form = super().edit_form(obj)
        if obj is not None and obj.id not in g.get("contact_shown", ()):
            for name in MASKED_FIELDS:
                if name in form:
                    delattr(form, name)
        return form

    def render(self, template, **kwargs):
        kwargs.setdefault("may_anonymise", _user() is not None and _user().has_role(self.anonymise_role))
        return super().render(template, **kwargs)

    @expose("/contact/", methods=("POST",))
    def reveal_contact(self):
        """"show": the customer's phone and e-mail in full, recorded in the history."""
        customer = self.get_one(request.args.get("id"))
        record_reveal(customer, _user())
        g.setdefault("contact_revealed", set()).add(customer.id)
        return self.details_view()

    @expose("/anonymise/", methods=("POST",))
    def anonymise(self):
        """Erase the customer's identity on request, keep the figures (models.privacy)."""
        if not _user().has_role(self.anonymise_role):
            return self.inaccessible_callback("anonymise")
        customer = self.get_one(request.args.get("id"))
        if anonymise_customer(customer, _user()):
            flash(_("The customer file was anonymised: name and contact details erased, figures kept."), "success")
        else:
            flash(_("This customer file was already anonymised."), "info")
        return redirect(url_for(".details_view", id=customer.id))

    @action("invite_to_survey", _l("Invite to a survey"))
    def action_invite_to_survey(self, ids):
        from .surveys import invite_form  # admin.surveys imports this module
        return invite_form(self, ids)
