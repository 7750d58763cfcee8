"""A customer's own contact details left on a public form, and the customer file they lead to.

Customers answering an open link (a poster, a table card) are nobody in particular until
they leave a phone number in the optional "may we call you back? 电话/称呼" block. Then a
low score is followed up like a phone complaint, against a real customer file:

* the phone is normalised: +86 / 0086 and spaces, dashes, brackets do not matter; a mobile
  number is its 11 digits (1 3–9 …), a landline its area code and number (0 …, 10–12 digits),
  an extension after 转 / ext / # (or a last short group after a dash) is kept apart;
* the customer is the branch's customer file with the same normalised phone (a file not
  marked lost first, then the oldest), so a regular of the branch gets the complaint in
  their own file; otherwise a new customer file of that branch is created with the name and
  phone given, and the creation is written to history with the survey response it came from.
"""
import re
import unicodedata

from .audit import record
from .customers import Customer
from .i18n import _l

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_ALLOWED = re.compile(r"^[0-9\s\-+()]+$")
NAME_MAX = 50


def _digits(text):
    return "".join(c for c in text if c in "0123456789")


def _without_country(digits):
    """Digits without the country code 86 (or 0086); an area code written internationally
    (+86 10 …) gets its leading 0 back. No Chinese number starts with 86 otherwise."""
    for prefix in ("0086", "86"):
        rest = digits[len(prefix):]
        if digits.startswith(prefix) and 9 <= len(rest) <= 12:
            if rest[0] == "0" or (len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789"):
                return rest
            return "0" + rest
    return digits


def _main_number(digits):
    """The digits if they are a Chinese mobile or landline number (area code included), else None."""
    if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
        return digits
    if digits.startswith("0") and 10 <= len(digits) <= 12 and digits[1] != "0":
        return digits
    return None


def normalise_phone(text):
    """(key, shown) for a phone as people type it, or None when it is not a number we can call.

    key: the digits of the main number, the same however it was typed (the matching key);
    shown: how the customer file writes it: 13812345678, or 010-12345678 转 123."""
    text = unicodedata.normalize("NFKC", text or "").strip()  # full-width digits, ＋, （） as typed on phones
    if not text or len(text) > 40:
        return None
    extension = ""
    found = _EXTENSION.search(text)
    if found:
        extension, text = found.group(1), text[:found.start()]
    if not _ALLOWED.match(text.strip() or "x"):
        return None
    digits = _without_country(_digits(text))
    main = _main_number(digits)
    if main is None and not extension and "-" in text:
        # 010-12345678-123: the last short group after a dash is an extension
        head, _dash, tail = text.strip().rpartition("-")
        tail_digits = _digits(tail)
        candidate = _main_number(_without_country(_digits(head)))
        if candidate and candidate.startswith("0") and 1 <= len(tail_digits) <= 6:
            main, extension = candidate, tail_digits
    if main is None:
        return None
    if main.startswith("0"):
        area = 3 if main[1] in "12" else 4
        shown = f"{main[:area]}-{main[area:]}"
    else:
        shown = main
    if extension:
        shown += f" 转 {extension}"
    return main, shown


def phone_key(stored):
    """The matching key of a phone already in a customer file (typed any way), or None."""
    found = normalise_phone(stored)
    return found[0] if found else None


def check_contact(name, phone):
    """Validate the optional callback block: (contact or None, error or None).

    contact = {"name", "phone", "key"}; both fields empty = no contact (the answer stays
    anonymous). A name without a phone cannot be called back, so it is an error, as is a
    phone that is not a mobile or landline number."""
    name = " ".join((name or "").split())
    phone = (phone or "").strip()
    if not name and not phone:
        return None, None
    if not phone:
        return None, _l("To be called back, please leave your phone number too (or leave both fields empty).")
    found = normalise_phone(phone)
    if found is None:
        return None, _l("Please give a mobile number (11 digits) or a landline with its area code, "
                        "e.g. 13812345678 or 010-12345678.")
    if len(name) > NAME_MAX:
        return None, _l("At most %(limit)d characters, please (you wrote %(length)d).", limit=NAME_MAX,
                        length=len(name))
    key, shown = found
    return {"name": name, "phone": shown, "key": key}, None


def branch_customer_by_phone(branch_id, key):
    """The branch's customer file with this phone key: not lost before lost, then the oldest."""
    tail = key[-4:]
    candidates = (Customer.select(Customer.id, Customer.phone, Customer.churned)
                  .where((Customer.branch == branch_id) & Customer.phone.contains(tail))
                  .order_by(Customer.churned, Customer.id))
    for candidate in candidates:
        if phone_key(candidate.phone) == key:
            return Customer.get_by_id(candidate.id)
    return None


def customer_for_contact(branch_id, contact, source, default_name):
    """The customer a follow-up with this contact is filed against (inside the caller's
    transaction): the branch's file with the same phone, else a new file, with history.
    `source` names where the contact came from in the history row (e.g. "survey response #12");
    `default_name` is the file's name when the customer left only a phone."""
    customer = branch_customer_by_phone(branch_id, contact["key"])
    if customer is not None:
        record(customer, "note", None, "phone", "", str(_l("Matched by phone from %(source)s", source=source)))
        return customer
    customer = Customer.create(name=(contact["name"] or default_name)[:100], phone=contact["phone"],
                               branch=branch_id)
    record(customer, "create", None, "phone", "", contact["phone"])
    record(customer, "note", None, "source", "", str(_l("Created from %(source)s", source=source)))
    return customer
