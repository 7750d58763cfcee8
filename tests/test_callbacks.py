"""Callbacks 回访: the schedule (monthly in the first year after the first deal, quarterly after),
the callbacks-due page with a constant number of queries, and recording a scheduled callback."""
from datetime import date, datetime

import pytest

from models import Callback, History, clock
from models.complaints import add_months, callback_schedule, callbacks_due, next_callback_due
from models.workflow import WorkflowError, record_scheduled_callback

from .helpers import count_queries, make_customer

TODAY = datetime(2026, 7, 10, 9, 0)


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(date(2026, 1, 15), 1) == date(2026, 2, 15)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 5, 31), 12) == date(2027, 5, 31)


def test_schedule_is_monthly_for_a_year_then_quarterly():
    dates = callback_schedule(date(2025, 1, 15), until=date(2026, 12, 31))
    assert dates[:12] == [add_months(date(2025, 1, 15), m) for m in range(1, 13)]
    assert dates[0] == date(2025, 2, 15) and dates[11] == date(2026, 1, 15)
    assert dates[12:] == [date(2026, 4, 15), date(2026, 7, 15), date(2026, 10, 15)]
    assert callback_schedule(date(2025, 1, 15), until=date(2025, 2, 14)) == []
    assert callback_schedule(None, until=date(2030, 1, 1)) == []


def test_next_callback_due():
    deal = date(2026, 1, 10)
    assert next_callback_due(deal) == date(2026, 2, 10)
    assert next_callback_due(deal, date(2026, 2, 10)) == date(2026, 3, 10)
    # a call a few days early counts for that date; one far too early does not
    assert next_callback_due(deal, date(2026, 3, 5)) == date(2026, 4, 10)
    assert next_callback_due(deal, date(2026, 2, 20)) == date(2026, 3, 10)
    # after the first year: quarterly
    assert next_callback_due(deal, date(2027, 1, 10)) == date(2027, 4, 10)
    assert next_callback_due(deal, date(2027, 4, 12)) == date(2027, 7, 10)
    assert next_callback_due(None) is None


@pytest.fixture
def customers(app, office):
    clock.freeze(TODAY)
    branch = office["branch"]
    made = {
        # first year, monthly: due 2026-07-01, never called
        "never": make_customer(branch, name="从未回访", first_deal_date=date(2026, 6, 1), account_manager=office["staff"]),
        # called on 2026-06-05 for 06-05; next 07-05 is due
        "due": make_customer(branch, name="本月应回访", first_deal_date=date(2026, 2, 5)),
        # called 2026-07-08 for the 07-12 date (early): not due
        "early": make_customer(branch, name="已提前回访", first_deal_date=date(2026, 1, 12)),
        # second year, quarterly: last 2026-05-01, next 2026-08-01: not due today, due within 30 days
        "quarterly": make_customer(branch, name="季度回访", first_deal_date=date(2024, 11, 1)),
        "no_deal": make_customer(branch, name="未成交"),
        "churned": make_customer(branch, name="已流失", first_deal_date=date(2026, 1, 1), churned=True,
                                 churn_reason="price"),
    }
    for key, done in (("due", datetime(2026, 6, 5, 10)), ("early", datetime(2026, 7, 8, 15)),
                      ("quarterly", datetime(2026, 5, 1, 11))):
        Callback.create(customer=made[key], kind="scheduled", done_at=done, outcome="满意", satisfaction=5)
    # an after-complaint callback does not count as a scheduled one
    Callback.create(customer=made["never"], kind="complaint", done_at=datetime(2026, 7, 9), outcome="满意",
                    satisfaction=4)
    return made


def test_callbacks_due_lists_who_needs_a_call(customers):
    rows = callbacks_due(TODAY.date())
    assert [r["customer"].name for r in rows] == ["从未回访", "本月应回访"]
    never, due = rows
    assert (never["due_date"], never["days_overdue"], never["last_done"]) == (date(2026, 7, 1), 9, None)
    assert never["account_manager"].name == "王芳" and never["first_year"]
    assert (due["due_date"], due["last_done"]) == (date(2026, 7, 5), datetime(2026, 6, 5, 10))
    within_month = callbacks_due(TODAY.date(), horizon_days=30)
    assert [r["customer"].name for r in within_month] == ["从未回访", "本月应回访", "季度回访"]
    assert within_month[2]["due_date"] == date(2026, 8, 1) and not within_month[2]["first_year"]


def test_callbacks_due_uses_a_constant_number_of_queries(app, office, customers):
    with count_queries() as few:
        callbacks_due(TODAY.date())
    for i in range(15):
        make_customer(office["branch"], name=f"客户{i}", first_deal_date=date(2026, 1, 1 + i),
                      account_manager=office["other"])
    with count_queries() as many:
        assert len(callbacks_due(TODAY.date())) == 17
    assert many.count == few.count == 2


def test_recording_a_scheduled_callback(office, customers):
    with pytest.raises(WorkflowError, match="what the customer said"):
        record_scheduled_callback(customers["never"], office["users"]["staff"], outcome=" ")
    with pytest.raises(WorkflowError, match="between 1 and 5"):
        record_scheduled_callback(customers["never"], office["users"]["staff"], outcome="好", satisfaction="9")
    callback = record_scheduled_callback(customers["never"], office["users"]["staff"], due_date=date(2026, 7, 1),
                                         outcome="客户满意", satisfaction="4", channel="visit")
    assert (callback.kind, callback.staff_id, callback.done_at, callback.satisfaction) == (
        "scheduled", office["staff"].id, TODAY, 4)
    assert History.get(History.object_type == "Callback").username == "staff"
    assert [r["customer"].name for r in callbacks_due(TODAY.date())] == ["本月应回访"]


def test_callbacks_due_page(app, login_as, customers):
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    page = staff.get("/admin/callbacks-due/").get_data(as_text=True)
    assert "从未回访" in page and "本月应回访" in page and "季度回访" not in page and "已流失" not in page
    assert "9 days overdue" in page
    assert "季度回访" in staff.get("/admin/callbacks-due/?days=30").get_data(as_text=True)
    customer = customers["due"]
    response = staff.post("/admin/callbacks-due/", {"customer": customer.id, "due_date": "2026-07-05",
                                                    "channel": "phone", "satisfaction": "", "outcome": ""})
    assert response.status_code == 200
    assert "what the customer said" in response.get_data(as_text=True)
    assert Callback.select().where(Callback.customer == customer.id).count() == 1
    response = staff.post("/admin/callbacks-due/", {"customer": customer.id, "due_date": "2026-07-05",
                                                    "channel": "phone", "satisfaction": "5", "outcome": "很满意"})
    assert response.status_code == 302
    assert Callback.select().where(Callback.customer == customer.id).count() == 2
    page = staff.get("/admin/callbacks-due/").get_data(as_text=True)
    assert "Callback to 本月应回访 recorded." in page  # the confirmation, then the table without them
    table = page[page.index('id="callbacks-due"'):]
    assert "本月应回访" not in table and "从未回访" in table


def test_callbacks_due_needs_login(client, customers):
    assert client.get("/admin/callbacks-due/").status_code == 302
