"""Login, logout and the language switch."""
from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from extensions import limiter, login_manager
from models import User
from models.i18n import LANGUAGE_NAMES
from models.clock import now
from redirects import safe_next

bp = Blueprint("auth", __name__, template_folder="templates")


def _load_user(user_id):
    user = User.get_or_none(User.id == int(user_id)) if str(user_id).isdigit() else None
    return user if user is not None and user.active else None


@bp.record_once
def _setup(state):
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=50)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.get_or_none(User.username == form.username.data.strip())
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user)
            User.update(last_login_at=now()).where(User.id == user.id).execute()
            return redirect(safe_next(request.args.get("next")) or _landing(user))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


def _landing(user):
    from admin.workbench import landing_url  # the admin decides where each role starts
    return landing_url(user)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
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
