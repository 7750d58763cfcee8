"""How a delivery attempt can end, shared by every channel."""


class DeliveryError(Exception):
    """A failed attempt. `outcome`: 'retry' (temporary: try again later), 'failed' (permanent, e.g.
    the mail server rejected the recipient: a bounce) or 'unknown' (no answer after the message was
    handed over: it may have arrived, so it is not sent again by itself)."""

    def __init__(self, text, outcome="retry"):
        super().__init__(text)
        self.outcome = outcome


class ClaimLost(Exception):
    """The worker's lease ran out before the hand-over: the message is another worker's now."""


def outcome_of_reply(code):
    """SMTP-style reply codes: 5xx is a permanent refusal, anything else unexpected is temporary."""
    return "failed" if 500 <= code < 600 else "retry"
