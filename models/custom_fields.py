"""自定义字段: fields an administrator adds to customer files and complaints without a developer.

A field (CustomField) belongs to customers or to complaints and has a kind: text, long text,
number, date, yes/no, single choice or multiple choice (the choices are a ChoiceList of
models.choices). It has a Chinese and an English label, may be required (checked where people
type: the create/edit forms and the customer import; automatic complaints such as survey
follow-ups are recorded without it), and may be shown as a list column and offered as a list
filter. A deactivated field disappears from forms, lists and exports; its values are kept.

Values are stored one row per value in a typed table per entity (customer_field_value,
complaint_field_value): a text, a choice code or yes/no in `text`, a long text in `long_text`,
a number in `number`, a date in `date`; a multiple choice is one row per chosen code. Indexes
on (field, text, entity), (field, number, entity) and (field, date, entity) answer a list
filter from the index alone, and (entity, field) loads the values of a page of rows
(bench/custom_fields_bench.py measures it at 1M rows; docs/SCALING.md).
"""
import re
from decimal import Decimal, InvalidOperation

from peewee import (SQL, BooleanField, CharField, ColumnBase, DateField, DecimalField, ForeignKeyField,
                    IntegerField, TextField, fn)

from .audit import record
from .base import BaseModel, db
from .choices import USAGE_CHECKS, ChoiceList, ChoiceValue, labels_of, localized, slug
from .complaints import Complaint
from .customers import Customer
from .i18n import _l
from .validation import to_date

ENTITIES = [
    ("customer", _l("Customer files")),
    ("complaint", _l("Complaints")),
]
FIELD_KINDS = [
    ("text", _l("Short text")),
    ("long_text", _l("Long text")),
    ("number", _l("Numeric")),
    ("date", _l("Date")),
    ("yes_no", _l("Yes / no")),
    ("choice", _l("Single choice")),
    ("multi_choice", _l("Multiple choice")),
]
CHOICE_KINDS = ("choice", "multi_choice")
TEXT_MAX = 255
# Numbers up to 14 digits before the point and 4 after (the column is DECIMAL(18, 4)).
NUMBER_LIMIT = Decimal("1e14")
COLUMN_PREFIX = "cf_"
YES_WORDS = {"yes", "y", "true", "1", "是", "有", "√", "✓"}
NO_WORDS = {"no", "n", "false", "0", "否", "无", "×", "✗"}
MULTI_SEPARATORS = re.compile(r"\s*[,，;；、\n]\s*")


class CustomFieldError(ValueError):
    """A value or a definition that cannot be saved; str() is for the user."""


class CustomField(BaseModel):
    """A field added by the administrator to customer files or complaints."""

    entity = CharField(max_length=10, choices=ENTITIES, verbose_name=_l("Added to"))
    code = CharField(max_length=40, default="", verbose_name=_l("Code"),
                     help_text=_l("Column name in imports and in list addresses; letters a-z, digits and _. "
                                  "Empty: made from the English label"))
    label_zh = CharField(max_length=60, verbose_name=_l("Label (Chinese)"))
    label_en = CharField(max_length=60, default="", verbose_name=_l("Label (English)"))
    kind = CharField(max_length=12, choices=FIELD_KINDS, default="text", verbose_name=_l("Kind"))
    choice_list = ForeignKeyField(ChoiceList, null=True, backref="fields", on_delete="RESTRICT",
                                  verbose_name=_l("Choice list"),
                                  help_text=_l("Single and multiple choice only: the values offered"))
    required = BooleanField(default=False, verbose_name=_l("Required"))
    in_list = BooleanField(default=False, verbose_name=_l("List column"),
                           help_text=_l("Shown as a column of the list"))
    in_filter = BooleanField(default=False, verbose_name=_l("List filter"),
                             help_text=_l("Offered as a filter of the list"))
    position = IntegerField(default=0, verbose_name=_l("Order"))
    active = BooleanField(default=True, verbose_name=_l("Active"),
                          help_text=_l("A deactivated field is no longer shown; its values are kept"))

    class Meta:
        table_name = "custom_field"
        indexes = ((("entity", "code"), True),)

    def __str__(self):
        return self.label

    @property
    def label(self):
        return localized(self.label_zh, self.label_en)

    @property
    def column(self):
        """The name of the field in forms, list columns and exports: cf_<code>."""
        return COLUMN_PREFIX + self.code

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        """Labels, a code unique per entity, a list for the choice kinds; kind and code do not
        change once values are stored (the stored values would no longer read)."""
        from .choices import CODE_RE
        self.label_zh, self.label_en = (self.label_zh or "").strip(), (self.label_en or "").strip()
        if not self.label_zh and not self.label_en:
            raise CustomFieldError(str(_l("Give the field a label.")))
        if self.entity not in dict(ENTITIES):
            raise CustomFieldError(str(_l("Choose whether the field is added to customer files or complaints.")))
        if self.kind not in dict(FIELD_KINDS):
            raise CustomFieldError(str(_l("Choose the kind of the field.")))
        self.code = (self.code or "").strip().lower() or slug(self.label_en, "")
        if not self.code:
            self.code = _free_code(self.entity)
        if not CODE_RE.match(self.code):
            raise CustomFieldError(str(_l("The code '%(code)s' must start with a letter and use only a-z, 0-9 and _ "
                                          "(at most 40).", code=self.code)))
        if self.kind in CHOICE_KINDS and self.choice_list_id is None:
            raise CustomFieldError(str(_l("A choice field needs its list of values.")))
        if self.kind not in CHOICE_KINDS:
            self.choice_list = None
        same = CustomField.select().where(CustomField.entity == self.entity, CustomField.code == self.code)
        if self.id is not None:
            same = same.where(CustomField.id != self.id)
            stored = CustomField.get_or_none(CustomField.id == self.id)
            if stored is not None and (stored.kind != self.kind or stored.entity != self.entity) and has_values(stored):
                raise CustomFieldError(str(_l("'%(label)s' already has values: its kind cannot change. Add a new "
                                              "field and deactivate this one.", label=stored.label)))
        if same.exists():
            raise CustomFieldError(str(_l("There is already a field with the code '%(code)s'.", code=self.code)))


