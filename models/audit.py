"""History (who changed what, when: old → new), export log and editable settings.

History rows keep the object's type, id, label and branch as plain values rather than
foreign keys, so they outlive the row they describe (a deleted complaint keeps its history,
and stays visible to its branch: models.scope).
"""
import json

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .base import BaseModel
from .clock import now
from .i18n import _l
from .org import User

HISTORY_ACTIONS = [
    ("create", _l("Created")),
    ("update", _l("Changed")),
    ("delete", _l("Deleted")),
    ("stage", _l("Stage completed")),
    ("handover", _l("Handed over")),
    ("breach", _l("SLA breach")),
    ("escalate", _l("Escalated")),
    ("note", _l("Note")),
    ("archive", _l("Archived")),
    ("reveal", _l("Contact details shown")),
    ("anonymise", _l("Anonymised")),
]


class History(BaseModel):
    at = DateTimeField(default=now, index=True, verbose_name=_l("When"))
    user = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Who"))
    username = CharField(max_length=50, default="", verbose_name=_l("Username"))
    object_type = CharField(max_length=30, verbose_name=_l("Object type"))
    object_id = IntegerField(verbose_name=_l("Object id"))
    object_label = CharField(max_length=200, default="", verbose_name=_l("Object"))
    action = CharField(max_length=10, choices=HISTORY_ACTIONS, verbose_name=_l("Action"))
    field = CharField(max_length=50, default="", verbose_name=_l("Field"))
    old_value = TextField(default="", verbose_name=_l("Old value"))
    new_value = TextField(default="", verbose_name=_l("New value"))
    # the branch of the described row when the history row was written (models.scope)
    branch_id = IntegerField(null=True, index=True, verbose_name=_l("Branch"))

    class Meta:
        indexes = ((("object_type", "object_id", "at"), False),)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.object_label} {self.action}"


_NO_BRANCH = object()


def _branch_of(instance):
    from .scope import branch_of
    try:
        return branch_of(instance)
    except LookupError:  # a model without a scope rule: an office-wide row
        return None


def history_values(instance, action, user=None, field="", old="", new="", at=None, branch=_NO_BRANCH):
    """The values of one history row about `instance` (for record, or a bulk insert of many).
    `branch`: the row's branch id when the caller knows it (else looked up through models.scope)."""
    return dict(at=at or now(), user=user if getattr(user, "id", None) is not None else None,
                username=user.username if user else "",
                object_type=type(instance).__name__, object_id=instance.get_id(),
                object_label=str(instance)[:200], action=action, field=field,
                old_value="" if old is None else str(old), new_value="" if new is None else str(new),
                branch_id=_branch_of(instance) if branch is _NO_BRANCH else branch)


def record(instance, action, user=None, field="", old="", new="", branch=_NO_BRANCH):
    """Write one history row about `instance` (any model row). `branch`: the row's branch id
    when the caller knows it (else looked up through models.scope)."""
    return History.create(**history_values(instance, action, user, field, old, new, branch=branch))


def _readable(field, value):
    """What a history row shows for a stored value: the related row's name for a foreign key
    (it may be renamed or deleted later, the history keeps what it was)."""
    if value is None or not isinstance(field, ForeignKeyField):
        return value
    related = field.rel_model.get_or_none(field.rel_model._meta.primary_key == value)
    return f"{related} (#{value})" if related is not None else f"#{value}"


def record_changes(instance, before, user=None):
    """One 'update' row per field whose stored value differs from `before` (a __data__ copy)."""
    rows = []
    branch = _NO_BRANCH
    for name, field in instance._meta.fields.items():
        old, new = before.get(name), instance.__data__.get(name)
        if old != new and name not in SECRET_FIELDS and name not in BOOKKEEPING_FIELDS:
            if branch is _NO_BRANCH:
                branch = _branch_of(instance)
            rows.append(record(instance, "update", user, name, _readable(field, old), _readable(field, new),
                               branch=branch))
    return rows


# fields whose values never go into history (a password hash, the session counter)
SECRET_FIELDS = ("password_hash", "session_version")
# fields the product keeps for itself, not something a person did: the alert scheduler's next
# look at a complaint (models.notifications) moves with every stage and every tick
BOOKKEEPING_FIELDS = ("alert_at",)


def shown_value(object_type, field_name, value):
    """A stored history value as people read it: choice codes as their labels, True/False as yes/no."""
    from . import ALL_MODELS
    from .i18n import label_of
    if value in ("True", "False"):
        return str(_l("Yes") if value == "True" else _l("No"))
    model = next((m for m in ALL_MODELS if m.__name__ == object_type), None)
    field = model._meta.fields.get(field_name) if model else None
    if field is not None and field.choices and value not in (None, ""):
        return label_of([(str(code), label) for code, label in field.choices], str(value))
    return value


class ExportLog(BaseModel):
    """Every export of personal or business data: who, when, what, how many rows."""

    at = DateTimeField(default=now, index=True, verbose_name=_l("When"))
    user = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Who"))
    username = CharField(max_length=50, default="", verbose_name=_l("Username"))
    what = CharField(max_length=100, verbose_name=_l("What"))
    format = CharField(max_length=10, verbose_name=_l("Format"))
    filters = TextField(default="", verbose_name=_l("Filters"))
    rows = IntegerField(default=0, verbose_name=_l("Rows"))
    personal_data = BooleanField(default=False, verbose_name=_l("Personal data"),
                                 help_text=_l("The file held customers' personal data (个人信息)"))

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.what}"


class Setting(BaseModel):
    """An office-wide setting editable by the administrator; value stored as JSON."""

    key = CharField(unique=True, max_length=60, verbose_name=_l("Key"))
    value = TextField(verbose_name=_l("Value (JSON)"))
    description = CharField(max_length=255, default="", verbose_name=_l("Description"))

    def __str__(self):
        return self.key

    @classmethod
    def get_value(cls, key, default=None):
        row = cls.get_or_none(cls.key == key)
        return default if row is None else json.loads(row.value)

    @classmethod
    def set_value(cls, key, value, description=""):
        payload = json.dumps(value, ensure_ascii=False)
        row = cls.get_or_none(cls.key == key)
        if row is None:
            return cls.create(key=key, value=payload, description=description)
        row.value = payload
        row.save()
        return row
