"""Working-time calendars: deadlines in working hours around weekends, China's public
holidays and adjusted working days (调休), days entered by hand, and time zones.

The 2026 dates are the State Council's schedule as the chinese-calendar library has it:
National Day 2026-10-01..07 off, Sunday 2026-09-20 and Saturday 2026-10-10 worked.
"""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from models import clock
from models.calendars import (CalendarDay, CalendarError, WorkCalendar, WorkingTime, add_calendar_hours,
                              add_working_hours, calendar_of_branch, library_years, office_calendar,
                              parse_hours, standard_working_time, working_hours_between, year_status)

from .helpers import make_branch

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def at(text):
    return datetime.fromisoformat(text)


@pytest.fixture
def office_hours():
    return standard_working_time(tz=SHANGHAI)


# ------------------------------------------------------------------ the boundary cases of the issue

def test_received_friday_1759_with_one_working_hour_is_due_monday_0959(office_hours):
    friday = at("2026-11-20 17:59")
    assert friday.strftime("%A") == "Friday"
    assert add_working_hours(friday, 1, office_hours) == at("2026-11-23 09:59")
    assert working_hours_between(friday, at("2026-11-23 09:59"), office_hours) == 1


def test_hours_ending_at_closing_time_are_due_at_closing_not_next_morning(office_hours):
    assert add_working_hours(at("2026-11-20 17:00"), 1, office_hours) == at("2026-11-20 18:00")
    assert add_working_hours(at("2026-11-20 09:00"), 9, office_hours) == at("2026-11-20 18:00")
    # received at closing time: the count starts at the next opening
    assert add_working_hours(at("2026-11-20 18:00"), 0.5, office_hours) == at("2026-11-23 09:30")
    # received before opening
    assert add_working_hours(at("2026-11-23 06:12"), 1.25, office_hours) == at("2026-11-23 10:15")


def test_on_the_eve_of_national_day_the_holiday_week_does_not_count(office_hours):
    eve = at("2026-09-30 17:30")  # Wednesday; 10-01..10-07 off
    assert add_working_hours(eve, 1, office_hours) == at("2026-10-08 09:30")
    # 24 h: 8 h on the 30th (10:00-18:00), 9 h on Thursday 10-08, 7 h on Friday 10-09
    assert add_working_hours(at("2026-09-30 10:00"), 24, office_hours) == at("2026-10-09 16:00")
    # 48 h: ... 9 h on Saturday 10-10 (调休上班), 9 h on Monday 10-12, 4 h on Tuesday 10-13
    assert add_working_hours(at("2026-09-30 10:00"), 48, office_hours) == at("2026-10-13 13:00")
    assert working_hours_between(at("2026-09-30 18:00"), at("2026-10-08 09:00"), office_hours) == 0


def test_an_adjusted_sunday_is_a_working_day_an_ordinary_sunday_is_not(office_hours):
    adjusted_sunday = at("2026-09-20 10:00")
    assert adjusted_sunday.strftime("%A") == "Sunday"
    assert add_working_hours(adjusted_sunday, 1, office_hours) == at("2026-09-20 11:00")
    # received on the Saturday before it: the count starts on that Sunday morning
    assert add_working_hours(at("2026-09-19 12:00"), 1, office_hours) == at("2026-09-20 10:00")
    # an ordinary Sunday waits for Monday
    assert add_working_hours(at("2026-09-27 10:00"), 1, office_hours) == at("2026-09-28 10:00")


def test_calendar_hours_in_shanghai_are_wall_clock_hours():
    """Asia/Shanghai has no daylight saving: 72 calendar hours are three days on the clock."""
    start = at("2026-09-30 17:30")
    assert add_calendar_hours(start, 72, SHANGHAI) == at("2026-10-03 17:30")
    assert add_calendar_hours(start, 1.5, SHANGHAI) == at("2026-09-30 19:00")


