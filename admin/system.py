"""Administrator's area: accounts, branches, SLA policies, settings; history and export log."""
import json

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional

from models import History, Setting, Staff
from models import settings
from models.audit import shown_value
from models.i18n import label_of
from models.org import UserBranch
from models.ownership import set_duty_person
from models.scope import branches_seen

from .base import INLINE_ID, DomainModelView, ReadOnlyModelView, RoleBaseView, _user, history_field_label


class UserAdmin(DomainModelView):
    """Accounts. The branches an account sees: its staff member's branch plus the branches
    linked below (a manager of several branches); the director and the administrator see all."""

    required_role = "admin"
    delete_role = "admin"
    column_list = ["username", "role", "staff", "branches_seen", "active", "last_login_at", "created_at"]
    column_labels = {"branches_seen": _l("Branches seen")}
    column_descriptions = {"branches_seen": _l("By role (director, administrator: every branch), else the staff "
                                               "member's branch and the branches linked to the account")}
    column_formatters = {"branches_seen": lambda view, context, model, name: _branches_seen_cell(model)}
    column_details_exclude_list = ["password_hash", "session_version"]
    column_export_exclude_list = ["password_hash", "session_version", "branches_seen"]
    column_searchable_list = ["username"]
    column_filters = ["role", "active"]
    form_excluded_columns = ["password_hash", "created_at", "last_login_at", "session_version", "branch_links"]
    inline_models = [(UserBranch, {"form_columns": ["id", "branch"], **INLINE_ID})]
    form_extra_fields = {"password": PasswordField(_l("New password"), validators=[Optional(), Length(min=8, max=200)],
                                                   description=_l("At least 8 characters; leave empty to keep it."))}

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters, execute, page_size)
        if execute:  # a page of accounts (not an export's query): their branches read at once
            rows = list(rows)
            request.environ["service_desk.user_page"] = rows
        return count, rows

    def on_model_change(self, form, model, is_created):
        if form.password.data:
            model.set_password(form.password.data)
        elif is_created:
            raise ValueError(str(_l("A new account needs a password.")))


def _branches_seen_cell(account):
    """Which branches an account sees (models.scope.branches_seen), for the whole page at once."""
    key = "service_desk.branches_seen"
    if key not in request.environ:
        page = request.environ.get("service_desk.user_page") or [account]
        request.environ[key] = branches_seen(page)
    seen = request.environ[key]
    if account.id not in seen:  # not on the page read at first: read this one
        seen.update(branches_seen([account]))
    names = seen[account.id]
    if names is None:
        return _("All branches")
    return "、".join(names) if names else _("No branch: sees no branch data")


def _duty_person_cell(view, context, model, name):
    """The branch's duty person, from one query for the whole page."""
    if "duty_people" not in g:
        g.duty_people = {s.branch_id: s for s in Staff.select().where(Staff.on_duty == True,  # noqa: E712
                                                                     Staff.active == True)}  # noqa: E712
    person = g.duty_people.get(model.id)
    return str(person) if person else ""


class BranchAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["name", "region", "city", "duty_person", "active"]
    column_labels = {"duty_person": _l("Duty person")}
    column_formatters = {"duty_person": _duty_person_cell}
    column_searchable_list = ["name", "region", "city"]
    column_filters = ["region", "active"]
    column_default_sort = "name"
    form_excluded_columns = ["staff", "customers", "complaints", "responsible_for", "responses"]
    # the branch's duty person (值班负责人): owns survey follow-ups of customers without an account manager
    form_extra_fields = {"duty_person": SelectField(
        _l("Duty person"), choices=[("", "—")], validate_choice=True, default="",
        description=_l("Owns the branch's survey follow-ups whose customer has no account manager, and complaints "
                       "recorded without a first responder"))}

    def _with_duty_people(self, form, branch):
        people = []
        if branch is not None and branch.id is not None:
            people = list(Staff.select().where(Staff.branch == branch.id, Staff.active == True)  # noqa: E712
                          .order_by(Staff.name))
        form.duty_person.choices = [("", "—")] + [(str(p.id), str(p)) for p in people]
        if request.method == "GET" and branch is not None:
            current = next((p for p in people if p.on_duty), None)
            form.duty_person.data = str(current.id) if current else ""
        return form

    def create_form(self, obj=None):
        return self._with_duty_people(super().create_form(obj), None)

    def edit_form(self, obj=None):
        return self._with_duty_people(super().edit_form(obj), obj)

    def after_model_change(self, form, model, is_created):
        chosen = form.duty_person.data if "duty_person" in form else ""
        staff = Staff.get_or_none(Staff.id == int(chosen)) if chosen and chosen.isdigit() else None
        set_duty_person(model.id, staff, _user())


