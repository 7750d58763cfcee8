"""Service star approval (exactly one Award), the printable certificate, rewards and penalties."""
import re

import pytest
from peewee import IntegrityError

from models import Award, History, RewardPenalty, Survey, clock
from models.recognition import NotACandidate, approve_service_star

from .helpers import make_complaint, make_customer, make_staff
from .test_reports import NOW, answer, question


@pytest.fixture
def voted(app, office):
    """November 2026: three customers picked 王芳, one picked 李强."""
    clock.freeze(NOW)
    with app.app_context():
        vote = question("staff", survey=Survey.create(title="服务之星投票"))
        for person in [office["staff"]] * 3 + [office["other"]]:
            answer(vote, vote=person)
    return office


def test_approving_twice_creates_one_award(app, voted):
    office = voted
    with app.app_context():
        manager = office["users"]["manager"]
        first, created = approve_service_star(office["staff"], "star_month", "2026-11", manager, prize="奖金 500 元")
        again, created_again = approve_service_star(office["staff"], "star_month", "2026-11", manager)
        assert (created, created_again) == (True, False) and first.id == again.id
        assert Award.select().count() == 1
        assert History.select().where(History.object_type == "Award", History.action == "create").count() == 1
        # the database refuses a second star for the same person and period even past the function
        with pytest.raises(IntegrityError):
            Award.create(staff=office["staff"], kind="star_month", period="2026-11", reason="重复")
        # other periods, kinds and people are separate awards
        assert approve_service_star(office["staff"], "star_quarter", "2026-Q4", manager)[1]
        assert approve_service_star(office["other"], "star_month", "2026-11", manager)[1]
        # innovation awards are not limited by the index
        Award.create(staff=office["staff"], kind="innovation_individual", period="2026", reason="a")
        Award.create(staff=office["staff"], kind="innovation_individual", period="2026", reason="b")
        with pytest.raises(ValueError):
            approve_service_star(office["staff"], "innovation_team", "2026-11", manager)


def test_only_a_candidate_can_be_approved_whoever_calls(app, voted):
    """The candidacy rule lives in approve_service_star, not in the page: no vote, or a
    penalty in the period, and the approval is refused with nothing written."""
    with app.app_context():
        manager = voted["users"]["manager"]
        nobody_voted = make_staff(voted["branch"], "E0009", name="赵敏")
        with pytest.raises(NotACandidate):
            approve_service_star(nobody_voted, "star_month", "2026-11", manager)
        with pytest.raises(NotACandidate):
            approve_service_star(voted["staff"], "star_month", "2026-10", manager)  # the votes are in November
        with pytest.raises(NotACandidate):
            approve_service_star(voted["staff"], "star_month", "2026-13", manager)
        RewardPenalty.create(staff=voted["other"], kind="verbal_warning", reason="迟到", decided_on=NOW.date())
        with pytest.raises(NotACandidate):
            approve_service_star(voted["other"], "star_quarter", "2026-Q4", manager)
        assert Award.select().count() == 0 and not History.select().where(History.object_type == "Award").exists()
        assert approve_service_star(voted["staff"], "star_quarter", "2026-Q4", manager)[1]


def test_manager_picks_the_star_from_the_ranked_list_and_prints_the_certificate(app, login_as, voted):
    manager = login_as("manager")
    page = manager.get("/admin/scoring/staff/").get_data(as_text=True)
    candidates = re.findall(r'<tr data-staff="(\d+)">\s*<td>(\d+)</td><td>([^<]+)</td>',
                            page.split('id="candidates"')[1].split("</table>")[0])
    assert [(int(s), int(r)) for s, r, _ in candidates] == [(voted["staff"].id, 1), (voted["other"].id, 2)]
    form = {"staff_id": voted["staff"].id, "kind": "star_month", "period": "2026-11", "prize": "<b>奖金</b> 500 元",
            "next": "/admin/scoring/staff/"}
    response = manager.post("/admin/scoring/staff/approve/", form)
    assert response.status_code == 302
    certificate_url = response.headers["Location"]
    again = manager.post("/admin/scoring/staff/approve/", form)
    assert again.headers["Location"] == certificate_url
    with app.app_context():
        awards = list(Award.select())
        assert len(awards) == 1
        award = awards[0]
        assert (award.staff_id, award.kind, award.period, award.approved_by.username) == \
            (voted["staff"].id, "star_month", "2026-11", "manager")
    certificate = manager.get(certificate_url).get_data(as_text=True)
    assert "王芳" in certificate and "E0001" in certificate and "2026-11" in certificate
    assert "&lt;b&gt;奖金&lt;/b&gt; 500 元" in certificate and "<b>奖金</b>" not in certificate
    assert "window.print()" in certificate
    # the candidate list now shows the approval instead of the button
    page = manager.get("/admin/scoring/staff/").get_data(as_text=True)
    row = re.search(r'<tr data-staff="%d">.*?</tr>' % voted["staff"].id, page, re.S).group(0)
    assert certificate_url.split("localhost")[-1] in row and "approve" not in row
    assert manager.get("/admin/scoring/staff/certificate/999/").status_code == 404


