"""Branch scope (models.scope): membership, scope by role, one rule per model, out of scope = 404."""
import re
from datetime import timedelta

import pytest

from models import (ALL_MODELS, Complaint, Customer, History, OpenLink, Rectification, Survey, User, UserBranch)
from models.reports import branch_ranking
from models.scope import (MAX_ID, SYSTEM, branch_ids, branches_seen, branch_of, get_in_scope, parse_id, ranking_for, rule_of,
                          scoped)
from models.clock import now

from .helpers import Client, count_queries, make_branch, make_branch_rows, make_staff, make_user


@pytest.fixture
def two(app):
    """Branches 甲 and 乙 with one row of every kind each; accounts of each role."""
    with app.app_context():
        a, b = make_branch("甲分公司", region="江苏"), make_branch("乙分公司", region="新疆")
        rows = {"A": make_branch_rows(a, "甲方", with_notifications=True),
                "B": make_branch_rows(b, "乙方", with_notifications=True)}
        users = {
            "staff_a": make_user("staff_a", "staff", staff=make_staff(a, "A-S", name="甲员工")),
            "manager_a": make_user("manager_a", "manager", staff=make_staff(a, "A-M", name="甲经理")),
            "director": make_user("director", "director", staff=make_staff(a, "A-D", name="总监")),
            "admin": make_user("admin", "admin"),
            "nobody": make_user("nobody", "manager"),  # belongs to no branch
        }
        rows["users"] = users
    return rows


KINDS = ["staff", "customer", "complaint", "rectification", "callback", "award", "rewardpenalty", "openlink",
         "invitation", "response", "answer", "user",
         # the rows of notifications and survey review (models.outbox, models.feedback)
         "held_response", "feedback", "notification", "channelendpoint", "notifyevent", "outboxmessage",
         "invitation_message", "robot_message", "deliveryattempt"]


def test_every_model_has_a_scope_rule():
    for model in ALL_MODELS:
        rule_of(model)  # LookupError otherwise


def test_membership_through_staff_record_and_links(app, two):
    with app.app_context():
        manager = User.get(User.username == "manager_a")
        a, b = two["A"]["branch"].id, two["B"]["branch"].id
        assert branch_ids(manager) == {a}
        UserBranch.create(user=manager, branch=b)
        assert branch_ids(User.get_by_id(manager.id)) == {a, b}
        assert branch_ids(User.get(User.username == "director")) is None
        assert branch_ids(User.get(User.username == "admin")) is None
        assert branch_ids(SYSTEM) is None
        assert branch_ids(User.get(User.username == "nobody")) == frozenset()
        assert branch_ids(None) == frozenset()


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_row_is_seen_by_its_own_branch_only(app, two, kind):
    with app.app_context():
        model = type(two["A"][kind])
        staff_a, director = User.get(User.username == "staff_a"), User.get(User.username == "director")
        nobody = User.get(User.username == "nobody")
        mine, theirs = two["A"][kind].id, two["B"][kind].id
        seen = {row.id for row in scoped(model.select(), staff_a)}
        assert mine in seen and theirs not in seen
        assert get_in_scope(model, theirs, staff_a) is None
        assert get_in_scope(model, mine, staff_a).id == mine
        assert {mine, theirs} <= {row.id for row in scoped(model.select(), director)}
        assert not scoped(model.select().where(model.id.in_([mine, theirs])), nobody).exists()
        assert branch_of(two["B"][kind]) == two["B"]["branch"].id


def test_complaint_is_seen_by_the_branch_named_responsible(app, two):
    with app.app_context():
        complaint = two["B"]["complaint"]
        complaint.responsible_branch = two["A"]["branch"]
        complaint.save()
        staff_a = User.get(User.username == "staff_a")
        assert get_in_scope(Complaint, complaint.id, staff_a) is not None
        assert get_in_scope(Rectification, two["B"]["rectification"].id, staff_a) is not None
        assert get_in_scope(Customer, two["B"]["customer"].id, staff_a) is None  # the customer stays B's


def test_office_wide_rows_are_shared_and_a_branch_link_is_not(app, two):
    with app.app_context():
        staff_a = User.get(User.username == "staff_a")
        office_link = OpenLink.create(survey=two["A"]["survey"], label="全公司")
        assert get_in_scope(Survey, two["A"]["survey"].id, staff_a) is not None
        assert get_in_scope(OpenLink, office_link.id, staff_a) is not None
        assert get_in_scope(OpenLink, two["B"]["openlink"].id, staff_a) is None
        assert not scoped(Survey.select(), None).exists()  # nobody logged in: nothing


def test_history_keeps_the_branch_of_the_row_it_describes(app, two):
    with app.app_context():
        staff_a = User.get(User.username == "staff_a")
        theirs = History.get(History.object_type == "Complaint", History.object_id == two["B"]["complaint"].id)
        assert theirs.branch_id == two["B"]["branch"].id
        visible = {(h.object_type, h.object_id) for h in scoped(History.select(), staff_a)}
        assert ("Complaint", two["A"]["complaint"].id) in visible
        assert ("Complaint", two["B"]["complaint"].id) not in visible
        # a deleted row's history stays with its branch
        two["B"]["award"].delete_instance()
        assert History.get(History.object_type == "Award", History.object_id == two["B"]["award"].id).branch_id \
            == two["B"]["branch"].id


@pytest.mark.parametrize("raw", ["", "abc", "-1", "0", "1.5", " 7 ", "1e3", str(MAX_ID + 1), "9" * 30,
                                 "١٢", None, True, 2 ** 70])
def test_malformed_ids_are_not_ids(raw):
    expected = 7 if raw == " 7 " else None
    assert parse_id(raw) == expected


