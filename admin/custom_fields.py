"""Custom fields in the admin: their definitions (administrator), and the mixin that puts
them into the customer and complaint forms, details, list columns, filters and exports.

The rules (kinds, checking, storage) are in models.custom_fields; this module only shows
them. Definitions are read once per request (flask.g), so a field added by the administrator
appears at once in every process, with no restart."""
from functools import partial

from flask import flash, g, has_request_context
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from flask_admin.helpers import get_form_data
from flask_admin.form.widgets import DatePickerWidget, Select2Widget
from jinja2 import pass_context
from flask_babel import LazyString, gettext as _, lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from models import db
from models.audit import record_changes
from models.choices import ChoiceList, ChoiceValue, create_list, labels_of, localized, parse_options
from models.custom_fields import (CHOICE_KINDS, COLUMN_PREFIX, CustomFieldError, clean, clean_choice,
                                  FieldMatch, fields_for, has_values, options_of, read_values, shown, write_values)

from .base import DomainModelView, _user


def _lazy_label(field):
    """The field's label in the language of whoever reads the page (views are shared by requests)."""
    return LazyString(localized, field.label_zh, field.label_en)


# ------------------------------------------------------------------ filters

class CustomFieldFilter(BasePeeweeFilter):
    """A list filter on a custom field; the rows come from the value table's index."""

    OPERATIONS = {"eq": _l("equals"), "contains": _l("contains"), "gt": _l("greater than"),
                  "lt": _l("smaller than"), "after": _l("after"), "before": _l("before")}

    def __init__(self, model, field, operation):
        options, data_type = None, None
        if field.kind in CHOICE_KINDS:
            options = partial(options_of, field, keep=_all_codes(field))
        elif field.kind == "yes_no":
            options = (("yes", _l("Yes")), ("no", _l("No")))
        elif field.kind == "date":
            data_type = "datepicker"
        super().__init__(model._meta.primary_key, _lazy_label(field), options=options, data_type=data_type)
        self.model, self.field, self.op = model, field, operation

    def clean(self, value):
        if self.field.kind in CHOICE_KINDS or self.field.kind == "yes_no" or self.op == "contains":
            return value
        try:
            cleaned = clean(self.field, value)
        except CustomFieldError as exc:
            raise ValueError(str(exc)) from None
        if cleaned is None:
            raise ValueError(value)
        return cleaned

    def apply(self, query, value):
        operation = {"after": "gt", "before": "lt"}.get(self.op, self.op)
        match = FieldMatch(self.model._meta.primary_key, self.field, operation, value)
        query = query.where(match)
        query._field_matches = [*getattr(query, "_field_matches", ()), match]
        return query

    def operation(self):
        return self.OPERATIONS[self.op]


def _all_codes(field):
    return [value.code for value in ChoiceValue.select(ChoiceValue.code).where(
        ChoiceValue.choice_list == field.choice_list_id)]


def filter_operations(field):
    if field.kind in ("text",):
        return ["eq", "contains"]
    if field.kind == "long_text":
        return ["contains"]
    if field.kind == "number":
        return ["eq", "gt", "lt"]
    if field.kind == "date":
        return ["eq", "after", "before"]
    return ["eq"]


# ------------------------------------------------------------------ form fields

class _Checked:
    """Validator: the value fits the custom field (models.custom_fields.clean); the cleaned
    value is kept on the form field for saving."""

    def __init__(self, field, keep=()):
        self.field, self.keep = field, keep

    def __call__(self, form, form_field):
        try:
            if self.field.kind in CHOICE_KINDS:
                form_field.cleaned = clean_choice(self.field, form_field.data, self.keep)
            else:
                form_field.cleaned = clean(self.field, form_field.data)
        except CustomFieldError as exc:
            raise ValidationError(str(exc)) from None


