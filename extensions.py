"""Flask extensions, created unbound and attached to the app in create_app() (microblog's
pattern): blueprints import them from here, never from app.py."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
mail = Mail()  # e-mail settings: MAIL_* (app.Config)
