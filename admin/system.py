"""Administrator's area: accounts, branches, SLA policies, settings; history and export log."""
import json

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from models.audit import shown_value
from models.org import UserBranch

from .base import INLINE_ID, DomainModelView, ReadOnlyModelView


class UserAdmin(DomainModelView):
    """Accounts. The branches an account sees: its staff member's branch plus the branches
    linked below (a manager of several branches); the director and the administrator see all."""

    required_role = "admin"
    delete_role = "admin"
    column_list = ["username", "role", "staff", "active", "last_login_at", "created_at"]
    column_details_exclude_list = ["password_hash", "session_version"]
    column_export_exclude_list = ["password_hash", "session_version"]
    column_searchable_list = ["username"]
    column_filters = ["role", "active"]
    form_excluded_columns = ["password_hash", "created_at", "last_login_at", "session_version", "branch_links"]
    inline_models = [(UserBranch, {"form_columns": ["id", "branch"], **INLINE_ID})]
    form_extra_fields = {"password": PasswordField(_l("New password"), validators=[Optional(), Length(min=8, max=200)],
                                                   description=_l("At least 8 characters; leave empty to keep it."))}

    def on_model_change(self, form, model, is_created):
        if form.password.data:
            model.set_password(form.password.data)
        elif is_created:
            raise ValueError(str(_l("A new account needs a password.")))


class BranchAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["name", "region", "city", "active"]
    column_searchable_list = ["name", "region", "city"]
    column_filters = ["region", "active"]
    column_default_sort = "name"
    form_excluded_columns = ["staff", "customers", "complaints", "responsible_for", "responses"]


class SlaPolicyAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["severity", "customer_grade", "acknowledge_hours", "result_hours", "rectify_hours",
                   "callback_hours"]
    # hours_kind (calendar or working hours) is offered once deadlines are computed with it
    # (issue 17, step 3: after the deadline rework of issue 11 lands)
    form_excluded_columns = ["hours_kind"]


class SettingAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["key", "value", "description"]
    column_searchable_list = ["key", "description"]

    def on_model_change(self, form, model, is_created):
        try:
            json.loads(model.value)
        except ValueError:
            raise ValueError(str(_l("The value must be valid JSON, e.g. 3, \"text\" or {\"a\": 1}."))) from None


class HistoryAdmin(ReadOnlyModelView):
    required_role = "manager"
    column_list = ["at", "username", "object_type", "object_label", "action", "field", "old_value", "new_value"]
    column_formatters = {"old_value": lambda v, c, m, n: shown_value(m.object_type, m.field, m.old_value),
                         "new_value": lambda v, c, m, n: shown_value(m.object_type, m.field, m.new_value)}
    column_searchable_list = ["object_label", "username", "field"]
    column_filters = ["at", "object_type", "action", "username"]
    column_default_sort = ("at", True)
    column_details_exclude_list = ["branch_id"]


class ExportLogAdmin(ReadOnlyModelView):
    required_role = "manager"
    column_list = ["at", "username", "what", "format", "rows", "personal_data", "filters"]
    column_filters = ["at", "what", "username"]
    column_default_sort = ("at", True)
