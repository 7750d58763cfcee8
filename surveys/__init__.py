"""Public survey pages (no login). Customers answer through a personal invitation
(/s/i/<token>, one answer) or an open link / QR code (/s/o/<token>, many answers,
honeypot and a rate limit per client).

Unknown, expired and already used links, and closed surveys, all get the same polite
page with the same status code, in the browser's language (the survey's language would
tell a real token from a made-up one)."""
import os

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_wtf.csrf import CSRFError

from extensions import limiter
from models import Invitation, OpenLink
from models.answers import (SCALES, LinkUnavailable, attribution, field_name, link_by_token, link_is_usable,
                            raw_from_form, staff_candidates, submit_response, survey_questions)
from models.i18n import LANGUAGE_NAMES, babel_locale
from models.survey_links import mark_opened

bp = Blueprint("surveys", __name__, url_prefix="/s", template_folder="templates",
               static_folder="static", static_url_path="/static")

HONEYPOT_FIELD = "website"  # invisible to people; bots fill it
UNAVAILABLE_STATUS = 404
DEFAULT_RATE_LIMIT = "5 per minute;30 per hour"
# A whole questionnaire, URL-encoded, is far below this (5000 Chinese characters ≈ 45 kB).
MAX_SUBMISSION_BYTES = 512 * 1024


@bp.record_once
def _setup(state):
    state.app.config.setdefault("SURVEY_RATE_LIMIT", os.environ.get("SURVEY_RATE_LIMIT", DEFAULT_RATE_LIMIT))


@bp.url_value_preprocessor
def _bound_the_body(_endpoint, _values):
    """Runs before every before_request hook (the CSRF check reads the form), so an
    oversized public POST is refused with 413 before it is parsed."""
    request.max_content_length = current_app.config.get("SURVEY_MAX_BODY", MAX_SUBMISSION_BYTES)


def fetch_link_or_404(model, token):
    """The Invitation/OpenLink with this token if it can take an answer now; otherwise
    LinkUnavailable, which every survey URL renders as the same polite page."""
    if not token or len(token) > 64:
        raise LinkUnavailable()
    link = link_by_token(model, token)
    if link is None or not link_is_usable(link):
        raise LinkUnavailable()
    return link


@bp.errorhandler(LinkUnavailable)
def _unavailable(_exc):
    return render_template("surveys/unavailable.html"), UNAVAILABLE_STATUS


@bp.errorhandler(429)
def _too_many(_exc):
    return render_template("surveys/message.html", kind="too_many"), 429


@bp.errorhandler(413)
def _too_large(_exc):
    """A submission larger than MAX_SUBMISSION_BYTES."""
    return render_template("surveys/message.html", kind="too_large"), 413


@bp.errorhandler(CSRFError)
def _csrf_expired(_exc):
    """The page stayed open too long (or cookies are off): one polite page, the same for a
    live link and a dead one (the token is not even looked up, so the answer tells nothing
    about it), carrying the answers back in a form with a fresh token: "send again" posts
    them to the same link, which then stores them or shows the unavailable page."""
    kept = [(key, value) for key, value in request.form.items(multi=True) if key != "csrf_token"]
    return render_template("surveys/message.html", kind="expired_form", resend=kept, action=request.path), 400


def _render_form(link, keep=None, errors=None, notice=None, status=200):
    survey = link.survey
    questions = survey_questions(survey)
    invitation = link if isinstance(link, Invitation) else None
    open_link = link if isinstance(link, OpenLink) else None
    _customer, branch_id, _staff = attribution(survey, invitation, open_link)
    staff = staff_candidates(branch_id) if any(q.kind == "staff" for q in questions) else []
    kept = raw_from_form(questions, keep) if keep is not None else {}
    with force_locale(babel_locale(survey.language)):
        page = render_template("surveys/form.html", survey=survey, questions=questions, staff=staff,
                               kept=kept, errors=errors or {}, notice=notice, field_name=field_name,
                               scales=SCALES, honeypot=HONEYPOT_FIELD, action=request.path)
    return page, status


def _submit(link, invitation=None, open_link=None):
    survey = link.survey
    if request.form.get(HONEYPOT_FIELD):
        # a bot: looks like success, stores nothing
        return redirect(url_for("surveys.thanks", lang=survey.language))
    questions = survey_questions(survey)
    raw = raw_from_form(questions, request.form)
    response, errors = submit_response(survey, raw, invitation=invitation, open_link=open_link,
                                       language=survey.language, questions=questions)
    if errors:
        return _render_form(link, keep=request.form, errors=errors, status=422)
    return redirect(url_for("surveys.thanks", lang=survey.language))


@bp.route("/i/<token>", methods=["GET", "POST"])
def invitation_page(token):
    invitation = fetch_link_or_404(Invitation, token)
    if request.method == "POST":
        return _submit(invitation, invitation=invitation)
    mark_opened(invitation)
    return _render_form(invitation)


@bp.route("/o/<token>", methods=["GET", "POST"])
# Flask-Limiter 4 enforces a decorated limit inside the wrapper, so the wrapper must be the view.
# Only submissions count (per client address); opening the page is free.
@limiter.limit(lambda: current_app.config["SURVEY_RATE_LIMIT"], methods=["POST"])
def open_link_page(token):
    open_link = fetch_link_or_404(OpenLink, token)
    if request.method == "POST":
        return _submit(open_link, open_link=open_link)
    return _render_form(open_link)


@bp.route("/thanks")
def thanks():
    language = request.args.get("lang")
    if language not in LANGUAGE_NAMES:
        return render_template("surveys/message.html", kind="thanks")
    with force_locale(babel_locale(language)):
        return render_template("surveys/message.html", kind="thanks")