def test_ranking_shows_other_branches_rank_and_scores_only(app, two):
    with app.app_context():
        moment = now()
        rows = ranking_for(branch_ranking(moment - timedelta(days=365), moment + timedelta(days=1)),
                           frozenset([two["A"]["branch"].id]))
        other = next(r for r in rows if r["branch_id"] == two["B"]["branch"].id)
        own = next(r for r in rows if r["branch_id"] == two["A"]["branch"].id)
        assert own["in_scope"] and own["complaints"] == 1 and own["customers"] == 1
        assert not other["in_scope"] and other["complaints"] is None and other["customers"] is None
        assert "score" in other and other["branch"] == "乙分公司"


def test_out_of_scope_ids_answer_404_like_unknown_ones(app, client, two):
    staff = Client(app.test_client())
    staff.login("staff_a")
    for endpoint, kind in (("customer", "customer"), ("complaint", "complaint"), ("callback", "callback"),
                           ("rectification", "rectification"), ("invitation", "invitation")):
        theirs = two["B"][kind].id
        for page in ("details", "edit"):
            assert staff.get(f"/admin/{endpoint}/{page}/?id={theirs}").status_code == 404, (endpoint, page)
            assert staff.get(f"/admin/{endpoint}/{page}/?id=999999").status_code == 404
        mine = staff.get(f"/admin/{endpoint}/details/?id={two['A'][kind].id}")
        assert mine.status_code == 200 and "甲方" in mine.get_data(as_text=True)
    page = staff.get("/admin/customer/").get_data(as_text=True)
    assert "甲方客户" in page and "乙方客户" not in page
    page = staff.get("/admin/complaint/new/").get_data(as_text=True)
    assert "乙方员工" not in page  # foreign-key choices: own branch's staff only
    # a forged branch filter shows nothing of the other branch
    page = staff.get(f"/admin/complaint/?flt0_0={two['B']['branch'].id}&search=乙方").get_data(as_text=True)
    assert "乙方投诉" not in page


def test_a_row_cannot_be_created_in_another_branch(app, two):
    staff = Client(app.test_client())
    staff.login("staff_a")
    b = two["B"]
    response = staff.post("/admin/customer/new/", {"name": "越界客户", "kind": "household", "grade": "regular",
                                                   "lifecycle": "new", "deal_state": "none", "branch": b["branch"].id})
    assert response.status_code == 200  # the form again: not a valid choice
    response = staff.post("/admin/complaint/new/", {
        "customer": b["customer"].id, "branch": two["A"]["branch"].id, "channel": "phone", "category": "other",
        "severity": "normal", "title": "越界投诉", "compensation": "none"})
    assert response.status_code == 200
    with app.app_context():
        assert not Customer.select().where(Customer.name == "越界客户").exists()
        assert not Complaint.select().where(Complaint.title == "越界投诉").exists()


def test_multi_branch_manager_sees_both_and_the_ajax_lookup_follows(app, two):
    with app.app_context():
        UserBranch.create(user=User.get(User.username == "manager_a"), branch=two["B"]["branch"])
    manager = Client(app.test_client())
    manager.login("manager_a")
    page = manager.get("/admin/customer/").get_data(as_text=True)
    assert "甲方客户" in page and "乙方客户" in page
    staff = Client(app.test_client())
    staff.login("staff_a")
    found = staff.get("/admin/complaint/ajax/lookup/?name=customer&query=方客户").get_json()
    assert [label.split(" · ")[0] for _id, label in found] == ["甲方客户"]
    assert "****" in found[0][1]  # the picker shows the phone masked to someone who does not own the customer
    found = manager.get("/admin/complaint/ajax/lookup/?name=customer&query=方客户").get_json()
    assert sorted(label.split(" · ")[0] for _id, label in found) == ["乙方客户", "甲方客户"]
    assert all("****" not in label for _id, label in found)  # the branch manager sees them in full


def test_account_links_are_edited_with_the_account(app, two):
    admin = Client(app.test_client())
    admin.login("admin")
    with app.app_context():
        user = User.get(User.username == "manager_a")
    page = admin.get(f"/admin/user/edit/?id={user.id}").get_data(as_text=True)
    assert "branch_links" in page
    response = admin.post(f"/admin/user/edit/?id={user.id}", {
        "username": "manager_a", "role": "manager", "staff": user.staff_id, "active": "y",
        "branch_links-0-id": "", "branch_links-0-branch": two["B"]["branch"].id})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        assert branch_ids(User.get_by_id(user.id)) == {two["A"]["branch"].id, two["B"]["branch"].id}
    details = admin.get(f"/admin/user/details/?id={user.id}").get_data(as_text=True)
    assert "$argon2" not in details and "Password hash" not in details and "密码哈希" not in details



def test_the_account_list_says_which_branches_each_account_sees(app, two):
    with app.app_context():
        UserBranch.create(user=User.get(User.username == "manager_a"), branch=two["B"]["branch"])
    admin = Client(app.test_client())
    admin.login("admin")
    admin.http.set_cookie("lang", "en")
    page = admin.get("/admin/user/").get_data(as_text=True)
    cells = dict(re.findall(r'<td class="col-username">\s*(\S+)\s*</td>.*?<td class="col-branches_seen">\s*(.*?)\s*</td>',
                            page, re.S))
    assert cells["staff_a"] == "甲分公司"
    assert cells["manager_a"] == "乙分公司、甲分公司"  # its own and the linked one, by name
    assert cells["director"] == cells["admin"] == "All branches"
    assert cells["nobody"] == "No branch: sees no branch data"
    with app.app_context():
        accounts = list(User.select())
        with count_queries() as counter:
            seen = branches_seen(accounts)
    assert counter.count <= 3 and seen[two["users"]["staff_a"].id] == ["甲分公司"]
