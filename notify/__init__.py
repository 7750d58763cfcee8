"""Delivery: the messages of the outbox (models.outbox) rendered, sent over e-mail, SMS and group
robots by the worker (notify.worker), and the customers' unsubscribe page (no login).

Rules about who is told what live in models.notifications; this package only carries them out."""
from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/n", template_folder="templates")

from . import public  # noqa: E402,F401 - routes on bp
