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


# ---------------------------------------------------------------- no complaint without an owner, on every path

def test_every_path_that_records_a_complaint_gives_it_an_owner(app, office, login_as):
    from datetime import datetime

    from models import Answer, Question, Response, Survey, User
    from models.answers import open_followup
    branch = office["branch"]
    customer = make_customer(branch)
    # 1. the admin form: the receiver (the logged-in staff member) owns it
    staff = login_as("staff")
    response = staff.post("/admin/complaint/new/", {
        "customer": customer.id, "branch": branch.id, "channel": "phone", "category": "other",
        "severity": "normal", "title": "前台接待服务态度：无人接待", "compensation": "none"})
    assert response.status_code == 302
    assert Complaint.get(Complaint.title == "前台接待服务态度：无人接待").assignee_id == office["staff"].id
    # 2. an account without a staff record (admin) and no first responder: the branch's duty person
    duty = make_staff(branch, "E0100", name="值班员", on_duty=True)
    User.update(staff=None).where(User.username == "admin").execute()
    response = login_as("admin").post("/admin/complaint/new/", {
        "customer": customer.id, "branch": branch.id, "channel": "letter", "category": "other",
        "severity": "normal", "title": "来信投诉：账单错误", "compensation": "none"})
    assert response.status_code == 302
    assert Complaint.get(Complaint.title == "来信投诉：账单错误").assignee_id == duty.id
    # 3. a survey follow-up: the customer's account manager, else the duty person
    survey = Survey.create(title="满意度")
    question = Question.create(survey=survey, text="总体满意度", kind="rating")
    answer_row = Response.create(survey=survey, customer=customer, branch=branch, submitted_at=datetime(2026, 5, 4))
    Answer.create(response=answer_row, question=question, value=1)
    with app.app_context():  # a job or script stores answers inside the app (config, links in alerts)
        followup = open_followup(answer_row, [{"question": question, "value": 1}])
    assert followup.assignee_id == duty.id
    # 4. a script (the factory) with an inactive receiver: the duty person, not the one who left
    office["other"].active = False
    office["other"].save()
    assert make_complaint(customer, first_responder=office["other"]).assignee_id == duty.id
    assert not Complaint.select().where(Complaint.assignee.is_null()).exists()


def test_a_branch_without_staff_is_covered_by_headquarters(app, office):
    from models.ownership import headquarters_owner
    empty = make_branch("新开分公司", region="华南")
    assert headquarters_owner() == office["staff"].id  # no director: the office's longest-serving staff
    make_user("director", "director", staff=office["other"])
    complaint = make_complaint(make_customer(empty))
    assert complaint.assignee_id == office["other"].id  # the service director


def test_an_office_without_active_staff_cannot_record_a_complaint(app):
    from models.validation import ValidationError
    branch = make_branch()
    make_staff(branch, "E0001", active=False)
    customer = make_customer(branch)
    try:
        Complaint(customer=customer, branch=branch, title="无人受理").save()
    except ValidationError as refused:
        assert set(refused.errors) == {"first_responder"}
    else:
        raise AssertionError("a complaint without an owner was stored")
    assert Complaint.select().count() == 0


# ---------------------------------------------------------------- hand-over on record

def test_handover_list_is_sorted_by_branch_then_name_without_the_owner_and_empty_once_closed(app, office):
    from models.ownership import handover_candidates
    far = make_branch("北京分公司", region="华北")
    make_staff(far, "B0001", name="张三")
    make_staff(far, "B0002", name="阿明", active=False)
    complaint = make_complaint(make_customer(office["branch"]), first_responder=office["staff"])
    people = handover_candidates(complaint)
    assert [(p.branch.name, p.name) for p in people] == [("北京分公司", "张三"), ("江苏分公司", "李强")]
    Complaint.update(stage="closed").where(Complaint.id == complaint.id).execute()
    assert handover_candidates(Complaint.get_by_id(complaint.id)) == []


