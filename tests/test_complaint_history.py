"""Complaint history: every kind of change writes a row (who, when, field, old → new), and no admin
URL can edit or delete a history row."""
import re
from datetime import datetime, timedelta

import pytest

from models import Complaint, History, clock
from models.workflow import assign, complete_stage, escalate, record_complaint_changes, timeline

from .helpers import make_branch, make_complaint, make_customer

T0 = datetime(2026, 6, 1, 9, 0, 0)


def _snapshot():
    return [tuple(row.values()) for row in History.select().order_by(History.id).dicts()]


@pytest.fixture
def complaint_with_history(app, office):
    clock.freeze(T0)
    complaint = make_complaint(make_customer(office["branch"]), responsible_staff=office["staff"])
    clock.freeze(T0 + timedelta(hours=2))  # late: also a breach row
    complete_stage(complaint, "acknowledged", office["users"]["staff"], apology_note="致歉", director_notified=True)
    assign([complaint], office["other"], office["users"]["manager"])
    escalate([complaint], office["users"]["manager"], "客户再次来电")
    before = dict(complaint.__data__)
    complaint.responsible_branch = make_branch("甘宁分公司", region="甘宁")
    complaint.responsible_staff = office["other"]
    complaint.save()
    record_complaint_changes(complaint, before, office["users"]["manager"])
    return complaint


def test_every_kind_of_change_writes_a_row(complaint_with_history):
    rows = timeline(complaint_with_history.id)
    kinds = {(r.action, r.field) for r in rows}
    assert {("stage", "stage"), ("breach", "acknowledge_due_at"), ("update", "due_at"),
            ("update", "acknowledged_at"), ("update", "apology_note"), ("handover", "assignee"),
            ("handover", "responsible_staff"), ("handover", "responsible_branch"),
            ("escalate", "escalation_level")} <= kinds
    deadline = next(r for r in rows if r.field == "due_at")
    assert (deadline.old_value, deadline.new_value) == ("2026-06-01 10:00:00", "2026-06-02 09:00:00")
    assert all(r.at == T0 + timedelta(hours=2) for r in rows if r.action != "create")
    assert {r.username for r in rows if r.action in ("handover", "escalate")} == {"manager"}
    assert [r.at for r in rows] == sorted(r.at for r in rows)


def _concrete(rule, row_id):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "csv" if m.group(1) == "export_type" else str(row_id), rule.rule)


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_no_admin_route_changes_or_deletes_history(app, login_as, complaint_with_history, role):
    client = login_as(role)
    rows = list(History.select().order_by(History.id))
    target = rows[1]
    before = _snapshot()
    assert len(before) >= 8
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("history.")]
    assert {r.endpoint for r in rules} >= {"history.index_view", "history.edit_view", "history.create_view",
                                            "history.delete_view", "history.action_view", "history.ajax_update",
                                            "history.details_view"}
    tamper = {"id": target.id, "rowid": [r.id for r in rows], "list_form_pk": target.id, "action": "delete",
              "new_value": "tampered", "old_value": "tampered", "username": "intruder", "field": "stage",
              "object_id": 999, "at": "2020-01-01 00:00:00"}
    for rule in rules:
        url = _concrete(rule, target.id)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(f"{url}?id={target.id}")
                assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
            else:
                response = client.post(f"{url}?id={target.id}", tamper)
                assert response.status_code in (302, 403, 404, 405), (method, url, response.status_code)
            assert _snapshot() == before, (method, url)
    for action in ("delete", "escalate", "assign"):
        client.post("/admin/history/action/", {**tamper, "action": action})
    assert _snapshot() == before
    page = client.get("/admin/history/").get_data(as_text=True)
    assert "/admin/history/edit/" not in page and "/admin/history/delete/" not in page


def test_history_cannot_be_reached_through_the_complaint_views(app, login_as, complaint_with_history):
    manager = login_as("manager")
    before = _snapshot()
    row = History.select().first()
    for url in ("/admin/complaint/ajax/update/", "/admin/rectification/ajax/update/", "/admin/callback/ajax/update/"):
        response = manager.post(url, {"list_form_pk": row.id, "new_value": "tampered", "stage": "closed"})
        assert response.status_code in (400, 403, 404), url
    assert _snapshot() == before
    assert Complaint.get_by_id(complaint_with_history.id).stage == "acknowledged"


def test_staff_cannot_open_the_history_list_but_sees_the_timeline(app, login_as, complaint_with_history):
    staff = login_as("staff")
    assert staff.get("/admin/history/").status_code == 403
    page = staff.get(f"/admin/complaint/details/?id={complaint_with_history.id}").get_data(as_text=True)
    assert "客户再次来电" in page
    assert page.count('class="action-handover"') == 3


def test_history_values_read_as_labels(app, login_as, office):
    from models.audit import shown_value
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert shown_value("Complaint", "stage", "acknowledged") == "已致歉回复"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert shown_value("Complaint", "stage", "acknowledged") == "Acknowledged"
        assert shown_value("Complaint", "director_notified", "True") == "Yes"
        assert shown_value("Callback", "satisfaction", "4") == "4 - satisfied"
        assert shown_value("Complaint", "title", "原文") == "原文"
