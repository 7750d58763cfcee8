"""What every admin view shares: login and role checks, labels from the models,
related rows loaded in one query per column, writes in one transaction with history."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.peewee import ModelView
from flask_admin.model import typefmt
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup
from flask_login import current_user
from peewee import ForeignKeyField, IntegrityError

from exports.listing import export_list
from models import db
from models.audit import record, record_changes
from models.validation import field_problems

from .filters import FilterConverter


class RoleRequired:
    """Mixin: the view needs a logged-in account with at least `required_role`.

    Flask-Admin asks is_accessible() before every exposed URL of a view (list, forms,
    details, actions, ajax, export), so one check covers them all."""

    required_role = "staff"

    def is_accessible(self):
        return current_user.is_authenticated and current_user.has_role(self.required_role)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def attach_related(rows, fk_fields):
    """Load the rows behind each foreign key of `rows` with one query per key and cache
    them on the instances, so rendering `row.branch` costs no further query."""
    for fk in fk_fields:
        ids = {row.__data__.get(fk.name) for row in rows} - {None}
        related = {}
        if ids:
            target = fk.rel_model
            related = {obj.get_id(): obj for obj in target.select().where(target._meta.primary_key.in_(list(ids)))}
        for row in rows:
            value = row.__data__.get(fk.name)
            if value is not None:
                row.__rel__[fk.name] = related.get(value)
        # a label that names its own related row (Response: "<survey title> #id") would
        # otherwise cost one query per row: the model lists those keys in `label_joins`
        label_joins = getattr(fk.rel_model, "label_joins", ())
        if related and label_joins:
            target_fields = fk.rel_model._meta.fields
            attach_related(list(related.values()), [target_fields[name] for name in label_joins])


# history fields that are no model field: notes written with a hand-over or an escalation, the import
HISTORY_NOTE_FIELDS = {"escalation_reason": _l("Reason for escalation"),
                       "handover_reason": _l("Reason for the hand-over"), "import": _l("Import customers")}


def history_field_label(object_type, name):
    """The label a history row's field has on its model (the code itself if unknown)."""
    from models import ALL_MODELS
    model = next((m for m in ALL_MODELS if m.__name__ == object_type), None)
    field = model._meta.fields.get(name) if model else None
    if field is not None and field.verbose_name:
        return field.verbose_name
    return HISTORY_NOTE_FIELDS.get(name, name)


def _yes_no_icon(view, value, name):
    """A boolean in a list: Flask-Admin's icon, titled yes/no in the reader's language."""
    icon = "fa-check-circle" if value else "fa-minus-circle"
    return Markup('<span class="fa {}" title="{}"></span><span class="sr-only">{}</span>').format(
        icon, _("Yes") if value else _("No"), _("Yes") if value else _("No"))


def _yes_no_text(view, value, name):
    """A boolean on a details page: yes / no (Flask-Admin prints True / False)."""
    return _("Yes") if value else _("No")


