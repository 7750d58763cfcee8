"""Office-wide settings (System → Settings), each declared here with its type and bounds, so
that the administrator changes them in a typed form (no JSON, no keys to type, nothing to
delete) and nobody can store a value the code cannot use.

Declaring a setting: add a `SettingDef` to the list in `_declarations()` below, or, from the
module of another area, append it to `SETTINGS` at import time (keys are dotted by area):

    SettingDef(
        key="survey.followup_rating_max",   # the key the code reads (Setting.get_value / value())
        kind="int",                         # int | number | bool | text | choice | weights
        default=2,                          # stored by `flask init-db`, restored by "reset to default"
        label=_l("Follow-up: highest low rating (1–5)"),   # what the form and the list call it
        help=_l("A rating at or below this opens a follow-up complaint."),  # one sentence
        group=_l("Surveys"),                # heading it is listed under
        min=1, max=4,                       # int / number: inclusive bounds
    )

Kinds and their extra attributes:

* ``int`` / ``number``: ``min``, ``max`` (inclusive; either may be None); number allows decimals.
* ``bool``: yes / no.
* ``text``: ``max_length``.
* ``choice``: ``choices`` — a list of (value, label) or a function returning one (read when the
  form is shown, e.g. the branches); ``optional=True`` allows "none" (stored as null).
* ``weights``: ``parts`` — [(name, label)]; stored as {name: weight}; each weight between 0 and
  1, together exactly 1 (to 0.001), e.g. the branch ranking weights.
* ``custom``: ``clean`` — a function taking the typed text (or the stored value) and returning
  the clean value, raising ValueError with a message for the user (e.g. the notification
  settings' times of day, percentages and the SMS gateway's JSON body, models.notifications).

Use: `value(key)` is the stored value when it is valid for its declaration, else the default;
`check(definition, value)` is the rule (a clean value, or SettingError naming the part);
`save(key, value, user)` and `reset(key, user)` write the value with a history row (old → new).
"""
import json
from collections import namedtuple

from .audit import Setting, record
from .base import db
from .i18n import _l

KINDS = ("int", "number", "bool", "text", "choice", "weights", "custom")
WEIGHTS_TOLERANCE = 0.001


class SettingDef(namedtuple("SettingDef", "key kind default label help group min max choices optional parts "
                                          "max_length clean")):
    """One declared setting (see the module docstring)."""

    def __new__(cls, key, kind, default, label, help="", group=None, min=None, max=None, choices=None,
                optional=False, parts=None, max_length=200, clean=None):
        if kind not in KINDS:
            raise ValueError(f"setting {key}: unknown kind {kind!r}")
        if kind == "custom" and clean is None:
            raise ValueError(f"setting {key}: a custom setting needs its clean function")
        return super().__new__(cls, key, kind, default, label, help, group, min, max, choices, optional, parts,
                               max_length, clean)

    def choice_list(self):
        return list(self.choices() if callable(self.choices) else (self.choices or []))

    def text_of(self, value):
        """A text or custom value as it is typed in the form (a list as "50, 80", an object as JSON)."""
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return ", ".join(str(item) for item in value)
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return str(value)


class SettingError(ValueError):
    """A value refused for a setting; `part` names the weight (or None for the value itself)."""

    def __init__(self, message, part=None):
        super().__init__(message)
        self.part = part


def _branch_choices():
    from .org import Branch
    return [(b.id, b.name) for b in Branch.select(Branch.id, Branch.name).order_by(Branch.name)]


def _declarations():
    from .answers import FOLLOWUP_DEFAULTS
    from .reports import DEFAULT_RANKING_WEIGHTS, RANKING_PARTS
    office, surveys, scoring = _l("Office"), _l("Surveys"), _l("Scoring")
    return [
        SettingDef("office.name", "text", "", _l("Office name"),
                   _l("Printed in the page header of report workbooks and exports; empty: the product's name."),
                   office, max_length=100),
        SettingDef("survey.followup_rating_max", "int", FOLLOWUP_DEFAULTS["survey.followup_rating_max"],
                   _l("Follow-up after a low rating (1–5): at or below"),
                   _l("An answer to a 1–5 rating question at or below this opens a follow-up complaint "
                      "(5 would open one for every answer)."), surveys, min=1, max=4),
        SettingDef("survey.followup_score_max", "int", FOLLOWUP_DEFAULTS["survey.followup_score_max"],
                   _l("Follow-up after a low score (0–10): at or below"),
                   _l("An answer to a 0–10 recommendation question at or below this opens a follow-up complaint "
                      "(NPS counts 0–6 as detractors)."), surveys, min=0, max=9),
        SettingDef("survey.unattributed_branch_id", "choice", None,
                   _l("Branch of anonymous follow-ups"),
                   _l("Follow-ups of anonymous answers given through a link without a branch are filed here; "
                      "none: the first active branch."), surveys, choices=_branch_choices, optional=True),
        SettingDef("ranking_weights", "weights", dict(DEFAULT_RANKING_WEIGHTS),
                   _l("Branch ranking weights"),
                   _l("How much SLA compliance, satisfaction (CSAT) and few complaints per customer count in the "
                      "branch ranking; together exactly 1."), scoring,
                   parts=list(RANKING_PARTS.items())),
    ]


