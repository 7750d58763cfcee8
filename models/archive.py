"""Deleting without erasing evidence (删除不毁证据).

Evidence is what records what happened: complaints, worksheets, callbacks, invitations,
survey responses and answers, customers' service-star votes, anonymous feedback, awards,
rewards and penalties, who was told what (notification events, sent messages and their
delivery attempts, in-app notifications), history and the export log. The rules:

* **No cascade.** Every foreign key is ON DELETE RESTRICT (migration 43): the database itself
  refuses to remove a row that another row refers to, so nothing disappears along with it.
* **A row something depends on is archived, not deleted**, when its model has an archive
  flag (ARCHIVE_FLAGS: staff, customers, surveys, open links, branches, accounts, group
  robots — `active`
  becomes False; it stays with everything that refers to it and can be switched on again).
  A row without such a flag is refused, with a message listing what depends on it
  ("3 answers, 1 invitation").
* **Parts** (PARTS) are deleted with their whole: the choices of a question, the questions of
  a survey, the branch links of an account — but only while no evidence depends on them.
* **A row nothing depends on is deleted.**
* **Every delete and archive writes history**: "delete" keeps the deleted row's values in the
  history row (the history outlives the row), "archive" records active yes → no.
"""
import json

from .audit import record
from .base import db
from .i18n import _l


class DeleteRefused(ValueError):
    """The row has dependants and cannot be archived; str() lists them for the user."""


# model name → the field that archives it (a BooleanField "active")
ARCHIVE_FLAGS = {"Staff": "active", "Customer": "active", "Survey": "active", "OpenLink": "active",
                 "Branch": "active", "User": "active", "ChannelEndpoint": "active"}
# model name → (part model name, its foreign key to the whole)
PARTS = {
    "Survey": [("Question", "survey")],
    "Question": [("Choice", "question")],
    "User": [("UserBranch", "user")],
    "Branch": [("UserBranch", "branch")],
}
# how dependants are named in the message (plural); other models by their class name
DEPENDANT_LABELS = {
    "Staff": _l("staff members"), "User": _l("accounts"), "UserBranch": _l("branch links"),
    "Customer": _l("customers"), "Complaint": _l("complaints"), "Rectification": _l("rectification worksheets"),
    "Callback": _l("callbacks"), "Survey": _l("surveys"), "Question": _l("questions"), "Choice": _l("choices"),
    "OpenLink": _l("open links"), "Invitation": _l("invitations"), "Response": _l("survey responses"),
    "Answer": _l("answers"), "Award": _l("awards"), "RewardPenalty": _l("rewards and penalties"),
    "History": _l("history entries"), "ExportLog": _l("export log entries"),
    "AnonymousFeedback": _l("anonymous feedback entries"), "NotifyEvent": _l("notification events"),
    "OutboxMessage": _l("sent messages"), "DeliveryAttempt": _l("delivery attempts"),
    "Notification": _l("notifications"), "ChannelEndpoint": _l("group robots"),
}


def _backrefs(model):
    """{dependant model: [its foreign keys to `model`]}, of the models that have a table
    (models.ALL_MODELS: not an abstract base such as custom_fields.FieldValue)."""
    from . import ALL_MODELS
    grouped = {}
    for field, dependant in model._meta.backrefs.items():
        if dependant in ALL_MODELS:
            grouped.setdefault(dependant, []).append(field)
    return grouped


def _parts_of(instance):
    kinds = PARTS.get(type(instance).__name__, ())
    return {(part, fk) for part, fk in kinds}


def dependants(instance):
    """[(dependant model, number of its rows referring to `instance`)], parts left out (their own
    dependants are counted instead, as they would block the delete)."""
    found = []
    parts = _parts_of(instance)
    for model, fields in _backrefs(type(instance)).items():
        condition = None
        for field in fields:
            if (model.__name__, field.name) in parts:
                continue
            part = field == instance.get_id()
            condition = part if condition is None else (condition | part)
        if condition is not None:
            count = model.select().where(condition).count()
            if count:
                found.append((model, count))
    for model, fields in _backrefs(type(instance)).items():
        for field in fields:
            if (model.__name__, field.name) in parts:
                for part in model.select().where(field == instance.get_id()):
                    for dependant, count in dependants(part):
                        found.append((dependant, count))
    merged = {}
    for model, count in found:
        merged[model] = merged.get(model, 0) + count
    return sorted(merged.items(), key=lambda item: item[0].__name__)


def describe(found):
    """ "3 answers, 1 invitation" for the message of a refused delete."""
    return ", ".join(f"{count} {DEPENDANT_LABELS.get(model.__name__, model.__name__)}" for model, count in found)


def snapshot(instance):
    """The row's stored values as JSON (kept in the history of its deletion)."""
    return json.dumps({name: instance.__data__.get(name) for name in instance._meta.fields
                       if name not in ("password_hash", "session_version")},
                      ensure_ascii=False, default=str)


def _delete_with_parts(instance, user):
    for model, fields in _backrefs(type(instance)).items():
        for field in fields:
            if (model.__name__, field.name) in _parts_of(instance):
                for part in model.select().where(field == instance.get_id()):
                    _delete_with_parts(part, user)
    record(instance, "delete", user, "", snapshot(instance), "")
    instance.delete_instance()


def remove(instance, user=None):
    """Delete `instance` if nothing depends on it, else archive it; DeleteRefused when it has
    dependants and no archive flag. Returns "deleted" or "archived". One transaction."""
    with db.atomic():
        found = dependants(instance)
        if not found:
            _delete_with_parts(instance, user)
            return "deleted"
        flag = ARCHIVE_FLAGS.get(type(instance).__name__)
        if flag is None:
            raise DeleteRefused(str(_l("%(name)s cannot be deleted: %(dependants)s depend on it.",
                                       name=str(instance), dependants=describe(found))))
        if getattr(instance, flag):
            setattr(instance, flag, False)
            type(instance).update({flag: False}).where(
                type(instance)._meta.primary_key == instance.get_id()).execute()
            record(instance, "archive", user, flag, True, False)
            if hasattr(instance, "end_sessions"):  # an archived account is logged out everywhere
                instance.end_sessions()
        return "archived"
