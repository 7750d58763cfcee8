"""Lazy translation marker for model labels and choice lists (English msgids, zh_CN catalog)."""
from flask_babel import lazy_gettext as _l

__all__ = ["_l", "label_of"]


def label_of(choices, code):
    """Human label for a stored choice code ('' for None, the code itself if unknown)."""
    if code is None:
        return ""
    for value, label in choices:
        if value == code:
            return str(label)
    return str(code)
