"""What every response gets, whatever page it comes from:

* **Error pages**: errors.py (every 4xx and 5xx in the product's look and language; input the
  database cannot take answers 400 with that page, never 500).
* **Input guard**: a NUL character anywhere in the path, the query or a form field is refused
  with 400 before a view runs (PostgreSQL rejects it inside any statement).
* **Content-Security-Policy** with a fresh nonce per request: only the app's own scripts and
  scripts carrying the nonce run (Flask-Admin's, ours); injected markup cannot run script,
  inline event handlers included. Styles may be inline (Flask-Admin and the charts need it).
  Flask-Admin writes four kinds of inline handler into its pages (a delete confirmation, the
  "add a row" button of inline forms, the list actions menu, "return false" on filter links);
  INLINE_HANDLERS turns
  exactly those into data attributes that the nonce'd script of admin/service_base.html acts
  on. Any other inline handler stays in the page and is blocked.
* **Cache-Control: no-store** on every admin page and download (customer files, exports) and
  on the login page, so nothing of it stays in a shared browser's cache or a proxy.
"""
import re
import secrets

from flask import g, request
from werkzeug.exceptions import BadRequest

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
PRIVATE_PREFIXES = ("/admin", "/login", "/logout")
# Flask-Admin's own inline handlers (its 2.2 templates) -> data attributes the nonce'd script
# of admin/service_base.html acts on
INLINE_HANDLERS = [
    (re.compile(r"""onclick="return faHelpers\.safeConfirm\('((?:[^"'\\]|\\.)*)'\);\""""),
     lambda m: 'data-confirm="{}"'.format(m.group(1).replace("\\", ""))),
    (re.compile(r"""onclick="faForm\.addInlineField\(this, '([\w-]+)'\);\""""), r'data-add-inline="\1"'),
    (re.compile(r"""onclick="return modelActions\.execute\('(\w+)'\);\""""), r'data-model-action="\1"'),
    (re.compile(r"""onclick="return false;\""""), "data-no-follow"),
]


def rewrite_inline_handlers(html):
    """Flask-Admin's known inline handlers as data attributes; any other stays (and is blocked)."""
    for pattern, replacement in INLINE_HANDLERS:
        html = pattern.sub(replacement, html)
    return html


def csp_nonce():
    """This request's script nonce (Flask-Admin's csp_nonce_generator; templates: csp_nonce())."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def error_page(error):
    """The product's page for an HTTP error (errors.render_error)."""
    from errors import render_error
    return render_error(getattr(error, "code", None) or 500)


# query arguments that may carry a NUL: the search box and the pickers' search strip it
# themselves (models.search, admin.base.ScopedAjaxLoader)
NUL_TOLERANT_ARGS = ("search", "query")


def _has_nul(values):
    return any("\x00" in key or ("\x00" in value and key not in NUL_TOLERANT_ARGS) for key, value in values)


def init_app(app):
    @app.before_request
    def _refuse_nul_characters():
        if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
            return error_page(BadRequest())
        if request.method in ("POST", "PUT", "PATCH") and _has_nul(request.form.items(multi=True)):
            return error_page(BadRequest())
        return None

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
        if request.path.startswith(PRIVATE_PREFIXES) and "/static/" not in request.path:
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
            if response.mimetype == "text/html" and not response.direct_passthrough and not response.is_streamed:
                response.set_data(rewrite_inline_handlers(response.get_data(as_text=True)))
        return response

    # a global, not a context variable: imported template macros see globals only
    app.jinja_env.globals["csp_nonce"] = csp_nonce
