"""Customer import from xlsx / csv (manager): read, check every row, preview, then write.

The file is read into a preview: for each row the values it would create and its errors
(row number as the spreadsheet shows it, column, message). Writing takes one of two modes,
chosen by the user: "valid" imports the rows without errors, "all" imports every row or
nothing at all. Either way the writes happen in one transaction, after the file has been
checked again against the database.

Duplicates: a row whose phone number (digits compared) is already on a customer file or on
an earlier row of the file, or whose organisation and name together are (an organisation
may have several customer files, one per contact; the same person twice is a duplicate).
"""
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import force_locale, gettext as _
from peewee import fn

from models import Branch, Customer, Staff, db, search
from models.audit import record
from models.custom_fields import COLUMN_PREFIX, clean, fields_for, options_of, write_values
from models.customers import CHURN_REASON_LIST, CUSTOMER_KIND_LIST, DEAL_STATE_LIST, GRADE_LIST, LIFECYCLE_LIST
from models.i18n import LANGUAGE_CODES, babel_locale
from models.validation import clean_amount, clean_email, clean_phone, first_deal_date_problem, to_date

from .safety import FORMULA_TRIGGERS
from .writers import DATE, NUMBER, TEXT, Column, Sheet, XlsxWriter

MAX_BYTES = 5 * 1024 * 1024       # upload size
MAX_ROWS = 5000                   # data rows per file
MAX_UNZIPPED = 100 * 1024 * 1024  # xlsx content after decompression (zip bombs)
EXTENSIONS = ("xlsx", "csv")

# (field, required) in template order
IMPORT_FIELDS = [
    ("name", True), ("organisation", False), ("contact_person", False), ("phone", False), ("email", False),
    ("address", False), ("kind", False), ("grade", False), ("monthly_spend", False), ("lifecycle", False),
    ("deal_state", False), ("branch", True), ("account_manager", False), ("first_deal_date", False),
    ("habits", False), ("preferences", False), ("opinions", False),
]
# columns holding a value of one of the office's lists (models.choices): a cell may give the code or
# the label in either language; a new customer takes only an active value
CHOICES = {"kind": CUSTOMER_KIND_LIST, "grade": GRADE_LIST, "lifecycle": LIFECYCLE_LIST,
           "deal_state": DEAL_STATE_LIST, "churn_reason": CHURN_REASON_LIST}
# the list columns of the template, in the order of the "allowed values" sheet (columns A-D; E: branches)
LISTED = ("kind", "grade", "lifecycle", "deal_state")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not a spreadsheet, wrong headers, too large)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportRow:
    number: int           # row number as shown by the spreadsheet program (header is row 1)
    cells: list           # the row's values as read, for the preview table
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


@dataclass
class ImportPreview:
    headers: list
    rows: list

    @property
    def valid_rows(self):
        return [row for row in self.rows if not row.errors]

    @property
    def errors(self):
        return [error for row in self.rows for error in row.errors]


# --------------------------------------------------------------------------- labels

def custom_fields():
    """{cf_<code>: CustomField}: the administrator's active customer fields, in their order."""
    return {definition.column: definition for definition in fields_for("customer")}


def import_fields():
    """(field, required) in template order: the fixed columns, then the custom fields."""
    return IMPORT_FIELDS + [(name, definition.required) for name, definition in custom_fields().items()]


def field_label(name):
    if name.startswith(COLUMN_PREFIX):
        definition = custom_fields().get(name)
        return definition.label if definition is not None else name
    return str(Customer._meta.fields[name].verbose_name)


def header_labels():
    """Template headers in the UI language; required columns carry a *."""
    return [field_label(name) + (" *" if required else "") for name, required in import_fields()]


def _key(text):
    return re.sub(r"\s+", " ", str(text)).strip().rstrip("*").strip().lower()


def _aliases():
    """{normalised header: field} accepting the field name and its label in either language."""
    aliases = {}
    for column, definition in custom_fields().items():  # a custom field by its code or either label
        for alias in (column, definition.code, definition.label_zh, definition.label_en):
            if alias:
                aliases[_key(alias)] = column
    for name, _required in IMPORT_FIELDS:
        aliases[_key(name)] = name
        aliases[_key(field_label(name))] = name
        for locale in LANGUAGE_CODES:
            with force_locale(babel_locale(locale)):
                aliases[_key(field_label(name))] = name
    return aliases


