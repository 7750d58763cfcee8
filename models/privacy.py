"""Personal data (个人信息保护法): who sees a customer's phone and e-mail, the logged "show",
anonymisation on request, and which exports carry personal data.

* **Contact details shown in full** (phone, e-mail) only to the people who must reach the
  customer: the customer's account manager (专人负责); the owner of one of the customer's
  open complaints (Complaint.assignee, who has to call them now); and the branch managers
  (role manager) of the customer's branch. Everyone else who may open the customer file —
  the other staff of the branch, the service director, the administrator — sees them masked
  (138****5678, z***@example.com) and may press "show", which writes a history row
  (action "reveal": who, when, which customer).
* **Messages sent to a customer** (a survey invitation by e-mail or SMS, models.outbox) show
  the customer's address under the same rule: in full to those who own the customer, masked
  to everyone else (`recipient_shown`).
* **Exports** of lists and workbooks are manager-only and hold the data unmasked; an export
  whose columns hold personal data (PERSONAL_FIELDS, or any column naming a customer) is
  marked as such in the export log (ExportLog.personal_data) with the columns concerned.
* **Anonymisation on request**: the customer's name becomes "已匿名客户 #<id>", the contact and
  free-text fields are erased, the figures are kept (grade, kind, branch, lifecycle, deal state,
  spend, churn; every complaint, callback and survey answer stays linked and counted). The
  customer's earlier history keeps its rows but loses the erased values, the labels of the
  history of its complaints, callbacks and invitations drop the name, and an "anonymise" row
  records who did it and when.
"""
from peewee import fn

from .audit import History, record
from .base import db
from .clock import now
from .complaints import Callback, Complaint
from .customers import Customer
from .scope import branch_ids
from .surveys import Invitation

# Columns that are personal data, per model (an export naming a customer is personal too).
PERSONAL_FIELDS = {
    "Customer": ("name", "contact_person", "phone", "email", "address"),
    "Staff": ("phone", "email", "mobile"),
    "User": ("email", "mobile"),
    # the callback contact a respondent left on a public survey
    "Response": ("contact_name", "contact_phone"),
    # where a message went: a staff member's or a customer's address
    "OutboxMessage": ("recipient", "recipient_name"),
}
# Shown masked to people who do not own the customer (see the module docstring).
MASKED_FIELDS = ("phone", "email")
# Erased by anonymise_customer; what is not listed here is kept.
ERASED_FIELDS = ("organisation", "contact_person", "phone", "email", "address", "habits", "preferences",
                 "opinions")
ANONYMISED_NAME = "已匿名客户 #{id}"
ERASED = "(已删除)"


def mask_phone(phone):
    """138****5678: the first three and last four characters stay (fewer for short numbers)."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) >= 8:
        return phone[:3] + "****" + phone[-4:]
    return "****" + phone[-2:] if len(phone) > 2 else "****"


def mask_email(email):
    """z***@example.com: the first character of the name and the domain stay."""
    email = (email or "").strip()
    if not email:
        return ""
    name, at, domain = email.partition("@")
    return (name[:1] + "***" + at + domain) if at else name[:1] + "***"


MASKS = {"phone": mask_phone, "email": mask_email}


def mask(field_name, value):
    return MASKS.get(field_name, lambda v: v)(value)


def contact_shown_ids(user, customers):
    """The ids among `customers` (rows with branch_id and account_manager_id) whose phone and
    e-mail `user` sees unmasked. At most one query (open complaints the user owns)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    customers = [c for c in customers if c is not None]
    shown = set()
    staff_id = getattr(user, "staff_id", None)
    if user.role == "manager":
        scope = branch_ids(user) or frozenset()
        shown |= {c.id for c in customers if c.branch_id in scope}
    if staff_id:
        shown |= {c.id for c in customers if c.account_manager_id == staff_id}
        rest = [c.id for c in customers if c.id not in shown]
        if rest:
            shown |= {cid for (cid,) in Complaint.select(Complaint.customer).where(
                Complaint.customer.in_(rest), Complaint.assignee == staff_id,
                Complaint.stage != "closed").distinct().tuples()}
    return shown


def contact_shown(user, customer):
    return customer.id in contact_shown_ids(user, [customer])


