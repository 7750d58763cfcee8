"""工作日历: when the office works, for SLA deadlines counted in working hours.

A calendar (WorkCalendar) gives the working hours of each weekday ("09:00-18:00", or
"09:00-12:00, 13:30-18:00" with a lunch break; empty = closed), the hours of an adjusted
working day (调休上班: a Saturday or Sunday worked in exchange for a longer holiday), and
whether China's public holidays apply. Each branch may have its own calendar; a branch
without one follows the office's (the calendar without a branch).

Days off and adjusted working days come from three places; the first that speaks wins:
1. a day entered by hand for this calendar (a branch's local holiday, e.g. 古尔邦节 in 新疆);
2. a day entered by hand for every calendar (a national holiday year the library does not
   know yet: the State Council publishes the next year's schedule each November);
3. the `chinese-calendar` library (public holidays and 调休 from the State Council notices),
   for the years it knows (library_years()).
Any other day works its weekday's hours. A year that neither the library nor the hand-entered
days know is counted with weekends only: year_status() says so, and the admin page warns.

Counting (add_working_hours / working_hours_between):
- Working time is the union of each day's windows, each window half-open [opens, closes).
- A deadline `hours` working hours after `start` is the instant when that much working time
  has passed since `start`. Received inside a window, the count starts at once; received
  outside, it starts when the next window opens. Received Friday 17:59 with 1 working hour
  (office hours 09:00-18:00): 1 minute on Friday, 59 on Monday, due Monday 09:59.
- Hours that run out exactly when a window closes give that closing time (Friday 17:00
  + 1 h = Friday 18:00), never the next opening.
- 0 hours is `start` itself. Hours are counted to the second (1.5 h = 5400 s).
- Hours are real elapsed hours. Times are the office's naive local times (clock.py); they
  are placed in the office's time zone to count, so in a zone with daylight saving a window
  that spans the change counts its real length, and calendar hours ("24 h" around the clock)
  are 24 real hours. In a zone without daylight saving (Asia/Shanghai, the default) this is
  the same as adding wall-clock hours. A local time that a clock change skips counts as the
  moment after the change; one it repeats counts as its first occurrence.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from decimal import Decimal

import chinese_calendar
from peewee import BooleanField, CharField, DateField, ForeignKeyField

from . import clock
from .base import BaseModel
from .i18n import _l
from .org import Branch

# How an SLA policy counts its hours.
HOURS_KINDS = [
    ("calendar", _l("Calendar hours (around the clock)")),
    ("working", _l("Working hours (the branch's calendar)")),
]
DAY_KINDS = [
    ("off", _l("Day off")),
    ("work", _l("Working day")),
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
OFFICE_HOURS = "09:00-18:00"
# A deadline is searched for at most this far ahead (a calendar closed for longer is refused).
SEARCH_DAYS = 3 * 366


class CalendarError(ValueError):
    """Hours that cannot be read, or a calendar without any working time. str() is for the user."""


# ------------------------------------------------------------------ working hours as text

_SEPARATORS = re.compile(r"[,，;；、/\s]+")
_WINDOW = re.compile(r"^(\d{1,2})[:：](\d{2})[-–—~～至到](\d{1,2})[:：](\d{2})$")


def parse_hours(text):
    """'09:00-12:00, 13:30-18:00' → ((32400, 43200), (48600, 64800)): windows in seconds
    since midnight, in order. Empty text is a closed day. '24:00' is midnight at the end of
    the day; a window cannot cross midnight (write 22:00-24:00 and 00:00-06:00 on the next
    day instead). Full-width colons and Chinese separators are accepted."""
    text = (text or "").strip().replace(" - ", "-")
    if not text:
        return ()
    windows = []
    for part in _SEPARATORS.split(text.replace(" -", "-").replace("- ", "-")):
        if not part:
            continue
        match = _WINDOW.match(part)
        if not match:
            raise CalendarError(str(_l("'%(part)s' is not a time range; write hours like 09:00-12:00, 13:30-18:00.",
                                       part=part)))
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if m1 > 59 or m2 > 59 or h1 > 24 or h2 > 24 or (h1 == 24 and m1) or (h2 == 24 and m2):
            raise CalendarError(str(_l("'%(part)s' is not a time of day (00:00 to 24:00).", part=part)))
        opens, closes = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if closes <= opens:
            raise CalendarError(str(_l("'%(part)s' ends before it starts; a range cannot cross midnight "
                                       "(write 22:00-24:00 and 00:00-06:00 on the next day).", part=part)))
        windows.append((opens, closes))
    windows.sort()
    for (_o1, c1), (o2, _c2) in zip(windows, windows[1:]):
        if o2 < c1:
            raise CalendarError(str(_l("The time ranges '%(text)s' overlap.", text=text)))
    return tuple(windows)


def format_hours(windows):
    """The inverse of parse_hours: ((32400, 64800),) → '09:00-18:00'."""
    def hhmm(seconds):
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return ", ".join(f"{hhmm(o)}-{hhmm(c)}" for o, c in windows)


# ------------------------------------------------------------------ the library

def library_years():
    """The years whose holidays and adjusted working days the chinese-calendar library knows."""
    return _LIBRARY_YEARS


_LIBRARY_YEARS = frozenset(day.year for day in chinese_calendar.holidays)


def library_day(day):
    """('off' | 'work', name) for a public holiday or an adjusted working day the library
    knows, None for an ordinary day or a year it does not know."""
    if day.year not in _LIBRARY_YEARS:
        return None
    if day in chinese_calendar.holidays:
        return "off", chinese_calendar.holidays[day]
    if day in chinese_calendar.workdays:
        return "work", chinese_calendar.workdays[day]
    return None


# ------------------------------------------------------------------ the pure calendar

@dataclass(frozen=True)
class WorkingTime:
    """A calendar as plain data, for the counting functions (no database access).

    week: seven window tuples, Monday first; adjusted: the windows of an adjusted working
    day; days: {date: windows} entered by hand (an empty tuple is a day off), winning over
    everything; public_holidays: whether the library's holidays and 调休 apply; tz: the time
    zone the naive times are in (None: the office's, clock.timezone())."""

    week: tuple
    adjusted: tuple = ((9 * 3600, 18 * 3600),)
    days: dict = field(default_factory=dict)
    public_holidays: bool = True
    tz: object = None

    def windows(self, day):
        """The working windows of `day`, in seconds since midnight."""
        if day in self.days:
            return self.days[day]
        if self.public_holidays:
            known = library_day(day)
            if known is not None:
                return () if known[0] == "off" else self.adjusted
        return self.week[day.weekday()]

    def zone(self):
        return self.tz or clock.timezone()

    def check(self):
        if not any(self.week):
            raise CalendarError(str(_l("A calendar needs working hours on at least one weekday.")))
        return self


def standard_working_time(public_holidays=True, tz=None):
    """Monday to Friday 09:00-18:00, China's public holidays: the office's calendar until an
    administrator changes it."""
    office = parse_hours(OFFICE_HOURS)
    return WorkingTime(week=(office,) * 5 + ((), ()), adjusted=office, public_holidays=public_holidays, tz=tz)


def _seconds(hours):
    seconds = Decimal(str(hours)) * 3600
    return int(seconds.to_integral_value())


def _instant(local, tz):
    """A naive local time as an aware UTC instant (skipped times move forward, repeated ones
    are their first occurrence: zoneinfo's fold=0)."""
    return local.replace(tzinfo=tz).astimezone(dt_timezone.utc)


def _local(instant, tz):
    return instant.astimezone(tz).replace(tzinfo=None)


def _window_instants(day, window, tz):
    midnight = datetime.combine(day, time.min)
    return (_instant(midnight + timedelta(seconds=window[0]), tz),
            _instant(midnight + timedelta(seconds=window[1]), tz))


def add_calendar_hours(start, hours, tz=None):
    """`hours` real hours after the naive local time `start` (around the clock)."""
    tz = tz or clock.timezone()
    return _local(_instant(start, tz) + timedelta(seconds=_seconds(hours)), tz)


def add_working_hours(start, hours, calendar):
    """The moment `hours` working hours after `start` (naive local times; rules in the
    module docstring). CalendarError when the calendar has no working time in SEARCH_DAYS."""
    remaining = _seconds(hours)
    if remaining <= 0:
        return start
    tz = calendar.zone()
    moment = _instant(start, tz)
    day = start.date()
    for _ in range(SEARCH_DAYS + 2):
        for window in calendar.windows(day):
            opens, closes = _window_instants(day, window, tz)
            begin = max(opens, moment)
            if begin >= closes:
                continue
            available = int((closes - begin).total_seconds())
            if remaining <= available:
                return _local(begin + timedelta(seconds=remaining), tz)
            remaining -= available
        day += timedelta(days=1)
    raise CalendarError(str(_l("The calendar has no working time in the %(days)d days after %(start)s.",
                               days=SEARCH_DAYS, start=f"{start:%Y-%m-%d %H:%M}")))


def working_seconds_between(a, b, calendar):
    """Working time in [a, b), in whole seconds; 0 when b is not after a."""
    if b <= a:
        return 0
    tz = calendar.zone()
    first, last = _instant(a, tz), _instant(b, tz)
    total = 0
    day = a.date()
    while day <= b.date():
        for window in calendar.windows(day):
            opens, closes = _window_instants(day, window, tz)
            overlap = (min(closes, last) - max(opens, first)).total_seconds()
            if overlap > 0:
                total += int(overlap)
        day += timedelta(days=1)
    return total


def working_hours_between(a, b, calendar):
    """Working hours in [a, b) as a float (0 when b is not after a). For any positive h,
    working_hours_between(s, add_working_hours(s, h, c), c) == h (to the second)."""
    return working_seconds_between(a, b, calendar) / 3600


# ------------------------------------------------------------------ stored calendars

def _hours_field(label, default):
    return CharField(max_length=100, default=default, verbose_name=label,
                     help_text=_l("e.g. 09:00-18:00, or 09:00-12:00, 13:30-18:00; empty: closed"))


class WorkCalendar(BaseModel):
    """工作日历: a branch's working hours (or the office's, without a branch), used by SLA
    policies that count working hours."""

    name = CharField(max_length=60, unique=True, verbose_name=_l("Name"))
    branch = ForeignKeyField(Branch, null=True, unique=True, backref="+", on_delete="CASCADE",
                             verbose_name=_l("Branch"),
                             help_text=_l("Empty: the office's calendar, followed by every branch without its own"))
    monday = _hours_field(_l("Monday"), OFFICE_HOURS)
    tuesday = _hours_field(_l("Tuesday"), OFFICE_HOURS)
    wednesday = _hours_field(_l("Wednesday"), OFFICE_HOURS)
    thursday = _hours_field(_l("Thursday"), OFFICE_HOURS)
    friday = _hours_field(_l("Friday"), OFFICE_HOURS)
    saturday = _hours_field(_l("Saturday"), "")
    sunday = _hours_field(_l("Sunday"), "")
    adjusted_hours = CharField(max_length=100, default=OFFICE_HOURS, verbose_name=_l("Adjusted working day hours"),
                               help_text=_l("Hours on a weekend day worked in exchange for a holiday (调休上班)"))
    public_holidays = BooleanField(default=True, verbose_name=_l("China's public holidays"),
                                   help_text=_l("Public holidays and adjusted working days from the State Council's "
                                                "schedule (chinese-calendar library), plus the days entered by hand"))

    class Meta:
        table_name = "work_calendar"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        """Every hours field reads as time ranges, some weekday has working hours, and there is
        one office calendar (the unique index cannot see two empty branches as the same)."""
        for name in WEEKDAYS + ["adjusted_hours"]:
            try:
                setattr(self, name, format_hours(parse_hours(getattr(self, name))))
            except CalendarError as exc:
                label = self._meta.fields[name].verbose_name
                raise CalendarError(f"{label}: {exc}") from None
        if not any(getattr(self, name) for name in WEEKDAYS):
            raise CalendarError(str(_l("A calendar needs working hours on at least one weekday.")))
        if self.branch_id is None:
            others = WorkCalendar.select().where(WorkCalendar.branch.is_null())
            if self.id is not None:
                others = others.where(WorkCalendar.id != self.id)
            if others.exists():
                raise CalendarError(str(_l("There is already an office calendar (one without a branch); "
                                           "choose a branch for this one.")))

    def working_time(self, tz=None):
        """This calendar with its hand-entered days, as a WorkingTime."""
        days = {}
        if self.public_holidays:
            for row in CalendarDay.select().where(CalendarDay.calendar.is_null()):
                days[row.day] = row.windows(self)
        if self.id is not None:
            for row in CalendarDay.select().where(CalendarDay.calendar == self.id):
                days[row.day] = row.windows(self)
        return WorkingTime(week=tuple(parse_hours(getattr(self, name)) for name in WEEKDAYS),
                           adjusted=parse_hours(self.adjusted_hours), days=days,
                           public_holidays=self.public_holidays, tz=tz)


class CalendarDay(BaseModel):
    """A day off or a working day entered by hand: for one calendar (a local holiday), or,
    without a calendar, for every calendar that follows China's public holidays (a year the
    library does not know yet, or a correction to it)."""

    calendar = ForeignKeyField(WorkCalendar, null=True, backref="days", on_delete="CASCADE",
                               verbose_name=_l("Calendar"),
                               help_text=_l("Empty: a national day, for every calendar that follows China's "
                                            "public holidays"))
    day = DateField(index=True, verbose_name=_l("Date"))
    kind = CharField(max_length=4, choices=DAY_KINDS, default="off", verbose_name=_l("Kind"))
    name = CharField(max_length=60, default="", verbose_name=_l("Name"),
                     help_text=_l("e.g. 国庆节, or 国庆节调休上班"))
    hours = CharField(max_length=100, default="", verbose_name=_l("Working hours"),
                      help_text=_l("A working day only; empty: the calendar's adjusted working day hours"))

    class Meta:
        table_name = "calendar_day"
        indexes = ((("calendar", "day"), True),)

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.name}".strip()

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)

    def validate(self):
        """A day is entered once per calendar (once nationally); hours only on a working day."""
        if self.day is None:
            raise CalendarError(str(_l("Enter the date.")))
        if self.kind not in dict(DAY_KINDS):
            raise CalendarError(str(_l("Choose whether the day is a day off or a working day.")))
        if self.kind == "off":
            self.hours = ""
        else:
            self.hours = format_hours(parse_hours(self.hours))
        same = CalendarDay.select().where(
            CalendarDay.day == self.day,
            CalendarDay.calendar.is_null() if self.calendar_id is None else CalendarDay.calendar == self.calendar_id)
        if self.id is not None:
            same = same.where(CalendarDay.id != self.id)
        if same.exists():
            raise CalendarError(str(_l("%(day)s is already entered for this calendar.", day=f"{self.day:%Y-%m-%d}")))

    def windows(self, calendar):
        """This day's working windows in `calendar` (a day off has none)."""
        if self.kind == "off":
            return ()
        return parse_hours(self.hours) if self.hours else parse_hours(calendar.adjusted_hours)


