"""The office clock.

All timestamps are naive datetimes in the office's local time zone (config TIMEZONE,
default Asia/Shanghai, which has no daylight-saving jumps). Everything that needs
"now" calls clock.now(), so tests can freeze or move time.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

_timezone = ZoneInfo("Asia/Shanghai")
_frozen = None


def set_timezone(name):
    global _timezone
    _timezone = ZoneInfo(name)


def timezone():
    return _timezone


def now():
    if _frozen is not None:
        return _frozen
    return datetime.now(_timezone).replace(tzinfo=None, microsecond=0)


def freeze(moment):
    """Pin now() to moment (None releases it). Returns the previous frozen value."""
    global _frozen
    previous, _frozen = _frozen, moment
    return previous