def test_handover_from_the_complaint_page_is_on_record_and_refused_once_closed(app, office, login_as):
    from models import History
    complaint = make_complaint(make_customer(office["branch"]), first_responder=office["staff"])
    staff = login_as("staff")
    staff.http.set_cookie("lang", "en")
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    form = page[page.index('id="assign-form"'):page.index("</form>", page.index('id="assign-form"'))]
    assert "李强 (E0002) · 江苏分公司" in form and "王芳 (E0001)" not in form  # not to the current owner
    response = staff.post("/admin/complaint/assign/", {"ids": str(complaint.id), "staff": office["other"].id,
                                                       "reason": "客户要求由熟悉情况的同事跟进"})
    assert response.status_code == 302 and f"details/?id={complaint.id}" in response.headers["Location"]
    assert Complaint.get_by_id(complaint.id).assignee_id == office["other"].id
    handover = History.get(History.action == "handover", History.object_id == complaint.id)
    assert "王芳" in handover.old_value and "李强" in handover.new_value and handover.username == "staff"
    note = History.get(History.action == "note", History.object_id == complaint.id)
    assert (note.field, note.new_value) == ("handover_reason", "客户要求由熟悉情况的同事跟进")
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "Reason for the hand-over" in page and "客户要求由熟悉情况的同事跟进" in page

    Complaint.update(stage="closed").where(Complaint.id == complaint.id).execute()
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert 'id="assign-form"' not in page
    response = staff.post("/admin/complaint/assign/", {"ids": str(complaint.id), "staff": office["staff"].id})
    assert "is closed" in staff.get(response.headers["Location"]).get_data(as_text=True)
    assert Complaint.get_by_id(complaint.id).assignee_id == office["other"].id
    # the list action leaves closed complaints with their owner too
    open_one = make_complaint(make_customer(office["branch"], name="李雷", phone="13900000000"),
                              first_responder=office["other"])
    staff.post("/admin/complaint/assign/", {"ids": f"{complaint.id},{open_one.id}", "staff": office["staff"].id})
    assert Complaint.get_by_id(complaint.id).assignee_id == office["other"].id
    assert Complaint.get_by_id(open_one.id).assignee_id == office["staff"].id


def test_the_owner_is_not_a_field_of_the_complaint_form(app, office, login_as):
    complaint = make_complaint(make_customer(office["branch"]), first_responder=office["staff"])
    staff = login_as("staff")
    assert 'name="assignee"' not in staff.get("/admin/complaint/new/").get_data(as_text=True)
    assert 'name="assignee"' not in staff.get(f"/admin/complaint/edit/?id={complaint.id}").get_data(as_text=True)


def test_the_administrator_picks_the_duty_person_on_the_branch_form(app, office, login_as):
    from models import History
    branch = office["branch"]
    admin = login_as("admin")
    page = admin.get(f"/admin/branch/edit/?id={branch.id}").get_data(as_text=True)
    assert 'name="duty_person"' in page and "李强 (E0002)" in page
    response = admin.post(f"/admin/branch/edit/?id={branch.id}", {
        "name": branch.name, "region": branch.region, "city": branch.city, "active": "y",
        "duty_person": str(office["other"].id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert duty_person(branch.id).id == office["other"].id
    assert History.select().where(History.object_type == "Staff", History.field == "on_duty").count() == 1
    assert "李强 (E0002)" in admin.get("/admin/branch/").get_data(as_text=True)  # the list shows it
    admin.post(f"/admin/branch/edit/?id={branch.id}", {"name": branch.name, "region": branch.region,
                                                       "city": branch.city, "active": "y",
                                                       "duty_person": str(office["staff"].id)})
    assert duty_person(branch.id).id == office["staff"].id
    assert not Staff.get_by_id(office["other"].id).on_duty
    foreign = make_staff(make_branch("新疆分公司", region="新疆"), "X0001")
    response = admin.post(f"/admin/branch/edit/?id={branch.id}", {
        "name": branch.name, "region": branch.region, "city": branch.city, "active": "y",
        "duty_person": str(foreign.id)})
    assert response.status_code == 200  # not one of the branch's staff: refused by the form
    assert duty_person(branch.id).id == office["staff"].id


def test_upgrade_gives_every_remaining_complaint_an_owner(office):
    complaint = make_complaint(make_customer(office["branch"]))
    duty = make_staff(office["branch"], "E0100", name="值班员", on_duty=True)
    Complaint.update(assignee=None, first_responder=None).where(Complaint.id == complaint.id).execute()
    migration = next(function for version, _name, function in MIGRATIONS if version == 20)
    from models.migrations import Schema
    with db.atomic():
        migration(Schema(db))
    assert Complaint.get_by_id(complaint.id).assignee_id == duty.id
