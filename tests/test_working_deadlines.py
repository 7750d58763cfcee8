"""SLA deadlines in working hours, through real complaints: an SLA policy that counts working
hours gives due times inside the branch's working calendar (Friday evening → Monday morning,
the National Day week, an adjusted Sunday), the alerts' 50 % / 80 % points and "15 min left" are
placed in the same working time, and due soon / overdue follow the stored due times.

Dates are the State Council's 2026 schedule as the chinese-calendar library has it: 10-01..10-07
off, Sunday 09-20 and Saturday 10-10 worked. Office hours: Monday to Friday 09:00-18:00.
"""
from datetime import datetime

import pytest

from admin.complaints import OverdueFilter
from models import Complaint, NotifyEvent, SlaPolicy, clock
from models.calendars import WorkCalendar
from models.notifications import alert_points, notify_rules, run_tick, stage_window

from .helpers import make_branch, make_complaint, make_customer, make_staff


def at(text):
    return datetime.fromisoformat(text)


def working_policy(**overrides):
    values = {"acknowledge_hours": 1, "result_hours": 24, "rectify_hours": 48, "callback_hours": 72,
              "hours_kind": "working", **overrides}
    policy = SlaPolicy(**values)
    policy.save()
    return policy


def received_at(customer, moment, **overrides):
    clock.freeze(at(moment))
    return make_complaint(customer, **overrides)


def due_times(complaint):
    complaint = Complaint.get_by_id(complaint.id)
    return [complaint.acknowledge_due_at, complaint.result_due_at, complaint.rectify_due_at,
            complaint.callback_due_at]


