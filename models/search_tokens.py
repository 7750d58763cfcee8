"""Search tokens: what a complaint or a customer is found by, and what a search box's text
means (models/search.py explains the design and keeps the index).

The same code cuts the stored records and the queries, for SQLite and PostgreSQL alike:
- a run of CJK characters: its overlapping pairs (bigrams) and its last character; a query
  of two or more characters is the AND of its pairs, a single character a prefix;
- latin words and digit groups: whole (and a mixed run such as room302 also in its parts);
  a word of 3+ letters or a digit group of 7+ digits in a query also matches as a prefix;
- a phone: as typed, as its digits alone without a leading 86, and by its last 4 digits;
- a complaint: a number key (2026x500000) and its sequence (500000 and 001-style); a number
  quoted in a text (问字【2026】001号) gives its key too.
Anything that is not a letter, a digit or a CJK character only separates words.
"""
import re
import unicodedata
from dataclasses import dataclass, field

# Han (with extensions and compatibility ideographs), kana and hangul: cut into bigrams.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_CJK_CHAR = re.compile(f"[{CJK}]")
_RUN = re.compile(f"[{CJK}]+|[^\\W_{CJK}]+")
_PART = re.compile(r"\d+|[^\W\d_]+")
MAX_TOKEN = 40        # longer words are cut (an e-mail local part, a pasted hash)
MAX_QUERY = 200       # characters of a query that are looked at
MAX_TERMS = 40        # terms of a query (a pasted paragraph still searches, on its start)
LETTER_PREFIX = 3     # a word of at least this many letters also matches as a prefix
DIGIT_PREFIX = 7      # a digit group of at least this many digits also matches as a prefix
PHONE_TAIL = 4        # a phone number is also found by its last 4 digits

# 问字【2026】500000号, [2026]500000, 2026-500000, 2026/500000, 2026年500000号 (years 1900-2099)
_NUMBER_QUERY = re.compile(r"^(?:问字)?[\[【(]?((?:19|20)\d\d)(?:[\]】)]|[\]】)]?[-/.年])(\d{1,9})号?$")
_NUMBER_IN_TEXT = re.compile(r"(?:问字)?[\[【(]((?:19|20)\d\d)[\]】)](\d{1,9})号?")
_DIGITS_QUERY = re.compile(r"^\+?[\d\-()]*\d[\d\-()]*号?$")
_PHONE_IN_QUERY = re.compile(r"(?<![\w])\+?\d[\d\s\-()]{5,}\d(?![\w])")


def normalize(text):
    """Full-width to half-width (NFKC), case folded: what tokens and queries are made of."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _is_cjk(run):
    return bool(_CJK_CHAR.match(run))


def number_key(year, seq):
    """The token only the complaint 问字【year】seq号 (and texts quoting it) carries."""
    return f"{int(year)}x{int(seq)}"


def text_tokens(text, tokens):
    """Add the tokens of a free text to the set `tokens`."""
    text = normalize(text)
    for run in _RUN.findall(text):
        if _is_cjk(run):
            tokens.update(run[i:i + 2] for i in range(len(run) - 1))
            tokens.add(run[-1])
        else:
            parts = _PART.findall(run)
            if len(parts) > 1:
                tokens.add(run[:MAX_TOKEN])
            tokens.update(part[:MAX_TOKEN] for part in parts)
    if "【" in text or "[" in text or "(" in text:  # a complaint number quoted in the text
        tokens.update(number_key(year, seq) for year, seq in _NUMBER_IN_TEXT.findall(text))
    return tokens


def phone_digits(phone):
    digits = re.sub(r"\D", "", normalize(phone))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits[:MAX_TOKEN]


def phone_tokens(phone, tokens):
    """A phone as typed (its digit groups), as its digits alone, and by its last 4 digits."""
    text_tokens(phone, tokens)
    digits = phone_digits(phone)
    if digits:
        tokens.add(digits)
        if len(digits) > PHONE_TAIL:
            tokens.add(digits[-PHONE_TAIL:])
    return tokens


def complaint_tokens(year, seq, title, description, customer_name, organisation, phone):
    """Everything a complaint is found by, as a space-separated token text."""
    tokens = {number_key(year, seq), str(seq), f"{seq:03d}"}
    for text in (title, description, customer_name, organisation):
        text_tokens(text, tokens)
    phone_tokens(phone, tokens)
    return " ".join(sorted(tokens))


def customer_tokens(name, organisation, contact_person, phone, email):
    tokens = set()
    for text in (name, organisation, contact_person, email):
        text_tokens(text, tokens)
    phone_tokens(phone, tokens)
    return " ".join(sorted(tokens))


@dataclass
class Query:
    """What a search box's text means: index terms (token, prefix?) that must all match,
    and what counts as an exact hit for ranking."""

    text: str
    terms: list = field(default_factory=list)
    number: tuple = None    # (year, seq) typed as a complaint number
    digits: str = None      # the text was only digits (a sequence, a phone or its tail)

    @property
    def empty(self):
        return not self.terms


def parse(text):
    """The search box's text as a Query. Anything that is not a letter, a digit or a CJK
    character only separates words, so no input can be a wildcard or an operator."""
    raw = re.sub(r"[\x00-\x1f\x7f]", " ", (text or "")[:MAX_QUERY]).strip()
    query = Query(raw)
    compact = re.sub(r"\s+", "", normalize(raw))
    number = _NUMBER_QUERY.match(compact)
    if number:
        year, seq = int(number.group(1)), int(number.group(2))
        query.number = (year, seq)
        query.terms = [(number_key(year, seq), False)]
        return query
    if _DIGITS_QUERY.match(compact):
        digits = phone_digits(compact)
        query.digits = digits
        query.terms = [(digits, len(digits) >= DIGIT_PREFIX)]
        return query
    terms = []
    # a phone typed in groups next to other words (张伟 138 0013 8000): its digits as one term
    text = _PHONE_IN_QUERY.sub(lambda m: phone_digits(m.group(0)) if len(re.sub(r"\D", "", m.group(0))) >= DIGIT_PREFIX
                               else m.group(0), normalize(raw))
    for run in _RUN.findall(text):
        if _is_cjk(run):
            if len(run) == 1:
                terms.append((run, True))
            else:
                terms += [(run[i:i + 2], False) for i in range(len(run) - 1)]
        else:
            for part in _PART.findall(run):
                part = part[:MAX_TOKEN]
                limit = DIGIT_PREFIX if part.isdigit() else LETTER_PREFIX
                terms.append((part, len(part) >= limit))
    seen = set()
    query.terms = [t for t in terms if not (t in seen or seen.add(t))][:MAX_TERMS]
    return query
