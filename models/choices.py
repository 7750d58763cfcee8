"""选项列表: choice lists kept as data, so an administrator can adapt them without a developer.

A list (ChoiceList) has values (ChoiceValue), each with a stable code (what rows store and
what scoring keys on), a Chinese and an English label, a position and an active flag.
Renaming a value changes its labels, never its code. A deactivated value stays on the rows
that have it and is shown there, but is no longer offered for new ones. A value that rows
use is never deleted (ChoiceValue.delete_instance refuses it).

The product's own lists (complaint categories, channels, severities, compensations, callback
channels, customer kinds, grades, lifecycles, deal states, churn reasons, survey dimensions)
are ProductLists: a model field names its list as its `choices` (Complaint.category has
CATEGORY_LIST), and whatever reads a field's choices (forms, filters, list cells, details,
exports, history, the import, the reports) reads the office's list:
- iterating a ProductList gives (code, label) of every value in the list's order,
  deactivated ones included (they label old rows); `offered(keep)` gives the active ones
  (plus the value a record already has) for a form;
- a row stores the code; a new row needs an active value, an existing row a value of the
  list (models.validation); scoring keys on the code, never on the label;
- a value the product's rules name by its code (a field's default, e.g. category "other";
  channel "survey" of the survey follow-ups; grades "vip" and "internal" of the big-customer
  rule) is built in: it can be renamed and moved, not deactivated or deleted;
- the lists are read once per request (one query for all of them, flask.g) and re-read
  after a change; a list the database does not have (yet) reads as its Python constant,
  which is also what a new database (create_tables) and an upgraded one (migration 71)
  are seeded with: Chinese labels from our catalog, English from the msgid.
"""
import re
from functools import lru_cache

from peewee import JOIN, BooleanField, CharField, ForeignKeyField, IntegerField

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

    @property
    def product_list(self):
        """The ProductList this list is, or None for a list of custom fields' values."""
        return PRODUCT_LISTS.get(self.code)

    def save(self, *args, **kwargs):
        self.validate()
        result = super().save(*args, **kwargs)
        forget_cached_lists()
        return result

    def validate(self):
        """A code as for values; the product's own lists keep their code (the product finds them by it)."""
        self.code = (self.code or "").strip()
        self.name_zh, self.name_en = (self.name_zh or "").strip(), (self.name_en or "").strip()
        if not CODE_RE.match(self.code):
            raise ChoiceError(str(_l("The code '%(code)s' must start with a letter and use only a-z, 0-9 and _ "
                                     "(at most 40).", code=self.code)))
        if not self.name_zh and not self.name_en:
            raise ChoiceError(str(_l("Give the list a name.")))
        if self.id is not None:
            stored = ChoiceList.get_or_none(ChoiceList.id == self.id)
            if stored is not None and stored.code != self.code and stored.code in PRODUCT_LISTS:
                raise ChoiceError(str(_l("'%(name)s' is one of the product's own lists: its code cannot change.",
                                         name=str(stored))))

    def delete_instance(self, *args, **kwargs):
        """The product's own lists are never deleted (their values can be deactivated)."""
        if self.code in PRODUCT_LISTS:
            raise ChoiceError(str(_l("'%(name)s' is one of the product's own lists and cannot be deleted; "
                                     "deactivate the values the office does not use.", name=str(self))))
        result = super().delete_instance(*args, **kwargs)
        forget_cached_lists()
        return result

    def values(self, active_only=False):
        query = self.choice_values.order_by(ChoiceValue.position, ChoiceValue.id)
        if active_only:
            query = query.where(ChoiceValue.active == True)  # noqa: E712
        return list(query)


