"""Periods of office-local time: the week, month, quarter or custom span a figure is counted over."""
from datetime import date, datetime, time, timedelta

from ..clock import now
from ..i18n import _l

PERIOD_KINDS = ("week", "month", "quarter")
# the report workbooks' names for their periods (周报 weekly, 月报 monthly)
KIND_ALIASES = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}


class Period:
    """A half-open interval [start, end) of office-local time with a label like 2026-11.

    kind: week (Monday 00:00 to the next Monday), month (1st 00:00 to the next 1st),
    quarter (1 Jan / 1 Apr / 1 Jul / 1 Oct) or custom (both days included)."""

    def __init__(self, kind, start, end, label):
        self.kind, self.start, self.end, self.label = kind, start, end, label

    def __repr__(self):
        return f"Period({self.kind}, {self.start:%Y-%m-%d %H:%M}, {self.end:%Y-%m-%d %H:%M})"

    def __eq__(self, other):
        return isinstance(other, Period) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self):
        return hash((self.start, self.end))

    @classmethod
    def of(cls, kind, moment=None):
        """The week, month or quarter containing `moment` (a date or datetime, default now);
        `kind` may also be a workbook's "weekly" / "monthly"."""
        return period_of(KIND_ALIASES.get(kind, kind), moment)

    @property
    def last_day(self):
        """The last calendar day inside the period."""
        return (self.end - timedelta(seconds=1)).date()

    def contains(self, column):
        """SQL condition: `column` (a timestamp) falls in [start, end)."""
        return (column >= self.start) & (column < self.end)

    def previous(self):
        return period_of(self.kind, self.start - timedelta(seconds=1))

    def next(self):
        return period_of(self.kind, self.end)


def _midnight(day):
    return datetime.combine(day, time.min)


def period_of(kind, moment=None):
    """The week (Monday start), month or quarter containing `moment` (default now)."""
    moment = moment or now()
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = _midnight(moment)
    day = moment.date()
    if kind == "week":
        start = _midnight(day - timedelta(days=day.weekday()))
        year, week, _ = start.isocalendar()
        return Period(kind, start, start + timedelta(days=7), f"{year}-W{week:02d}")
    if kind == "month":
        start = _midnight(day.replace(day=1))
        end = _midnight(date(day.year + (day.month == 12), day.month % 12 + 1, 1))
        return Period(kind, start, end, f"{day.year}-{day.month:02d}")
    if kind == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = _midnight(date(day.year, first_month, 1))
        end = _midnight(date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1))
        return Period(kind, start, end, f"{day.year}-Q{(first_month - 1) // 3 + 1}")
    raise ValueError(f"unknown period kind {kind!r}")


def custom_period(first_day, last_day):
    """Both days included: [first_day 00:00, last_day + 1 00:00)."""
    if last_day < first_day:
        raise ValueError("the period ends before it starts")
    end = _midnight(last_day + timedelta(days=1))
    return Period("custom", _midnight(first_day), end, f"{first_day:%Y-%m-%d}–{last_day:%Y-%m-%d}")


def day_of(moment):
    """The calendar day containing `moment`: [00:00, next 00:00)."""
    start = _midnight(moment.date())
    return Period("day", start, start + timedelta(days=1), f"{moment:%Y-%m-%d}")


def last_periods(kind, count=12, moment=None):
    """`count` consecutive periods of `kind`, oldest first, the last one containing `moment`."""
    periods = [period_of(kind, moment)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


# Days a page may ask about: a period around 9999-12-31 would end after the last date Python
# (and the databases) can hold, and nobody ranks branches in the year 1.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_period(kind, at=None, first=None, last=None, moment=None):
    """The period a page asks for: kind week/month/quarter around date `at` (text YYYY-MM-DD,
    default today), or kind "custom" from `first` to `last`. Raises ValueError with a message
    a user can act on."""
    def _day(text, what):
        try:
            day = date.fromisoformat(text)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: expected a date like 2026-11-23, got {text!r}") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"{what}: {day} is outside {FIRST_DAY} to {LAST_DAY}")
        return day
    if kind == "custom":
        return custom_period(_day(first, "from"), _day(last, "to"))
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    return period_of(kind, _day(at, "date") if at else moment)


def period_of_star_label(kind, label):
    """The month of "2026-11" for a month's service star (star_month), the quarter of
    "2026-Q4" for a quarter's (star_quarter); None for anything else."""
    try:
        if kind == "star_month":
            year, month = label.split("-")
            first_day = date(int(year), int(month), 1)
        elif kind == "star_quarter":
            year, quarter = label.split("-Q")
            if not 1 <= int(quarter) <= 4:
                return None
            first_day = date(int(year), 3 * int(quarter) - 2, 1)
        else:
            return None
    except (ValueError, AttributeError):
        return None
    period = period_of("month" if kind == "star_month" else "quarter", first_day)
    return period if period.label == label else None


# the two reports (周报 weekly, 月报 monthly) and the period each covers
REPORT_KINDS = ("weekly", "monthly")
PERIOD_OF_REPORT = {"weekly": "week", "monthly": "month"}
REPORT_OF_PERIOD = {period: report for report, period in PERIOD_OF_REPORT.items()}


def report_period(kind, day):
    """The calendar week (Monday to Sunday) of `day` for "weekly", its month for "monthly"."""
    if kind not in PERIOD_OF_REPORT:
        raise ValueError(kind)
    return Period.of(PERIOD_OF_REPORT[kind], day)


def report_title(period):
    """"Weekly report 2026-11-23 to 2026-11-29" / "Monthly report 2026-11" (in the UI language)."""
    if period.kind == "week":
        return str(_l("Weekly report %(start)s to %(end)s", start=period.start.date().isoformat(),
                      end=period.last_day.isoformat()))
    if period.kind == "month":
        return str(_l("Monthly report %(month)s", month=f"{period.start:%Y-%m}"))
    return period.label
