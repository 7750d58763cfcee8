"""An admin list's query → rows of human values, read with one streaming query.

Each exported column becomes one or more selected SQL expressions and a getter that turns
the raw tuple into what the office reads: the label of a choice, the name of a related
row (joined in the same query through an alias, never one query per row), dates as dates,
numbers as numbers. Header labels are the models' verbose names in the UI language.
"""
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from flask_babel import gettext as _
from peewee import (JOIN, BooleanField, fn, DateField, DateTimeField, DecimalField, FloatField, ForeignKeyField,
                    IntegerField)

from models import db

from .writers import DATE, DATETIME, NUMBER, TEXT, Column, Sheet

# How a related row is named in a spreadsheet: its label fields and how they are joined.
# Mirrors the models' __str__ (which would need one query per row); other models fall back
# to their first "name-like" field.
RELATED_LABELS = {
    "Staff": (("name", "employee_no"), lambda name, number: f"{name} ({number})" if name else None),
    "Customer": (("name", "organisation"), lambda name, org: f"{name} ({org})" if org else name),
    "Complaint": (("number", "title"), lambda number, title: f"{number} {title}" if number else None),
}
NAME_FIELDS = ("name", "title", "number", "username", "label", "text")


@dataclass
class ExportColumn:
    name: str
    column: Column
    getter: object  # row tuple -> human value


def _label_fields(model):
    known = RELATED_LABELS.get(model.__name__)
    if known:
        return known
    for name in NAME_FIELDS:
        if name in model._meta.fields:
            return (name,), None
    return (model._meta.primary_key.name,), lambda pk: None if pk is None else f"#{pk}"


def _getter(index, convert=None):
    if convert is None:
        return itemgetter(index)
    return lambda row: convert(row[index])


def _choice_getter(index, choices):
    labels = {value: str(label) for value, label in choices}

    def get(row):
        value = row[index]
        if value is None:
            return None
        return labels.get(value, str(value))
    return get


def plan_columns(model, names_and_labels):
    """For (field name, label) pairs: the expressions to select, the aliases to join and
    the ExportColumns. Call inside a request: labels and choice labels are translated now."""
    fields = model._meta.fields
    custom = _custom_fields(model, names_and_labels)
    selects, joins, columns = [], [], []
    for name, label in names_and_labels:
        field = fields.get(name)
        if field is None and name in custom:
            expression, column = _custom_column(model, custom[name], str(label), len(selects))
            selects.append(expression)
            columns.append(column)
            continue
        if field is None:
            continue  # a computed list column: nothing to read from the database
        label = str(label)
        index = len(selects)
        if isinstance(field, ForeignKeyField):
            target = field.rel_model.alias()
            joins.append((target, field == getattr(target, field.rel_field.name)))
            label_names, join_label = _label_fields(field.rel_model)
            selects.extend(getattr(target, n) for n in label_names)
            if join_label is None:
                getter = _getter(index, lambda v: None if v is None else str(v))
            else:
                stop = index + len(label_names)
                getter = (lambda i, j, f: lambda row: f(*row[i:j]))(index, stop, join_label)
            columns.append(ExportColumn(name, Column(label, TEXT), getter))
            continue
        selects.append(field)
        if field.choices:
            columns.append(ExportColumn(name, Column(label, TEXT), _choice_getter(index, field.choices)))
        elif isinstance(field, BooleanField):
            yes, no = _("Yes"), _("No")
            columns.append(ExportColumn(name, Column(label, TEXT, 8),
                                        _getter(index, lambda v, yes=yes, no=no: None if v is None else (yes if v else no))))
        elif isinstance(field, DateTimeField):
            columns.append(ExportColumn(name, Column(label, DATETIME), _getter(index)))
        elif isinstance(field, DateField):
            columns.append(ExportColumn(name, Column(label, DATE), _getter(index)))
        elif isinstance(field, DecimalField):
            columns.append(ExportColumn(name, Column(label, NUMBER),
                                        _getter(index, lambda v: None if v is None else float(v))))
        elif isinstance(field, (IntegerField, FloatField)):
            columns.append(ExportColumn(name, Column(label, NUMBER), _getter(index)))
        else:
            columns.append(ExportColumn(name, Column(label, TEXT),
                                        _getter(index, lambda v: None if v is None else str(v))))
    return selects, joins, columns


