"""Staff directory and recognition: awards, rewards and penalties (manager)."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import Award, RewardPenalty, Staff

from .base import DomainModelView
from .customers import COMPLAINT_AJAX, branch_filter, staff_filter


class StaffAdmin(DomainModelView):
    required_role = "manager"
    column_list = ["employee_no", "name", "branch", "position", "phone", "hire_date", "active"]
    column_searchable_list = ["name", "employee_no", "phone"]
    column_filters = ["position", "active", "hire_date", branch_filter(Staff.branch)]
    column_sortable_list = ["employee_no", "name", "hire_date"]
    column_default_sort = "employee_no"
    form_excluded_columns = ["accounts", "customers", "first_responses", "responsible_for", "assigned",
                             "callbacks", "responses", "votes", "awards", "rewards_penalties"]


class AwardAdmin(DomainModelView):
    required_role = "manager"
    column_list = ["staff", "kind", "period", "team_name", "prize", "awarded_on", "approved_by"]
    column_searchable_list = ["period", "team_name", "reason"]
    column_filters = ["kind", "period", "awarded_on", staff_filter(Award.staff, _l("Staff"))]
    column_sortable_list = ["awarded_on", "period", "kind"]
    column_default_sort = ("awarded_on", True)
    form_excluded_columns = ["approved_by", "created_at"]

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.approved_by = current_user.id


class RewardPenaltyAdmin(DomainModelView):
    required_role = "manager"
    column_list = ["staff", "kind", "amount", "leave_days", "complaint", "decided_on", "recorded_by"]
    column_searchable_list = ["reason"]
    column_filters = ["kind", "decided_on", staff_filter(RewardPenalty.staff, _l("Staff"))]
    column_sortable_list = ["decided_on", "kind", "amount"]
    column_default_sort = ("decided_on", True)
    form_ajax_refs = {"complaint": COMPLAINT_AJAX}
    form_excluded_columns = ["recorded_by"]

    def on_model_change(self, form, model, is_created):
        model.validate()  # the rule lives in the model (RewardPenalty.validate); refused before any write
        if is_created:
            model.recorded_by = current_user.id
