"""What a value must look like before it is stored, checked in the model layer so that the
admin forms, the customer import, the CLI and any script get the same answer.

Every model's `save()` (models.base.BaseModel) calls `check_row()`, which runs the rules
registered for that model in `RULES` and raises `ValidationError` with one message per
field; the admin forms call `field_problems()` to show the same messages next to the
fields (nothing typed is lost); the importer calls the single-value checks
(`clean_phone`, `clean_email`, `clean_amount`) per cell.

The rules, in the office's words:

* **Amounts** (compensation, cash rewards, average monthly spend) are yuan, from 0 to
  9 999 999 999.99 (what the columns hold); a negative amount is a typing error.
* **Leave days** of a reward: 0 to 365.
* **Phone numbers** look like Chinese numbers (after removing spaces, dashes, dots and
  brackets, and an optional +86 / 0086 country prefix):
  - a mobile number: 11 digits starting 13–19 (e.g. 139 1234 5678, +86 139-1234-5678);
  - a landline with area code (010, 02x, 03xx–09xx) + 7–8 digit local number
    (010-12345678, 0931 8123456; after +86 the area code drops its 0: +86 10 1234 5678);
  - a local landline without area code: 7–8 digits not starting with 0 or 1;
  - a 400/800 service number (400-820-8820);
  any of these may end with an extension: 转123, 分机 123, ext. 123, ext123, x123 or #123
  (1–6 digits). Several numbers in one field, or "1391234", are refused.
* **E-mail**: one @, no spaces, a dot in the domain part, at most 120 characters.
* **Promised completion date** of a rectification worksheet: not before the day the
  complaint was received, and at most PROMISE_MAX_DAYS (366) days after it: a promise
  more than a year ahead is a typing error (2062 instead of 2026).
* **First deal date** of a customer: not in the future (office clock), not before 1950.
* **Hire date** of a staff member: not before 1950, at most HIRE_AHEAD_DAYS (90) days
  ahead (a contract signed before the first working day).
* **Choices from the office's lists** (category, channel, severity, grade … : models.choices):
  a value of the list; a new row only an active one (a deactivated value stays on the rows
  that have it).
(A cash bonus needing an amount and extra leave a number of days is RewardPenalty.validate().)
"""
import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .clock import now
from .i18n import _l

MAX_AMOUNT = Decimal("9999999999.99")
MAX_LEAVE_DAYS = 365
PROMISE_MAX_DAYS = 366
HIRE_AHEAD_DAYS = 90
EARLIEST_DATE = date(1950, 1, 1)
EMAIL_MAX_LENGTH = 120


class ValidationError(ValueError):
    """Values a row cannot be stored with. `errors` is {field name: message}; str() lists
    them as "label: message" for places that show one line (flash, CLI)."""

    def __init__(self, errors, model_class=None):
        self.errors = dict(errors)
        self.model_class = model_class
        super().__init__(self.errors)

    def __str__(self):
        parts = []
        for name, message in self.errors.items():
            field = self.model_class._meta.fields.get(name) if self.model_class is not None else None
            label = field.verbose_name if field is not None and field.verbose_name else name
            parts.append(f"{label}: {message}")
        return "; ".join(parts)


# ---------------------------------------------------------------- single values

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-.()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# area codes: 010 (Beijing), 02x (the big cities), 03xx–09xx
_LANDLINE_WITH_AREA = re.compile(r"(?:010|02\d|0[3-9]\d{2})[1-9]\d{6,7}")
_LANDLINE_LOCAL = re.compile(r"[2-9]\d{6,7}")
_SERVICE = re.compile(r"[48]00\d{7}")


