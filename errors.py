"""Error pages: every 4xx and 5xx in the product's layout and the reader's language, never
Werkzeug's English page.

Admin and login pages get the admin's frame (menu, language switch) with a sentence that
says what happened and where to go on; when even that frame cannot be drawn (the database
is down during a 500) a plain page in the same colours. The public survey pages (/s/…, /q/…)
keep their own polite pages: customers never see the office's menu.

Input the database cannot take (a number beyond its column, a literal PostgreSQL refuses)
is the user's input, not a fault of the server: it answers 400 with the same page (see also
hardening.py, which refuses NUL characters before a view runs)."""
import logging

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from peewee import DataError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("The request could not be understood"),
          _l("The form may have been open too long, or a field was sent in a shape the page did not expect. "
             "Go back, reload the page and try again.")),
    403: (_l("You are not allowed to open this page"),
          _l("Your role does not include this page or action. If your work needs it, ask the administrator.")),
    404: (_l("Page not found"),
          _l("The address is wrong, or the record was deleted. Use the menu to find what you were looking for.")),
    405: (_l("This action cannot be done this way"),
          _l("The page was opened in a way it does not support. Go back and use the page's buttons.")),
    413: (_l("Too large"), _l("What was sent is too large. Nothing was changed.")),
    429: (_l("Please wait a moment"), _l("Too many attempts in a short time. Please try again in a few minutes.")),
    500: (_l("Something went wrong on our side"),
          _l("Nothing you typed is lost on your screen: go back, wait a moment and try again. If it happens again, "
             "tell the administrator the time it happened.")),
}


def message_of(code):
    """(title, sentence) of an HTTP status: its own, else the one of its class (4xx: the
    request could not be used; 5xx: our side)."""
    return MESSAGES.get(code) or MESSAGES[400 if 400 <= code < 500 else 500]


# where the public survey pages live (surveys blueprint: /s/… and the posters' short /q/… links)
PUBLIC_PREFIXES = ("/s/", "/q/")


def _public(path):
    return request.blueprint == "surveys" or path in ("/s", "/q") or path.startswith(PUBLIC_PREFIXES)


def render_error(code, headers=()):
    title, message = message_of(code)
    if _public(request.path):
        if code == 404:
            return render_template("surveys/unavailable.html"), code, headers
        return render_template("surveys/message.html", kind=None), code, headers
    try:
        admin = current_app.extensions["admin"][0]
        page = admin.index_view.render("errors/error.html", code=code, title=title, message=message)
    except Exception:  # noqa: BLE001 - the frame itself failed (database down): a page without it
        current_app.logger.exception("error page %s drawn without the admin frame", code)
        page = render_template("errors/plain.html", code=code, title=title, message=message)
    return page, code, headers


def _kept_headers(exc):
    """Headers an error carries that the client needs (Allow of a 405, Retry-After of a 429)."""
    if not isinstance(exc, HTTPException):
        return []
    return [(k, v) for k, v in exc.get_headers() if k in ("Allow", "Retry-After", "WWW-Authenticate")]


def handle_http_error(exc):
    """Any HTTP error (a 500 included: Flask passes unhandled exceptions as InternalServerError)."""
    code = exc.code if isinstance(exc, HTTPException) and exc.code and exc.code >= 400 else 500
    if isinstance(exc, HTTPException) and exc.code and exc.code < 400:
        return exc  # a redirect raised as an exception (RequestRedirect): not an error
    return render_error(code, _kept_headers(exc))


def handle_bad_input(exc):
    """A value the database refused (number out of range, malformed literal): logged, 400."""
    log.warning("bad input refused by the database on %s %s: %s", request.method, request.path, exc)
    return render_error(BadRequest.code)


def register(app):
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(DataError, handle_bad_input)
    app.register_error_handler(OverflowError, handle_bad_input)
