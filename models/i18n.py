"""Lazy translation marker for model labels and choice lists (English msgids, zh_CN catalog)."""
from functools import lru_cache

from babel import Locale
from flask import has_app_context
from flask_babel import LazyString, gettext

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LANGUAGE_CODES", "LANGUAGE_NAMES", "_l", "babel_locale", "label_of"]

# The languages of the UI, the surveys and the exports: one list, everything else derives from it.
LANGUAGES = [("zh_CN", "中文"), ("en", "English")]
LANGUAGE_CODES = [code for code, _name in LANGUAGES]
LANGUAGE_NAMES = dict(LANGUAGES)
DEFAULT_LANGUAGE = "zh_CN"  # the office's language: background jobs, CLI, texts written for staff


@lru_cache(maxsize=16)
def babel_locale(code):
    """The babel Locale for "zh_CN" / "en", parsed once: Locale.parse scans babel's list of
    locales each time, which cost about a tenth of a small public page. Flask-Babel takes a
    Locale wherever it takes a code (locale selector, force_locale)."""
    return Locale.parse(code)


def _gettext_anywhere(string, **variables):
    """Translate inside the app (a request's language, else the office's); without an app
    (plain scripts, model tests) use the English msgid."""
    if has_app_context():
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