def response_contact_shown_ids(user, responses):
    """The ids among survey `responses` whose callback contact (the name and phone a respondent
    left) `user` sees in full: the managers of the response's branch and the owner of its open
    follow-up complaint, as for a customer. At most one query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    responses = [r for r in responses if r is not None]
    shown = set()
    if user.role == "manager":
        scope = branch_ids(user) or frozenset()
        shown |= {r.id for r in responses if r.branch_id in scope}
    staff_id = getattr(user, "staff_id", None)
    followups = {r.followup_complaint_id: r.id for r in responses
                 if r.id not in shown and r.followup_complaint_id is not None}
    if staff_id and followups:
        shown |= {followups[cid] for (cid,) in Complaint.select(Complaint.id).where(
            Complaint.id.in_(list(followups)), Complaint.assignee == staff_id, Complaint.stage != "closed").tuples()}
    return shown


def masked_recipient(channel, recipient):
    """A message's address masked like a customer's contact (e-mail or phone by channel)."""
    return mask("email" if channel == "email" else "phone", recipient)


def recipients_shown(user, messages):
    """The ids among outbox `messages` whose recipient `user` sees in full: every message that is
    not to a customer (alerts to staff, robots, reports), and a customer's invitation when the
    user owns that customer (contact_shown_ids). Two queries at most."""
    to_customers = {m.id: m.invitation_id for m in messages if m.invitation_id is not None}
    shown = {m.id for m in messages if m.id not in to_customers}
    if to_customers:
        invitations = {i.id: i.customer_id for i in Invitation.select(Invitation.id, Invitation.customer)
                       .where(Invitation.id.in_(list(set(to_customers.values()))))}
        customer_ids = {cid for cid in invitations.values() if cid is not None}
        customers = list(Customer.select(Customer.id, Customer.branch, Customer.account_manager)
                         .where(Customer.id.in_(list(customer_ids)))) if customer_ids else []
        allowed = contact_shown_ids(user, customers)
        shown |= {mid for mid, iid in to_customers.items() if invitations.get(iid) in allowed}
    return shown


def record_reveal(customer, user):
    """Someone pressed "show" on a masked customer: the history says who and when."""
    return record(customer, "reveal", user, "phone,email", "", "")


def personal_columns(model, column_names):
    """The exported columns of `model` that hold personal data."""
    personal = set(PERSONAL_FIELDS.get(model.__name__, ()))
    found = []
    for name in column_names:
        field = model._meta.fields.get(name)
        if name in personal or (field is not None and getattr(field, "rel_model", None) is Customer):
            found.append(name)
    return found


def _scrub(text, name, replacement):
    if not text or len(name) < 2:
        return text
    return text.replace(name, replacement)


def anonymise_customer(customer, user=None):
    """Erase the customer's identity and contact details, keep the figures (module docstring).
    Returns False when the customer was already anonymised."""
    if customer.anonymised_at is not None:
        return False
    old_name = customer.name
    new_name = ANONYMISED_NAME.format(id=customer.id)
    with db.atomic():
        personal = set(PERSONAL_FIELDS["Customer"]) | set(ERASED_FIELDS)
        # the customer's own history keeps its rows, not the erased values
        (History.update(old_value=ERASED).where(History.object_type == "Customer", History.object_id == customer.id,
                                               History.field.in_(sorted(personal)), History.old_value != "")
         .execute())
        (History.update(new_value=ERASED).where(History.object_type == "Customer", History.object_id == customer.id,
                                               History.field.in_(sorted(personal)), History.new_value != "")
         .execute())
        History.update(object_label=new_name).where(History.object_type == "Customer",
                                                    History.object_id == customer.id).execute()
        # labels of the history of its complaints, callbacks and invitations name the customer
        related = {
            "Complaint": Complaint.select(Complaint.id).where(Complaint.customer == customer.id),
            "Callback": Callback.select(Callback.id).where(Callback.customer == customer.id),
            "Invitation": Invitation.select(Invitation.id).where(Invitation.customer == customer.id),
        }
        if len(old_name) >= 2:
            for object_type, ids in related.items():
                (History.update(object_label=fn.REPLACE(History.object_label, old_name, new_name))
                 .where(History.object_type == object_type, History.object_id.in_(ids)).execute())
                (History.update(old_value=fn.REPLACE(History.old_value, old_name, new_name),
                                new_value=fn.REPLACE(History.new_value, old_name, new_name))
                 .where(History.object_type == object_type, History.object_id.in_(ids)).execute())
            for complaint in Complaint.select(Complaint.id, Complaint.title, Complaint.description).where(
                    Complaint.customer == customer.id):
                title = _scrub(complaint.title, old_name, new_name)
                description = _scrub(complaint.description, old_name, new_name)
                if (title, description) != (complaint.title, complaint.description):
                    Complaint.update(title=title, description=description).where(
                        Complaint.id == complaint.id).execute()
        values = {name: "" for name in ERASED_FIELDS}
        values.update(name=new_name, anonymised_at=now())
        Customer.update(**values).where(Customer.id == customer.id).execute()
        for name, value in values.items():
            setattr(customer, name, value)
        record(customer, "anonymise", user, "name", "", new_name)
    return True
