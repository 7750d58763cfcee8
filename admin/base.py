"""What every admin view shares: login and role checks, the branch scope (models.scope) on
every read and write, labels from the models, related rows loaded in one query per column,
writes in one transaction with history, and input that cannot reach the database malformed.

Branch scope, applied here once for every model view (a view declares nothing; the rule of
its model in models.scope decides, and a model without a rule stops the app at start-up):
* get_query: the list, its count, search, filters, sorting and the exports;
* get_one: details, edit, delete and ajax edits; an id out of scope (or malformed) is 404;
* select2 lookups (form_ajax_refs) and the choices of every foreign-key field in forms;
* filter options (branch_filter, staff_filter) and the ids of list actions (404 when any is
  out of scope, 400 when malformed).
Custom pages (@expose) that read rows by id use models.scope.get_in_scope / scope_or_404."""
import re
from decimal import Decimal
from math import ceil

from flask import abort, current_app, flash, g, has_app_context, has_request_context, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.contrib.peewee import ModelView
from flask_admin.contrib.peewee.ajax import QueryAjaxModelLoader
from flask_admin.helpers import flash_errors, get_redirect_target
from flask_admin.model import typefmt
from flask_admin.model.ajax import DEFAULT_PAGE_SIZE
from flask_admin.model.fields import AjaxSelectField
from flask_babel import format_decimal, gettext as _, lazy_gettext as _l
from markupsafe import Markup
from flask_login import current_user
from peewee import ForeignKeyField, IntegrityError
from wtforms.fields import HiddenField
from wtforms.validators import NumberRange, Optional
from wtfpeewee.fields import SelectQueryField

from exports.listing import export_list
from models import Customer, archive, db, search as model_search
from models.audit import record, record_changes
from models.base import decimal_limit, fits, integer_limit
from models.privacy import contact_shown_ids, mask
from models.scope import get_in_scope, ids_in_scope, open_choice, parse_id, rule_of, scoped
from models.validation import field_problems

from .filters import FilterConverter
from .list_fields import ChoiceListConverter, list_columns

# Lists count their rows up to this many, then show "10,000+" (config LIST_COUNT_CAP).
DEFAULT_COUNT_CAP = 10_000


def count_cap():
    return int(current_app.config.get("LIST_COUNT_CAP", DEFAULT_COUNT_CAP)) if has_app_context() \
        else DEFAULT_COUNT_CAP


class CappedCount(int):
    """A list's row count, exact up to the cap. Beyond it the value is the cap (the pages
    offered stop there) and it reads "10,000+"."""

    def __new__(cls, value, more=False):
        count = super().__new__(cls, value)
        count.more = more
        return count

    @property
    def number(self):
        return format_decimal(int(self))

    def __str__(self):
        return _("%(count)s+", count=self.number) if self.more else self.number


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


# Flask-Admin's peewee converter only knows the old PrimaryKeyField: without this, the
# AutoField id of an inline row is a required number and a NEW inline row (a question, a
# choice, a branch link) cannot be added (the browser sends an empty id).
INLINE_ID = {"form_overrides": {"id": HiddenField}, "form_args": {"id": {"validators": [Optional()]}}}


def _user():
    """The account the request acts for (models.scope.SYSTEM for a CLI export without --user)."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def scope_or_404(model, row_id):
    """The row of `model` with id `row_id` if the current user may see it; 404 otherwise
    (unknown, out of scope or malformed id: one answer, so an id reveals nothing)."""
    row = get_in_scope(model, row_id, _user())
    if row is None:
        abort(404)
    return row


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """select2 lookups (form_ajax_refs) that offer and accept only rows in the user's scope."""

    MAX_LIMIT, MAX_OFFSET = 100, 10000

    def get_one(self, pk):
        return get_in_scope(self.model, pk, _user())

    def get_list(self, term, offset=0, limit=10):
        query = scoped(self.model.select(), _user(), self.model)
        term = (term or "")[:100].replace("\x00", "")
        if term:
            condition = None
            for field in self._cached_fields:
                part = field ** f"%{term}%"
                condition = part if condition is None else (condition | part)
            query = query.where(condition)
        offset = min(max(offset or 0, 0), self.MAX_OFFSET)
        limit = min(max(limit or 10, 1), self.MAX_LIMIT)
        return list(query.order_by(self.model._meta.primary_key).offset(offset).limit(limit))