class ChoiceValue(BaseModel):
    """One value of a list: stable code, zh/en labels, order, active."""

    choice_list = ForeignKeyField(ChoiceList, backref="choice_values", on_delete="RESTRICT",
                                  verbose_name=_l("Choice list"))
    code = CharField(max_length=40, default="", verbose_name=_l("Code"),
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
        result = super().save(*args, **kwargs)
        forget_cached_lists()
        return result

    def validate(self):
        """A code (made from the English label when left empty) unique in its list, a label;
        the code of a value in use never changes and such a value stays in its list; a value
        of one of the product's lists fits the columns that store it, and a built-in value
        stays active (ProductList.built_in)."""
        self.code = (self.code or "").strip().lower()
        self.label_zh = (self.label_zh or "").strip()
        self.label_en = (self.label_en or "").strip()
        if not self.label_zh and not self.label_en:
            raise ChoiceError(str(_l("Give the value a label.")))
        product = self._product_list()
        if not self.code:
            self.code = self._free_code(product)
        if not CODE_RE.match(self.code):
            raise ChoiceError(str(_l("The code '%(code)s' must start with a letter and use only a-z, 0-9 and _ "
                                     "(at most 40).", code=self.code)))
        if product is not None and len(self.code) > product.max_code_length():
            raise ChoiceError(str(_l("The code '%(code)s' is too long for this list: at most %(max)d characters.",
                                     code=self.code, max=product.max_code_length())))
        same = ChoiceValue.select().where(ChoiceValue.choice_list == self.choice_list_id,
                                          ChoiceValue.code == self.code)
        if self.id is not None:
            same = same.where(ChoiceValue.id != self.id)
            stored = ChoiceValue.get_or_none(ChoiceValue.id == self.id)
            moved = stored is not None and (stored.code, stored.choice_list_id) != (self.code, self.choice_list_id)
            if moved and (value_in_use(stored) or stored._is_built_in()):
                raise ChoiceError(str(_l("The code of '%(label)s' is in use on records and cannot change; "
                                         "rename its labels instead.", label=stored.label)))
        if same.exists():
            raise ChoiceError(str(_l("The list already has a value with the code '%(code)s'.", code=self.code)))
        if not self.active and self._is_built_in():
            raise ChoiceError(str(_l("'%(label)s' is built in: the product's rules use it, so it stays active. "
                                     "Rename it if the office calls it differently.", label=self.label)))

    def _product_list(self):
        code = ChoiceList.select(ChoiceList.code).where(ChoiceList.id == self.choice_list_id).scalar()
        return PRODUCT_LISTS.get(code)

    def _is_built_in(self):
        product = self._product_list()
        return product is not None and self.code in product.built_in()

    def _free_code(self, product):
        """A code for a value typed without one: from its English label, else v1, v2, …"""
        limit = product.max_code_length() if product is not None else 40
        taken = {code for (code,) in ChoiceValue.select(ChoiceValue.code)
                 .where(ChoiceValue.choice_list == self.choice_list_id).tuples()}
        code = slug(self.label_en, "")[:limit].strip("_")
        if code and code not in taken:
            return code
        number = len(taken) + 1
        while f"v{number}" in taken:
            number += 1
        return f"v{number}"

    def delete_instance(self, *args, **kwargs):
        """A value in use is never deleted: deactivate it instead. A built-in value is never
        deleted either."""
        if self._is_built_in():
            raise ChoiceError(str(_l("'%(label)s' is built in: the product's rules use it, so it cannot be "
                                     "deleted.", label=self.label)))
        if value_in_use(self):
            raise ChoiceError(str(_l("'%(label)s' is in use on records and cannot be deleted; deactivate it "
                                     "instead.", label=self.label)))
        result = super().delete_instance(*args, **kwargs)
        forget_cached_lists()
        return result


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


# ------------------------------------------------------------------ the product's own lists

# list code → ProductList, in the order they are declared (models.complaints, customers, surveys)
PRODUCT_LISTS = {}


class Entry:
    """One value of a ProductList as read: stored labels, or the Python constant's lazy label
    when the database does not have the list."""

    __slots__ = ("code", "label_zh", "label_en", "active", "default_label")

    def __init__(self, code, label_zh="", label_en="", active=True, default_label=None):
        self.code, self.label_zh, self.label_en = code, label_zh, label_en
        self.active, self.default_label = active, default_label

    @property
    def label(self):
        if self.default_label is not None:
            return str(self.default_label)
        return localized(self.label_zh, self.label_en) or self.code


class ProductList:
    """One of the product's own choice lists (module docstring). Iterating gives (code, label)
    of every value, deactivated ones included, like a Python list of choices."""

    def __init__(self, code, name, defaults, built_in=()):
        self.code, self.name, self.defaults = code, name, list(defaults)
        self.rule_codes = frozenset(built_in)
        self._fields = None
        PRODUCT_LISTS[code] = self

    def __repr__(self):
        return f"ProductList({self.code!r})"

    def __bool__(self):
        return True  # a field with a list has choices, without reading them

    def __iter__(self):
        return iter([(entry.code, entry.label) for entry in self.entries()])

    def entries(self):
        """The values in the list's order: the database's, else the Python constant's."""
        stored = stored_lists().get(self.code)
        if stored is None:
            return [Entry(code, default_label=label) for code, label in self.defaults]
        return stored

    def label(self, code):
        """The label of a stored code ('' for none, the code itself when the list lacks it)."""
        if code is None or code == "":
            return ""
        return self.labels().get(code, str(code))

    def labels(self):
        return {entry.code: entry.label for entry in self.entries()}

    def codes(self, active_only=False):
        return [entry.code for entry in self.entries() if entry.active or not active_only]

    def offered(self, keep=()):
        """[(code, label)] a form offers: the active values, and those in `keep` (what the
        record already has, even when deactivated since), in the list's order."""
        keep = {keep} if isinstance(keep, str) else set(keep or ())
        return [(entry.code, entry.label) for entry in self.entries() if entry.active or entry.code in keep]

    def filter_options(self):
        """[(code, label)] a list filter offers: every value, a deactivated one marked so
        (old rows still have it)."""
        inactive = str(_l("inactive"))
        return [(entry.code, entry.label if entry.active else f"{entry.label} ({inactive})")
                for entry in self.entries()]

    def problem(self, code, new_row):
        """Why `code` cannot be stored (None when it can): not a value of the list, or, on a new
        row, a deactivated one. Empty is the field's business (null or not)."""
        if code is None or code == "":
            return None
        entry = next((e for e in self.entries() if e.code == code), None)
        if entry is None:
            allowed = ", ".join(label for _code, label in self.offered())
            return str(_l("'%(value)s' is not one of: %(allowed)s.", value=code, allowed=allowed))
        if new_row and not entry.active:
            return str(_l("'%(label)s' is no longer in use; choose another value.", label=entry.label))
        return None

    # -------------------------------------------------------------- where the list is stored
    def fields(self):
        """The model fields that store this list's codes."""
        if self._fields is None:
            from . import ALL_MODELS
            self._fields = [field for model in ALL_MODELS for field in model._meta.sorted_fields
                            if field.choices is self]
        return self._fields

    def built_in(self):
        """Codes the product's rules use: the fields' defaults and the codes named by a rule."""
        defaults = {field.default for field in self.fields()
                    if isinstance(field.default, str) and field.default}
        return self.rule_codes | defaults

    def max_code_length(self):
        lengths = [field.max_length for field in self.fields() if getattr(field, "max_length", None)]
        return min(lengths + [40])

    def in_use(self, code):
        """Some row stores `code` in one of the list's fields (one EXISTS per field)."""
        return any(field.model.select(field.model._meta.primary_key).where(field == code).exists()
                   for field in self.fields())


def _product_value_in_use(choice_list_id, code):
    list_code = ChoiceList.select(ChoiceList.code).where(ChoiceList.id == choice_list_id).scalar()
    product = PRODUCT_LISTS.get(list_code)
    return product is not None and product.in_use(code)


USAGE_CHECKS.append(_product_value_in_use)


_CACHE_KEY = "_product_lists"


def stored_lists():
    """{list code: [Entry]} of the product lists the database has, read in one query, once
    per request (or application context); without an application context, read each time."""
    from flask import g, has_app_context
    if not has_app_context():
        return _read_lists()
    cached = g.get(_CACHE_KEY)
    if cached is None:
        cached = _read_lists()
        setattr(g, _CACHE_KEY, cached)
    return cached


def _read_lists():
    rows = (ChoiceList.select(ChoiceList.code, ChoiceValue.code, ChoiceValue.label_zh, ChoiceValue.label_en,
                              ChoiceValue.active)
            .join(ChoiceValue, JOIN.LEFT_OUTER, on=(ChoiceValue.choice_list == ChoiceList.id))
            .where(ChoiceList.code.in_(list(PRODUCT_LISTS)))
            .order_by(ChoiceList.code, ChoiceValue.position, ChoiceValue.id).tuples())
    lists = {}
    for list_code, code, zh, en, active in rows:
        entries = lists.setdefault(list_code, [])
        if code is not None:
            entries.append(Entry(code, zh or "", en or "", bool(active)))
    return lists


def forget_cached_lists():
    """After a list or a value changed: the next reader reads them again."""
    from flask import g, has_app_context
    if has_app_context():
        g.pop(_CACHE_KEY, None)


# ------------------------------------------------------------------ seeding

def msgid(label):
    """The English msgid of a lazy label (what it reads as without a translation)."""
    args = getattr(label, "_args", None)
    return args[0] if args else str(label)


@lru_cache(maxsize=1)
def _chinese_catalog():
    from translations.catalog import merged_catalog
    return merged_catalog("zh_CN")


def chinese(label):
    """The Chinese translation of a lazy label, from our catalog (the English msgid if none)."""
    english = msgid(label)
    message = _chinese_catalog().get(english)
    return message.string if message is not None and message.string else english


def seed_product_lists():
    """Create every product list the database does not have yet, with its Python constant's
    values (Chinese labels from our catalog, English from the msgid, in the constant's order),
    plus, deactivated and labelled with the code itself, any other code rows already store in
    its fields (nothing stored is left without a value). A list that exists is left as the
    office made it. Returns the codes of the lists created."""
    existing = {code for (code,) in ChoiceList.select(ChoiceList.code)
                .where(ChoiceList.code.in_(list(PRODUCT_LISTS))).tuples()}
    created = []
    for product in PRODUCT_LISTS.values():
        if product.code in existing:
            continue
        choice_list = ChoiceList.create(code=product.code, name_zh=chinese(product.name), name_en=msgid(product.name))
        rows = [{"choice_list": choice_list.id, "code": code, "label_zh": chinese(label), "label_en": msgid(label),
                 "position": position * 10, "active": True}
                for position, (code, label) in enumerate(product.defaults, start=1)]
        known = {code for code, _label in product.defaults}
        for field in product.fields():
            if not field.model.table_exists():  # a brand-new database upgraded before create_tables
                continue
            stored = field.model.select(field).distinct().where(field.is_null(False) & (field != "")).tuples()
            for (code,) in stored:
                if code not in known:
                    known.add(code)
                    rows.append({"choice_list": choice_list.id, "code": code, "label_zh": code, "label_en": code,
                                 "position": (len(rows) + 1) * 10, "active": False})
        ChoiceValue.insert_many(rows).execute()
        created.append(product.code)
    forget_cached_lists()
    return created
