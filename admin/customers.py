"""Customer files with the customer's whole story (the customer page: contact details masked
for people who do not own the customer, the logged "show", anonymisation), and the filters and
pickers other areas reuse (branch, staff, customer search). Complaints, worksheets and
callbacks live in admin/complaints.py."""
from datetime import date

from flask import flash, g, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from models import Customer, Invitation, Staff, Survey
from models.audit import record
from models.complaints import CALLBACK_CHANNEL_LIST, CALLBACK_KINDS, SATISFACTION, STAGES
from models.customer360 import answer_score, customer_story
from models.clock import now
from models.i18n import label_of
from models.privacy import MASKED_FIELDS, anonymise_customer, contact_shown_ids, mask, record_reveal
from models.recognition import REWARD_PENALTY_KINDS
from models.scope import branch_choices, scoped
from models.survey_links import INVITATION_STATUSES, invitation_status, invite_customers
from models.workflow import WorkflowError, record_scheduled_callback

from .base import DomainModelView, _user
from .custom_fields import CustomFieldsMixin
from .reports import QUADRANT_LABELS


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
    return RelatedFilter(column=column, name=name, options=_staff_options)


def _staff_options():
    """The active staff in the user's scope, as a staff filter offers them: read once per
    request (the complaint list has three such filters)."""
    key = "service_desk.staff_options"
    if has_request_context() and key in request.environ:
        return request.environ[key]
    options = [(s.id, str(s)) for s in scoped(Staff.select().where(Staff.active).order_by(Staff.name), _user())]
    if has_request_context():
        request.environ[key] = options
    return options


# Pickers of a customer or a complaint in forms: DomainModelView makes their loader search
# through the search index (models.search), like the lists' search boxes, and shows a customer
# as "name (organisation) · phone", so two customers called 张伟 are told apart; "fields" is
# what Flask-Admin requires of a loader.
CUSTOMER_AJAX = {"fields": ["name", "organisation", "phone"], "page_size": 20,
                 "placeholder": _l("Type a name, organisation or phone number")}
COMPLAINT_AJAX = {"fields": ["number", "title"], "page_size": 20,
                  "placeholder": _l("Type a complaint number or title")}


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
    # the name links to the customer page; phone and e-mail masked for people who do not own the customer
    column_formatters = {"name": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
        url_for(".details_view", id=m.id), m.name), **{name: _contact for name in MASKED_FIELDS}}
    details_template = "admin/customers/details.html"
    form_excluded_columns = ["created_at", "anonymised_at", "complaints", "callbacks", "invitations", "responses"]
    form_widget_args = {"habits": {"rows": 3}, "preferences": {"rows": 3}, "opinions": {"rows": 3}}
    staff_fields = ["account_manager"]
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

    # ------------------------------------------------------------------ the customer page
    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs.update(self._page_context(kwargs["model"]))
        return super().render(template, **kwargs)

    def _page_context(self, customer, callback_form=None):
        story = customer_story(customer, user=_user())
        open_surveys = [s for s in Survey.select().where(Survey.active).order_by(Survey.id.desc()) if s.is_open()]
        visible = customer.id in _contact_shown([customer]) or customer.id in g.get("contact_revealed", ())
        return {
            "customer": customer,
            "may_anonymise": _user() is not None and _user().has_role(self.anonymise_role),
            "contact_visible": visible,
            "masked": {name: mask(name, getattr(customer, name) or "") for name in MASKED_FIELDS},
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
        return self.get_one(request.args.get("id"))  # in the user's scope, else 404

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
