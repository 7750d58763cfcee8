"""Delivery: the messages of the outbox (models.outbox) rendered, sent over e-mail, SMS and group
robots by the worker (notify.worker), and the customers' unsubscribe page (no login).

Rules about who is told what live in models.notifications; this package only carries them out."""
from flask import Blueprint

bp = Blueprint("notify", __name__, url_prefix="/n", template_folder="templates")

from . import public  # noqa: E402,F401 - routes on bp


def connect():
    """Give the rules (models.notifications.DELIVERY) this package's page addresses and message
    texts; called by app.create_app."""
    from models.notifications import DELIVERY
    from .links import absolute, path_for, route_exists, survey_url
    from .render import render_digest, render_event
    DELIVERY.path_for, DELIVERY.absolute, DELIVERY.route_exists = path_for, absolute, route_exists
    DELIVERY.survey_url, DELIVERY.render_event, DELIVERY.render_digest = survey_url, render_event, render_digest
