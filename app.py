"""Service desk: customer files, complaints with SLA stages, surveys and staff recognition.

    flask --app app run          # development server
    flask --app app init-db      # create tables
    flask --app app seed-demo    # demo data
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, has_request_context, redirect, request, url_for
from extensions import babel, csrf, limiter, login_manager, mail
from models import db
from models.base import bind_database
from models.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, babel_locale
from models.org import configure_password_hashing
from models import clock
from translations.catalog import compile_all as compile_translations

ROOT = Path(__file__).resolve().parent


class Config:
    """Settings from the environment, with defaults that run out of the box."""

    DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///instance/service.db")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    # the address customers reach the survey pages at (QR codes and invitation links), e.g.
    # https://survey.example.cn; empty: the address the admin is using
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    BABEL_DEFAULT_LOCALE = DEFAULT_LANGUAGE
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    # Shared storage (e.g. redis://localhost:6379) when several processes serve the app.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # set SESSION_COOKIE_SECURE=1 when the office serves the app over HTTPS
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") in ("1", "true", "yes")
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a form left open for a working day still submits
    # a login ends after this many minutes without a request (0: never), and after
    # SESSION_LIFETIME_HOURS whatever happens (auth/__init__.py)
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "60"))
    PERMANENT_SESSION_LIFETIME = timedelta(hours=float(os.environ.get("SESSION_LIFETIME_HOURS", "12")))
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # lists count matching rows up to this many, then show "10,000+" and offer pages up to it
    LIST_COUNT_CAP = int(os.environ.get("LIST_COUNT_CAP", "10000"))
    FLASK_ADMIN_SWATCH = "cerulean"
    # Notifications (models.notifications, notify/). E-mail under Flask-Mailman's names; no
    # MAIL_SERVER: no e-mail is written (alerts still reach the in-app list).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") in ("1", "true", "yes")
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "") in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "客户服务中心 <service-desk@localhost>")
    MAIL_TIMEOUT = 30
    # the admin's address in links of e-mails and robot messages, e.g. https://kefu.example.cn
    # (empty: PUBLIC_BASE_URL, else http://127.0.0.1:5000)
    ADMIN_BASE_URL = os.environ.get("ADMIN_BASE_URL", "")
    # the worker (notify.worker): claim lease, outbox polling, length of its minute loop
    NOTIFY_LEASE_SECONDS = float(os.environ.get("NOTIFY_LEASE_SECONDS") or 300)
    NOTIFY_POLL_SECONDS = float(os.environ.get("NOTIFY_POLL_SECONDS") or 2)
    NOTIFY_LOOP_SECONDS = float(os.environ.get("NOTIFY_LOOP_SECONDS") or 55)


def _sqlite_url_in(root, url):
    """Resolve a relative sqlite path against the project folder, creating its directory."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == prefix + ":memory:":
        return url
    path = (root / url[len(prefix):]).resolve()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # instance/: private (customer data)
    return prefix + str(path)


def _secret_key(instance_path):
    """A random key kept in instance/secret_key so sessions survive restarts.

    Several workers may start at once: the key is written to a private temporary file
    and linked into place (atomic, fails if the name exists), so every worker ends up
    reading the same complete key, never an empty or half-written file."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = key_file.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, key_file)
        except FileExistsError:
            pass  # another worker won the race: use its key
        finally:
            temporary.unlink()
    key = key_file.read_text().strip()
    if not key:
        raise RuntimeError(f"{key_file} is empty: delete it or set SECRET_KEY")
    return key


def select_locale():
    """The language chosen with the switcher (cookie), else the browser's, else Chinese."""
    if not has_request_context():
        return babel_locale(DEFAULT_LANGUAGE)  # CLI commands and background jobs speak the office's language
    code = request.cookies.get("lang")
    if code not in LANGUAGE_NAMES:
        code = "en" if request.accept_languages.best_match(["zh_CN", "zh", "en"]) == "en" else DEFAULT_LANGUAGE
    return babel_locale(code)


def create_app(config=None):
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.config["DATABASE_URL"] = _sqlite_url_in(ROOT, app.config["DATABASE_URL"])
    clock.set_timezone(app.config["TIMEZONE"])
    compile_translations()
    if app.config.get("PASSWORD_HASH_PARAMS"):
        configure_password_hashing(**app.config["PASSWORD_HASH_PARAMS"])

    bind_database(app.config["DATABASE_URL"])

    @app.before_request
    def _open_db():
        db.connect(reuse_if_open=True)

    import hardening
    hardening.init_app(app)  # error pages, input guard, Content-Security-Policy, no-store

    @app.teardown_appcontext
    def _close_db(exc):
        if not db.is_closed():
            db.close()

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)

    @app.context_processor
    def _languages():
        from flask_babel import get_locale
        return {"LANGUAGES": LANGUAGE_NAMES, "current_language": str(get_locale() or DEFAULT_LANGUAGE)}

    from auth import bp as auth_bp
    app.register_blueprint(auth_bp)

    from surveys import bp as surveys_bp
    app.register_blueprint(surveys_bp)

    from notify import bp as notify_bp, connect as connect_notify
    app.register_blueprint(notify_bp)
    connect_notify()

    from admin import init_admin
    init_admin(app)

    import cli
    cli.register(app)

    import errors
    errors.register(app)

    @app.route("/")
    def index():
        from flask_login import current_user
        from admin.workbench import landing_url
        return redirect(landing_url(current_user) if current_user.is_authenticated else url_for("admin.index"))

    return app
