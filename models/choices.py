"""选项列表: choice lists kept as data, so an administrator can adapt them without a developer.

A list (ChoiceList) has values (ChoiceValue), each with a stable code (what rows store and
what scoring keys on), a Chinese and an English label, a position and an active flag.
Renaming a value changes its labels, never its code. A deactivated value stays on the rows
that have it and is shown there, but is no longer offered for new ones. A value that rows
use is never deleted (ChoiceValue.delete_instance refuses it).
"""
import re

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField

from .base import BaseModel
from .i18n import DEFAULT_LANGUAGE, _l

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ChoiceError(ValueError):
    """A list or value that cannot be saved or deleted; str() is for the user."""


def current_language():
    """The reader's language code ('zh_CN' / 'en'): the request's, else the office's."""
    from flask import has_app_context
    if has_app_context():
        from flask_babel import get_locale
        locale = get_locale()
        if locale is not None and locale.language == "en":
            return "en"
    return DEFAULT_LANGUAGE


def localized(zh, en, language=None):
    """The label in the reader's language, falling back to the other one when it is empty."""
    language = language or current_language()
    first, second = (en, zh) if language == "en" else (zh, en)
    return first or second or ""


def slug(text, fallback):
    """A code from an English label ('Contract number' → 'contract_number'), else `fallback`."""
    code = re.sub(r"[^a-z0-9]+", "_", (text or "").lower()).strip("_")[:40]
    if not code or not code[0].isalpha():
        return fallback
    return code


class ChoiceList(BaseModel):
    """A list of values offered in forms and filters (custom fields' single and multiple choice)."""

    code = CharField(max_length=40, unique=True, verbose_name=_l("Code"))
    name_zh = CharField(max_length=60, verbose_name=_l("Name (Chinese)"))
    name_en = CharField(max_length=60, default="", verbose_name=_l("Name (English)"))

    class Meta:
        table_name = "choice_list"

    def __str__(self):
        return localized(self.name_zh, self.name_en)

    def values(self, active_only=False):
        query = self.choice_values.order_by(ChoiceValue.position, ChoiceValue.id)
        if active_only:
            query = query.where(ChoiceValue.active == True)  # noqa: E712
        return list(query)


class ChoiceValue(BaseModel):
    """One value of a list: stable code, zh/en labels, order, active."""

    choice_list = ForeignKeyField(ChoiceList, backref="choice_values", on_delete="RESTRICT",
                                  verbose_name=_l("Choice list"))
    code = CharField(max_length=40, verbose_name=_l("Code"),
                     help_text=_l("Stored on the records and used by scoring; never changes once in use"))
    label_zh = CharField(max_length=60, verbose_name=_l("Label (Chinese)"))
    label_en = CharField(max_length=60, default="", verbose_name=_l("Label (English)"))
    position = IntegerField(default=0, verbose_name=_l("Order"))
    active = BooleanField(default=True, verbose_name=_l("Active"),
                          help_text=_l("A deactivated value stays on the records that have it but is no longer "
                                       "offered for new ones"))

    class Meta:
        table_name = "choice_value"
        indexes = ((("choice_list", "code"), True),)

    def __str__(self):
        return self.label

    @property
    def label(self):
        return localized(self.label_zh, self.label_en)

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        self.code = (self.code or "").strip()
        self.label_zh = (self.label_zh or "").strip()
        self.label_en = (self.label_en or "").strip()
        if not CODE_RE.match(self.code):
            raise ChoiceError(str(_l("The code '%(code)s' must start with a letter and use only a-z, 0-9 and _ "
                                     "(at most 40).", code=self.code)))
        if not self.label_zh and not self.label_en:
            raise ChoiceError(str(_l("Give the value a label.")))
        same = ChoiceValue.select().where(ChoiceValue.choice_list == self.choice_list_id,
                                          ChoiceValue.code == self.code)
        if self.id is not None:
            same = same.where(ChoiceValue.id != self.id)
            stored = ChoiceValue.get_or_none(ChoiceValue.id == self.id)
            if stored is not None and stored.code != self.code and value_in_use(stored):
                raise ChoiceError(str(_l("The code of '%(label)s' is in use on records and cannot change; "
                                         "rename its labels instead.", label=stored.label)))
        if same.exists():
            raise ChoiceError(str(_l("The list already has a value with the code '%(code)s'.", code=self.code)))

    def delete_instance(self, *args, **kwargs):
        """A value in use is never deleted: deactivate it instead."""
        if value_in_use(self):
            raise ChoiceError(str(_l("'%(label)s' is in use on records and cannot be deleted; deactivate it "
                                     "instead.", label=self.label)))
        return super().delete_instance(*args, **kwargs)


# Where a list's codes are stored: list code → functions returning True when a code is in use.
# Custom fields register here (models.custom_fields).
USAGE_CHECKS = []


def value_in_use(value):
    return any(check(value.choice_list_id, value.code) for check in USAGE_CHECKS)


def labels_of(choice_list_id, language=None):
    """{code: label} of every value of the list, deactivated ones included (old rows show them)."""
    rows = ChoiceValue.select().where(ChoiceValue.choice_list == choice_list_id)
    return {row.code: localized(row.label_zh, row.label_en, language) for row in rows}


def create_list(code, name_zh, name_en, labels):
    """A new list with values [(code, zh, en)] in that order."""
    choice_list = ChoiceList.create(code=code, name_zh=name_zh, name_en=name_en)
    for position, (value_code, zh, en) in enumerate(labels, start=1):
        ChoiceValue.create(choice_list=choice_list, code=value_code, label_zh=zh, label_en=en, position=position * 10)
    return choice_list


def parse_options(text):
    """Options typed one per line as '中文 | English' (English optional) → [(code, zh, en)];
    codes come from the English label, else opt1, opt2, …"""
    options, codes = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        zh, _sep, en = (part.strip() for part in line.partition("|"))
        code = slug(en, f"opt{number}")
        while code in codes:
            code = f"{code[:36]}_{number}"
        codes.add(code)
        options.append((code, zh or en, en))
    return options
