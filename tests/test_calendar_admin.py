"""System → working calendars and holidays: an administrator keeps the office's hours and
enters a holiday year by hand; nobody else may."""
from datetime import date, datetime

from models import History, SlaPolicy, clock
from models.calendars import CalendarDay, WorkCalendar, library_years


def test_only_the_administrator_opens_the_calendar_pages(login_as):
    for role in ("staff", "manager"):
        client = login_as(role)
        for url in ("/admin/workcalendar/", "/admin/calendarday/", "/admin/calendarday/new/"):
            assert client.get(url).status_code == 403, (role, url)
    admin = login_as("admin")
    assert admin.get("/admin/calendarday/new/").status_code == 200


def test_the_office_calendar_is_listed_and_a_missing_year_is_pointed_out(login_as, app):
    admin = login_as("admin")
    admin.http.set_cookie("lang", "en")
    page = admin.get("/admin/workcalendar/").get_data(as_text=True)
    assert "Office calendar" in page and "09:00-18:00" in page
    with app.app_context():
        assert WorkCalendar.select().count() == 1
    late = max(library_years()) + 1
    clock.freeze(datetime(late - 1, 11, 20, 10, 0))
    page = admin.get("/admin/calendarday/").get_data(as_text=True)
    assert f"{late}: not yet in the holiday library" in page


def test_a_holiday_week_is_entered_as_one_range_with_history(login_as, app):
    admin = login_as("admin")
    year = max(library_years()) + 1
    response = admin.post("/admin/calendarday/new/", {
        "day": f"{year}-10-01", "until": f"{year}-10-07", "kind": "off", "name": "国庆节", "hours": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        days = [row.day for row in CalendarDay.select().order_by(CalendarDay.day)]
        assert days == [date(year, 10, d) for d in range(1, 8)]
        assert all(row.calendar_id is None and row.name == "国庆节" for row in CalendarDay.select())
        assert History.select().where(History.object_type == "CalendarDay", History.action == "create").count() == 7
    # the same range again: refused as a whole, with the reason, nothing added
    response = admin.post("/admin/calendarday/new/", {
        "day": f"{year}-10-05", "until": f"{year}-10-09", "kind": "off", "name": "国庆节"})
    assert response.status_code == 200
    with app.app_context():
        assert CalendarDay.select().count() == 7
    # a range the wrong way round, or too long
    for until in (f"{year}-09-01", f"{year}-12-31"):
        response = admin.post("/admin/calendarday/new/", {"day": f"{year}-11-01", "until": until, "kind": "off",
                                                          "name": "错误"})
        assert response.status_code == 200
    with app.app_context():
        assert CalendarDay.select().count() == 7


def test_bad_hours_are_refused_in_the_form_and_good_ones_are_kept_tidy(login_as, app, office):
    admin = login_as("admin")
    assert admin.get("/admin/workcalendar/").status_code == 200  # creates the office's calendar
    form = {"name": "江苏日历", "branch": str(office["branch"].id), "monday": "九点到六点", "tuesday": "09:00-18:00",
            "wednesday": "", "thursday": "", "friday": "", "saturday": "", "sunday": "",
            "adjusted_hours": "09:00-18:00", "public_holidays": "y"}
    response = admin.post("/admin/workcalendar/new/", form)
    assert response.status_code == 200 and "九点到六点" in response.get_data(as_text=True)
    with app.app_context():
        assert WorkCalendar.select().count() == 1
    response = admin.post("/admin/workcalendar/new/", {**form, "monday": "8:30 - 12:00，13:30-17:30"})
    assert response.status_code == 302
    with app.app_context():
        saved = WorkCalendar.get(WorkCalendar.name == "江苏日历")
        assert saved.monday == "08:30-12:00, 13:30-17:30" and saved.branch_id == office["branch"].id


def test_sla_policies_count_calendar_hours_unless_told_otherwise(app):
    with app.app_context():
        policy = SlaPolicy.create(severity="high", acknowledge_hours=1, result_hours=8, rectify_hours=16,
                                  callback_hours=24)
        assert SlaPolicy.get_by_id(policy.id).hours_kind == "calendar"  # today's behaviour stays the default
        policy.hours_kind = "working"
        policy.save()
        assert SlaPolicy.get_by_id(policy.id).hours_kind == "working"
