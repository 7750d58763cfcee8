"""Lazy translation marker for model labels and choice lists (English msgids, zh_CN catalog)."""
from flask import has_request_context
from flask_babel import LazyString, gettext

__all__ = ["_l", "label_of"]


def _gettext_anywhere(string, **variables):
    """Translate inside a request; elsewhere (CLI, scripts, tests of plain models) use the msgid."""
    if has_request_context():
        return gettext(string, **variables)
    return string % variables if variables else string


def _l(string, **variables):
    return LazyString(_gettext_anywhere, string, **variables)


def label_of(choices, code):
    """Human label for a stored choice code ('' for None, the code itself if unknown)."""
    if code is None:
        return ""
    for value, label in choices:
        if value == code:
            return str(label)
    return str(code)