@pytest.mark.parametrize("form", [
    {"staff_id": "999", "kind": "star_month", "period": "2026-11"},
    {"staff_id": "abc", "kind": "star_month", "period": "2026-11"},
    {"kind": "star_month", "period": "2026-11"},
    {"staff_id": "STAFF", "kind": "innovation_team", "period": "2026-11"},
    {"staff_id": "STAFF", "kind": "star_month", "period": "2026-13"},
    {"staff_id": "STAFF", "kind": "star_quarter", "period": "2026-11"},
    {"staff_id": "STAFF", "kind": "star_month", "period": ""},
    {"staff_id": "STAFF", "kind": "star_month", "period": "2026-10"},   # no votes in October
    {"staff_id": "NOVOTES", "kind": "star_month", "period": "2026-11"},  # not a candidate
])
def test_bad_approvals_are_refused_with_a_message(app, login_as, voted, form):
    with app.app_context():
        no_votes = make_staff(voted["branch"], "E0009", name="未得票")
    form = {k: {"STAFF": voted["staff"].id, "NOVOTES": no_votes.id}.get(v, v) for k, v in form.items()}
    manager = login_as("manager")
    response = manager.post("/admin/scoring/staff/approve/", {**form, "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/scoring/staff/")
    page = manager.get("/admin/scoring/staff/").get_data(as_text=True)
    assert "alert-danger" in page or "alert-error" in page
    with app.app_context():
        assert Award.select().count() == 0


def test_quarter_star_is_approved_for_the_quarter(app, login_as, voted):
    manager = login_as("manager")
    page = manager.get("/admin/scoring/staff/?period=quarter").get_data(as_text=True)
    assert 'name="period" value="2026-Q4"' in page and 'name="kind" value="star_quarter"' in page
    manager.post("/admin/scoring/staff/approve/", {"staff_id": voted["other"].id, "kind": "star_quarter",
                                                   "period": "2026-Q4"})
    with app.app_context():
        assert [(a.staff_id, a.period) for a in Award.select()] == [(voted["other"].id, "2026-Q4")]


def test_rewards_and_penalties_recorded_with_reason_and_complaint(app, login_as, office):
    with app.app_context():
        complaint = make_complaint(make_customer(office["branch"]))
    manager = login_as("manager")
    base = {"staff": office["staff"].id, "reason": "上门态度冷淡被投诉", "decided_on": "2026-11-20"}
    response = manager.post("/admin/rewardpenalty/new/", {**base, "kind": "cash"})
    assert response.status_code == 200  # form shown again with the error
    assert "amount" in response.get_data(as_text=True).lower() or "金额" in response.get_data(as_text=True)
    manager.post("/admin/rewardpenalty/new/", {**base, "kind": "written_warning", "complaint": complaint.id})
    manager.post("/admin/rewardpenalty/new/", {**base, "kind": "cash", "amount": "800", "reason": "连续三个月零投诉"})
    with app.app_context():
        rows = list(RewardPenalty.select().order_by(RewardPenalty.id))
        assert [(r.kind, r.complaint_id, r.is_penalty, r.recorded_by.username) for r in rows] == [
            ("written_warning", complaint.id, True, "manager"), ("cash", None, False, "manager")]
    page = manager.get("/admin/scoring/staff/?at=2026-11-20").get_data(as_text=True)
    row = re.search(r'<tr data-staff="%d">(?:(?!</tr>).)*?</tr>' % office["staff"].id,
                    page.split('id="scoreboard"')[1], re.S).group(0)
    cells = re.findall(r'<td class="text-right[^"]*">(\d+)</td>', row)
    assert cells[-2:] == ["1", "1"]  # one reward, one penalty in November
    assert login_as("staff").post("/admin/rewardpenalty/new/", {**base, "kind": "promotion"}).status_code == 403
