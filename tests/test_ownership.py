"""Every complaint has an owner (首问责任制, 专人负责制): its receiver, or for a survey follow-up
the customer's account manager, else the branch's duty person; who is told about a branch."""
from models import Complaint, Staff, db
from models.migrations import MIGRATIONS
from models.ownership import branch_managers, duty_person, followup_owner, service_directors

from .helpers import make_branch, make_complaint, make_customer, make_staff, make_user


def test_a_new_complaint_is_owned_by_whoever_received_it(office):
    complaint = make_complaint(make_customer(office["branch"]), first_responder=office["other"])
    assert Complaint.get_by_id(complaint.id).assignee_id == office["other"].id


def test_an_owner_given_on_creation_is_kept(office):
    complaint = make_complaint(make_customer(office["branch"]), first_responder=office["other"],
                               assignee=office["staff"])
    assert Complaint.get_by_id(complaint.id).assignee_id == office["staff"].id


def test_followup_owner_is_the_account_manager_then_the_duty_person(office):
    branch = office["branch"]
    duty = make_staff(branch, "E0100", name="值班员", on_duty=True)
    served = make_customer(branch, account_manager=office["other"])
    unserved = make_customer(branch, name="李雷", phone="13900000000")
    assert followup_owner(served, branch.id) == office["other"].id
    assert followup_owner(unserved, branch.id) == duty.id
    office["other"].active = False
    office["other"].save()
    assert followup_owner(served, branch.id) == duty.id  # a manager who left does not own it


def test_without_a_duty_person_the_longest_serving_staff_owns_the_followup(app):
    from datetime import date
    branch = make_branch("新疆分公司", region="新疆")
    make_staff(branch, "X2", name="新人", hire_date=date(2024, 5, 1))
    senior = make_staff(branch, "X1", name="老员工", hire_date=date(2012, 3, 1))
    assert followup_owner(None, branch.id) == senior.id
    assert followup_owner(None, make_branch("空分公司", region="空").id) is None


def test_a_branch_has_one_duty_person(office):
    branch = office["branch"]
    first = make_staff(branch, "E0101", on_duty=True)
    second = make_staff(branch, "E0102", on_duty=True)
    assert duty_person(branch.id).id == second.id
    assert not Staff.get_by_id(first.id).on_duty
    other_branch = make_branch("甘宁分公司", region="甘宁")
    elsewhere = make_staff(other_branch, "G0001", on_duty=True)
    assert Staff.get_by_id(second.id).on_duty and Staff.get_by_id(elsewhere.id).on_duty


def test_managers_of_a_branch_and_the_service_directors(office):
    other_branch = make_branch("甘宁分公司", region="甘宁")
    make_user("gansu-manager", "manager", staff=make_staff(other_branch, "G0001"))
    assert [u.username for u in branch_managers(office["branch"].id)] == ["manager"]
    assert [u.username for u in service_directors()] == ["admin"]  # no director yet: the administrators
    make_user("director", "director", staff=office["other"])
    assert [u.username for u in service_directors()] == ["director"]


def test_upgrade_gives_old_complaints_their_first_responder_as_owner(office):
    complaint = make_complaint(make_customer(office["branch"]), first_responder=office["other"])
    Complaint.update(assignee=None).where(Complaint.id == complaint.id).execute()
    migration = next(function for version, _name, function in MIGRATIONS if version == 2)
    from models.migrations import Schema
    with db.atomic():
        migration(Schema(db))
    assert Complaint.get_by_id(complaint.id).assignee_id == office["other"].id


def test_branch_managers_include_managers_linked_to_the_branch(app, office):
    from models import UserBranch
    from models.ownership import branch_managers
    from .helpers import make_branch, make_user
    with app.app_context():
        other = make_branch("新疆分公司", region="新疆")
        regional = make_user("regional", "manager")
        UserBranch.create(user=regional, branch=other)
        assert [u.username for u in branch_managers(other.id)] == ["regional"]
        assert "manager" in [u.username for u in branch_managers(office["branch"].id)]