def form_field(field, current=None):
    """The WTForms field for a custom field; `current` is the record's stored value (kept
    selectable even when its choice was deactivated since)."""
    label = field.label + (" *" if field.required else "")
    keep = current if isinstance(current, list) else [current] if current else []
    checks = [_Checked(field, keep)]
    if field.kind == "long_text":
        return TextAreaField(label, validators=checks, render_kw={"rows": 3})
    if field.kind == "date":
        return StringField(label, validators=checks, widget=DatePickerWidget())
    if field.kind == "yes_no":
        return SelectField(label, validators=checks, validate_choice=False,
                           choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))])
    if field.kind == "choice":
        return SelectField(label, validators=checks, validate_choice=False,
                           choices=[("", "—")] + options_of(field, keep))
    if field.kind == "multi_choice":
        return SelectMultipleField(label, validators=checks, validate_choice=False, choices=options_of(field, keep),
                                   widget=Select2Widget(multiple=True))
    return StringField(label, validators=checks)


def form_value(field, value):
    """A stored value as its form field shows it."""
    if value is None:
        return [] if field.kind == "multi_choice" else ""
    if field.kind == "yes_no":
        return "yes" if value else "no"
    if field.kind == "date":
        return value.isoformat()
    if field.kind == "number":
        return format(value, "f")
    return value


# ------------------------------------------------------------------ the mixin for customer and complaint views

class CustomFieldsMixin:
    """Puts the entity's active custom fields into the view's forms (checked), details page,
    list columns and filters (where the field says so) and exports."""

    custom_entity = None  # "customer" or "complaint"

    def _refresh_cache(self):
        """Flask-Admin's columns, kept as the base the custom ones are added to per request."""
        super()._refresh_cache()
        self._base_columns = (list(self._list_columns), list(getattr(self, "_details_columns", [])),
                              list(self._export_columns))

    def custom_fields(self):
        """The active custom fields, read once per request."""
        if not has_request_context():
            return []
        cache = g.setdefault("custom_fields", {})
        if self.custom_entity not in cache:
            cache[self.custom_entity] = fields_for(self.custom_entity)
        return cache[self.custom_entity]

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is None:
            self._refresh_custom_columns()
        return denied

    def _refresh_custom_columns(self):
        fields = self.custom_fields()
        listed, details, export = self._base_columns
        self._list_columns = listed + [(f.column, _lazy_label(f)) for f in fields if f.in_list]
        self._details_columns = details + [(f.column, _lazy_label(f)) for f in fields]
        self._export_columns = export + [(f.column, _lazy_label(f)) for f in fields]
        self._refresh_filters_cache()

    def get_filters(self):
        filters = list(super().get_filters() or [])
        for field in self.custom_fields():
            if field.in_filter:
                filters += [CustomFieldFilter(self.model, field, op) for op in filter_operations(field)]
        return filters or None

    def _order_by(self, query, joins, order):
        """Flask-Admin orders the list after counting it: from here on, a filter on a common
        custom value reads the list in its order (models.custom_fields.FieldMatch)."""
        for match in getattr(query, "_field_matches", ()):
            match.read_in_list_order()
        return super()._order_by(query, joins, order)

    # -------------------------------------------------------------- showing values
    def _custom_values(self, rows):
        """Load the custom values of `rows` (one query) onto each row."""
        fields = self.custom_fields()
        if not fields or not rows:
            return
        values = read_values(self.custom_entity, [row.id for row in rows], fields)
        for row in rows:
            row._custom_values = values.get(row.id, {})

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) and isinstance(rows, list):
            self._custom_values(rows)
        return count, rows

    def _shown_custom(self, model, name):
        field = next((f for f in self.custom_fields() if f.column == name), None)
        if field is None:
            return ""
        if not hasattr(model, "_custom_values"):
            self._custom_values([model])
        value = getattr(model, "_custom_values", {}).get(field.id)
        labels = _labels(field)
        return shown(field, value, labels)

    @pass_context
    def get_list_value(self, context, model, name):
        if name.startswith(COLUMN_PREFIX):
            return self._shown_custom(model, name)
        return super().get_list_value(context, model, name)

    @pass_context
    def get_detail_value(self, context, model, name):
        if name.startswith(COLUMN_PREFIX):
            return self._shown_custom(model, name)
        return super().get_detail_value(context, model, name)

    def custom_values_shown(self, model):
        """[(label, text)] of every active custom field of one record, for a details page."""
        self._custom_values([model])
        return [(f.label, self._shown_custom(model, f.column)) for f in self.custom_fields()]

    # -------------------------------------------------------------- forms
    def _with_custom_fields(self, form_class, obj=None):
        fields = self.custom_fields()
        if not fields:
            return form_class
        current = {}
        if obj is not None and obj.id is not None:
            current = read_values(self.custom_entity, [obj.id], fields).get(obj.id, {})
            for field in fields:
                setattr(obj, field.column, form_value(field, current.get(field.id)))
        extra = {field.column: form_field(field, current.get(field.id)) for field in fields}
        return type(form_class.__name__, (form_class,), extra)

    def create_form(self, obj=None):
        return self._with_custom_fields(self._create_form_class)(get_form_data(), obj=obj)

    def edit_form(self, obj=None):
        return self._with_custom_fields(self._edit_form_class, obj)(get_form_data(), obj=obj)

    def after_model_change(self, form, model, is_created):
        """Store the custom values with the record (same transaction as its save)."""
        super().after_model_change(form, model, is_created)
        values = {}
        for field in self.custom_fields():
            if field.column in form and hasattr(form[field.column], "cleaned"):
                values[field] = form[field.column].cleaned
        if values:
            write_values(self.custom_entity, model.id, values, _user(), instance=None if is_created else model)


