"""The complaint stages: order, deliverables, deadlines from the SLA policy, breaches at the boundary."""
from datetime import date, datetime, timedelta

import pytest

from models import Callback, Complaint, History, Rectification, SlaPolicy, clock
from models.workflow import (STAGE_FLOW, TRANSITIONS, WorkflowError, complete_stage, due_soon, escalate, overdue,
                             stage_progress)

from .helpers import make_complaint, make_customer

T0 = datetime(2026, 3, 2, 9, 0, 0)

WORKSHEET = {
    "problem_description": "维修人员上门态度冷淡，客户不满。",
    "cause_analysis": "维修人员未按服务规范向客户解释故障原因。",
    "immediate_measures": "当日由班组长重新上门并当面致歉。",
    "accountability": "维修人员书面检讨，班组长扣当月绩效。",
    "long_term_measures": "全员服务规范培训，每月抽查上门服务录音。",
    "effect_confirmation": "责任单位反馈：客户对整改结果满意。",
    "promised_date": date(2026, 3, 20),
}
DELIVERABLES = {
    "acknowledged": {"apology_note": "已电话致歉。", "director_notified": True},
    "resolved": {"result_text": "已重新上门处理，客户认可。"},
    "rectified": WORKSHEET,
    "called_back": {"satisfaction": 4, "outcome": "客户表示满意。", "channel": "phone"},
    "closed": {"closing_note": "发出单位确认整改有效。"},
}


@pytest.fixture
def complaint(app, office):
    with app.app_context():
        clock.freeze(T0)
        customer = make_customer(office["branch"], grade="regular")
        return make_complaint(customer, severity="normal", responsible_staff=office["staff"])


def _history(complaint, action=None):
    query = History.select().where(History.object_type == "Complaint", History.object_id == complaint.id)
    if action:
        query = query.where(History.action == action)
    return list(query.order_by(History.id))


def _advance_to(complaint, target, user=None, verifier=None):
    for stage in [s.code for s in STAGE_FLOW[1:]]:
        extra = {"verifier": verifier} if stage == "closed" else {}
        complete_stage(complaint, stage, user, **DELIVERABLES[stage], **extra)
        if stage == target:
            return


def test_default_deadlines_count_from_receipt(complaint):
    assert complaint.stage == "received"
    assert complaint.acknowledge_due_at == T0 + timedelta(hours=1)
    assert complaint.result_due_at == T0 + timedelta(hours=24)
    assert complaint.rectify_due_at == T0 + timedelta(hours=48)
    assert complaint.callback_due_at == T0 + timedelta(hours=72)
    assert complaint.due_at == complaint.acknowledge_due_at


def test_transitions_are_data_in_order():
    assert TRANSITIONS == {"received": "acknowledged", "acknowledged": "resolved", "resolved": "rectified",
                           "rectified": "called_back", "called_back": "closed"}


