"""Login, logout and the language switch; the session rules.

A session (the signed cookie) holds the account id with its session version, the time of
login and the time of the last request. It ends when:
* the account logs out, gets a new password or another role, or is deactivated: the version
  no longer matches (User.session_version), on every device at once;
* nothing was done for SESSION_IDLE_MINUTES (config, default 60);
* it is older than SESSION_LIFETIME_HOURS (config, default 12: a working day), whatever happens.
"""
import time

from flask import (Blueprint, current_app, flash, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from extensions import limiter, login_manager
from models import User
from models.i18n import LANGUAGE_NAMES
from models.clock import now
from models.scope import parse_id
from redirects import safe_next

bp = Blueprint("auth", __name__, template_folder="templates")


SEEN_KEY, LOGIN_AT_KEY = "_seen", "_login_at"
# the last-request time is written back at most this often (each write re-sends the cookie)
SEEN_RESOLUTION = 30


def _session_expired():
    """True when the session was idle too long or is older than its lifetime."""
    moment = int(time.time())
    seen, login_at = session.get(SEEN_KEY), session.get(LOGIN_AT_KEY)
    if not isinstance(seen, int) or not isinstance(login_at, int):
        return True
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if (idle and moment - seen > idle) or moment - login_at > lifetime:
        return True
    if moment - seen >= SEEN_RESOLUTION:
        session[SEEN_KEY] = moment
    return False


def _load_user(session_id):
    """The account of a session: its id and session version must match, the account be
    active, and the session neither idle too long nor too old (module docstring)."""
    user_part, _sep, version = str(session_id).partition(":")
    number = parse_id(user_part)
    if number is None or not (version.isascii() and version.isdigit()):
        return None
    user = User.get_or_none(User.id == number)
    if user is None or not user.active or str(user.session_version or 0) != version:
        return None
    if _session_expired():
        session.clear()
        flash(_("Your session has ended. Please log in again."), "info")
        return None
    return user


def start_session(user):
    """Log `user` in for this browser: a permanent (expiring) cookie with the session version."""
    csrf = session.get("csrf_token")
    session.clear()  # nothing from before the login but the form token of the login page
    if csrf:
        session["csrf_token"] = csrf
    login_user(user)
    session.permanent = True
    moment = int(time.time())
    session[SEEN_KEY] = session[LOGIN_AT_KEY] = moment


@bp.record_once
def _setup(state):
    login_manager.user_loader(_load_user)
    login_manager.id_attribute = "get_session_id"
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    # Sessions end by the session version, the idle timeout and the lifetime (above). Flask-Login's
    # "basic" protection would only mark sessions non-fresh (nothing here asks for a fresh login),
    # and to do so it rewrites the cookie of every page an anonymous browser opens: the favicon
    # request sent with the login page's cookie, answered after the login, replaced the new session
    # and sent the person back to the login page.
    login_manager.session_protection = None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=50)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.authenticate(form.username.data.strip(), form.password.data)
        if user is not None:
            start_session(user)
            User.update(last_login_at=now()).where(User.id == user.id).execute()
            return redirect(safe_next(request.args.get("next")) or _landing(user))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


def _landing(user):
    from admin.workbench import landing_url  # the admin decides where each role starts
    return landing_url(user)


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends every session of the account (this browser and any copy of its cookie)."""
    if current_user.is_authenticated:
        current_user.end_sessions()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code):
    target = safe_next(request.args.get("next")) or url_for("admin.index")
    response = make_response(redirect(target))
    if code in LANGUAGE_NAMES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.record_once
def _limit_login(state):
    """Serve /login through Flask-Limiter's wrapper, which is where a decorated limit is
    checked (decorating without routing the wrapper leaves the login unlimited). Defined
    after the route so the endpoint exists when this runs."""
    state.app.view_functions["auth.login"] = limiter.limit(_login_rate_limit, methods=["POST"])(login)


def _login_rate_limit():
    # one module-level callable: the limit is registered once, not once more per app
    return current_app.config["LOGIN_RATE_LIMIT"]