class SearchAjaxLoader(ScopedAjaxLoader):
    """Customer and complaint pickers (select2 search-as-you-type in forms) find through the
    search index, the same way and in the same order as the lists' search boxes, among the
    rows in the user's scope. A customer is shown with their phone (masked for people who do
    not own the customer, models.privacy), so the caller found by a phone tail can be told apart."""

    def format(self, model):
        choice = super().format(model)
        phone = getattr(model, "phone", None) if self.model is Customer else None
        if choice and phone and model.id not in g.get("contact_shown", ()):
            if model.id not in g.get("contact_checked", ()):  # a picker's chosen row (form data, prefill)
                g.setdefault("contact_checked", set()).add(model.id)
                g.setdefault("contact_shown", set()).update(contact_shown_ids(_user(), [model]))
        if choice and phone and model.id not in g.get("contact_shown", ()):
            phone = mask("phone", phone)
        return (choice[0], f"{choice[1]} · {phone}") if choice and phone else choice

    def get_list(self, term, offset=0, limit=DEFAULT_PAGE_SIZE):
        offset = min(max(offset or 0, 0), self.MAX_OFFSET)
        limit = min(max(limit or DEFAULT_PAGE_SIZE, 1), self.MAX_LIMIT)
        query = scoped(self.model.select(), _user(), self.model)
        if not (term or "").strip():
            rows = list(query.order_by(self.model.id.desc()).offset(offset).limit(limit))
        else:
            rows, _count, _more = model_search.search(query, term[:100]).page(offset, limit, count_cap())
        if self.model is Customer:
            g.setdefault("contact_shown", set()).update(contact_shown_ids(_user(), rows))
            g.setdefault("contact_checked", set()).update(row.id for row in rows)
        return rows


def _scope_form_fields(form, user, model=None):
    """Restrict the choices of every foreign-key select in `form` (and its inline forms) to the
    rows in `user`'s scope (except models.scope.OPEN_CHOICES); a submitted id outside them
    fails validation (Not a valid choice)."""
    fields = model._meta.fields if model is not None else {}
    for field in form:
        if isinstance(field, SelectQueryField):
            model_field = fields.get(field.name)
            if model_field is None or not open_choice(model_field):
                field.query = scoped(field.query, user, field.model)
        for entry in getattr(field, "entries", ()) or ():  # inline model forms
            subform = getattr(entry, "form", None)
            if subform is not None:
                _scope_form_fields(subform, user)
    return form