def test_receipt_to_closure_on_time(app, office, complaint):
    user = office["users"]["staff"]
    steps = [("acknowledged", 30, "result_due_at"), ("resolved", 60 * 20, "rectify_due_at"),
             ("rectified", 60 * 40, "callback_due_at"), ("called_back", 60 * 70, None),
             ("closed", 60 * 100, None)]
    for stage, minutes, next_due in steps:
        clock.freeze(T0 + timedelta(minutes=minutes))
        extra = {"verifier": office["other"].id} if stage == "closed" else {}
        assert complete_stage(complaint, stage, user, **DELIVERABLES[stage], **extra) is True
        stored = Complaint.get_by_id(complaint.id)
        assert stored.stage == stage
        assert stored.due_at == (getattr(stored, next_due) if next_due else None)
    stored = Complaint.get_by_id(complaint.id)
    assert stored.acknowledged_at == T0 + timedelta(minutes=30)
    assert stored.apology_note == "已电话致歉。" and stored.director_notified
    assert stored.result_text == "已重新上门处理，客户认可。"
    assert stored.closed_at == T0 + timedelta(minutes=6000)
    worksheet = Rectification.get(Rectification.complaint == complaint.id)
    assert worksheet.cause_analysis == WORKSHEET["cause_analysis"]
    assert worksheet.verifier_id == office["other"].id and worksheet.verified_at == stored.closed_at
    callback = Callback.get(Callback.complaint == complaint.id)
    assert (callback.kind, callback.satisfaction, callback.staff_id) == ("complaint", 4, office["staff"].id)
    stage_rows = _history(complaint, "stage")
    assert [(r.old_value, r.new_value) for r in stage_rows] == [
        ("received", "acknowledged"), ("acknowledged", "resolved"), ("resolved", "rectified"),
        ("rectified", "called_back"), ("called_back", "closed")]
    assert all(r.username == "staff" for r in stage_rows)
    assert _history(complaint, "breach") == []
    deadline_rows = [r for r in _history(complaint, "update") if r.field == "due_at"]
    assert len(deadline_rows) == 4  # the last one clears the deadline: closing has none
    assert deadline_rows[-1].new_value == ""
    assert deadline_rows[0].old_value == str(T0 + timedelta(hours=1))
    assert deadline_rows[0].new_value == str(T0 + timedelta(hours=24))
    assert all(row["state"] == "done" for row in stage_progress(stored)[1:])


@pytest.mark.parametrize("stage, missing, message", [
    ("acknowledged", {"apology_note": "  "}, "apology"),
    ("acknowledged", {"director_notified": False}, "service director"),
    ("resolved", {"result_text": ""}, "handling result"),
    ("rectified", {"cause_analysis": ""}, "2. Cause analysis"),
    ("rectified", {"accountability": ""}, "3. Immediate measures (2): accountability"),
    ("rectified", {"effect_confirmation": " "}, "5. Effect confirmation"),
    ("rectified", {"promised_date": None}, "promised completion date"),
    ("rectified", {"promised_date": date(2026, 1, 1)}, "cannot be before"),
    ("called_back", {"satisfaction": None}, "satisfaction"),
    ("called_back", {"satisfaction": 7}, "satisfaction"),
    ("called_back", {"outcome": ""}, "what the customer said"),
    ("called_back", {"channel": "pigeon"}, "how the customer was called back"),
    ("closed", {"closing_note": ""}, "confirmed the effect"),
])
def test_stage_refused_without_its_deliverable(app, office, complaint, stage, missing, message):
    previous = [s.code for s in STAGE_FLOW][[s.code for s in STAGE_FLOW].index(stage) - 1]
    _advance_to(complaint, previous, verifier=office["staff"].id) if previous != "received" else None
    before = dict(Complaint.get_by_id(complaint.id).__data__)
    history_before = History.select().count()
    worksheets_before, callbacks_before = Rectification.select().count(), Callback.select().count()
    deliverable = {**DELIVERABLES[stage], **missing}
    if stage == "closed":
        deliverable["verifier"] = office["staff"].id
    stale = Complaint.get_by_id(complaint.id)
    with pytest.raises(WorkflowError) as refused:
        complete_stage(stale, stage, office["users"]["staff"], **deliverable)
    assert message.lower() in str(refused.value).lower()
    assert dict(Complaint.get_by_id(complaint.id).__data__) == before
    assert History.select().count() == history_before
    assert (Rectification.select().count(), Callback.select().count()) == (worksheets_before, callbacks_before)


def test_incomplete_worksheet_names_every_missing_section(complaint):
    _advance_to(complaint, "resolved")
    with pytest.raises(WorkflowError) as refused:
        complete_stage(complaint, "rectified", None, problem_description="有描述", promised_date=date(2026, 3, 9))
    text = str(refused.value)
    for label in ("2. Cause analysis", "3. Immediate measures (1)", "3. Immediate measures (2): accountability",
                  "4. Long-term measures", "5. Effect confirmation"):
        assert label in text
    assert "1. Problem description" not in text


