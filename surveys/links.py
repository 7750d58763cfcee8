"""Public addresses of survey links, their QR codes (segno: PNG and SVG) and the checks that
a printed address will work on a customer's phone.

The address is built from PUBLIC_BASE_URL when it is configured (the site as customers
reach it, e.g. https://survey.example.cn behind a proxy), else from the current request,
which is only right when the admin itself is opened at the public address. An open link's
address is its short form /q/<code> (typed from a poster; a short URL also makes a coarser,
easier-to-scan QR code: version 2 instead of 5); a personal invitation keeps its long token.
"""
import io
import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit

import segno
from flask import current_app, request, url_for

from models import Invitation, OpenLink


def public_base():
    """The public site address without a trailing slash, and whether PUBLIC_BASE_URL set it."""
    configured = (current_app.config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if configured:
        return configured, True
    return request.host_url.rstrip("/"), False


def public_url(link):
    """The address a customer opens: /q/<short code> for an open link, /s/i/<token> for an invitation."""
    if isinstance(link, OpenLink):
        path = url_for("surveys.short_link_page", code=link.short_code)
    elif isinstance(link, Invitation):
        path = url_for("surveys.invitation_page", token=link.token)
    else:
        raise TypeError(link)
    return public_base()[0] + path


def poster_address(link):
    """An open link's address as printed for typing: no scheme, the code in two groups of five
    (survey.example.cn/q/k7x3m-9tq2p; the page accepts it with or without the dash)."""
    url = public_url(link).split("://", 1)[-1]
    code = link.short_code
    return url[: -len(code)] + f"{code[:5]}-{code[5:]}"


def _host_kind(host):
    """"loopback", "private" (only reachable inside the office's network) or None."""
    host = (host or "").strip("[]").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # a name without a dot (http://servicedesk/) or a .local / .lan / .internal name
        # only resolves inside a local network
        if "." not in host or host.rsplit(".", 1)[-1] in ("local", "lan", "internal", "intranet", "corp", "home"):
            return "private"
        return None
    if address.is_loopback or address.is_unspecified:
        return "loopback"
    if address.is_private or address.is_link_local or address in ipaddress.ip_network("100.64.0.0/10"):
        return "private"
    return None


def public_address_problem():
    """Why the public address would fail customers, or None: {"code": "loopback" | "private"
    | "http", "address": the address links use, "configured": PUBLIC_BASE_URL was set}.
    Loopback and private addresses cannot be opened from a phone on mobile data; plain http
    makes WeChat and phone browsers warn "not secure"."""
    base, configured = public_base()
    parts = urlsplit(base)
    kind = _host_kind(parts.hostname)
    if kind is None and parts.scheme != "https":
        kind = "http"
    if kind is None:
        return None
    return {"code": kind, "address": base, "configured": configured}


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


def qr_svg_inline(url):
    """The QR code as an inline <svg> that scales to its box (posters: sharp at any size)."""
    return qr_code(url).svg_inline(scale=1, border=4, omitsize=True)


def _ascii_slug(text):
    """The ASCII words of `text` as a-file-name, or "" when it has none worth keeping (a
    Chinese title leaves only its digits: "2026", "6")."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return slug if len(re.findall(r"[a-z]", slug)) >= 3 else ""


def _file_safe(text):
    return re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", text or "").strip()


def link_place(link):
    """Where a link belongs, for names and posters: the open link's branch (or its staff
    member's), or the invited customer's name."""
    if isinstance(link, OpenLink):
        if link.branch_id:
            return link.branch.name
        if link.staff_id:
            return link.staff.name
        return ""
    return link.customer.name if link.customer_id else ""


def qr_download_name(link, kind):
    """(ascii_name, readable_name) of a QR file: the survey's title, where the link belongs and
    its label, e.g. 客户满意度调查-江苏分公司-前台-QR.png; the ASCII form uses what of those is
    ASCII, else the ids: survey-5-branch-2-link-7-qr.png."""
    survey = link.survey
    label = getattr(link, "label", "")
    readable = "-".join(p for p in (_file_safe(survey.title), _file_safe(link_place(link)), _file_safe(label)) if p)
    readable = f"{readable[:120]}-QR.{kind}"
    place = ""
    if isinstance(link, OpenLink):
        place = _ascii_slug(link.branch.name) if link.branch_id else ""
        place = place or (f"branch-{link.branch_id}" if link.branch_id else f"staff-{link.staff_id}" if link.staff_id
                          else "")
    kind_word = "link" if isinstance(link, OpenLink) else "invitation"
    parts = [_ascii_slug(survey.title) or f"survey-{survey.id}", place, f"{kind_word}-{link.id}", "qr"]
    return "-".join(p for p in parts if p) + f".{kind}", readable


def content_disposition(disposition, ascii_name, readable_name):
    """A Content-Disposition header with an ASCII filename for old clients and the real name
    as RFC 5987 filename* (UTF-8, percent-encoded) for every current browser."""
    value = f'{disposition}; filename="{ascii_name}"'
    if readable_name != ascii_name:
        value += f"; filename*=UTF-8''{quote(readable_name, safe='')}"
    return value


__all__ = ["content_disposition", "link_place", "poster_address", "public_address_problem", "public_base", "public_url",
           "qr_bytes", "qr_code", "qr_download_name", "qr_svg_inline"]