def _custom_fields(model, names_and_labels):
    """{cf_<code>: CustomField} for the custom-field columns among the exported ones."""
    from models.custom_fields import COLUMN_PREFIX, entity_of, fields_for
    entity = entity_of(model)
    if entity is None or not any(str(name).startswith(COLUMN_PREFIX) for name, _label in names_and_labels):
        return {}
    return {field.column: field for field in fields_for(entity)}


def _custom_column(model, field, label, index):
    """A custom field as one selected expression (a subquery on the value table through its
    (entity, field) index; a multiple choice aggregated into one text) and its ExportColumn."""
    from models.base import is_postgres
    from models.choices import labels_of
    from models.custom_fields import CHOICE_KINDS, VALUE_MODELS, _column_of
    table = VALUE_MODELS[field.entity].alias()
    owner = getattr(table, field.entity)
    column = getattr(table, _column_of(field.kind))
    if field.kind == "multi_choice":
        joined = fn.STRING_AGG(column, "\x1f") if is_postgres() else fn.GROUP_CONCAT(column, "\x1f")
        expression = table.select(joined).where(owner == model._meta.primary_key, table.field == field.id)
    else:
        expression = (table.select(column).where(owner == model._meta.primary_key, table.field == field.id)
                      .order_by(table.id).limit(1))
    labels = labels_of(field.choice_list_id) if field.kind in CHOICE_KINDS else {}
    yes, no = _("Yes"), _("No")

    def get(row):
        value = row[index]
        if value is None or value == "":
            return None
        if field.kind == "multi_choice":
            return "、".join(labels.get(code, code) for code in sorted(str(value).split("\x1f")))
        if field.kind == "choice":
            return labels.get(value, value)
        if field.kind == "yes_no":
            return yes if value == "yes" else no
        if field.kind == "number":
            return float(value)
        if field.kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return str(value)
    kind = {"number": NUMBER, "date": DATE}.get(field.kind, TEXT)
    return expression, ExportColumn(field.column, Column(label, kind), get)


def export_query(model, query, names_and_labels):
    """(columns, query): `query` (any select over `model`, with its where, joins and order)
    re-selected to the exported columns, related names LEFT JOINed through aliases."""
    selects, joins, columns = plan_columns(model, names_and_labels)
    for target, on in joins:
        query = query.join_from(model, target, JOIN.LEFT_OUTER, on=on)
    return columns, query.select(*selects).tuples()


def stream(query):
    """The query's rows one by one, without peewee's row cache. SQLite steps through the
    result as it is read. PostgreSQL's default cursor would fetch the whole result first;
    with a postgresext:// DATABASE_URL (PostgresqlExtDatabase) the rows come through a
    server-side cursor in batches, inside a read transaction."""
    try:
        from playhouse.postgres_ext import PostgresqlExtDatabase, ServerSide
    except ImportError:  # pragma: no cover - psycopg not installed
        PostgresqlExtDatabase = ServerSide = None
    if PostgresqlExtDatabase is not None and isinstance(db.obj, PostgresqlExtDatabase):
        with db.atomic():
            yield from ServerSide(query, array_size=2000)
    else:
        yield from query.iterator()


def iter_rows(columns, query):
    """Rows of human values, streamed from the database (no row cache)."""
    getters = [c.getter for c in columns]
    for raw in stream(query):
        yield [get(raw) for get in getters]


def model_sheet(title, model, query, names_and_labels):
    """A Sheet of `query`'s rows in the given columns."""
    columns, tuples = export_query(model, query, names_and_labels)
    return Sheet(str(title), [c.column for c in columns], iter_rows(columns, tuples))
