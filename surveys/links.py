"""Public addresses of survey links and their QR codes (segno: PNG and SVG).

The address is built from PUBLIC_BASE_URL when it is configured (the site as customers
reach it, e.g. https://service.example.cn behind a proxy), else from the current request."""
import io

import segno
from flask import current_app, url_for

from models import Invitation


def public_url(link):
    endpoint = "surveys.invitation_page" if isinstance(link, Invitation) else "surveys.open_link_page"
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for(endpoint, token=link.token)
    return url_for(endpoint, token=link.token, _external=True)


def qr_code(url):
    """Error correction M: survives a crease or a smudge on a printed poster."""
    return segno.make(url, error="m", micro=False)


def qr_bytes(url, kind, scale=8):
    """PNG or SVG bytes of the QR code for `url`."""
    if kind not in ("png", "svg"):
        raise ValueError(kind)
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind=kind, scale=scale, border=4, **({"xmldecl": True} if kind == "svg" else {}))
    return buffer.getvalue()


__all__ = ["public_url", "qr_code", "qr_bytes"]