class SlaPolicyAdmin(DomainModelView):
    """系统 → SLA 时限规则: deadlines per severity and customer grade, in calendar hours (around
    the clock) or working hours (the branch's working calendar: 系统 → 工作日历). A change applies
    to complaints received from then on (their due times are stored when received)."""

    required_role = "admin"
    delete_role = "admin"
    column_list = ["severity", "customer_grade", "acknowledge_hours", "result_hours", "rectify_hours",
                   "callback_hours", "hours_kind"]
    form_columns = ["severity", "customer_grade", "acknowledge_hours", "result_hours", "rectify_hours",
                    "callback_hours", "hours_kind"]


class SettingsView(RoleBaseView):
    """System → Settings: every setting declared in models.settings, changed through a form
    typed by its declaration (numbers within bounds, a choice list, weights adding up to 1),
    reset to its default; each change is a history row. Keys are neither typed nor deleted."""

    required_role = "admin"

    @expose("/")
    def index(self):
        stored = {row.key: row for row in Setting.select()}
        declared = settings.declarations()
        rows = [{"definition": d, "value": settings.value(d.key), "stored": d.key in stored} for d in declared]
        known = {d.key for d in declared}
        others = [row for key, row in sorted(stored.items()) if key not in known]
        return self.render("admin/system/settings.html", rows=rows, others=others, shown=_shown_setting)

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self):
        found = settings.definition(request.args.get("key", ""))
        if found is None:
            abort(404)
        errors, typed = {}, {}
        if request.method == "POST":
            typed = request.form
            try:
                changed = settings.save(found.key, _posted_setting(found, request.form), _user())
            except settings.SettingError as exc:
                errors[exc.part or "value"] = str(exc)
            else:
                if changed:
                    flash(_("%(setting)s saved.", setting=str(found.label)), "success")
                else:
                    flash(_("%(setting)s: nothing changed.", setting=str(found.label)), "info")
                return redirect(url_for(".index"))
        current = settings.value(found.key)
        return self.render("admin/system/setting_edit.html", d=found, current=current, errors=errors, typed=typed,
                           shown=_shown_setting, shown_stored=_shown_stored,
                           history=_setting_history(found.key)), (422 if errors else 200)

    @expose("/reset/", methods=("POST",))
    def reset(self):
        found = settings.definition(request.args.get("key", ""))
        if found is None:
            abort(404)
        if settings.reset(found.key, _user()):
            flash(_("%(setting)s is back to its default: %(value)s.", setting=str(found.label),
                    value=_shown_setting(found, found.default)), "success")
        else:
            flash(_("%(setting)s already has its default value.", setting=str(found.label)), "info")
        return redirect(url_for(".index"))


def _posted_setting(found, form):
    """The form's fields as the value settings.check() takes (text stays text: check converts)."""
    if found.kind == "bool":
        return form.get("value") == "y"
    if found.kind == "weights":
        return {name: form.get(f"part_{name}", "").strip() for name, _label in found.parts}
    return form.get("value", "").strip()


def _shown_setting(found, value):
    """A setting's value as people read it."""
    if found.kind == "bool":
        return str(_l("Yes") if value else _l("No"))
    if found.kind == "choice":
        if value is None:
            return str(_l("(none)"))
        return label_of(found.choice_list(), value)
    if found.kind == "weights" and isinstance(value, dict):
        return " · ".join(f"{label} {value.get(name, 0):g}" for name, label in found.parts)
    return found.text_of(value)


def _shown_stored(found, text):
    """A stored (JSON) value of a history row, as people read it."""
    if not text:
        return ""
    try:
        return _shown_setting(found, json.loads(text))
    except (TypeError, ValueError, AttributeError):
        return text


def _setting_history(key):
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        return []
    return list(History.select().where(History.object_type == "Setting", History.object_id == row.id)
                .order_by(History.at.desc(), History.id.desc()).limit(20))


def _object_type_label(view, context, model, name):
    """"Complaint" as the menu calls complaints (投诉)."""
    from . import MODEL_VIEWS  # the admin package imports this module
    labels = {model_class.__name__: label for _view, model_class, label, _category, _endpoint in MODEL_VIEWS}
    return labels.get(model.object_type, model.object_type)


class HistoryAdmin(ReadOnlyModelView):
    required_role = "manager"
    column_list = ["at", "username", "object_type", "object_label", "action", "field", "old_value", "new_value"]
    column_formatters = {"old_value": lambda v, c, m, n: shown_value(m.object_type, m.field, m.old_value),
                         "new_value": lambda v, c, m, n: shown_value(m.object_type, m.field, m.new_value),
                         "object_type": _object_type_label,
                         "field": lambda v, c, m, n: history_field_label(m.object_type, m.field)}
    column_searchable_list = ["object_label", "username", "field"]
    column_filters = ["at", "object_type", "action", "username"]
    column_default_sort = ("at", True)
    column_details_exclude_list = ["branch_id"]


class ExportLogAdmin(ReadOnlyModelView):
    required_role = "manager"
    column_list = ["at", "username", "what", "format", "rows", "personal_data", "filters"]
    column_filters = ["at", "what", "username"]
    column_default_sort = ("at", True)