def _notification_declarations():
    """The notify.* settings: their defaults, labels and checks live in models.notifications."""
    from .notifications import NOTIFY_DEFAULTS, NOTIFY_LABELS, NOTIFY_RANGES, check_setting
    group = _l("Notifications")
    found = []
    for key, default in NOTIFY_DEFAULTS.items():
        label = NOTIFY_LABELS.get(key, key)
        if key in NOTIFY_RANGES:
            low, high = NOTIFY_RANGES[key]
            found.append(SettingDef(key, "int", default, label, "", group, min=low, max=high))
        else:
            found.append(SettingDef(key, "custom", default, label, "", group,
                                    clean=lambda value, key=key: check_setting(key, value)))
    return found


# Other areas append their declarations to this list (see the module docstring).
SETTINGS = []
_OWN = []  # _declarations(), built on first use (they read defaults from models that import much)


def declarations():
    """Every declared setting, in the order they are listed."""
    if not _OWN:
        _OWN.extend(_declarations() + _notification_declarations())
    return _OWN + SETTINGS


def definition(key):
    return next((d for d in declarations() if d.key == key), None)


def _number(value, integer):
    if isinstance(value, bool):
        raise ValueError
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value) if not isinstance(value, str) else int(value.strip())
    return float(value)


def check(definition, value):
    """`value` cleaned for `definition`, or SettingError with a message for the user."""
    kind = definition.kind
    if kind in ("int", "number"):
        try:
            number = _number(value, kind == "int")
        except (TypeError, ValueError):
            raise SettingError(str(_l("Enter a whole number.") if kind == "int" else _l("Enter a number."))) from None
        if definition.min is not None and number < definition.min or \
                definition.max is not None and number > definition.max:
            raise SettingError(str(_l("Between %(min)s and %(max)s.", min=definition.min, max=definition.max)))
        return number
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingError(str(_l("Choose yes or no.")))
        return value
    if kind == "custom":
        try:
            return definition.clean(value)
        except ValueError as exc:
            raise SettingError(str(exc)) from None
    if kind == "text":
        text = "" if value is None else str(value).strip()
        if len(text) > definition.max_length:
            raise SettingError(str(_l("At most %(max)d characters.", max=definition.max_length)))
        return text
    if kind == "choice":
        if value in (None, ""):
            if definition.optional:
                return None
            raise SettingError(str(_l("Choose one.")))
        allowed = {str(code): code for code, _label in definition.choice_list()}
        if str(value) not in allowed:
            raise SettingError(str(_l("'%(value)s' is not one of the choices.", value=value)))
        return allowed[str(value)]
    # weights
    if not isinstance(value, dict) or set(value) != {name for name, _label in definition.parts}:
        raise SettingError(str(_l("Give a weight for every part.")))
    weights = {}
    for name, _label in definition.parts:
        try:
            weight = _number(value[name], False)
        except (TypeError, ValueError):
            raise SettingError(str(_l("Enter a number.")), part=name) from None
        if not 0 <= weight <= 1:
            raise SettingError(str(_l("Between 0 and 1.")), part=name)
        weights[name] = round(weight, 4)
    total = sum(weights.values())
    if abs(total - 1) > WEIGHTS_TOLERANCE:
        raise SettingError(str(_l("The weights must add up to 1; now they add up to %(total)s.",
                                  total=f"{total:g}")))
    return weights


def value(key):
    """The setting's stored value when it is valid for its declaration, else its default."""
    found = definition(key)
    stored = Setting.get_value(key, None)
    if found is None:
        return stored
    if stored is None and not found.optional:
        return found.default
    try:
        return check(found, stored)
    except SettingError:
        return found.default


def _write(found, clean, user):
    payload = json.dumps(clean, ensure_ascii=False)
    with db.atomic():
        row = Setting.get_or_none(Setting.key == found.key)
        if row is None:
            row = Setting.create(key=found.key, value=payload, description=str(found.help)[:255])
            record(row, "create", user, "value", "", payload)
            return True
        if row.value == payload:
            return False
        old = row.value
        row.value = payload
        row.save()
        record(row, "update", user, "value", old, payload)
    return True


def save(key, new_value, user=None):
    """Store `new_value` (checked) with a history row; True when it changed."""
    found = definition(key)
    if found is None:
        raise SettingError(str(_l("Unknown setting %(key)s.", key=key)))
    return _write(found, check(found, new_value), user)


def reset(key, user=None):
    """Store the declared default again (history row old → default)."""
    found = definition(key)
    if found is None:
        raise SettingError(str(_l("Unknown setting %(key)s.", key=key)))
    return _write(found, found.default, user)


def default_settings():
    """[(key, default value, description)] of every declared setting."""
    return [(d.key, d.default, str(d.help)) for d in declarations()]


def ensure_default_settings():
    """Add the settings that are missing (existing values are kept). Returns the keys added."""
    added = []
    for key, default, description in default_settings():
        if not Setting.select().where(Setting.key == key).exists():
            Setting.set_value(key, default, description[:255])
            added.append(key)
    return added


def notification_settings():
    """[(key, default, description)] of the notify.* settings (System → Notification settings)."""
    return [(d.key, d.default, str(d.label)) for d in declarations() if d.key.startswith("notify.")]
