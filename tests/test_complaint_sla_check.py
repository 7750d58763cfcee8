"""`flask sla-check`: overdue and soon-due complaints per branch, text for people and --json for machines."""
import json
from datetime import datetime, timedelta

import pytest

from models import clock
from models.workflow import complete_stage

from .helpers import make_branch, make_complaint, make_customer

T0 = datetime(2026, 9, 1, 9, 0, 0)


@pytest.fixture
def complaints(app, office):
    far = make_branch("新疆分公司", region="新疆")
    clock.freeze(T0 - timedelta(hours=3))
    late = make_complaint(make_customer(office["branch"]), title="账单计费差错：重复收费",
                          responsible_staff=office["staff"])
    clock.freeze(T0 - timedelta(minutes=20))
    soon = make_complaint(make_customer(far), title="保洁服务质量问题：清洁不到位")
    clock.freeze(T0 - timedelta(minutes=10))
    answered = make_complaint(make_customer(far), title="已致歉的投诉")
    complete_stage(answered, "acknowledged", None, apology_note="已致歉", director_notified=True)  # due in 24 h
    clock.freeze(T0)
    return {"late": late, "soon": soon, "answered": answered}


def test_json_lists_overdue_and_due_soon_per_branch(app, complaints):
    result = app.test_cli_runner().invoke(args=["sla-check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["now"] == "2026-09-01 09:00:00"
    branches = {b["branch"]: b for b in report["branches"]}
    assert set(branches) == {"江苏分公司", "新疆分公司"}
    late, = branches["江苏分公司"]["overdue"]
    assert (late["number"], late["stage"], late["next_stage"], late["minutes_left"]) == (
        complaints["late"].number, "received", "acknowledged", -120)
    assert late["responsible_staff"] == "王芳 (E0001)"
    assert branches["江苏分公司"]["due_soon"] == []
    soon, = branches["新疆分公司"]["due_soon"]
    assert (soon["number"], soon["minutes_left"]) == (complaints["soon"].number, 40)
    assert branches["新疆分公司"]["overdue"] == []


def test_text_report_and_wider_window(app, complaints):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sla-check", "--lang", "en"])
    assert result.exit_code == 0
    assert "江苏分公司: 1 overdue, 0 due soon" in result.output
    assert "新疆分公司: 0 overdue, 1 due soon" in result.output
    assert "overdue 2 h 0 min" in result.output and "0 h 40 min left" in result.output
    assert complaints["answered"].number not in result.output
    wide = json.loads(runner.invoke(args=["sla-check", "--json", "--hours", "25"]).output)
    numbers = {item["number"] for b in wide["branches"] for item in b["due_soon"]}
    assert complaints["answered"].number in numbers


def test_nothing_to_report_still_exits_zero(app, office):
    result = app.test_cli_runner().invoke(args=["sla-check", "--lang", "en"])
    assert result.exit_code == 0
    assert "No complaint is overdue or due soon." in result.output
    assert json.loads(app.test_cli_runner().invoke(args=["sla-check", "--json"]).output)["branches"] == []


def test_text_report_in_chinese_by_default(app, complaints):
    result = app.test_cli_runner().invoke(args=["sla-check"])
    assert result.exit_code == 0, result.output
    assert "江苏分公司：已超时 1 件，即将到期 0 件" in result.output
    assert complaints["late"].number in result.output