class DomainModelView(RoleRequired, ModelView):
    """Base of every model view. Subclasses set the class attributes Flask-Admin knows,
    plus `required_role` (to see and edit) and `delete_role` (to delete)."""

    delete_role = "manager"
    export_role = "manager"  # exports carry personal data
    page_size = 20
    can_set_page_size = True
    can_view_details = True
    # exports: our streaming xlsx/csv writer (exports.listing) on Flask-Admin's export URL
    export_types = ["xlsx", "csv"]
    # export headers where the list's label only fits the screen, e.g. {"due_at": _l("Next deadline")}
    column_export_labels = None
    # related rows shown in forms through search-as-you-type instead of one huge <select>
    form_ajax_refs = None
    # date ranges also read as the Chinese date picker writes them ("… 至 …")
    filter_converter = FilterConverter()
    # booleans read yes / no in the reader's language (lists: an icon titled so)
    column_type_formatters = {**typefmt.BASE_FORMATTERS, bool: _yes_no_icon}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, bool: _yes_no_text}

    def __init__(self, model, *args, **kwargs):
        fields = model._meta.fields
        labels = {name: field.verbose_name for name, field in fields.items() if field.verbose_name}
        labels.setdefault("id", _l("Record ID"))
        labels.update(self.column_labels or {})
        self.column_labels = labels
        choices = {name: [(value, label) for value, label in field.choices]
                   for name, field in fields.items() if field.choices}
        choices.update(self.column_choices or {})
        self.column_choices = choices
        descriptions = {name: field.help_text for name, field in fields.items() if field.help_text}
        descriptions.update(self.column_descriptions or {})
        self.column_descriptions = descriptions
        super().__init__(model, *args, **kwargs)

    # ------------------------------------------------------------------ permissions
    @property
    def can_delete(self):
        return current_user.is_authenticated and current_user.has_role(self.delete_role)

    # ------------------------------------------------------------------ listing
    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        """An empty choice column (a question without a dimension) shows as blank, like every
        other empty cell; Flask-Admin's choice lookup would print "None"."""
        value = super()._get_list_value(context, model, name, column_formatters, column_type_formatters)
        return "" if value is None else value

    def _list_foreign_keys(self):
        fields = self.model._meta.fields
        names = [c[0] if isinstance(c, tuple) else c for c in self._list_columns]
        return [fields[n] for n in names if isinstance(fields.get(n), ForeignKeyField)]

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        if sort_column is not None and sort_column not in self._sortable_columns:
            sort_column = None  # a hand-edited ?sort= on a column that is not sortable
        count, query = super().get_list(page, sort_column, sort_desc, search, filters,
                                        execute=False, page_size=page_size)
        if not execute:
            return count, query
        rows = list(query)
        attach_related(rows, self._list_foreign_keys())
        return count, rows

    def get_export_columns(self):
        """Export headers: column_export_labels where the list's label only fits the screen."""
        labels = self.column_export_labels or {}
        return [(name, labels.get(name, label)) for name, label in super().get_export_columns()]

    def search_placeholder(self):
        """'Search: number, title, …' from the labels of the searchable columns."""
        names = [c if isinstance(c, str) else c.name for c in (self.column_searchable_list or ())]
        labels = [str(self.column_labels.get(n, n)) for n in names]
        return _("Search: %(fields)s", fields=", ".join(labels)) if labels else None

    def _get_filter_groups(self):
        # filter options that come from the database (branches, staff) are re-read per request
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    # ------------------------------------------------------------------ export
    @property
    def can_export(self):
        """Shows the export buttons of the list to roles allowed to export (personal data)."""
        return current_user.is_authenticated and current_user.has_role(self.export_role)

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """The list with its current search, filters and sort, every row, as xlsx or csv;
        replaces Flask-Admin's tablib export (in memory, no formula escaping)."""
        if not self.can_export:
            abort(403)
        if export_type not in self.export_types:
            abort(404)
        return export_list(self, export_type, _user())

    # ------------------------------------------------------------------ forms
    # staff drop-downs of the form: sorted by branch then name, each shown with its branch
    staff_fields = ()

    def create_form(self, obj=None):
        return self._sorted_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._sorted_choices(super().edit_form(obj))

    def _sorted_choices(self, form):
        from models import Branch, Staff
        for name in self.staff_fields:
            if name in form:
                field = form[name]
                field.query = Staff.select(Staff, Branch).join(Branch).order_by(Branch.name, Staff.name, Staff.id)
                field.get_label = lambda s: f"{s.branch.name} · {s.name} ({s.employee_no})"
        for field in form:
            if getattr(field, "blank_text", None) == "----------------":
                field.blank_text = "—"
        return form

    def validate_form(self, form):
        """Unique values are checked here so the user sees an error next to the field;
        the database constraint still catches a race."""
        if not super().validate_form(form):
            return False
        if request.method != "POST":
            return True
        current_id = request.args.get("id")
        ok = True
        for name, field in self.model._meta.fields.items():
            if not field.unique or name not in form or field.primary_key:
                continue
            value = form[name].data
            if value in (None, ""):
                continue
            if isinstance(field, ForeignKeyField) and hasattr(value, "get_id"):
                value = value.get_id()
            query = self.model.select().where(field == value)
            if current_id:
                query = query.where(self.model._meta.primary_key != current_id)
            if query.exists():
                form[name].errors = list(form[name].errors) + [_("This value is already in use.")]
                ok = False
        return self._check_domain_rules(form, current_id) and ok

    def _check_domain_rules(self, form, current_id):
        """The rules of models.validation (amounts, dates, phone numbers …) on the values as
        they would be saved, each message next to its field; the form keeps what was typed."""
        row = self.model()
        if current_id:
            existing = self.model.get_or_none(self.model._meta.primary_key == current_id)
            if existing is not None:
                row.__data__.update(existing.__data__)
        fields = self.model._meta.fields
        for name in form._fields:
            if name in fields and not fields[name].primary_key:
                try:
                    setattr(row, name, form[name].data)
                except (TypeError, ValueError):
                    continue
        problems = field_problems(row)
        for name, message in problems.items():
            if name in form:
                form[name].errors = list(form[name].errors) + [message]
            else:
                flash(message, "error")
        return not problems

    def handle_view_exception(self, exc):
        if isinstance(exc, IntegrityError):
            flash(_("Not saved: the data conflicts with an existing record (%(detail)s).",
                    detail=str(exc).split("\n")[0]), "error")
            return True
        if isinstance(exc, ValueError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    # ------------------------------------------------------------------ writes
    def create_model(self, form):
        with db.atomic() as txn:
            model = super().create_model(form)
            if not model:
                txn.rollback()
                return False
            record(model, "create", _user())
        return model

    def update_model(self, form, model):
        before = dict(model.__data__)
        with db.atomic() as txn:
            if not super().update_model(form, model):
                txn.rollback()
                model.__data__.update(before)
                return False
            record_changes(model, before, _user())
        return True

    def delete_model(self, model):
        """Delete one row, never its dependants: a row still referenced is refused."""
        try:
            with db.atomic():
                self.on_model_delete(model)
                record(model, "delete", _user())
                model.delete_instance()
        except IntegrityError:
            flash(_("Cannot delete %(name)s: other records still refer to it.", name=str(model)), "error")
            return False
        except Exception as exc:  # noqa: BLE001 - shown to the user, logged by Flask-Admin
            if not self.handle_view_exception(exc):
                raise
            return False
        self.after_model_delete(model)
        return True

    def action_delete(self, ids):
        if not self.can_delete:
            abort(403)
        deleted = 0
        for model in self.model.select().where(self.model._meta.primary_key.in_(ids)):
            if self.delete_model(model):
                deleted += 1
        if deleted:
            flash(admin_gettext("%(count)s records were successfully deleted.", count=deleted), "success")

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)  # login and required_role
        if denied is not None:
            return denied
        # Flask-Admin hides the delete button by can_delete; the URL is checked here too
        # (export checks can_export itself).
        if name == "delete_view" and not self.can_delete:
            abort(403)
        return None


class ReadOnlyModelView(DomainModelView):
    """Rows that are evidence (history, submitted responses): listed and shown, never changed
    through any admin URL, including ajax edits and list actions."""

    can_create = False
    can_edit = False
    column_editable_list = ()
    action_disallowed_list = ["delete"]

    @property
    def can_delete(self):
        return False

    def _refuse(self, *args, **kwargs):
        abort(403)

    create_model = update_model = delete_model = _refuse

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        abort(403)

    @expose("/action/", methods=("POST",))
    def action_view(self):
        abort(403)


class RoleBaseView(RoleRequired, BaseView):
    """A custom (non-model) admin page."""


class DashboardView(RoleRequired, AdminIndexView):
    """The landing page's base: Flask-Admin's index, behind the login (admin.reports fills it)."""