def test_a_daylight_saving_zone_counts_real_hours():
    """Decision: an SLA hour is a real hour. In America/New_York the clock jumps 02:00→03:00
    on 2026-03-08 and 02:00→01:00 on 2026-11-01; naive wall-clock arithmetic would give a
    deadline one hour late (March) or early (November)."""
    assert add_calendar_hours(at("2026-03-07 12:00"), 24, NEW_YORK) == at("2026-03-08 13:00")
    assert add_calendar_hours(at("2026-10-31 12:00"), 24, NEW_YORK) == at("2026-11-01 11:00")
    around_the_clock = WorkingTime(week=(parse_hours("00:00-24:00"),) * 7, public_holidays=False, tz=NEW_YORK)
    assert working_hours_between(at("2026-03-08 00:00"), at("2026-03-09 00:00"), around_the_clock) == 23
    assert working_hours_between(at("2026-11-01 00:00"), at("2026-11-02 00:00"), around_the_clock) == 25
    assert add_working_hours(at("2026-03-08 00:00"), 24, around_the_clock) == at("2026-03-09 01:00")
    # office hours are not touched by a change at night: Friday 17:59 + 1 h is still Monday 09:59
    office = standard_working_time(public_holidays=False, tz=NEW_YORK)
    assert add_working_hours(at("2026-03-06 17:59"), 1, office) == at("2026-03-09 09:59")


def test_the_office_clock_zone_is_used_when_the_calendar_names_none(app):
    calendar = standard_working_time(public_holidays=False)  # tz=None: clock.timezone()
    with app.app_context():
        clock.set_timezone("America/New_York")
        try:
            assert add_calendar_hours(at("2026-03-07 12:00"), 24) == at("2026-03-08 13:00")
            assert add_working_hours(at("2026-03-06 17:59"), 1, calendar) == at("2026-03-09 09:59")
        finally:
            clock.set_timezone(app.config["TIMEZONE"])
        assert add_calendar_hours(at("2026-03-07 12:00"), 24) == at("2026-03-08 12:00")


# ------------------------------------------------------------------ counting rules

def test_lunch_break_is_not_counted():
    calendar = WorkingTime(week=(parse_hours("09:00-12:00, 13:30-18:00"),) * 5 + ((), ()), public_holidays=False,
                           tz=SHANGHAI)
    assert add_working_hours(at("2026-11-23 11:30"), 1, calendar) == at("2026-11-23 14:00")
    assert add_working_hours(at("2026-11-23 12:00"), 1, calendar) == at("2026-11-23 14:30")
    assert add_working_hours(at("2026-11-23 11:00"), 1, calendar) == at("2026-11-23 12:00")
    assert working_hours_between(at("2026-11-23 00:00"), at("2026-11-24 00:00"), calendar) == 7.5


def test_working_hours_between_inverts_add_working_hours(office_hours):
    starts = [at("2026-09-18 17:59"), at("2026-09-19 03:00"), at("2026-09-30 12:34:56"), at("2026-12-31 17:00"),
              at("2026-02-13 18:30")]
    for start in starts:
        for hours in (0.01, 1, 2.5, 24, 48, 72):
            due = add_working_hours(start, hours, office_hours)
            assert due > start
            assert round(working_hours_between(start, due, office_hours) * 3600) == round(hours * 3600), (start, hours)


def test_zero_hours_is_the_start_itself_and_an_empty_week_is_refused(office_hours):
    assert add_working_hours(at("2026-11-21 10:00"), 0, office_hours) == at("2026-11-21 10:00")
    closed = WorkingTime(week=((),) * 7, public_holidays=False, tz=SHANGHAI)
    with pytest.raises(CalendarError):
        closed.check()
    with pytest.raises(CalendarError):
        add_working_hours(at("2026-11-21 10:00"), 1, closed)


@pytest.mark.parametrize("text, windows", [
    ("09:00-18:00", ((32400, 64800),)),
    ("13:30-18:00, 09:00-12:00", ((32400, 43200), (48600, 64800))),
    ("9:00 - 12:00，13:30—18:00", ((32400, 43200), (48600, 64800))),
    ("08：30至17：30", ((30600, 63000),)),
    ("22:00-24:00", ((79200, 86400),)),
    ("", ()),
])
def test_hours_are_read_in_the_ways_an_office_writes_them(text, windows):
    assert parse_hours(text) == windows


@pytest.mark.parametrize("text", ["9-18", "09:00-25:00", "18:00-09:00", "09:00-12:00, 11:00-13:00", "09:60-10:00",
                                  "午饭后", "24:30-24:40"])
def test_nonsense_hours_are_refused(text):
    with pytest.raises(CalendarError):
        parse_hours(text)