def _choice_lookup(product):
    """{normalised code or label: code} of every value of the list (a deactivated one too, so
    that it is refused by name rather than as unknown)."""
    lookup = {}
    for entry in product.entries():
        lookup.setdefault(_key(entry.code), entry.code)
        labels = [entry.label_zh, entry.label_en]
        if entry.default_label is not None:  # a list the database does not have: its constant, in each language
            for locale in LANGUAGE_CODES:
                with force_locale(babel_locale(locale)):
                    labels.append(str(entry.default_label))
        for label in labels:
            if label:
                lookup.setdefault(_key(label), entry.code)
    return lookup


# --------------------------------------------------------------------------- reading

def check_upload(filename, data, max_bytes=MAX_BYTES):
    """The file's format ('xlsx' or 'csv'), or ImportFileError with the reason."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > max_bytes:
        raise ImportFileError(_("The file is too large (%(size)s MB); at most %(max)s MB can be imported at once.",
                                size=f"{len(data) / 1048576:.1f}", max=f"{max_bytes / 1048576:.0f}"))
    if extension == "xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(_("This is an old Excel 97-2003 file (.xls). Save it as .xlsx and upload it again."))
    if extension not in EXTENSIONS:
        raise ImportFileError(_("Only .xlsx and .csv files can be imported (this file is '%(name)s').",
                                name=filename or "?"))
    if extension == "xlsx" and not data.startswith(b"PK\x03\x04"):
        raise ImportFileError(_("This file is not an Excel workbook (.xlsx), although its name ends in .xlsx."))
    if extension == "csv" and b"\x00" in data[:4096]:
        raise ImportFileError(_("This file is not a text (.csv) file."))
    return extension


def _xlsx_rows(data, max_rows):
    from openpyxl import load_workbook
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
            raise ImportFileError(_("The workbook is too large once unpacked."))
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - any failure to open means: not a usable workbook
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(list(values))
        if len(rows) > max_rows + 1:
            break
    workbook.close()
    return rows


def _decode(data):
    """csv from Excel is UTF-8 (with or without BOM) or, from Chinese Excel/WPS, GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The csv file's text encoding is not UTF-8 or GB18030."))


def _csv_rows(data, max_rows):
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for values in csv.reader(io.StringIO(text, newline=""), dialect):
            rows.append(values)
            if len(rows) > max_rows + 1:
                break
    except csv.Error as exc:
        raise ImportFileError(_("The csv file could not be read: %(error)s", error=str(exc))) from None
    return rows


def read_table(data, extension, max_rows=MAX_ROWS):
    """(header cells, [(row number, cells)]) without blank rows; ImportFileError when empty or too long."""
    rows = _xlsx_rows(data, max_rows) if extension == "xlsx" else _csv_rows(data, max_rows)
    numbered = [(number, cells) for number, cells in enumerate(rows, start=1)
                if any(_text(value) for value in cells)]
    if not numbered:
        raise ImportFileError(_("The file has no header row and no data."))
    (_header_number, header), body = numbered[0], numbered[1:]
    if len(body) > max_rows:
        raise ImportFileError(_("The file has more than %(max)d rows; split it into smaller files.", max=max_rows))
    return header, body


# --------------------------------------------------------------------------- checking