def _range_validators(model, form_args):
    """form_args with a NumberRange on every integer and decimal column, so that no form (create,
    edit, ajax list edit) sends the database a number its column cannot hold."""
    merged = {name: dict(args) for name, args in (form_args or {}).items()}
    for name, field in model._meta.fields.items():
        limit = integer_limit(field)
        if limit is not None and not isinstance(field, ForeignKeyField) and not field.primary_key:
            bound = NumberRange(min=-limit, max=limit)
        elif decimal_limit(field) is not None:
            top = Decimal(decimal_limit(field)) - Decimal(1).scaleb(-(field.decimal_places or 0))
            bound = NumberRange(min=-top, max=top)
        else:
            continue
        args = merged.setdefault(name, {})
        args["validators"] = list(args.get("validators", [])) + [bound]
    return merged


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
    """The label a history row's field has on its model (the code itself if unknown); a custom
    field's label, also when it was deactivated since."""
    from models import ALL_MODELS
    from models.custom_fields import COLUMN_PREFIX, CustomField
    if name.startswith(COLUMN_PREFIX):
        entity = {"Complaint": "complaint", "Customer": "customer"}.get(object_type)
        custom = CustomField.get_or_none(CustomField.entity == entity, CustomField.code == name[len(COLUMN_PREFIX):])
        return custom.label if custom is not None else name
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
    list_template = "admin/list.html"  # Flask-Admin's, with the note under a capped count
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
    # forms: a field kept as one of the office's lists offers its active values (admin.choice_lists)
    model_form_converter = ChoiceListConverter

    def __init__(self, model, *args, **kwargs):
        rule_of(model)  # LookupError: the model has no branch scope rule (models/scope.py)
        self.form_args = _range_validators(model, self.form_args)
        fields = model._meta.fields
        labels = {name: field.verbose_name for name, field in fields.items() if field.verbose_name}
        labels.setdefault("id", _l("Record ID"))
        labels.update(self.column_labels or {})
        self.column_labels = labels
        # the office's lists (models.choices) are read per request (admin.choice_lists), not here
        self._list_columns_of_model = list_columns(model)
        choices = {name: [(value, label) for value, label in field.choices]
                   for name, field in fields.items() if field.choices and name not in self._list_columns_of_model}
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

    # ------------------------------------------------------------------ branch scope
    def get_query(self):
        """The rows the user may see: every list, count, search, filter and export starts here."""
        return scoped(super().get_query(), _user(), self.model)

    def get_count_query(self):
        """The count of the list (peewee's ModelView counts get_query(); kept for other callers)."""
        return self.get_query()

    def get_one(self, id):
        """Details, edit, delete and ajax edits: the row if it exists in the user's scope, else 404."""
        return scope_or_404(self.model, id)

    def _create_ajax_loader(self, name, options):
        """select2 pickers offer and accept only rows in the user's scope; pickers of a searchable
        model (customer, complaint) search through its index."""
        field = getattr(self.model, name, None)
        if field is None or not isinstance(field, ForeignKeyField):
            raise ValueError(f"{self.model.__name__}.{name} is not a foreign key")
        rule_of(field.rel_model)
        if field.rel_model in model_search.KIND_OF_MODEL:
            return SearchAjaxLoader(name, field.rel_model, **options)
        return ScopedAjaxLoader(name, field.rel_model, **options)

    # Foreign-key choices are scoped where every form passes, whoever built it (a mixin may
    # override create_form/edit_form): before validation (a submitted id out of scope is not a
    # valid choice) and before rendering (the options shown).
    def _scoped_form(self, form):
        if form is not None and not getattr(form, "_branch_scoped", False):
            _scope_form_fields(form, _user(), self.model)
            form._branch_scoped = True
        return form

    def render(self, template, **kwargs):
        self._scoped_form(kwargs.get("form"))
        return super().render(template, **kwargs)

    def handle_action(self, return_view=None):
        """List actions get only well-formed ids of rows in the user's scope: a malformed id
        answers 400, an id out of scope (or gone) 404, and the action runs on nothing."""
        form = self.action_form()
        if not self.validate_form(form):
            flash_errors(form, message="Failed to perform action. %(error)s")
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        action = form.action.data
        handler = self._actions_data.get(action)
        if handler is None:
            abort(400)
        if not self.is_action_allowed(action):
            abort(403)
        ids = [parse_id(value) for value in request.form.getlist("rowid")]
        if None in ids:
            abort(400)
        if set(ids) - ids_in_scope(self.model, ids, _user()):
            abort(404)
        response = handler[0]([str(i) for i in dict.fromkeys(ids)])
        if response is not None:
            return response
        if return_view:
            return redirect(self.get_url("." + return_view))
        return redirect(get_redirect_target() or self.get_url(".index_view"))

    def _get_list_filter_args(self):
        """Flask-Admin's filters from the URL, without values the database could not take: an
        option a filter does not offer, an id that cannot exist, a number beyond its column.
        Such a value is reported and ignored, like Flask-Admin's own invalid values."""
        filters = super()._get_list_filter_args()
        if not filters:
            return filters
        kept = []
        for entry in filters:
            index, _name, value = entry
            flt = self._filters[index]
            if self._filter_value_ok(flt, value):
                kept.append(entry)
            else:
                flash(self.get_invalid_value_msg(value, flt), "error")
        return kept

    @staticmethod
    def _filter_value_ok(flt, value):
        if len(value) > 1000:
            return False
        options = getattr(flt, "options", None)
        if isinstance(options, (list, tuple)) and options:
            return value in {str(code) for code, _label in options}
        if getattr(flt, "takes_ids", False):  # RelatedFilter: an id
            return parse_id(value) is not None
        column = getattr(flt, "column", None)
        try:
            cleaned = flt.clean(value)
        except (TypeError, ValueError, ArithmeticError):
            return False
        if column is None or not hasattr(column, "model"):
            return True
        numbers = [v for v in (cleaned if isinstance(cleaned, list) else [cleaned])
                   if isinstance(v, (int, Decimal)) and not isinstance(v, bool)]
        if isinstance(column, ForeignKeyField) or getattr(column, "primary_key", False):
            return all(parse_id(v) is not None for v in numbers if isinstance(v, int))
        if integer_limit(column) is not None or decimal_limit(column) is not None:
            return all(fits(column, v) for v in numbers)
        return True

    # ------------------------------------------------------------------ listing
    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        """An empty choice column (a question without a dimension) shows as blank, like every
        other empty cell; Flask-Admin's choice lookup would print "None". A column of one of
        the office's lists shows the value's label in the list as it is now."""
        value = super()._get_list_value(context, model, name, column_formatters, column_type_formatters)
        if name in self._list_columns_of_model and name not in column_formatters:
            return self._list_columns_of_model[name].label(value)  # the label in today's list
        return "" if value is None else value

    def _list_foreign_keys(self):
        fields = self.model._meta.fields
        names = [c[0] if isinstance(c, tuple) else c for c in self._list_columns]
        return [fields[n] for n in names if isinstance(fields.get(n), ForeignKeyField)]

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's list query, with three changes: complaints and customers are searched
        through the search index (models.search) and other lists take the search text
        literally (% and _ are not wildcards); the count stops at the cap ("10,000+") and so
        do the pages offered, which bounds the OFFSET of a deep page; related rows are loaded
        one query per column."""
        if sort_column is not None and sort_column not in self._sortable_columns:
            sort_column = None  # a hand-edited ?sort= on a column that is not sortable
        if search is not None:
            search = search[:200]
        query = self.get_query()
        joins = set()
        found = None
        if self._search_supported and search and search.strip():
            if self.model in model_search.KIND_OF_MODEL:
                found = model_search.search(query, search)
                query = found.query
            else:
                query = self._literal_search(query, search, joins)
        query = self._apply_filters(query, filters, joins)
        cap = count_cap()
        count = CappedCount(*model_search.count_capped(query, cap))
        if found is not None and sort_column is not None and count.more:
            # more matches than the cap, sorted by a column: walk that column's index instead
            # of sorting them all (models.search.Search.by_column)
            joins = set()
            query = self._apply_filters(found.by_column, filters, joins)
        if sort_column is not None:
            query, joins = self._order_by(query, joins, [(self._sortable_columns[sort_column], sort_desc)])
        elif found is not None:
            query = query.order_by(*found.order(ranked=not count.more))
        elif self._get_default_order():
            query, joins = self._order_by(query, joins, self._get_default_order())
        if page_size is None:
            page_size = self.page_size
        if page_size:
            page = max(0, min(page or 0, ceil(count / page_size) - 1))  # ?page=-3 or past the end
            # past the cap, the last page offered ends at the cap
            query = query.limit(min(page_size, count - page * page_size) if count.more else page_size)
            if page:
                query = query.offset(page * page_size)
        if not execute:
            return count, query
        rows = list(query)
        attach_related(rows, self._list_foreign_keys())
        return count, rows

    def _apply_filters(self, query, filters, joins):
        for index, _name, value in (filters or []) if self._filters else []:
            flt = self._filters[index]
            query = self._handle_join(query, flt.column, joins)
            query = flt.apply(query, flt.clean(value))
        return query

    def _literal_search(self, query, text, joins):
        """Every word of `text` in one of the searchable columns, as typed: LIKE with % and _
        escaped (peewee's contains)."""
        for word in re.sub(r"[\x00-\x1f\x7f]", " ", text).split():
            condition = None
            for field in self._search_fields:
                query = self._handle_join(query, field, joins)
                condition = field.contains(word) if condition is None else condition | field.contains(word)
            query = query.where(condition)
        return query

    def get_export_columns(self):
        """Export headers: column_export_labels where the list's label only fits the screen."""
        labels = self.column_export_labels or {}
        return [(name, labels.get(name, label)) for name, label in super().get_export_columns()]

    # what the search box finds, when it is more than the searchable columns (the labels)
    search_labels = None

    def search_placeholder(self):
        """'Search: number, title, …' from the labels of the searchable columns."""
        names = [c if isinstance(c, str) else c.name for c in (self.column_searchable_list or ())]
        labels = [str(label) for label in self.search_labels] if self.search_labels else \
            [str(self.column_labels.get(n, n)) for n in names]
        return _("Search: %(fields)s", fields=", ".join(labels)) if labels else None

    def _get_filter_groups(self):
        # filter options that come from the database (branches, staff) are re-read per request
        self._refresh_filters_cache()
        return super()._get_filter_groups()

    def _refresh_filters_cache(self):
        """Filters and their options are built once per request and view (the custom fields'
        columns and the list page both ask for them; each option list is a query)."""
        refreshed = request.environ.setdefault("service_desk.filters_refreshed", set()) \
            if has_request_context() else None
        if refreshed is not None and self.endpoint in refreshed:
            return
        super()._refresh_filters_cache()
        if refreshed is not None:
            refreshed.add(self.endpoint)

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
        the database constraint still catches a race. A select2 field given an id that is not
        a row in the user's scope is an error (Flask-Admin would store "nothing chosen")."""
        self._scoped_form(form)
        if not super().validate_form(form):
            return False
        if request.method != "POST":
            return True
        for field in form:
            raw = getattr(field, "raw_data", None)
            if isinstance(field, AjaxSelectField) and raw and raw[0] not in ("", "__None") and field.data is None:
                field.errors = list(field.errors) + [_("Not a valid choice.")]
                return False
        current_id = parse_id(request.args.get("id"))
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
            if current_id is not None:
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
        """Delete one row, never its dependants, never evidence (models.archive): a row others
        refer to is archived when it can be (staff, customers, surveys, ...), else refused
        with the list of what depends on it. Either way history records it."""
        try:
            with db.atomic():
                self.on_model_delete(model)
                outcome = archive.remove(model, _user())
        except (archive.DeleteRefused, IntegrityError) as exc:
            message = str(exc) if isinstance(exc, archive.DeleteRefused) else \
                _("Cannot delete %(name)s: other records still refer to it.", name=str(model))
            flash(message, "error")
            return False
        except Exception as exc:  # noqa: BLE001 - shown to the user, logged by Flask-Admin
            if not self.handle_view_exception(exc):
                raise
            return False
        if outcome == "archived":
            flag = model._meta.fields[archive.ARCHIVE_FLAGS[type(model).__name__]]
            flash(_("%(name)s is still referred to by other records (%(dependants)s): it was archived "
                    "(%(flag)s switched off) instead of deleted.", name=str(model),
                    dependants=archive.describe(archive.dependants(model)), flag=str(flag.verbose_name)), "info")
            return False  # Flask-Admin would say "deleted"
        self.after_model_delete(model)
        return True

    def action_delete(self, ids):
        if not self.can_delete:
            abort(403)
        deleted = 0
        for model in self.get_query().where(self.model._meta.primary_key.in_([int(i) for i in ids])):
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