def test_close_needs_a_verifier(complaint):
    _advance_to(complaint, "called_back")
    with pytest.raises(WorkflowError, match="verified"):
        complete_stage(complaint, "closed", None, closing_note="确认有效")


@pytest.mark.parametrize("stage", ["resolved", "rectified", "called_back", "closed"])
def test_stage_out_of_order_is_refused(complaint, stage):
    with pytest.raises(WorkflowError) as refused:
        complete_stage(complaint, stage, None, **DELIVERABLES[stage])
    assert "the next stage is Acknowledged" in str(refused.value)
    assert complaint.number in str(refused.value)
    assert Complaint.get_by_id(complaint.id).stage == "received"


def test_stage_cannot_be_repeated_or_go_back(complaint):
    _advance_to(complaint, "resolved")
    for stage in ("acknowledged", "resolved", "received"):
        with pytest.raises(WorkflowError):
            complete_stage(complaint, stage, None, **DELIVERABLES.get(stage, {}))
    assert Complaint.get_by_id(complaint.id).stage == "resolved"


def test_closed_complaint_is_final(office, complaint):
    _advance_to(complaint, "closed", verifier=office["staff"].id)
    with pytest.raises(WorkflowError, match="is closed"):
        complete_stage(complaint, "closed", None, **DELIVERABLES["closed"], verifier=office["staff"].id)
    with pytest.raises(WorkflowError, match="Unknown stage"):
        complete_stage(complaint, "reopened", None)


def test_done_exactly_at_the_deadline_is_on_time(complaint):
    clock.freeze(complaint.acknowledge_due_at)
    assert complete_stage(complaint, "acknowledged", None, **DELIVERABLES["acknowledged"]) is True
    assert _history(complaint, "breach") == []
    assert stage_progress(complaint)[1]["state"] == "done"


def test_one_second_late_is_a_breach(office, complaint):
    clock.freeze(complaint.acknowledge_due_at + timedelta(seconds=1))
    assert complete_stage(complaint, "acknowledged", office["users"]["staff"], **DELIVERABLES["acknowledged"]) is False
    breach, = _history(complaint, "breach")
    assert breach.field == "acknowledge_due_at"
    assert breach.old_value == "2026-03-02 10:00:00" and breach.new_value == "2026-03-02 10:00:01"
    assert breach.username == "staff"
    assert Complaint.get_by_id(complaint.id).stage == "acknowledged"  # a late stage is still done
    assert stage_progress(complaint)[1]["state"] == "late"


def test_each_late_stage_records_its_own_breach(office, complaint):
    clock.freeze(T0 + timedelta(minutes=59))
    complete_stage(complaint, "acknowledged", None, **DELIVERABLES["acknowledged"])
    clock.freeze(T0 + timedelta(hours=30))  # result was due at 24 h
    complete_stage(complaint, "resolved", None, **DELIVERABLES["resolved"])
    clock.freeze(T0 + timedelta(hours=47))
    complete_stage(complaint, "rectified", None, **DELIVERABLES["rectified"])
    clock.freeze(T0 + timedelta(hours=72, seconds=1))
    complete_stage(complaint, "called_back", None, **DELIVERABLES["called_back"])
    assert [r.field for r in _history(complaint, "breach")] == ["result_due_at", "callback_due_at"]


def test_overdue_and_due_soon_boundaries(complaint):
    due = complaint.due_at
    clock.freeze(due)
    assert complaint.id not in [c.id for c in overdue()]
    assert complaint.id in [c.id for c in due_soon()]
    clock.freeze(due + timedelta(seconds=1))
    assert complaint.id in [c.id for c in overdue()]
    assert complaint.id not in [c.id for c in due_soon()]
    clock.freeze(due - timedelta(hours=2))
    assert complaint.id not in [c.id for c in due_soon()]
    clock.freeze(due - timedelta(hours=2) + timedelta(seconds=1))
    assert complaint.id in [c.id for c in due_soon()]


