"""Domain rules that used to live in views or nowhere, now in models/ (issue 11): the stage
table drives the deadlines, a correction of severity or customer recomputes the open deadlines,
a cash bonus needs an amount, callback satisfaction needs a done time, a service star must be a
candidate, a big customer is a VIP."""
from datetime import datetime, timedelta

import pytest

from models import Callback, Complaint, Customer, History, RewardPenalty, SlaPolicy, clock
from models.complaints import (DEFAULT_SLA_HOURS, FINAL_STAGE, STAGE_TABLE, STAGES, TIMED_STAGES, SlaPolicy as Policy,
                               sla_hours)
from models.i18n import _l
from models.workflow import STAGE_FLOW, TRANSITIONS, complete_stage

from .helpers import make_complaint, make_customer

RECEIVED = datetime(2026, 11, 24, 9, 0)


@pytest.fixture
def frozen(app):
    clock.freeze(RECEIVED)
    with app.app_context():
        yield app


@pytest.fixture
def frozen_web(app):
    """The clock pinned, no app context held (each request gets its own, with its language)."""
    clock.freeze(RECEIVED)
    return app


def test_one_stage_table_drives_choices_workflow_policy_and_defaults():
    assert [code for code, _label in STAGES] == [stage.code for stage in STAGE_TABLE] == [s.code for s in STAGE_FLOW]
    assert TRANSITIONS == {a.code: b.code for a, b in zip(STAGE_TABLE, STAGE_TABLE[1:])}
    assert FINAL_STAGE == "closed" and FINAL_STAGE not in TRANSITIONS
    assert DEFAULT_SLA_HOURS == {"acknowledged": 1, "resolved": 24, "rectified": 48, "called_back": 72}
    for stage in STAGE_TABLE:
        assert stage.done_field in Complaint._meta.fields
        if stage.timed:
            assert stage.due_field in Complaint._meta.fields
            assert Policy._meta.fields[stage.policy_field].default == stage.default_hours
    assert [s.code for s in TIMED_STAGES] == ["acknowledged", "resolved", "rectified", "called_back"]


def test_deadlines_come_from_the_table_and_the_policy(frozen, office):
    complaint = make_complaint(make_customer(office["branch"]))
    for stage in TIMED_STAGES:
        assert getattr(complaint, stage.due_field) == RECEIVED + timedelta(hours=stage.default_hours)
    assert complaint.due_at == complaint.acknowledge_due_at
    SlaPolicy.create(severity="critical", acknowledge_hours=0.5, result_hours=12, rectify_hours=24, callback_hours=48)
    assert sla_hours("critical", "regular") == {"acknowledged": 0.5, "resolved": 12.0, "rectified": 24.0,
                                                "called_back": 48.0}


def test_correcting_severity_recomputes_the_deadlines_of_stages_not_done(frozen, office):
    SlaPolicy.create(severity="critical", acknowledge_hours=0.5, result_hours=12, rectify_hours=24, callback_hours=48)
    complaint = make_complaint(make_customer(office["branch"]))
    clock.freeze(RECEIVED + timedelta(minutes=50))
    complete_stage(complaint, "acknowledged", None, apology_note="致歉", director_notified=True)  # on time (1 h)
    complaint = Complaint.get_by_id(complaint.id)
    complaint.severity = "critical"
    complaint.save()
    stored = Complaint.get_by_id(complaint.id)
    # done: keeps the due time it was judged against (still on time, no breach appears)
    assert stored.acknowledge_due_at == RECEIVED + timedelta(hours=1)
    # not done: the critical policy from receipt
    assert (stored.result_due_at, stored.rectify_due_at, stored.callback_due_at) == (
        RECEIVED + timedelta(hours=12), RECEIVED + timedelta(hours=24), RECEIVED + timedelta(hours=48))
    assert stored.due_at == stored.result_due_at
    assert not History.select().where(History.action == "breach").exists()


def test_correcting_the_customer_follows_the_new_customers_grade(frozen, office):
    SlaPolicy.create(customer_grade="vip", acknowledge_hours=0.25, result_hours=6, rectify_hours=12, callback_hours=24)
    complaint = make_complaint(make_customer(office["branch"]))
    assert complaint.due_at == RECEIVED + timedelta(hours=1)
    complaint.customer = make_customer(office["branch"], name="大客户", grade="vip")
    complaint.save()
    assert Complaint.get_by_id(complaint.id).due_at == RECEIVED + timedelta(minutes=15)
    # other edits keep the deadlines even when the policy changed meanwhile
    SlaPolicy.update(acknowledge_hours=5).execute()
    complaint.title = "更正标题：上门迟到"
    complaint.save()
    assert Complaint.get_by_id(complaint.id).due_at == RECEIVED + timedelta(minutes=15)


