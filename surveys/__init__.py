"""Public survey pages (no login). Customers answer through a personal invitation
(/s/i/<token>, one answer) or an open link / QR code: /q/<short code> as printed on posters,
or the older /s/o/<token>, which keeps working.

Open-link submissions go through models.survey_guard: counted, held for review, or (only
when a flood has used up the held budget) refused with every answer kept on the page.
No answer a customer typed is ever thrown away.

Unknown, expired and already used links, and closed surveys, all get the same polite
page with the same status code, in the browser's language (the survey's language would
tell a real token from a made-up one).

The pages work in WeChat's in-app browser and other old mobile WebViews: plain HTML forms,
one small stylesheet, no JavaScript, no web fonts (tests/test_public_survey_weight.py keeps
the page under its weight budget).
"""
import os
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_wtf.csrf import CSRFError
from limits import parse_many

from models import Invitation, OpenLink
from models.answers import (CONTACT_ERROR_KEY, SCALES, LinkUnavailable, asks_for_contact, attribution,
                            contact_from_form, field_name, link_by_token, link_is_usable,
                            open_link_by_short_code, prepare_submission, raw_from_form, staff_candidates,
                            store_submission, survey_questions)
from models.i18n import LANGUAGE_NAMES, babel_locale
from models.survey_guard import (DEFAULT_LIMITS, DEFAULT_MIN_FILL_SECONDS, assess, form_token, nonce_used,
                                 read_form_token)
from models.survey_links import mark_opened
from models.surveys import normalise_short_code

from .budgets import LOOKUP_FAILURES_DEFAULT, SubmissionBudgets

bp = Blueprint("surveys", __name__, template_folder="templates", static_folder="static",
               static_url_path="/s/static")

HONEYPOT_FIELD = "website"  # invisible to people; bots fill it
FORM_TOKEN_FIELD = "form_token"  # signed: which link, when the page was rendered, a nonce
UNAVAILABLE_STATUS = 404
# A whole questionnaire, URL-encoded, is far below this (5000 Chinese characters ≈ 45 kB).
MAX_SUBMISSION_BYTES = 512 * 1024


@bp.record_once
def _setup(state):
    """The open-link limits (models.survey_guard) from the environment, else their defaults."""
    defaults = {**DEFAULT_LIMITS, "SURVEY_LOOKUP_LIMIT": LOOKUP_FAILURES_DEFAULT,
                "SURVEY_MIN_FILL_SECONDS": str(DEFAULT_MIN_FILL_SECONDS)}
    for name, default in defaults.items():
        value = state.app.config.setdefault(name, os.environ.get(name, default))
        try:  # a typo is reported when the service starts, not as an error page to customers
            float(value) if name == "SURVEY_MIN_FILL_SECONDS" else parse_many(value)
        except (TypeError, ValueError):
            raise RuntimeError(f"{name}={value!r} is not valid; e.g. {name}={default!r}") from None


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


def fetch_short_link_or_404(code):
    """The open link of a short code as typed from a poster; failed look-ups from one address
    are counted, and past SURVEY_LOOKUP_LIMIT guessing gets 429 (a valid code never does)."""
    normalised = normalise_short_code(code)
    link = open_link_by_short_code(normalised) if normalised else None
    if link is None or not link_is_usable(link):
        if SubmissionBudgets().lookup_failed():
            abort(429)
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


def _link_key(link):
    return f"o{link.id}"


def _form_start(link):
    """The FormStart of the form page a POST came from (None: not from our page for this link)."""
    if not isinstance(link, OpenLink):
        return None
    return read_form_token(current_app.config["SECRET_KEY"], request.form.get(FORM_TOKEN_FIELD), _link_key(link))