def test_closed_complaint_is_never_overdue(office, complaint):
    _advance_to(complaint, "closed", verifier=office["staff"].id)
    clock.freeze(T0 + timedelta(days=30))
    assert complaint.id not in [c.id for c in overdue()]


def test_deadlines_from_the_most_specific_sla_policy(app, office):
    SlaPolicy.create(acknowledge_hours=2, result_hours=30, rectify_hours=50, callback_hours=80)
    SlaPolicy.create(severity="critical", acknowledge_hours=0.5, result_hours=12, rectify_hours=24, callback_hours=48)
    SlaPolicy.create(severity="critical", customer_grade="vip", acknowledge_hours=0.25, result_hours=6,
                     rectify_hours=24, callback_hours=36)
    clock.freeze(T0)
    regular = make_customer(office["branch"], grade="regular")
    vip = make_customer(office["branch"], name="大客户", grade="vip")
    default = make_complaint(regular, severity="low")
    critical = make_complaint(regular, severity="critical")
    critical_vip = make_complaint(vip, severity="critical")
    assert (default.acknowledge_due_at, default.callback_due_at) == (T0 + timedelta(hours=2), T0 + timedelta(hours=80))
    assert critical.acknowledge_due_at == T0 + timedelta(minutes=30)
    assert critical.result_due_at == T0 + timedelta(hours=12)
    assert critical_vip.acknowledge_due_at == T0 + timedelta(minutes=15)
    assert critical_vip.due_at == T0 + timedelta(minutes=15)
    # the policy is copied onto the complaint: a later change does not rewrite its deadlines
    SlaPolicy.update(acknowledge_hours=5).execute()
    assert Complaint.get_by_id(critical_vip.id).acknowledge_due_at == T0 + timedelta(minutes=15)
    clock.freeze(T0 + timedelta(minutes=15, seconds=1))
    assert complete_stage(critical_vip, "acknowledged", None, **DELIVERABLES["acknowledged"]) is False


def test_escalation_writes_history_and_skips_closed(office, complaint):
    other = make_complaint(complaint.customer, title="账单计费差错：重复收费")
    _advance_to(other, "closed", verifier=office["staff"].id)
    assert escalate([complaint, other], office["users"]["manager"], "客户再次来电") == 1
    assert Complaint.get_by_id(complaint.id).escalation_level == 1
    rows = _history(complaint)
    escalation = [r for r in rows if r.action == "escalate"][0]
    assert (escalation.old_value, escalation.new_value, escalation.username) == ("0", "1", "manager")
    assert [r.new_value for r in rows if r.action == "note"] == ["客户再次来电"]
    assert Complaint.get_by_id(other.id).escalation_level == 0


def test_two_people_completing_the_same_stage(office, complaint):
    mine, theirs = Complaint.get_by_id(complaint.id), Complaint.get_by_id(complaint.id)
    complete_stage(mine, "acknowledged", office["users"]["staff"], **DELIVERABLES["acknowledged"])
    with pytest.raises(WorkflowError, match="changed by someone else"):
        complete_stage(theirs, "acknowledged", office["users"]["manager"], apology_note="重复致歉",
                       director_notified=True)
    stored = Complaint.get_by_id(complaint.id)
    assert stored.apology_note == "已电话致歉。"
    assert len(_history(complaint, "stage")) == 1


def test_completing_a_stage_keeps_a_concurrent_edit_of_other_fields(office, complaint):
    stale = Complaint.get_by_id(complaint.id)
    Complaint.update(responsible_staff=office["other"].id).where(Complaint.id == complaint.id).execute()
    complete_stage(stale, "acknowledged", None, **DELIVERABLES["acknowledged"])
    assert Complaint.get_by_id(complaint.id).responsible_staff_id == office["other"].id
