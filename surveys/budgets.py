"""The volume counters behind models.survey_guard, kept in Flask-Limiter's storage (memory,
or Redis shared by every worker: RATELIMIT_STORAGE_URI) with its moving windows.

Limits are Flask-Limiter strings ("60 per minute;600 per hour") from the app config, each
with its default in models.survey_guard.DEFAULT_LIMITS. With RATELIMIT_ENABLED off nothing
is ever over budget."""
from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse_many

from extensions import limiter
from models.survey_guard import DEFAULT_LIMITS

LOOKUP_FAILURES_DEFAULT = "30 per minute"


def _items(name):
    return parse_many(current_app.config.get(name) or DEFAULT_LIMITS.get(name) or LOOKUP_FAILURES_DEFAULT)


class SubmissionBudgets:
    """The counters of one submission: its client address and its open link."""

    def __init__(self, link_id=None):
        self.address = get_remote_address() or "-"
        self.link = str(link_id)
        self.enabled = bool(current_app.config.get("RATELIMIT_ENABLED", True))

    def _over(self, name, *identifiers):
        if not self.enabled:
            return False
        strategy = limiter.limiter
        return any(not strategy.test(item, name, *identifiers) for item in _items(name))

    def _spend(self, name, *identifiers):
        if self.enabled:
            strategy = limiter.limiter
            for item in _items(name):
                strategy.hit(item, name, *identifiers)

    def address_busy(self):
        """This address has had its SURVEY_RATE_LIMIT of counted answers."""
        return self._over("SURVEY_RATE_LIMIT", self.address)

    def link_over_budget(self):
        """This open link has had its SURVEY_LINK_BUDGET of counted answers."""
        return self._over("SURVEY_LINK_BUDGET", self.link)

    def held_budget_spent(self):
        """The address's SURVEY_HELD_LIMIT or the link's SURVEY_HELD_LINK_LIMIT of held answers is used up."""
        return self._over("SURVEY_HELD_LIMIT", self.address) or self._over("SURVEY_HELD_LINK_LIMIT", self.link)

    def spend(self, outcome):
        """Count a stored submission against the budgets of its outcome ("count" or "hold")."""
        if outcome == "count":
            self._spend("SURVEY_RATE_LIMIT", self.address)
            self._spend("SURVEY_LINK_BUDGET", self.link)
        elif outcome == "hold":
            self._spend("SURVEY_HELD_LIMIT", self.address)
            self._spend("SURVEY_HELD_LINK_LIMIT", self.link)

    def lookup_failed(self):
        """Count a short code that led nowhere; True once the address has had too many
        (SURVEY_LOOKUP_LIMIT, default 30 a minute): guessing codes is then refused."""
        over = self._over("SURVEY_LOOKUP_LIMIT", self.address)
        self._spend("SURVEY_LOOKUP_LIMIT", self.address)
        return over
