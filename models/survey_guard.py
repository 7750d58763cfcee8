"""Telling a customer from a script on an open link, without ever throwing an answer away.

An open link (poster, table card, QR code) is answered by many people through ONE address:
a branch's Wi-Fi, a hotel lobby, a mobile operator's shared gateway. Refusing the sixth
answer a minute from an address loses real customers' answers, so volume alone never
refuses anything. Each submission gets one of three outcomes:

* COUNT – stored, counted in the figures, a low score followed up at once.
* HOLD  – stored with status "held" and the reason, NOT counted, no follow-up yet; a manager
  releases it (it counts, and its follow-up opens, from then) or marks it not a customer's
  answer (kept, never counted). Held for, in this order:
    - honeypot: the form's invisible field is filled (people cannot see it, form-filling bots do);
    - no_form_token: the submission does not carry a valid signed token of OUR form page for
      THIS link (a script posting straight to the URL);
    - too_fast: sent less than SURVEY_MIN_FILL_SECONDS (default 3) after the form page was
      rendered; nobody reads and answers a questionnaire that fast;
    - duplicate: a response from the same form page (the token's nonce) is already stored,
      e.g. a replayed request or a second tap on "send";
    - busy_address: the address has already had SURVEY_RATE_LIMIT counted answers (default
      60 a minute, 600 an hour: twice a lunchtime rush of a busy branch on one Wi-Fi);
    - link_budget: the link has already had SURVEY_LINK_BUDGET counted answers (default 300
      an hour; a poster in one branch never sees that, a link posted to a forum might).
* REFUSE – only a submission that would be HELD is ever refused, and only when the address
  has had SURVEY_HELD_LIMIT held submissions (default 20 per 10 minutes) or the link
  SURVEY_HELD_LINK_LIMIT (default 200 an hour): that is where a script's flood stops
  filling the database. The customer gets the form back with every answer kept and is asked
  to send it again a little later (HTTP 429); nothing was stored, nothing was lost.

A well-behaved customer (our page, read for a few seconds, sent once) is always counted
unless the volume limits say otherwise, and even then is stored. Personal invitations do
not go through this: each admits one answer from one known customer.

The limits are counted in the rate-limit storage (RATELIMIT_STORAGE_URI, shared by all
workers with Redis); with rate limiting disabled only the form checks apply.
"""
import secrets
from collections import namedtuple

from itsdangerous import BadSignature, URLSafeSerializer

from .surveys import Response

DEFAULT_LIMITS = {
    "SURVEY_RATE_LIMIT": "60 per minute;600 per hour",   # counted answers per address
    "SURVEY_LINK_BUDGET": "300 per hour",                 # counted answers per open link
    "SURVEY_HELD_LIMIT": "20 per 10 minutes",             # held answers per address, then refused
    "SURVEY_HELD_LINK_LIMIT": "200 per hour",             # held answers per open link, then refused
}
DEFAULT_MIN_FILL_SECONDS = 3.0

# a valid token of our form page: its nonce, when the page was rendered (epoch seconds)
FormStart = namedtuple("FormStart", "nonce started")
# outcome: "count", "hold" or "refuse"; reason: a HOLD_REASONS code (None when counted)
Verdict = namedtuple("Verdict", "outcome reason")


def _serializer(secret):
    return URLSafeSerializer(secret, salt="survey-form-page")


def form_token(secret, link_key, started, nonce=None):
    """The signed token a form page carries: which link it is for, when it was first rendered
    (`started`, kept when the form is shown again with its answers), and a random nonce."""
    return _serializer(secret).dumps([link_key, round(float(started), 3), nonce or secrets.token_hex(8)])


def read_form_token(secret, token, link_key):
    """FormStart of a token issued for this link, or None (missing, forged, another link's)."""
    if not token or len(token) > 200:
        return None
    try:
        key, started, nonce = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if key != link_key or not isinstance(started, (int, float)) or not isinstance(nonce, str):
        return None
    return FormStart(nonce[:32], float(started))


def nonce_used(open_link_id, nonce):
    """A response from this form page (nonce) of this open link is already stored."""
    return Response.select().where((Response.open_link == open_link_id) & (Response.form_nonce == nonce)).exists()


def suspicion(honeypot, start, moment, min_fill_seconds, duplicate):
    """The form-level reason to hold a submission (see the module docstring), or None."""
    if honeypot:
        return "honeypot"
    if start is None:
        return "no_form_token"
    if moment - start.started < min_fill_seconds:
        return "too_fast"
    if duplicate:
        return "duplicate"
    return None


def _fact(value):
    return bool(value() if callable(value) else value)


def assess(honeypot, start, moment, min_fill_seconds, duplicate, address_busy, link_over_budget, held_budget_spent):
    """The Verdict for one valid submission to an open link, from the facts gathered about it:
    honeypot filled, start (FormStart or None), moment (epoch seconds now), duplicate nonce,
    address over SURVEY_RATE_LIMIT, link over SURVEY_LINK_BUDGET, and whether the address's
    or the link's held budget (SURVEY_HELD_LIMIT / SURVEY_HELD_LINK_LIMIT) is spent. The
    last three may be callables, asked only when the answer matters."""
    reason = suspicion(honeypot, start, moment, min_fill_seconds, duplicate)
    if reason is None:
        reason = "busy_address" if _fact(address_busy) else "link_budget" if _fact(link_over_budget) else None
    if reason is None:
        return Verdict("count", None)
    if _fact(held_budget_spent):
        return Verdict("refuse", reason)
    return Verdict("hold", reason)
