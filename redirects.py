"""The one safe-redirect rule for every `next` a request carries (login, the language switch,
the service-star approval, and any form that sends the user back where they came from)."""
from urllib.parse import urlsplit

from flask import redirect


def safe_next(target):
    """`target` when it is a path on this site, else None.

    Accepted: "/admin/x?y=1". Refused: absolute URLs ("https://evil.example"), scheme-relative
    ones ("//evil.example"), and what browsers turn into those: a backslash ("/\\evil.example"),
    or a tab, newline or other control character or space anywhere (browsers drop tabs and
    newlines, so "/\\t/evil.example" would become "//evil.example")."""
    if not target or not isinstance(target, str) or not target.startswith("/"):
        return None
    if "\\" in target or any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def redirect_back(target, fallback):
    """A redirect to `target` when it is safe (safe_next), else to `fallback`."""
    return redirect(safe_next(target) or fallback)