def _labels(field):
    if field.kind not in CHOICE_KINDS:
        return None
    cache = g.setdefault("choice_labels", {}) if has_request_context() else {}
    if field.choice_list_id not in cache:
        cache[field.choice_list_id] = labels_of(field.choice_list_id)
    return cache[field.choice_list_id]


# ------------------------------------------------------------------ defining fields (administrator)

class CustomFieldAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["entity", "label_zh", "label_en", "code", "kind", "choice_list", "required", "in_list",
                   "in_filter", "position", "active"]
    column_filters = ["entity", "kind", "active"]
    column_default_sort = [("entity", False), ("position", False)]
    form_columns = ["entity", "label_zh", "label_en", "code", "kind", "choice_list", "options", "required",
                    "in_list", "in_filter", "position", "active"]
    form_extra_fields = {"options": TextAreaField(
        _l("New list of values"), render_kw={"rows": 4},
        description=_l("Single and multiple choice without a list: one value per line, as 中文 | English; "
                       "a list named after the field is made from them"))}

    def on_model_change(self, form, model, is_created):
        """A choice field without a list gets one made from the typed values."""
        options = parse_options(form.options.data if "options" in form else "")
        if model.kind in CHOICE_KINDS and model.choice_list_id is None:
            if not options:
                raise CustomFieldError(_("A choice field needs its list of values: choose a list or type the "
                                         "values, one per line."))
            code = f"{model.entity}_{model.code or 'field'}"[:40]
            base, number = code, 1
            while ChoiceList.select().where(ChoiceList.code == code).exists():
                number += 1
                code = f"{base[:36]}_{number}"
            model.choice_list = create_list(code, model.label_zh or model.label_en, model.label_en, options)

    def delete_model(self, model):
        """A field with stored values is deactivated, never deleted."""
        if has_values(model):
            flash(_("'%(label)s' has values on records: it was deactivated instead of deleted.",
                    label=model.label), "warning")
            if model.active:
                before = dict(model.__data__)
                with db.atomic():
                    model.active = False
                    model.save()
                    record_changes(model, before, _user())
            return False
        return super().delete_model(model)


class ChoiceListAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["code", "name_zh", "name_en"]
    form_columns = ["code", "name_zh", "name_en"]
    column_searchable_list = ["code", "name_zh", "name_en"]


class ChoiceValueAdmin(DomainModelView):
    required_role = "admin"
    delete_role = "admin"
    column_list = ["choice_list", "position", "code", "label_zh", "label_en", "active"]
    column_editable_list = ["label_zh", "label_en", "position", "active"]
    column_filters = ["active"]
    column_searchable_list = ["code", "label_zh", "label_en"]
    column_default_sort = [("choice_list", False), ("position", False)]
    form_columns = ["choice_list", "code", "label_zh", "label_en", "position", "active"]

    def get_filters(self):
        from .customers import RelatedFilter  # admin.customers imports this module
        lists = RelatedFilter(column=ChoiceValue.choice_list, name=_l("Choice list"),
                              options=lambda: [(c.id, str(c)) for c in ChoiceList.select().order_by(ChoiceList.code)])
        return [lists] + list(super().get_filters() or [])
