"""Every admin view renders for the roles that may use it; create/edit/delete through real POSTs."""
import re

import pytest

from admin import MODEL_VIEWS
from app import create_app
from demo_data import DEMO_LOGINS, seed
from models import Award, Branch, Complaint, Customer, History, Staff, User, create_tables

from .helpers import Client, count_queries

PASSWORDS = {username: password for username, password, _ in DEMO_LOGINS}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "RATELIMIT_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}",
                      "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        create_tables()
        seed(7)
    return app


@pytest.fixture(scope="module")
def clients(demo_app):
    result = {}
    for role in ("staff", "manager", "admin"):
        client = Client(demo_app.test_client())
        assert client.login(role, PASSWORDS[role]).status_code == 302
        result[role] = client
    return result


def _first_id(model, username=None):
    """The first row of `model` the account `username` may see (models.scope), or any first row."""
    from models.scope import scoped
    query = model.select(model._meta.primary_key).order_by(model._meta.primary_key).limit(1)
    if username is not None:
        query = scoped(query, User.get(User.username == username), model)
    return query.scalar()


@pytest.mark.parametrize("view,model,endpoint", [(v, m, e) for v, m, _, _, e in MODEL_VIEWS],
                         ids=[e for *_, e in MODEL_VIEWS])
def test_view_pages_render_for_its_role(demo_app, clients, view, model, endpoint):
    client = clients[view.required_role]
    page = client.get(f"/admin/{endpoint}/")
    assert page.status_code == 200, endpoint
    html = page.get_data(as_text=True)
    with demo_app.app_context():
        row_id = _first_id(model, view.required_role)
        total = model.select().count()
    if total:
        assert "list-checkbox-column" in html or "table" in html
    # an empty cell is blank, never Python's "None" (e.g. a question without a dimension)
    assert not re.search(r">\s*None\s*<", html), endpoint
    pages = ["/new/"] if view.can_create else []
    if row_id is not None:
        pages.append(f"/details/?id={row_id}")
        if view.can_edit:
            pages.append(f"/edit/?id={row_id}")
    for suffix in pages:
        response = client.get(f"/admin/{endpoint}{suffix}")
        assert response.status_code == 200, (endpoint, suffix)
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("search", ["王", "问字", "x'\"<"])
def test_search_and_sort_work_on_the_complaint_list(clients, search):
    client = clients["staff"]
    response = client.get("/admin/complaint/", query_string={"search": search, "sort": "1", "desc": "1"})
    assert response.status_code == 200
    assert "x'\"<" not in response.get_data(as_text=True)