def test_the_policy_form_offers_calendar_or_working_hours(app, login_as):
    admin = login_as("admin")
    form = admin.get("/admin/slapolicy/new/").get_data(as_text=True)
    assert 'id="hours_kind"' in form and "工作时间" in form and "全天候" in form
    response = admin.post("/admin/slapolicy/new/", data={
        "severity": "__None", "customer_grade": "__None", "acknowledge_hours": "1", "result_hours": "24",
        "rectify_hours": "48", "callback_hours": "72", "hours_kind": "working"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert SlaPolicy.get().hours_kind == "working"
    listing = admin.get("/admin/slapolicy/").get_data(as_text=True)
    assert "按工作时间" in listing or "工作时间" in listing


def test_friday_1759_with_one_working_hour_is_due_monday_0959_through_the_complaint_form(app, office, login_as):
    with app.app_context():
        working_policy()
        customer = make_customer(office["branch"], name="周丽")
    clock.freeze(at("2026-11-20 17:59"))  # a Friday
    staff = login_as("staff")
    response = staff.post("/admin/complaint/new/", data={
        "customer": str(customer.id), "branch": str(office["branch"].id), "channel": "phone", "category": "attitude",
        "severity": "normal", "compensation": "none", "title": "客服热线：服务态度：接线员语气生硬",
        "first_responder": str(office["staff"].id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        complaint = Complaint.get()
        assert complaint.sla_hours_kind == "working"
        # 1 min on Friday + 59 on Monday; 24 h: 1 min + Monday 9 h + Tuesday 9 h + Wednesday 5 h 59 min;
        # 48 h: … + Thursday, Friday, Monday 2 h 59 min; 72 h: … + Tuesday, Wednesday 12-02 8 h 59 min
        assert due_times(complaint) == [at("2026-11-23 09:59"), at("2026-11-25 14:59"), at("2026-11-30 11:59"),
                                        at("2026-12-02 17:59")]
        assert complaint.due_at == at("2026-11-23 09:59")
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert 'id="working-hours"' in page and "按工作时间计时" in page and "11-23 09:59" in page

    # due soon and overdue compare the stored due time: not overdue over the weekend
    overdue = next(i for i, f in enumerate(next(v for v in app.extensions["admin"][0]._views
                                                if v.endpoint == "complaint")._filters)
                   if isinstance(f, OverdueFilter))
    clock.freeze(at("2026-11-21 12:00"))
    assert complaint.number not in staff.get(f"/admin/complaint/?flt0_{overdue}=1").get_data(as_text=True)
    clock.freeze(at("2026-11-23 10:00"))
    assert complaint.number in staff.get(f"/admin/complaint/?flt0_{overdue}=1").get_data(as_text=True)


def test_the_national_day_week_and_an_adjusted_sunday_in_real_deadlines(app, office):
    with app.app_context():
        working_policy()
        customer = make_customer(office["branch"])
        eve = received_at(customer, "2026-09-30 17:30")  # Wednesday before 10-01..10-07
        # 30 min on the 30th, then Thursday 10-08; 24 h: 0.5 + 9 (10-08) + 9 (10-09) + 5.5 on Saturday 10-10 (worked)
        assert due_times(eve)[:2] == [at("2026-10-08 09:30"), at("2026-10-10 14:30")]
        saturday = received_at(customer, "2026-09-19 20:00")  # the next day, Sunday 09-20, is worked
        assert due_times(saturday)[0] == at("2026-09-20 10:00")
        ordinary = received_at(customer, "2026-09-12 20:00")  # an ordinary Saturday: Monday 09-14
        assert due_times(ordinary)[0] == at("2026-09-14 10:00")


def test_a_branch_with_its_own_calendar_and_a_policy_in_calendar_hours(app, office):
    with app.app_context():
        working_policy()
        SlaPolicy.create(severity="critical", acknowledge_hours=1, result_hours=12, rectify_hours=24,
                         callback_hours=48)  # calendar hours, as before
        saturdays = make_branch("新疆分公司", region="新疆")
        make_staff(saturdays, "X0001", name="马超")
        WorkCalendar(name="新疆分公司日历", branch=saturdays, saturday="09:00-12:00").save()
        friday = "2026-11-20 17:59"
        at_office = received_at(make_customer(office["branch"]), friday)
        at_xinjiang = received_at(make_customer(saturdays), friday)
        critical = received_at(make_customer(office["branch"]), friday, severity="critical")
        assert due_times(at_office)[0] == at("2026-11-23 09:59")
        assert due_times(at_xinjiang)[0] == at("2026-11-21 09:59")  # its Saturday morning works
        assert due_times(critical)[0] == at("2026-11-20 18:59") and critical.sla_hours_kind == "calendar"
        # moving the complaint to the other branch recomputes the stages not yet done in its calendar
        moved = Complaint.get_by_id(at_office.id)
        moved.branch = saturdays
        moved.save()
        assert due_times(moved)[0] == at("2026-11-21 09:59")


def test_the_alert_points_count_working_time_like_the_deadline(app, office):
    with app.app_context():
        working_policy(acknowledge_hours=2)
        complaint = received_at(make_customer(office["branch"]), "2026-11-20 17:00")  # Friday
        assert due_times(complaint)[0] == at("2026-11-23 10:00")  # 1 h on Friday, 1 h on Monday
        window = stage_window(complaint, "acknowledged")
        # half the working time is used at Friday's closing, not on Sunday at 13:30 as around the clock
        assert window.at(0.5) == at("2026-11-20 18:00")
        assert window.at(0.8) == at("2026-11-23 09:36")
        assert window.before_due(15) == at("2026-11-23 09:45")
        marks = [(p.mark, p.at) for p in alert_points(complaint, notify_rules())[2] if p.kind == "due_soon"]
        assert marks == [("50%", at("2026-11-20 18:00")), ("80%", at("2026-11-23 09:36")),
                         ("15min", at("2026-11-23 09:45"))]

        def told():
            """The alerts written about the complaint: the due-soon points by their mark, and overdue."""
            keys = NotifyEvent.select(NotifyEvent.key).where(NotifyEvent.complaint == complaint.id).tuples()
            return sorted(key.split(":")[-1] or key.split(":")[0] for (key,) in keys)

        for moment, expected in [
                ("2026-11-20 17:59:59", []),
                ("2026-11-21 10:00", ["50%"]),  # Saturday: half the working time is gone
                ("2026-11-23 09:35:59", ["50%"]),
                ("2026-11-23 09:36", ["50%", "80%"]),
                ("2026-11-23 09:45", ["15min", "50%", "80%"]),
                ("2026-11-23 10:00:01", ["15min", "50%", "80%", "overdue"])]:
            clock.freeze(at(moment))
            run_tick()
            assert told() == expected, moment


def test_a_complaint_counted_around_the_clock_keeps_its_window_when_the_policy_changes(app, office):
    with app.app_context():
        complaint = received_at(make_customer(office["branch"]), "2026-11-20 17:00")
        assert complaint.sla_hours_kind == "calendar" and due_times(complaint)[0] == at("2026-11-20 18:00")
        working_policy()
        window = stage_window(Complaint.get_by_id(complaint.id), "acknowledged")
        assert window.at(0.5) == at("2026-11-20 17:30")  # as it was counted: around the clock


@pytest.fixture(autouse=True)
def _thaw():
    yield
    clock.freeze(None)
