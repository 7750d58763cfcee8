"""Error pages (400, 403, 404, 405, 500) in the product's layout and the reader's language.

Admin and login pages get the admin's frame (menu, language switch) with a sentence that
says what happened and where to go on; when even that frame cannot be drawn (the database
is down during a 500) a plain page in the same colours. The public survey pages (/s/…)
keep their own polite pages (/s/…, /q/…): customers never see the office's menu."""
from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

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
    500: (_l("Something went wrong on our side"),
          _l("Nothing you typed is lost on your screen: go back, wait a moment and try again. If it happens again, "
             "tell the administrator the time it happened.")),
}


# where the public survey pages live (surveys blueprint: /s/… and the posters' short /q/… links)
PUBLIC_PREFIXES = ("/s/", "/q/")


def _public(path):
    return request.blueprint == "surveys" or path in ("/s", "/q") or path.startswith(PUBLIC_PREFIXES)


def render_error(code, headers=()):
    title, message = MESSAGES.get(code, MESSAGES[500])
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


def register(app):
    def handle(exc):
        code = exc.code if isinstance(exc, HTTPException) and exc.code in MESSAGES else 500
        if isinstance(exc, HTTPException) and exc.code not in MESSAGES:
            return exc  # other statuses (429, 413 …) keep their own handling
        allow = [(k, v) for k, v in exc.get_headers() if k == "Allow"] if isinstance(exc, HTTPException) else []
        return render_error(code, allow)

    for code in MESSAGES:
        app.register_error_handler(code, handle)