def test_list_page_query_count_does_not_grow_with_rows(demo_app, clients):
    """Foreign keys in list columns come from one query per column, not one per row (pages big
    enough that every column has a related row: a column empty on the page costs no query)."""
    client = clients["staff"]
    counts = []
    for page_size in (50, 100):  # sizes the list offers (a size it does not offer shows 20 rows)
        with count_queries() as counter:
            assert client.get(f"/admin/complaint/?page_size={page_size}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_create_edit_delete_round_trip(demo_app, clients):
    admin = clients["admin"]
    response = admin.post("/admin/branch/new/", {"name": "宁夏分公司", "region": "甘宁", "city": "银川", "active": "y"})
    assert response.status_code == 302
    with demo_app.app_context():
        branch = Branch.get(Branch.name == "宁夏分公司")
        assert branch.city == "银川"
        assert History.get((History.object_type == "Branch") & (History.object_id == branch.id)).action == "create"
    response = admin.post(f"/admin/branch/edit/?id={branch.id}", {"name": "宁夏分公司", "region": "甘宁", "city": "石嘴山"})
    assert response.status_code == 302
    with demo_app.app_context():
        assert Branch.get_by_id(branch.id).city == "石嘴山"
        change = History.get((History.object_id == branch.id) & (History.field == "city"))
        assert (change.old_value, change.new_value, change.username) == ("银川", "石嘴山", "admin")
    assert admin.post("/admin/branch/delete/", {"id": branch.id}).status_code == 302
    with demo_app.app_context():
        assert Branch.get_or_none(Branch.id == branch.id) is None


def test_staff_records_a_customer_and_a_complaint(demo_app, clients):
    staff = clients["staff"]
    with demo_app.app_context():
        branch_id = _first_id(Branch, "staff")  # the staff member's own branch
    response = staff.post("/admin/customer/new/", {
        "name": "周敏", "organisation": "市图书馆", "phone": "13912345678", "kind": "institution",
        "grade": "vip", "lifecycle": "new", "deal_state": "transacted", "branch": branch_id})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with demo_app.app_context():
        customer = Customer.get(Customer.phone == "13912345678")
    response = staff.post("/admin/complaint/new/", {
        "customer": customer.id, "branch": branch_id, "channel": "phone", "category": "attitude",
        "severity": "high", "title": "前台接待服务态度：来访时被晾在一边", "description": "客户来电",
        "compensation": "none"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with demo_app.app_context():
        complaint = Complaint.get(Complaint.customer == customer)
        assert re.fullmatch(r"问字【\d{4}】\d{3,}号", complaint.number)
        staff_user = User.get(User.username == "staff")
        assert complaint.created_by_id == staff_user.id
        assert complaint.first_responder_id == staff_user.staff_id
        assert complaint.stage == "received" and complaint.due_at is not None


def test_duplicate_unique_value_is_a_form_error_and_writes_nothing(demo_app, clients):
    manager = clients["manager"]
    with demo_app.app_context():
        existing = Staff.get_by_id(_first_id(Staff, "manager"))
        before = Staff.select().count()
        history_before = History.select().count()
    response = manager.post("/admin/staff/new/", {"name": "重复工号", "employee_no": existing.employee_no,
                                                  "branch": existing.branch_id})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "重复工号" in html  # the form comes back with what was typed
    assert "This value is already in use." in html or "已被使用" in html
    with demo_app.app_context():
        assert Staff.select().count() == before
        assert History.select().count() == history_before


def test_deleting_a_referenced_row_is_refused_with_a_message(demo_app, clients):
    admin = clients["admin"]
    with demo_app.app_context():
        branch = Branch.select().join(Customer, on=(Customer.branch == Branch.id)).first()
    response = admin.post("/admin/branch/delete/", {"id": branch.id}, follow_redirects=True)
    assert response.status_code == 200
    with demo_app.app_context():
        assert Branch.get_or_none(Branch.id == branch.id) is not None


def test_user_accounts_store_only_a_hash(demo_app, clients):
    admin = clients["admin"]
    response = admin.post("/admin/user/new/", {"username": "newclerk", "role": "staff", "active": "y",
                                               "password": "clerk-pass-2026"})
    assert response.status_code == 302
    with demo_app.app_context():
        user = User.get(User.username == "newclerk")
        assert user.password_hash.startswith("$argon2id$") and "clerk-pass-2026" not in user.password_hash
        assert not History.select().where(History.new_value.contains("clerk-pass")).exists()
    response = admin.post("/admin/user/new/", {"username": "nopass", "role": "staff"})
    assert response.status_code == 200
    with demo_app.app_context():
        assert User.get_or_none(User.username == "nopass") is None


def test_manager_records_an_award_and_a_penalty(demo_app, clients):
    manager = clients["manager"]
    with demo_app.app_context():
        staff_id = _first_id(Staff, "manager")
        awards = Award.select().count()
    response = manager.post("/admin/award/new/", {"staff": staff_id, "kind": "star_month", "period": "2026-10",
                                                  "reason": "客户投票第一", "awarded_on": "2026-11-01"})
    assert response.status_code == 302
    response = manager.post("/admin/rewardpenalty/new/", {"staff": staff_id, "kind": "cash", "reason": "表扬",
                                                          "decided_on": "2026-11-01"})
    assert response.status_code == 200  # a cash bonus without an amount is refused
    with demo_app.app_context():
        assert Award.select().count() == awards + 1
        assert Award.select().order_by(Award.id.desc()).first().approved_by.username == "manager"


def test_history_names_the_related_rows_of_a_change(demo_app, clients):
    manager = clients["admin"]  # moves a person between branches: every branch in scope
    with demo_app.app_context():
        person = Staff.select().first()
        old_branch = person.branch
        new_branch = Branch.select().where(Branch.id != old_branch.id).first()
    response = manager.post(f"/admin/staff/edit/?id={person.id}", {
        "name": person.name, "employee_no": person.employee_no, "branch": new_branch.id,
        "position": person.position, "phone": person.phone, "active": "y"})
    assert response.status_code == 302
    with demo_app.app_context():
        change = History.get((History.object_type == "Staff") & (History.object_id == person.id)
                             & (History.field == "branch"))
        assert change.old_value == f"{old_branch.name} (#{old_branch.id})"
        assert change.new_value == f"{new_branch.name} (#{new_branch.id})"


def test_demo_manager_sees_one_branch_and_the_director_all(demo_app):
    from models.scope import branch_ids
    with demo_app.app_context():
        manager, director = User.get(User.username == "manager"), User.get(User.username == "director")
        assert [Branch.get_by_id(b).name for b in branch_ids(manager)] == ["甘宁分公司"]
        assert branch_ids(director) is None
        total = Customer.select().count()
        own = Customer.select().where(Customer.branch.in_(list(branch_ids(manager)))).count()
        assert 0 < own < total
    pages = {}
    for username in ("manager", "director"):
        client = Client(demo_app.test_client())
        client.login(username, PASSWORDS[username])
        page = client.get("/admin/customer/?page_size=100").get_data(as_text=True)
        pages[username] = int(re.search(r"\((\d+)\)", page.split('class="nav-link active"', 1)[1]).group(1))
    assert pages == {"manager": own, "director": total}
    result = demo_app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert "manager / manager-demo-2026 / manager / 甘宁分公司" in result.output
    assert "director / director-demo-2026 / director / all branches" in result.output