def _text(value):
    """A cell as clean text: numbers without '.0', dates as ISO, our csv formula guard removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        text = text[1:]
    return text


def map_headers(header):
    """{column index: field}; ImportFileError naming unknown, repeated and missing columns."""
    aliases = _aliases()
    mapping, unknown, repeated = {}, [], []
    for index, cell in enumerate(header):
        title = _text(cell)
        if not title:
            continue
        name = aliases.get(_key(title))
        if name is None:
            unknown.append(title)
        elif name in mapping.values():
            repeated.append(title)
        else:
            mapping[index] = name
    missing = [field_label(name) for name, required in import_fields() if required and name not in mapping.values()]
    problems = []
    if unknown:
        problems.append(_("unknown columns: %(names)s", names=", ".join(unknown)))
    if repeated:
        problems.append(_("columns given twice: %(names)s", names=", ".join(repeated)))
    if missing:
        problems.append(_("required columns missing: %(names)s", names=", ".join(missing)))
    if problems:
        raise ImportFileError(_("The header row does not match the customer template (%(problems)s). "
                                "Download the template and copy your data into it.", problems="; ".join(problems)))
    return mapping


def phone_digits(phone):
    return re.sub(r"\D", "", phone or "")


class RowChecker:
    """Turns one row's cells into Customer values, collecting errors per column."""

    def __init__(self, user=None):
        from models.scope import SYSTEM, scoped
        user = SYSTEM if user is None else user
        self.choices = {name: _choice_lookup(choices) for name, choices in CHOICES.items()}
        # the branches and account managers of the importing user's branch scope: another branch's
        # name reads like an unknown one (models.scope)
        self.branches = {_key(name): branch_id for branch_id, name
                         in scoped(Branch.select(Branch.id, Branch.name), user, Branch).tuples()}
        self.staff_by_number, self.staff_by_name = {}, {}
        for staff_id, name, number in scoped(Staff.select(Staff.id, Staff.name, Staff.employee_no), user,
                                             Staff).tuples():
            self.staff_by_number[_key(number)] = staff_id
            self.staff_by_name.setdefault(_key(name), set()).add(staff_id)
        self.max_lengths = {name: getattr(f, "max_length", None) for name, f in Customer._meta.fields.items()}
        self.custom = custom_fields()
        self.fields = import_fields()

    def check(self, row, mapping, cells):
        for index, name in mapping.items():
            value = cells[index] if index < len(cells) else None
            try:
                converted = self.convert(name, _text(value), value)
            except ValueError as exc:
                row.errors.append(RowError(row.number, field_label(name), str(exc)))
                continue
            if converted is not None:
                row.values[name] = converted
        for name, required in self.fields:
            if required and name in mapping.values() and name not in row.values \
                    and not any(e.column == field_label(name) for e in row.errors):
                row.errors.append(RowError(row.number, field_label(name), _("This column is required.")))

    def convert(self, name, raw, value):
        if name in self.custom:
            definition = self.custom[name]
            if raw == "" and definition.required:
                return None  # reported once, as a required column
            return clean(definition, value if isinstance(value, (date, datetime)) else raw)
        if raw == "":
            return None
        limit = self.max_lengths.get(name)
        if limit and len(raw) > limit and name not in ("branch", "account_manager"):
            raise ValueError(_("Too long: at most %(max)d characters.", max=limit))
        if name in self.choices:
            code = self.choices[name].get(_key(raw))
            problem = CHOICES[name].problem(code if code is not None else raw, new_row=True)
            if problem:
                raise ValueError(problem)
            return code
        # the rules of models.validation, the same as in the admin's forms
        if name == "phone":
            return clean_phone(raw)
        if name == "email":
            return clean_email(raw)
        if name == "monthly_spend":
            return clean_amount(raw)
        if name == "first_deal_date":
            day = to_date(value if isinstance(value, (date, datetime)) else raw)
            problem = first_deal_date_problem(day)
            if problem:
                raise ValueError(problem)
            return day
        if name == "branch":
            branch_id = self.branches.get(_key(raw))
            if branch_id is None:
                raise ValueError(_("There is no branch named '%(value)s'.", value=raw))
            return branch_id
        if name == "account_manager":
            return self._staff(raw)
        return raw

    def _staff(self, raw):
        match = re.match(r"^(.*)\(([^()]+)\)\s*$", raw)  # "王芳 (E0001)" as exported
        number = match.group(2) if match else raw
        if _key(number) in self.staff_by_number:
            return self.staff_by_number[_key(number)]
        found = self.staff_by_name.get(_key(raw), set())
        if len(found) == 1:
            return next(iter(found))
        if len(found) > 1:
            raise ValueError(_("Several staff are named '%(value)s': give the employee number.", value=raw))
        raise ValueError(_("No staff member with the employee number or name '%(value)s'.", value=raw))