# ------------------------------------------------------------------ which calendar, which years

def office_calendar():
    """The office's calendar (the one without a branch), created with the standard hours
    (Monday to Friday 09:00-18:00, China's public holidays) the first time it is needed."""
    calendar = WorkCalendar.get_or_none(WorkCalendar.branch.is_null())
    if calendar is None:
        calendar = WorkCalendar(name=str(_l("Office calendar")))
        calendar.save()
    return calendar


def calendar_of_branch(branch_id):
    """The branch's own calendar, else the office's."""
    if branch_id is not None:
        own = WorkCalendar.get_or_none(WorkCalendar.branch == branch_id)
        if own is not None:
            return own
    return office_calendar()


def working_time_of_branch(branch_id, tz=None):
    """The WorkingTime deadlines of a branch's complaints are counted in."""
    return calendar_of_branch(branch_id).working_time(tz)


def year_status(year):
    """Where a year's public holidays come from: 'library', 'by hand' (national days entered
    for it) or 'missing' (weekends only: an administrator should enter the year)."""
    if year in _LIBRARY_YEARS:
        return "library"
    start, end = date(year, 1, 1), date(year, 12, 31)
    if CalendarDay.select().where(CalendarDay.calendar.is_null(), CalendarDay.day.between(start, end)).exists():
        return "by hand"
    return "missing"