def phone_problem(text):
    """Why `text` is not a Chinese phone number (a message), or None when it is one."""
    raw = (text or "").strip()
    if not raw:
        return None
    body = _EXTENSION.sub("", raw).strip()
    digits = _SEPARATORS.sub("", body)
    international = False
    if digits.startswith("+86"):
        digits, international = digits[3:], True
    elif digits.startswith("0086"):
        digits, international = digits[4:], True
    if not digits.isdigit():
        return str(_l("'%(value)s' is not a phone number: use digits, e.g. 139 1234 5678, 010-12345678 转 123.",
                      value=raw))
    if international and not _MOBILE.fullmatch(digits) and not _SERVICE.fullmatch(digits):
        digits = "0" + digits  # +86 10 1234 5678: the area code without its 0
    if (_MOBILE.fullmatch(digits) or _LANDLINE_WITH_AREA.fullmatch(digits) or _SERVICE.fullmatch(digits)
            or (not international and _LANDLINE_LOCAL.fullmatch(digits))):
        return None
    return str(_l("'%(value)s' does not look like a Chinese mobile (11 digits, 139 1234 5678) or landline "
                  "number (010-12345678, extension as 转 123).", value=raw))


def mobile_problem(text):
    """Why `text` is not a Chinese mobile number (a message), or None when it is one (or empty).
    Text messages (短信) only reach a mobile: 11 digits starting 13–19, written with spaces or
    dashes, +86 / 0086 in front allowed; a landline is refused here."""
    raw = (text or "").strip()
    if not raw:
        return None
    digits = _SEPARATORS.sub("", raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            break
    if _MOBILE.fullmatch(digits):
        return None
    return str(_l("'%(value)s' is not a mobile number: text messages need 11 digits, e.g. 139 1234 5678.",
                  value=raw))


def email_problem(text):
    raw = (text or "").strip()
    if not raw:
        return None
    if len(raw) > EMAIL_MAX_LENGTH:
        return str(_l("At most %(max)d characters.", max=EMAIL_MAX_LENGTH))
    if not re.fullmatch(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+", raw):
        return str(_l("'%(value)s' is not an e-mail address (name@example.cn).", value=raw))
    return None


def to_amount(value):
    """`value` (number or text such as "1,200.50" or "¥300") as a Decimal; ValueError if it is none."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = str(value).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(str(_l("'%(value)s' is not an amount.", value=value))) from None
    if not amount.is_finite():
        raise ValueError(str(_l("'%(value)s' is not an amount.", value=value)))
    return amount


def amount_problem(value):
    if value is None or value == "":
        return None
    try:
        amount = to_amount(value)
    except ValueError as exc:
        return str(exc)
    if amount < 0:
        return str(_l("An amount cannot be negative."))
    if amount > MAX_AMOUNT:
        return str(_l("At most 9,999,999,999.99 yuan."))
    return None


def leave_days_problem(value):
    if value is None or value == "":
        return None
    if not 0 <= int(value) <= MAX_LEAVE_DAYS:
        return str(_l("Between 0 and %(max)d days.", max=MAX_LEAVE_DAYS))
    return None


def _day(value):
    return value.date() if isinstance(value, datetime) else value


def first_deal_date_problem(value, today=None):
    day = _day(value)
    if day is None:
        return None
    today = today or now().date()
    if day > today:
        return str(_l("The first deal cannot be in the future (today is %(today)s).", today=today.isoformat()))
    if day < EARLIEST_DATE:
        return str(_l("Not before %(earliest)s.", earliest=EARLIEST_DATE.isoformat()))
    return None


def hire_date_problem(value, today=None):
    day = _day(value)
    if day is None:
        return None
    today = today or now().date()
    if day > today + timedelta(days=HIRE_AHEAD_DAYS):
        return str(_l("At most %(days)d days ahead (a signed contract); check the year.", days=HIRE_AHEAD_DAYS))
    if day < EARLIEST_DATE:
        return str(_l("Not before %(earliest)s.", earliest=EARLIEST_DATE.isoformat()))
    return None


def promised_date_problem(value, received_at):
    """The promised completion date against the complaint's receipt (see the module docstring)."""
    day = _day(value)
    if day is None or received_at is None:
        return None
    received = _day(received_at)
    if day < received:
        return str(_l("The promised completion date cannot be before the complaint was received (%(day)s).",
                      day=received.isoformat()))
    if day > received + timedelta(days=PROMISE_MAX_DAYS):
        return str(_l("At most %(days)d days after the complaint was received (by %(last)s); check the year.",
                      days=PROMISE_MAX_DAYS, last=(received + timedelta(days=PROMISE_MAX_DAYS)).isoformat()))
    return None


# ---------------------------------------------------------------- cleaning for the importer

# how offices write a date in a spreadsheet cell or a form: 2026-11-23, 2026/11/23, 2026.11.23, 2026年11月23日
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")


def to_date(value):
    """A date as an office writes it (DATE_FORMATS), or a date/datetime as a spreadsheet hands
    it over; ValueError with the message for the person otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(str(_l("'%(value)s' is not a date (write it as 2026-11-23).", value=text)))


def clean_phone(text):
    """`text` trimmed, or ValueError with the reason (for importers and scripts)."""
    problem = phone_problem(text)
    if problem:
        raise ValueError(problem)
    return (text or "").strip()


def clean_email(text):
    problem = email_problem(text)
    if problem:
        raise ValueError(problem)
    return (text or "").strip()


def clean_amount(value):
    """A valid amount as a Decimal with two places, or ValueError with the reason."""
    problem = amount_problem(value)
    if problem:
        raise ValueError(problem)
    return to_amount(value).quantize(Decimal("0.01"))


# ---------------------------------------------------------------- rules per model

def _rectification_promise(row):
    complaint_id = row.__data__.get("complaint")
    if complaint_id is None or row.__data__.get("promised_date") is None:
        return None
    from .complaints import Complaint
    received = Complaint.select(Complaint.received_at).where(Complaint.id == complaint_id).scalar()
    if isinstance(received, str):  # SQLite hands back text for a bare column in scalar()
        received = datetime.fromisoformat(received)
    return promised_date_problem(row.promised_date, received)


# {model name: {field: problem(row) -> message or None}}; cross-field rules return (field, message)
RULES = {
    "Customer": {
        "phone": lambda row: phone_problem(row.phone),
        "email": lambda row: email_problem(row.email),
        "monthly_spend": lambda row: amount_problem(row.monthly_spend),
        "first_deal_date": lambda row: first_deal_date_problem(row.first_deal_date),
    },
    "Staff": {
        "phone": lambda row: phone_problem(row.phone),
        "hire_date": lambda row: hire_date_problem(row.hire_date),
        "email": lambda row: email_problem(row.email),
        "mobile": lambda row: mobile_problem(row.mobile),
    },
    "User": {
        "email": lambda row: email_problem(row.email),
        "mobile": lambda row: mobile_problem(row.mobile),
    },
    "Complaint": {
        "compensation_amount": lambda row: amount_problem(row.compensation_amount),
    },
    "RewardPenalty": {
        "amount": lambda row: amount_problem(row.amount),
        "leave_days": lambda row: leave_days_problem(row.leave_days),
    },
    "Rectification": {
        "promised_date": _rectification_promise,
    },
}
# rules that name their field themselves: (field, message) or None
CROSS_FIELD_RULES = {}


def _list_fields(model):
    """The model's fields whose choices are one of the office's lists (models.choices)."""
    found = _LIST_FIELDS.get(model)
    if found is None:
        from .choices import ProductList
        found = _LIST_FIELDS[model] = [f for f in model._meta.sorted_fields if isinstance(f.choices, ProductList)]
    return found


_LIST_FIELDS = {}


def field_problems(row, only=None):
    """{field name: message} for the stored values of `row` (a model instance) that break a
    rule; `only` limits the check to those field names (a partial save)."""
    name = type(row).__name__
    rules = RULES.get(name)
    cross = CROSS_FIELD_RULES.get(name)
    lists = _list_fields(type(row))
    if not rules and not cross and not lists:
        return {}
    wanted = None if only is None else {getattr(f, "name", f) for f in only}
    problems = {}
    for field in lists:
        if wanted is None or field.name in wanted:
            message = field.choices.problem(row.__data__.get(field.name), new_row=row._pk is None)
            if message:
                problems[field.name] = message
    for field, rule in (rules or {}).items():
        if wanted is not None and field not in wanted:
            continue
        message = rule(row)
        if message:
            problems[field] = message
    if wanted is None:
        for rule in cross or ():
            found = rule(row)
            if found and found[0] not in problems:
                problems[found[0]] = found[1]
    return problems


def check_row(row, only=None):
    """Raise ValidationError when `row` breaks a rule (called by BaseModel.save)."""
    problems = field_problems(row, only)
    if problems:
        raise ValidationError(problems, type(row))