def _render_form(link, keep=None, errors=None, notice=None, status=200, start=None):
    """The questionnaire; with `keep` (a posted form) every answer filled in again. An open
    link's page carries its signed form token; shown again, it keeps its first render time."""
    survey = link.survey
    questions = survey_questions(survey)
    invitation = link if isinstance(link, Invitation) else None
    open_link = link if isinstance(link, OpenLink) else None
    _customer, branch_id, _staff = attribution(survey, invitation, open_link)
    staff = staff_candidates(branch_id) if any(q.kind == "staff" for q in questions) else []
    kept = raw_from_form(questions, keep) if keep is not None else {}
    token = None
    if open_link is not None:
        token = form_token(current_app.config["SECRET_KEY"], _link_key(open_link),
                           start.started if start else time.time(), start.nonce if start else None)
    with force_locale(babel_locale(survey.language)):
        page = render_template("surveys/form.html", survey=survey, questions=questions, staff=staff,
                               kept=kept, errors=errors or {}, notice=notice, field_name=field_name,
                               scales=SCALES, honeypot=HONEYPOT_FIELD, action=request.path,
                               form_token_field=FORM_TOKEN_FIELD, form_token=token,
                               ask_contact=asks_for_contact(survey, invitation),
                               contact=contact_from_form(keep) if keep is not None else {},
                               contact_error=(errors or {}).get(CONTACT_ERROR_KEY), preview=None)
    return page, status


def _thanks(survey):
    return redirect(url_for("surveys.thanks", lang=survey.language))


def _submit_invitation(invitation):
    """A personal invitation admits one answer from its customer: no volume checks; a filled
    honeypot still holds the answer for review instead of counting it."""
    survey = invitation.survey
    questions = survey_questions(survey)
    submission, errors = prepare_submission(survey, raw_from_form(questions, request.form), invitation=invitation,
                                            questions=questions, contact=contact_from_form(request.form))
    if errors:
        return _render_form(invitation, keep=request.form, errors=errors, status=422)
    hold = "honeypot" if request.form.get(HONEYPOT_FIELD) else None
    store_submission(survey, submission, invitation=invitation, hold_reason=hold)
    return _thanks(survey)


def _submit_open_link(link):
    """Validate; then count, hold or refuse (models.survey_guard); store; thank."""
    survey = link.survey
    questions = survey_questions(survey)
    start = _form_start(link)
    submission, errors = prepare_submission(survey, raw_from_form(questions, request.form), open_link=link,
                                            questions=questions, contact=contact_from_form(request.form))
    if errors:
        return _render_form(link, keep=request.form, errors=errors, status=422, start=start)
    budgets = SubmissionBudgets(link.id)
    verdict = assess(
        honeypot=bool(request.form.get(HONEYPOT_FIELD)), start=start, moment=time.time(),
        min_fill_seconds=float(current_app.config.get("SURVEY_MIN_FILL_SECONDS", DEFAULT_MIN_FILL_SECONDS)),
        duplicate=start is not None and nonce_used(link.id, start.nonce),
        address_busy=budgets.address_busy, link_over_budget=budgets.link_over_budget,
        held_budget_spent=budgets.held_budget_spent)
    if verdict.outcome == "refuse":
        return _render_form(link, keep=request.form, notice="busy", status=429, start=start)
    store_submission(survey, submission, open_link=link, hold_reason=verdict.reason,
                     nonce=start.nonce if start else None)
    budgets.spend(verdict.outcome)
    return _thanks(survey)


@bp.route("/s/i/<token>", methods=["GET", "POST"])
def invitation_page(token):
    invitation = fetch_link_or_404(Invitation, token)
    if request.method == "POST":
        return _submit_invitation(invitation)
    mark_opened(invitation)
    return _render_form(invitation)


@bp.route("/s/o/<token>", methods=["GET", "POST"])
def open_link_page(token):
    open_link = fetch_link_or_404(OpenLink, token)
    if request.method == "POST":
        return _submit_open_link(open_link)
    return _render_form(open_link)


@bp.route("/q/<code>", methods=["GET", "POST"])
def short_link_page(code):
    """The poster's address: the same page as /s/o/<token>, served directly (no redirect: one
    round trip less on a slow mobile connection, and the address bar stays short)."""
    open_link = fetch_short_link_or_404(code)
    if request.method == "POST":
        return _submit_open_link(open_link)
    return _render_form(open_link)


@bp.route("/s/thanks")
def thanks():
    language = request.args.get("lang")
    if language not in LANGUAGE_NAMES:
        return render_template("surveys/message.html", kind="thanks")
    with force_locale(babel_locale(language)):
        return render_template("surveys/message.html", kind="thanks")