def test_the_library_knows_2026_and_a_missing_year_counts_weekends_only(office_hours):
    assert 2026 in library_years()
    year = max(library_years()) + 1
    # no holiday known for that year: New Year's Day is counted as a working day
    new_year = datetime(year, 1, 1, 9, 0)
    if new_year.weekday() < 5:
        assert add_working_hours(new_year, 1, office_hours) == datetime(year, 1, 1, 10, 0)


# ------------------------------------------------------------------ stored calendars and days entered by hand

def test_a_year_entered_by_hand_is_followed_by_every_calendar_with_public_holidays(app):
    year = max(library_years()) + 1
    with app.app_context():
        branch = make_branch()
        assert year_status(year) == "missing"
        assert year_status(2026) == "library"
        for day in range(1, 8):
            CalendarDay.create(day=date(year, 10, day), kind="off", name="国庆节")
        saturday = next(date(year, 9, d) for d in range(20, 31) if date(year, 9, d).weekday() == 5)
        CalendarDay.create(day=saturday, kind="work", name="国庆节调休上班")
        assert year_status(year) == "by hand"
        calendar = calendar_of_branch(branch.id).working_time(SHANGHAI)
        eve = datetime(year, 9, 30, 17, 30)
        if eve.weekday() < 5:
            assert add_working_hours(eve, 1, calendar).date() > date(year, 10, 7)
        assert add_working_hours(datetime.combine(saturday, datetime.min.time()), 1, calendar) == \
            datetime.combine(saturday, datetime.min.time()).replace(hour=10)


def test_a_branch_calendar_with_a_local_holiday_and_its_own_hours(app):
    with app.app_context():
        xinjiang = make_branch("新疆分公司", region="新疆", city="乌鲁木齐")
        other = make_branch("甘宁分公司", region="甘宁", city="兰州")
        local = WorkCalendar.create(name="新疆工作日历", branch=xinjiang, monday="10:00-19:00", tuesday="10:00-19:00",
                                    wednesday="10:00-19:00", thursday="10:00-19:00", friday="10:00-19:00",
                                    adjusted_hours="10:00-19:00")
        CalendarDay.create(calendar=local, day=date(2026, 5, 27), kind="off", name="古尔邦节")
        assert calendar_of_branch(xinjiang.id) == local
        assert calendar_of_branch(other.id) == office_calendar()
        assert calendar_of_branch(None) == office_calendar()
        assert WorkCalendar.select().count() == 2  # the office's was made once, on first need
        xj = calendar_of_branch(xinjiang.id).working_time(SHANGHAI)
        gn = calendar_of_branch(other.id).working_time(SHANGHAI)
        tuesday_evening = at("2026-05-26 18:30")
        assert add_working_hours(tuesday_evening, 1, gn) == at("2026-05-27 10:00")
        assert add_working_hours(tuesday_evening, 1, xj) == at("2026-05-28 10:30")  # 18:30-19:00, then Thursday
        # the adjusted Saturday keeps the branch's own hours
        assert add_working_hours(at("2026-10-10 09:00"), 1, xj) == at("2026-10-10 11:00")


def test_stored_calendars_refuse_bad_hours_a_second_office_calendar_and_a_day_twice(app):
    with app.app_context():
        office_calendar()
        with pytest.raises(CalendarError, match="全公司日历"):  # the office speaks Chinese
            WorkCalendar.create(name="第二个")
        with pytest.raises(CalendarError):
            WorkCalendar.create(name="坏", branch=make_branch(), monday="九点到六点")
        with pytest.raises(CalendarError):
            WorkCalendar.create(name="全关", branch=make_branch("甘宁分公司"), **{d: "" for d in (
                "monday", "tuesday", "wednesday", "thursday", "friday")})
        CalendarDay.create(day=date(2030, 1, 1), kind="off", name="元旦")
        with pytest.raises(CalendarError, match="已在该日历中录入过"):
            CalendarDay.create(day=date(2030, 1, 1), kind="off", name="元旦")
        saved = WorkCalendar.get(WorkCalendar.branch.is_null())
        saved.monday = "9:00 - 12:00，13:30-18:00"
        saved.save()
        assert WorkCalendar.get_by_id(saved.id).monday == "09:00-12:00, 13:30-18:00"
