"""Formula injection (OWASP "CSV injection", ASVS 1.2.10).

A spreadsheet program runs a cell that starts with = + - @ (and, after a tab, CR or NUL
some programs strip, the same characters) as a formula. Text we export comes from
customers, so such text is written as text: in xlsx as a string cell (never a formula),
in csv with a leading apostrophe, which Excel, WPS and LibreOffice treat as "this is text".
Numbers stored as numbers are never touched: -5 stays a number.
"""

FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")


def looks_like_formula(text):
    """True if a spreadsheet could read `text` as a formula."""
    return bool(text) and text[0] in FORMULA_TRIGGERS


def csv_text(text):
    """`text` made safe for a csv cell (prefixed with ' when it could run as a formula)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text
