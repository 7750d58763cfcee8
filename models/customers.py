"""客户档案: the customer file. Personal data: only roles that need it may export it, and the
phone and e-mail are shown masked to people who do not own the customer (models.privacy)."""
from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField,
                    ForeignKeyField, TextField)

from .base import BaseModel
from .choices import ProductList
from .clock import now
from .i18n import _l
from .org import Branch, Staff

CUSTOMER_KINDS = [
    ("government", _l("Government agency")),
    ("institution", _l("Public institution")),
    ("owner", _l("Property owner")),
    ("enterprise", _l("Enterprise")),
    ("household", _l("Individual / household")),
]
GRADES = [
    ("vip", _l("Big customer / VIP")),
    ("regular", _l("Regular")),
    ("internal", _l("Internal")),
]
LIFECYCLES = [
    ("old", _l("Existing customer")),
    ("new", _l("New customer")),
    ("potential", _l("Potential customer")),
]
DEAL_STATES = [
    ("transacted", _l("Transacted")),
    ("none", _l("Not yet transacted")),
    ("upgraded", _l("Upgraded")),
]
# Observed shares of why customers leave (DOMAIN.md); used as the choice list and by seed-demo.
CHURN_REASONS = [
    ("died", _l("Died")),
    ("moved", _l("Moved away")),
    ("tastes", _l("Tastes changed")),
    ("friend", _l("Switched on a friend's advice")),
    ("price", _l("Cheaper elsewhere")),
    ("product", _l("Unhappy with the product")),
    ("indifference", _l("Staff indifferent to their needs")),
]
# The lists as the office keeps them (models.choices). A big spender is made "vip" and an
# "internal" customer stays internal (Customer.save): both built in, like the fields' defaults.
CUSTOMER_KIND_LIST = ProductList("customer_kind", _l("Customer kinds"), CUSTOMER_KINDS)
GRADE_LIST = ProductList("customer_grade", _l("Customer grades"), GRADES, built_in=("vip", "internal"))
LIFECYCLE_LIST = ProductList("customer_lifecycle", _l("Customer lifecycles"), LIFECYCLES)
DEAL_STATE_LIST = ProductList("deal_state", _l("Deal states"), DEAL_STATES)
CHURN_REASON_LIST = ProductList("churn_reason", _l("Churn reasons"), CHURN_REASONS)
CHURN_SHARES = {"died": 1, "moved": 3, "tastes": 4, "friend": 5, "price": 9, "product": 10, "indifference": 68}

# A big customer spends on average at least this much per month (yuan): Customer.save makes them VIP.
BIG_CUSTOMER_MONTHLY_SPEND = 2000


class Customer(BaseModel):
    """A customer: base facts, features (habits, preferences, opinions) and business state.

    Big customer (大客户): one whose average monthly spend is BIG_CUSTOMER_MONTHLY_SPEND (2000
    yuan) or more. Saving a file with such a spend makes its grade VIP, which also gives its
    complaints the VIP SLA policy; an internal customer stays internal. A lower spend does not
    demote a VIP: the grade may be given for other reasons."""

    name = CharField(max_length=100, index=True, verbose_name=_l("Name"))
    organisation = CharField(max_length=200, default="", index=True, verbose_name=_l("Organisation"))
    contact_person = CharField(max_length=50, default="", verbose_name=_l("Contact person"))
    phone = CharField(max_length=30, default="", index=True, verbose_name=_l("Phone"))
    email = CharField(max_length=120, default="", verbose_name=_l("Email"))
    address = CharField(max_length=255, default="", verbose_name=_l("Address"))
    kind = CharField(max_length=20, choices=CUSTOMER_KIND_LIST, default="household", verbose_name=_l("Customer kind"))
    habits = TextField(default="", verbose_name=_l("Habits"))
    preferences = TextField(default="", verbose_name=_l("Preferences"))
    opinions = TextField(default="", verbose_name=_l("Opinions about the product"))
    grade = CharField(max_length=20, choices=GRADE_LIST, default="regular", index=True, verbose_name=_l("Grade"))
    monthly_spend = DecimalField(max_digits=12, decimal_places=2, null=True,
                                 verbose_name=_l("Average monthly spend"),
                                 help_text=_l("Yuan; 2000 or more makes a big customer"))
    lifecycle = CharField(max_length=20, choices=LIFECYCLE_LIST, default="new", verbose_name=_l("Lifecycle"))
    deal_state = CharField(max_length=20, choices=DEAL_STATE_LIST, default="none", verbose_name=_l("Deal state"))
    branch = ForeignKeyField(Branch, backref="customers", on_delete="RESTRICT", verbose_name=_l("Branch"))
    account_manager = ForeignKeyField(Staff, null=True, backref="customers", on_delete="RESTRICT",
                                      verbose_name=_l("Account manager"))
    first_deal_date = DateField(null=True, verbose_name=_l("First deal date"))
    churned = BooleanField(default=False, verbose_name=_l("Lost"))
    churn_reason = CharField(max_length=20, choices=CHURN_REASON_LIST, null=True, verbose_name=_l("Churn reason"))
    survey_opt_out = BooleanField(default=False, verbose_name=_l("No survey invitations"),
                                  help_text=_l("Set when the customer unsubscribes; no invitation or reminder is sent"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))
    active = BooleanField(default=True, index=True, verbose_name=_l("Active"),
                          help_text=_l("A customer file with complaints, callbacks or survey answers is archived "
                                       "(made inactive) instead of deleted"))
    anonymised_at = DateTimeField(null=True, verbose_name=_l("Anonymised at"),
                                  help_text=_l("Name and contact details erased on the customer's request; "
                                               "the figures are kept"))

    def save(self, *args, **kwargs):
        if self.grade != "internal" and is_big_spender(self.monthly_spend):
            self.grade = "vip"
        return super().save(*args, **kwargs)

    def __str__(self):
        if self.organisation:
            return f"{self.name} ({self.organisation})"
        return self.name


def is_big_spender(monthly_spend):
    """Average monthly spend of BIG_CUSTOMER_MONTHLY_SPEND yuan or more (None: unknown, no)."""
    return monthly_spend is not None and monthly_spend >= BIG_CUSTOMER_MONTHLY_SPEND
