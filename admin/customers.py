"""Customer files with the customer's whole story (the customer page), and the filters and
pickers other areas reuse (branch, staff, customer search). Complaints, worksheets and
callbacks live in admin/complaints.py."""
from datetime import date

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup
from playhouse.flask_utils import get_object_or_404

from models import Branch, Customer, Invitation, Staff, Survey
from models.audit import record
from models.complaints import CALLBACK_CHANNEL_LIST, CALLBACK_KINDS, SATISFACTION, STAGES
from models.customer360 import answer_score, customer_story
from models.clock import now
from models.i18n import label_of
from models.recognition import REWARD_PENALTY_KINDS
from models.survey_links import INVITATION_STATUSES, invitation_status, invite_customers
from models.workflow import WorkflowError, record_scheduled_callback

from .base import DomainModelView, _user
from .custom_fields import CustomFieldsMixin
from .reports import QUADRANT_LABELS


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
# through the search index (models.search), like the lists' search boxes, and shows a customer
# as "name (organisation) · phone", so two customers called 张伟 are told apart; "fields" is
# what Flask-Admin requires of a loader.
CUSTOMER_AJAX = {"fields": ["name", "organisation", "phone"], "page_size": 20,
                 "placeholder": _l("Type a name, organisation or phone number")}
COMPLAINT_AJAX = {"fields": ["number", "title"], "page_size": 20,
                  "placeholder": _l("Type a complaint number or title")}


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
    staff_fields = ["account_manager"]

    details_template = "admin/customers/details.html"
    column_formatters = {"name": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
        url_for(".details_view", id=m.id), m.name)}

    @action("invite_to_survey", _l("Invite to a survey"))
    def action_invite_to_survey(self, ids):
        from .surveys import invite_form  # admin.surveys imports this module
        return invite_form(self, ids)

    # ------------------------------------------------------------------ the customer page
    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs.update(self._page_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def _page_context(self, customer, callback_form=None):
        story = customer_story(customer)
        open_surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
        return {
            "customer": customer,
            "story": story,
            "answer_score": answer_score,
            "label": lambda choices, code: label_of(choices, code),
            "stages": STAGES,
            "callback_kinds": CALLBACK_KINDS,
            "channel_choices": CALLBACK_CHANNEL_LIST.offered(),  # the callback form: active channels
            "channel_labels": CALLBACK_CHANNEL_LIST,  # the callbacks listed: every channel's label
            "satisfaction_choices": SATISFACTION,
            "invitation_status": lambda invitation: label_of(INVITATION_STATUSES, invitation_status(invitation)),
            "open_surveys": open_surveys,
            "callback_form": callback_form or {},
            "quadrant_labels": QUADRANT_LABELS,
            "custom_values": self.custom_values_shown(customer),  # the office's own fields
            "field_label": lambda name: Customer._meta.fields[name].verbose_name,
            "customer_choice": lambda name, code: label_of(Customer._meta.fields[name].choices, code),
            "reward_kinds": REWARD_PENALTY_KINDS,
            "today": now().date(),
        }

    def _customer_or_404(self):
        return get_object_or_404(Customer, Customer.id == request.args.get("id", type=int))

    @expose("/callback/", methods=("POST",))
    def log_callback(self):
        """Log a callback made to the customer now (the page's "log callback" form)."""
        customer = self._customer_or_404()
        due = request.form.get("due_date", "").strip()
        try:
            due_date = date.fromisoformat(due) if due else None
            record_scheduled_callback(customer, _user(), due_date=due_date,
                                      channel=request.form.get("channel", "phone"),
                                      outcome=request.form.get("outcome", ""),
                                      satisfaction=request.form.get("satisfaction"))
        except ValueError as exc:  # WorkflowError, or a date that is not one
            message = str(exc) if isinstance(exc, WorkflowError) else _("Invalid due date.")
            flash(message, "error")
            page = super().render(self.details_template, model=customer, details_columns=self._details_columns,
                                  get_value=self.get_detail_value, return_url=url_for(".index_view"),
                                  **self._page_context(customer, request.form))
            return page, 422
        flash(_("Callback to %(customer)s recorded.", customer=str(customer)), "success")
        return redirect(url_for(".details_view", id=customer.id) + "#callbacks")

    @expose("/invite/", methods=("POST",))
    def send_survey(self):
        """Create the customer's invitation to a survey (sending it by e-mail or SMS is the
        invitation's business); an existing invitation to the same survey is reused."""
        customer = self._customer_or_404()
        survey = Survey.get_or_none(Survey.id == request.form.get("survey", type=int))
        if survey is None or not survey.is_open():
            flash(_("Choose an open survey."), "error")
            return redirect(url_for(".details_view", id=customer.id))
        created, _skipped = invite_customers(survey, [customer.id])
        if created:
            invitation = created[0]
            record(invitation, "create", _user())
            flash(_("Invitation to %(survey)s created for %(customer)s.", survey=survey.title,
                    customer=str(customer)), "success")
        else:
            invitation = Invitation.get(Invitation.survey == survey.id, Invitation.customer == customer.id)
            flash(_("%(customer)s was already invited to %(survey)s: here is that invitation.",
                    customer=str(customer), survey=survey.title), "info")
        return redirect(url_for("invitation.details_view", id=invitation.id))