def _free_code(entity):
    number = CustomField.select().where(CustomField.entity == entity).count() + 1
    while CustomField.select().where(CustomField.entity == entity, CustomField.code == f"field{number}").exists():
        number += 1
    return f"field{number}"


class FieldValue(BaseModel):
    """One stored value of a custom field (columns by kind: see the module docstring)."""

    # index=False: every (field, value, entity) index starts with the field
    field = ForeignKeyField(CustomField, backref="+", on_delete="CASCADE", index=False)
    text = CharField(max_length=TEXT_MAX, null=True)
    long_text = TextField(null=True)
    number = DecimalField(max_digits=18, decimal_places=4, null=True)
    date = DateField(null=True)


class CustomerFieldValue(FieldValue):
    # index=False: the (customer, field) index below serves lookups by customer
    customer = ForeignKeyField(Customer, backref="+", on_delete="CASCADE", index=False)

    def __str__(self):
        return f"#{self.customer_id} {self.field_id}: {self.text or self.number or self.date or ''}"

    class Meta:
        table_name = "customer_field_value"
        indexes = (
            (("field", "text", "customer"), False),
            (("field", "number", "customer"), False),
            (("field", "date", "customer"), False),
            (("customer", "field"), False),
        )


class ComplaintFieldValue(FieldValue):
    complaint = ForeignKeyField(Complaint, backref="+", on_delete="CASCADE", index=False)

    def __str__(self):
        return f"#{self.complaint_id} {self.field_id}: {self.text or self.number or self.date or ''}"

    class Meta:
        table_name = "complaint_field_value"
        indexes = (
            (("field", "text", "complaint"), False),
            (("field", "number", "complaint"), False),
            (("field", "date", "complaint"), False),
            (("complaint", "field"), False),
        )


VALUE_MODELS = {"customer": CustomerFieldValue, "complaint": ComplaintFieldValue}
ENTITY_MODELS = {"customer": Customer, "complaint": Complaint}


def entity_of(model):
    """'customer' / 'complaint' for the model class, None for any other."""
    return {Customer: "customer", Complaint: "complaint"}.get(model)


def _owner(values_model):
    return values_model.customer if values_model is CustomerFieldValue else values_model.complaint


def _column_of(kind):
    return {"long_text": "long_text", "number": "number", "date": "date"}.get(kind, "text")


# ------------------------------------------------------------------ definitions

def fields_for(entity, active_only=True):
    """The entity's custom fields in their order (active ones unless told otherwise)."""
    query = CustomField.select().where(CustomField.entity == entity)
    if active_only:
        query = query.where(CustomField.active == True)  # noqa: E712
    return list(query.order_by(CustomField.position, CustomField.id))


def has_values(field):
    values = VALUE_MODELS[field.entity]
    return values.select().where(values.field == field.id).exists()