def test_the_admin_edit_records_the_new_deadlines_in_history(frozen_web, manager, office):
    with frozen_web.app_context():
        SlaPolicy.create(severity="high", acknowledge_hours=0.5, result_hours=12, rectify_hours=24,
                         callback_hours=48)
        customer = make_customer(office["branch"])
        complaint = make_complaint(customer)
    response = manager.post(f"/admin/complaint/edit/?id={complaint.id}", {
        "title": complaint.title, "customer": customer.id, "branch": office["branch"].id, "channel": "phone",
        "category": "other", "severity": "high", "description": "", "compensation": "none"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with frozen_web.app_context():
        assert Complaint.get_by_id(complaint.id).due_at == RECEIVED + timedelta(minutes=30)
        changed = {row.field for row in History.select().where(History.object_id == complaint.id,
                                                                 History.action == "update")}
    assert {"severity", "due_at", "acknowledge_due_at", "result_due_at"} <= changed


def test_is_open_is_one_rule(frozen, office):
    complaint = make_complaint(make_customer(office["branch"]))
    assert complaint.is_open and Complaint.open().where(Complaint.id == complaint.id).exists()
    Complaint.update(stage=FINAL_STAGE).where(Complaint.id == complaint.id).execute()
    closed = Complaint.get_by_id(complaint.id)
    assert not closed.is_open and not Complaint.open().where(Complaint.id == complaint.id).exists()
    assert not Complaint.overdue(RECEIVED + timedelta(days=9)).where(Complaint.id == complaint.id).exists()


# ---------------------------------------------------------------- recognition and callbacks

def test_a_cash_bonus_needs_an_amount_and_leave_needs_days(frozen, office):
    no_amount, no_days = str(_l("A cash bonus needs an amount.")), str(_l("Extra leave needs a number of days."))
    for values, message in (({"kind": "cash"}, no_amount), ({"kind": "cash", "amount": 0}, no_amount),
                            ({"kind": "leave"}, no_days), ({"kind": "leave", "leave_days": 0}, no_days)):
        with pytest.raises(ValueError) as refused:
            RewardPenalty.create(staff=office["staff"], reason="表扬", **values)
        assert str(refused.value) == message
    RewardPenalty.create(staff=office["staff"], kind="cash", amount=500, reason="表扬")
    RewardPenalty.create(staff=office["staff"], kind="verbal_warning", reason="迟到")
    assert RewardPenalty.select().count() == 2


def test_the_reward_form_shows_the_rule_and_keeps_the_input(frozen_web, manager, office):
    response = manager.post("/admin/rewardpenalty/new/", {"staff": office["staff"].id, "kind": "cash",
                                                         "reason": "连续零投诉", "decided_on": "2026-11-24"})
    assert response.status_code == 200 and "A cash bonus needs an amount." in response.get_data(as_text=True)
    assert "连续零投诉" in response.get_data(as_text=True)  # what was typed is still in the form
    with frozen_web.app_context():
        assert RewardPenalty.select().count() == 0


def test_callback_satisfaction_needs_a_done_time(frozen, office):
    customer = make_customer(office["branch"])
    with pytest.raises(ValueError) as refused:
        Callback.create(customer=customer, satisfaction=4)
    assert str(refused.value) == str(_l("A callback with a satisfaction needs the time it was done."))
    Callback.create(customer=customer, satisfaction=4, done_at=RECEIVED)
    Callback.create(customer=customer)  # planned, not done, no satisfaction yet
    assert Callback.select().count() == 2


# ---------------------------------------------------------------- big customers

def test_a_monthly_spend_of_2000_makes_a_big_customer(frozen, office):
    assert make_customer(office["branch"], monthly_spend=2000).grade == "vip"
    assert make_customer(office["branch"], monthly_spend=1999.99).grade == "regular"
    assert make_customer(office["branch"], monthly_spend=5000, grade="internal").grade == "internal"
    vip = make_customer(office["branch"], grade="vip", monthly_spend=100)  # VIP for other reasons: kept
    assert Customer.get_by_id(vip.id).grade == "vip"
