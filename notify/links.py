"""Absolute addresses for messages that leave the product (an e-mail has no "current page").

The admin's address is ADMIN_BASE_URL (e.g. https://kefu.example.cn); when it is not set,
PUBLIC_BASE_URL; when neither is, the address of the current request, and outside a request
http://127.0.0.1:5000 (what `make run` serves)."""
from flask import current_app, has_request_context, request, url_for

DEVELOPMENT_BASE = "http://127.0.0.1:5000"


def base_url():
    configured = current_app.config.get("ADMIN_BASE_URL") or current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEVELOPMENT_BASE


def path_for(endpoint, **values):
    """The path of an endpoint, usable with or without a request (worker, CLI). Outside a request
    the app's URL map is bound once and reused (a tick builds thousands of links)."""
    if has_request_context():
        return url_for(endpoint, **values)
    adapter = current_app.extensions.get("notify_url_adapter")
    if adapter is None:
        adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
        current_app.extensions["notify_url_adapter"] = adapter
    return adapter.build(endpoint, {k: v for k, v in values.items() if v is not None})


def absolute(path):
    if not path or path.startswith(("http://", "https://")):
        return path
    return base_url() + path


def route_exists(path):
    """True when the app serves `path` (a page another part of the product may not have yet);
    remembered per app, whose routes do not change once it runs."""
    known = current_app.extensions.setdefault("notify_routes", {})
    if path not in known:
        try:
            current_app.url_map.bind("localhost").match(path)
            known[path] = True
        except Exception:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect
            known[path] = False
    return known[path]


def survey_url(link):
    """The public address of a survey link (invitation), with or without a request (the reminder is
    written by the worker): PUBLIC_BASE_URL when set, else the admin's address."""
    from surveys.links import public_url
    if has_request_context():
        return public_url(link)
    base = current_app.config.get("PUBLIC_BASE_URL") or base_url()
    with current_app.test_request_context("/", base_url=base):
        return public_url(link)