def _choice_in_use(choice_list_id, code):
    fields = CustomField.select(CustomField.id, CustomField.entity).where(CustomField.choice_list == choice_list_id)
    for field in fields:
        values = VALUE_MODELS[field.entity]
        if values.select().where(values.field == field.id, values.text == code).exists():
            return True
    return False


USAGE_CHECKS.append(_choice_in_use)


def options_of(field, keep=()):
    """[(code, label)] offered for a choice field: its active values, plus the codes in `keep`
    (what the record already has, even if deactivated since)."""
    values = ChoiceValue.select().where(ChoiceValue.choice_list == field.choice_list_id).order_by(
        ChoiceValue.position, ChoiceValue.id)
    keep = set(keep or ())
    return [(value.code, value.label) for value in values if value.active or value.code in keep]


# ------------------------------------------------------------------ values: reading, checking, showing

def read_values(entity, ids, fields=None):
    """{entity id: {field id: value}} for `ids` (one query): a str, Decimal, date, bool, or a
    list of codes for a multiple choice."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    values = VALUE_MODELS[entity]
    owner = _owner(values)
    query = values.select().where(owner.in_(ids))
    if fields is not None:
        field_ids = [f.id for f in fields]
        if not field_ids:
            return {}
        query = query.where(values.field.in_(field_ids))
    kinds = {f.id: f.kind for f in (fields if fields is not None else CustomField.select())}
    result = {}
    for row in query.order_by(values.id):
        kind = kinds.get(row.field_id)
        if kind is None:
            continue
        entity_id = row.__data__[owner.name]
        slot = result.setdefault(entity_id, {})
        value = _stored(row, kind)
        if kind == "multi_choice":
            slot.setdefault(row.field_id, []).append(value)
        else:
            slot[row.field_id] = value
    return result


def _stored(row, kind):
    if kind == "yes_no":
        return row.text == "yes"
    if kind == "number":
        return row.number.normalize() if isinstance(row.number, Decimal) else row.number
    if kind == "date":
        return row.date
    if kind == "long_text":
        return row.long_text
    return row.text


def clean(field, value):
    """A value from a form or a file as the field stores it (None when empty); raises
    CustomFieldError with the reason when it does not fit the field."""
    if isinstance(value, str):
        value = value.strip()
    if value in (None, "", []):
        if field.required:
            raise CustomFieldError(str(_l("%(field)s is required.", field=field.label)))
        return None
    kind = field.kind
    if kind == "text":
        value = str(value)
        if len(value) > TEXT_MAX:
            raise CustomFieldError(str(_l("Too long: at most %(max)d characters.", max=TEXT_MAX)))
        return value
    if kind == "long_text":
        return str(value)
    if kind == "number":
        try:
            number = Decimal(str(value).replace(",", "").replace("，", "").replace("¥", "").replace("￥", ""))
        except InvalidOperation:
            raise CustomFieldError(str(_l("'%(value)s' is not a number.", value=value))) from None
        if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
            raise CustomFieldError(str(_l("The number must be less than 100,000,000,000,000.")))
        if number != number.quantize(Decimal("0.0001")):
            raise CustomFieldError(str(_l("At most 4 decimal places.")))
        return number.normalize() if number != 0 else Decimal(0)
    if kind == "date":
        try:
            return to_date(value)
        except ValueError as exc:
            raise CustomFieldError(str(exc)) from None
    if kind == "yes_no":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in YES_WORDS or word == str(_l("Yes")).lower():
            return True
        if word in NO_WORDS or word == str(_l("No")).lower():
            return False
        raise CustomFieldError(str(_l("'%(value)s' is not yes or no.", value=value)))
    return _clean_choice(field, value)


def _clean_choice(field, value, keep=()):
    codes = value if isinstance(value, (list, tuple)) else (
        MULTI_SEPARATORS.split(value) if field.kind == "multi_choice" else [value])
    lookup = {}
    for row in ChoiceValue.select().where(ChoiceValue.choice_list == field.choice_list_id):
        if not row.active and row.code not in keep:
            continue
        for key in (row.code, row.label_zh, row.label_en):
            if key:
                lookup.setdefault(key.strip().lower(), row.code)
    chosen = []
    for code in codes:
        code = str(code).strip()
        if not code:
            continue
        found = lookup.get(code.lower())
        if found is None:
            allowed = ", ".join(label for _code, label in options_of(field))
            raise CustomFieldError(str(_l("'%(value)s' is not one of: %(allowed)s.", value=code, allowed=allowed)))
        if found not in chosen:
            chosen.append(found)
    if not chosen:
        if field.required:
            raise CustomFieldError(str(_l("%(field)s is required.", field=field.label)))
        return None
    return chosen if field.kind == "multi_choice" else chosen[0]


def clean_choice(field, value, keep=()):
    """clean() for a choice field, also accepting the deactivated codes in `keep` (the ones a
    record already has)."""
    if value in (None, "", []):
        return clean(field, None)
    return _clean_choice(field, value, keep)


def shown(field, value, labels=None):
    """A value as people read it: choice labels, 是/否, dates as 2026-11-23, numbers without
    trailing zeros; '' when empty."""
    if value is None or value == []:
        return ""
    kind = field.kind
    if kind in CHOICE_KINDS:
        labels = labels if labels is not None else labels_of(field.choice_list_id)
        codes = value if isinstance(value, list) else [value]
        return "、".join(labels.get(code, code) for code in codes)
    if kind == "yes_no":
        return str(_l("Yes") if value else _l("No"))
    if kind == "date":
        return value.isoformat()
    if kind == "number":
        return format(value, "f")
    return str(value)


# ------------------------------------------------------------------ values: writing

def write_values(entity, entity_id, values, user=None, instance=None):
    """Store {field: cleaned value} for one customer or complaint, replacing what it had for
    those fields; one 'update' history row per changed field (field "cf_<code>"). Call inside
    the transaction that saves the record."""
    table = VALUE_MODELS[entity]
    owner = _owner(table)
    fields = [f for f in values]
    before = read_values(entity, [entity_id], fields).get(entity_id, {})
    with db.atomic():
        for field in fields:
            new = values[field]
            old = before.get(field.id)
            if _same(old, new):
                continue
            table.delete().where(owner == entity_id, table.field == field.id).execute()
            for item in (new if isinstance(new, list) else [] if new is None else [new]):
                row = {owner.name: entity_id, "field": field.id, _column_of(field.kind): _db_value(field, item)}
                table.insert(row).execute()
            if instance is not None:
                labels = labels_of(field.choice_list_id) if field.kind in CHOICE_KINDS else None
                record(instance, "update", user, field.column, shown(field, old, labels), shown(field, new, labels))


def _same(old, new):
    if isinstance(old, list) or isinstance(new, list):
        return sorted(old or []) == sorted(new or [])
    return old == new


def _db_value(field, item):
    if field.kind == "yes_no":
        return "yes" if item else "no"
    return item


# ------------------------------------------------------------------ filters

# A filter value held by at least this many rows is "common": a page of the list is then read
# in list order, probing each row's values (see FieldMatch).
COMMON_MATCHES = 2000


class FieldMatch(ColumnBase):
    """The WHERE condition "this customer's / complaint's custom field matches", written one of
    two ways. `id IN (the value index's entity ids)` reads only the matching rows: best when
    few rows match, and for the count of the list. For a page of a common value (a choice half
    the complaints have) it would read and sort every match to keep 20; there a correlated
    EXISTS reads the list in its own order and stops at the page (measured at 1M rows in
    bench/custom_fields_bench.py). read_in_list_order() switches a common match to EXISTS."""

    def __init__(self, primary_key, field, operation, value):
        super().__init__()
        self.primary_key, self.field, self.operation, self.value = primary_key, field, operation, value
        self.ids = matching_ids(field, operation, value)
        self.exists = False

    def read_in_list_order(self):
        probe = self.ids.limit(COMMON_MATCHES)
        self.exists = probe.model.select(fn.COUNT(SQL("*"))).from_(probe.alias("probe")).scalar() >= COMMON_MATCHES
        return self.exists

    def __sql__(self, ctx):
        if not self.exists:
            return ctx.sql(self.primary_key.in_(self.ids))
        table = VALUE_MODELS[self.field.entity]
        correlated = self.ids.where(_owner(table) == self.primary_key)
        return ctx.sql(fn.EXISTS(correlated))


def matching_ids(field, operation, value):
    """A subquery of the ids of the customers or complaints whose `field` matches: operation
    'eq' (a text, a choice code, 'yes'/'no', a number or a date), 'contains' (text), 'gt' / 'lt'
    (numbers and dates: after / before). Answered from the (field, value, entity) index."""
    table = VALUE_MODELS[field.entity]
    owner = _owner(table)
    query = table.select(owner).where(table.field == field.id)
    column = getattr(table, _column_of(field.kind))
    if field.kind == "long_text" or operation == "contains":
        return query.where(column.contains(str(value)))  # LIKE / ILIKE: case does not matter
    if operation == "gt":
        return query.where(column > value)
    if operation == "lt":
        return query.where(column < value)
    if field.kind == "yes_no":
        value = "yes" if value in (True, "yes") else "no"
    return query.where(column == value)