def _chunks(items, size=500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def find_duplicates(rows):
    """Add an error to each row duplicating an existing customer or an earlier row."""
    phone_label, org_label = field_label("phone"), field_label("organisation")
    raw_phones = {row.values["phone"] for row in rows if row.values.get("phone")}
    digit_phones = {phone_digits(p) for p in raw_phones}
    existing_phones = {}
    for chunk in _chunks(raw_phones | digit_phones):
        for customer_id, name, phone in (Customer.select(Customer.id, Customer.name, Customer.phone)
                                         .where(Customer.phone.in_(chunk)).tuples()):
            existing_phones.setdefault(phone_digits(phone), (customer_id, name))
    pairs = {(_key(row.values["organisation"]), _key(row.values.get("name", "")))
             for row in rows if row.values.get("organisation")}
    existing_pairs = {}
    for chunk in _chunks({org for org, _name in pairs}):
        for customer_id, name, organisation in (Customer.select(Customer.id, Customer.name, Customer.organisation)
                                                .where(fn.LOWER(Customer.organisation).in_(chunk)).tuples()):
            existing_pairs.setdefault((_key(organisation), _key(name)), (customer_id, name))
    seen_phones, seen_pairs = {}, {}
    for row in rows:
        phone = phone_digits(row.values.get("phone"))
        if phone:
            if phone in existing_phones:
                customer_id, name = existing_phones[phone]
                row.errors.append(RowError(row.number, phone_label, _(
                    "Duplicate: customer %(name)s (no. %(id)d) already has this phone number.", name=name, id=customer_id)))
            elif phone in seen_phones:
                row.errors.append(RowError(row.number, phone_label, _(
                    "Duplicate: row %(row)d of this file has the same phone number.", row=seen_phones[phone])))
            seen_phones.setdefault(phone, row.number)
        if row.values.get("organisation") and row.values.get("name"):
            pair = (_key(row.values["organisation"]), _key(row.values["name"]))
            if pair in existing_pairs:
                customer_id, name = existing_pairs[pair]
                row.errors.append(RowError(row.number, org_label, _(
                    "Duplicate: customer %(name)s (no. %(id)d) of this organisation already exists.",
                    name=name, id=customer_id)))
            elif pair in seen_pairs:
                row.errors.append(RowError(row.number, org_label, _(
                    "Duplicate: row %(row)d of this file has the same name and organisation.", row=seen_pairs[pair])))
            seen_pairs.setdefault(pair, row.number)


def preview_customers(data, extension, max_rows=MAX_ROWS, user=None):
    """Read and check a whole file; nothing is written. Raises ImportFileError for bad files.
    `user`: the importing account, whose branch scope limits the branches and account managers
    a row may name (None: every branch, for scripts)."""
    header, body = read_table(data, extension, max_rows)
    mapping = map_headers(header)
    checker = RowChecker(user)
    rows = []
    for number, cells in body:
        row = ImportRow(number, [_text(cells[i]) if i < len(cells) else "" for i in mapping])
        checker.check(row, mapping, cells)
        rows.append(row)
    find_duplicates(rows)
    return ImportPreview([field_label(name) for name in mapping.values()], rows)


class ImportRefused(ValueError):
    """All-or-nothing was asked for and some rows have errors: nothing was written."""


def import_customers(preview, mode, user=None):
    """Create the customers of the preview: mode 'valid' (rows without errors) or 'all'
    (every row, or nothing if one has an error). One transaction; returns the new customers."""
    if mode not in ("valid", "all"):
        raise ValueError(mode)
    errors = preview.errors
    if mode == "all" and errors:
        raise ImportRefused(_("Nothing was imported: %(count)d rows have errors. Correct them, or import only "
                              "the valid rows.", count=len({e.row for e in errors})))
    created = []
    with db.atomic():
        fields = custom_fields()
        for row in preview.valid_rows:
            values = {name: value for name, value in row.values.items() if name not in fields}
            customer = Customer.create(**values)
            custom = {fields[name]: value for name, value in row.values.items() if name in fields}
            if custom:
                write_values("customer", customer.id, custom)
            record(customer, "create", user, "import", "", f"row {row.number}")
            created.append(customer)
    search.sync()  # index the new files now rather than in the next search
    return created


# --------------------------------------------------------------------------- template

def write_template(target):
    """The import template: the header row (required columns marked *), drop-down lists for
    choice columns and branches, and a sheet listing the allowed values."""
    writer = XlsxWriter(target)
    headers = header_labels()
    fields = import_fields()
    custom = custom_fields()
    kinds = {"monthly_spend": NUMBER, "first_deal_date": DATE}
    kinds.update({name: {"number": NUMBER, "date": DATE}.get(d.kind, TEXT) for name, d in custom.items()})
    columns = [Column(label, kinds.get(name, TEXT), 18) for label, (name, _req) in zip(headers, fields)]
    sheet = writer.add(Sheet(_("Customers"), columns, iter(())))
    lists = writer.add(Sheet(_("Allowed values"), [Column(field_label(name), TEXT, 22) for name in
                                                    LISTED + ("branch",)],
                             _allowed_rows()))
    for index, (name, _required) in enumerate(fields):
        definition = custom.get(name)
        if definition is not None:
            _custom_validation(sheet, index, definition)
        elif name in LISTED:
            # the drop-down reads the list's column on the "allowed values" sheet (any length; a
            # typed list stops at 255 characters)
            column = "ABCD"[LISTED.index(name)]
            values = len(CHOICES[name].offered())
            sheet.data_validation(1, index, MAX_ROWS, index, {
                "validate": "list", "error_type": "warning",
                "source": f"='{lists.name}'!${column}$2:${column}${max(2, values + 1)}"})
        elif name == "first_deal_date":
            sheet.data_validation(1, index, MAX_ROWS, index, {
                "validate": "date", "criteria": ">", "value": date(1900, 1, 1), "error_type": "warning",
                "input_message": _("A date, e.g. 2026-11-23")})
    branch_index = [name for name, _required in IMPORT_FIELDS].index("branch")
    branches = Branch.select().where(Branch.active).count()
    sheet.data_validation(1, branch_index, MAX_ROWS, branch_index, {
        "validate": "list", "error_type": "warning",
        "source": f"='{lists.name}'!$E$2:$E${max(2, branches + 1)}"})
    writer.close()


def _custom_validation(sheet, index, field):
    """Drop-down or type check of a custom field's column, as a warning (the import checks again)."""
    if field.kind in ("choice", "yes_no"):
        source = ([label for _code, label in options_of(field)] if field.kind == "choice"
                  else [_("Yes"), _("No")])
        if source and sum(len(label) + 1 for label in source) <= 255:  # Excel's limit for a typed list
            sheet.data_validation(1, index, MAX_ROWS, index, {"validate": "list", "source": source,
                                                               "error_type": "warning"})
    elif field.kind == "date":
        sheet.data_validation(1, index, MAX_ROWS, index, {
            "validate": "date", "criteria": ">", "value": date(1900, 1, 1), "error_type": "warning",
            "input_message": _("A date, e.g. 2026-11-23")})
    elif field.kind == "number":
        sheet.data_validation(1, index, MAX_ROWS, index, {
            "validate": "decimal", "criteria": "between", "minimum": -1e14, "maximum": 1e14, "error_type": "warning"})
    elif field.kind == "multi_choice":
        labels = "、".join(label for _code, label in options_of(field))
        sheet.data_validation(1, index, MAX_ROWS, index, {
            "validate": "any", "input_title": field.label[:32],
            "input_message": _("One or more of: %(values)s", values=labels)[:255]})


def _allowed_rows():
    lists = [[label for _code, label in CHOICES[name].offered()] for name in LISTED]
    lists.append([name for (name,) in Branch.select(Branch.name).where(Branch.active).order_by(Branch.name).tuples()])
    for index in range(max(len(values) for values in lists)):
        yield [values[index] if index < len(values) else None for values in lists]
