"""Settings are declared with their type and bounds (models/settings.py) and changed through
typed forms: numbers within bounds, weights that add up to 1, a branch from the list, reset
to default, every change in the history; no key to type, nothing to delete."""
import json

import pytest

from models import History, Setting
from models import settings
from models.reports import ranking_weights
from models.settings import SettingDef, SettingError, check, definition, ensure_default_settings

from .helpers import make_branch


@pytest.fixture
def admin(app, office, login_as):
    ensure_default_settings()
    client = login_as("admin")
    client.http.set_cookie("lang", "en")
    return client


def test_rules_of_each_kind():
    rating = definition("survey.followup_rating_max")
    assert check(rating, "3") == 3
    for bad in ("0", "5", "2.5", "abc", ""):
        with pytest.raises(SettingError):
            check(rating, bad)
    weights = definition("ranking_weights")
    assert check(weights, {"sla": "0.5", "satisfaction": "0.3", "complaints": "0.2"}) == {
        "sla": 0.5, "satisfaction": 0.3, "complaints": 0.2}
    with pytest.raises(SettingError) as refused:
        check(weights, {"sla": 0.5, "satisfaction": 0.4, "complaints": 0.2})
    assert "add up to 1" in str(refused.value) and "1.1" in str(refused.value)
    with pytest.raises(SettingError) as refused:
        check(weights, {"sla": 1.5, "satisfaction": -0.3, "complaints": -0.2})
    assert refused.value.part == "sla"
    flag = SettingDef("demo.flag", "bool", False, "flag")
    assert check(flag, True) is True
    with pytest.raises(SettingError):
        check(flag, "yes")
    with pytest.raises(ValueError):
        SettingDef("demo.bad", "colour", None, "bad")


def test_the_settings_page_lists_every_declared_setting_without_keys_to_edit(admin):
    page = admin.get("/admin/setting/").get_data(as_text=True)
    for d in settings.declarations():
        assert f'data-key="{d.key}"' in page and str(d.label) in page
    assert 'name="key"' not in page and "/admin/setting/delete/" not in page
    assert admin.get("/admin/setting/new/").status_code == 404  # no new keys
    assert admin.post("/admin/setting/delete/", {"id": "1"}).status_code in (404, 405)


def test_weights_that_do_not_add_up_to_1_are_refused_and_kept_on_screen(admin):
    url = "/admin/setting/edit/?key=ranking_weights"
    response = admin.post(url, {"part_sla": "0.5", "part_satisfaction": "0.4", "part_complaints": "0.2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "must add up to 1; now they add up to 1.1" in page
    assert 'value="0.5"' in page and 'value="0.4"' in page
    assert ranking_weights()[0] == {"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2}
    response = admin.post(url, {"part_sla": "0.5", "part_satisfaction": "0.3", "part_complaints": "0.2"})
    assert response.status_code == 302
    assert ranking_weights() == ({"sla": 0.5, "satisfaction": 0.3, "complaints": 0.2}, None)
    row = History.get(History.object_type == "Setting", History.action == "update")
    assert json.loads(row.old_value) == {"sla": 0.4, "satisfaction": 0.4, "complaints": 0.2}
    assert json.loads(row.new_value)["sla"] == 0.5 and row.username == "admin"


def test_thresholds_stay_within_the_scale_and_reset_to_default(admin):
    url = "/admin/setting/edit/?key=survey.followup_rating_max"
    page = admin.get(url).get_data(as_text=True)
    assert 'type="number"' in page and 'min="1"' in page and 'max="4"' in page
    response = admin.post(url, {"value": "7"})
    assert response.status_code == 422 and "Between 1 and 4." in response.get_data(as_text=True)
    assert Setting.get_value("survey.followup_rating_max") == 2
    assert admin.post(url, {"value": "3"}).status_code == 302
    assert Setting.get_value("survey.followup_rating_max") == 3
    page = admin.get(url).get_data(as_text=True)
    assert 'id="setting-history"' in page
    response = admin.post("/admin/setting/reset/?key=survey.followup_rating_max", {})
    assert response.status_code == 302
    assert Setting.get_value("survey.followup_rating_max") == 2
    assert History.select().where(History.object_type == "Setting").count() == 2


def test_branch_choice_setting(admin, office):
    url = "/admin/setting/edit/?key=survey.unattributed_branch_id"
    other = make_branch("新疆分公司", region="新疆")
    page = admin.get(url).get_data(as_text=True)
    assert "新疆分公司" in page and "江苏分公司" in page
    assert admin.post(url, {"value": "999"}).status_code == 422
    assert admin.post(url, {"value": str(other.id)}).status_code == 302
    assert Setting.get_value("survey.unattributed_branch_id") == other.id
    assert admin.post(url, {"value": ""}).status_code == 302  # none: the first active branch
    assert Setting.get_value("survey.unattributed_branch_id") is None


def test_only_the_administrator_changes_settings(app, office, login_as):
    for role in ("staff", "manager"):
        client = login_as(role)
        assert client.get("/admin/setting/").status_code == 403
        assert client.post("/admin/setting/edit/?key=survey.followup_rating_max", {"value": "3"}).status_code == 403
    assert login_as("admin").get("/admin/setting/edit/?key=nonsense").status_code == 404


def test_a_value_stored_by_hand_that_breaks_its_rule_reads_as_the_default(app):
    Setting.set_value("survey.followup_score_max", 42)
    assert settings.value("survey.followup_score_max") == 6
    Setting.set_value("survey.followup_score_max", 5)
    assert settings.value("survey.followup_score_max") == 5


def test_notification_settings_are_typed_here_too_and_checked_by_their_own_rule(admin):
    """The notify.* settings are declared like the others (models.settings) and checked by
    models.notifications.check_setting: percentages, times of day, the gateway's JSON body."""
    from models.notifications import notify_rules
    page = admin.get("/admin/setting/").get_data(as_text=True)
    assert "<td>Due-soon reminders at these percentages of a stage's allowed time</td>" in page
    url = "/admin/setting/edit/?key=notify.due_soon_percents"
    assert 'value="50, 80"' in admin.get(url).get_data(as_text=True)
    response = admin.post(url, {"value": "50, 180"})
    assert response.status_code == 422 and "between 1 and 99" in response.get_data(as_text=True)
    assert admin.post(url, {"value": "75，25"}).status_code == 302  # a Chinese comma too
    assert notify_rules()["due_soon_percents"] == [25, 75]
    url = "/admin/setting/edit/?key=notify.weekly_report_time"
    assert admin.post(url, {"value": "25:00"}).status_code == 422
    assert admin.post(url, {"value": "9:30"}).status_code == 302
    assert notify_rules()["weekly_report_time"] == "09:30"
    url = "/admin/setting/edit/?key=notify.escalation_delay_minutes"
    assert 'type="number"' in admin.get(url).get_data(as_text=True)
    assert admin.post(url, {"value": "-5"}).status_code == 422
    url = "/admin/setting/edit/?key=notify.sms_gateway_body"
    assert admin.post(url, {"value": "{not json"}).status_code == 422
    assert admin.post(url, {"value": '{"to": "{mobile}", "msg": "{text}"}'}).status_code == 302
    assert notify_rules()["sms_gateway_body"] == {"to": "{mobile}", "msg": "{text}"}
