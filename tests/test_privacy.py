"""Personal data (models.privacy): contact details masked for people who do not own the
customer, a logged "show", exports marked as personal data, anonymisation on request."""
import pytest

from models import Complaint, Customer, ExportLog, History, Response, User
from models.privacy import contact_shown_ids, mask_email, mask_phone

from .helpers import Client, make_complaint, make_customer, make_staff, make_user

PHONE, EMAIL = "13812345678", "zhangwei@example.com"


@pytest.fixture
def people(app, office):
    """A customer of the office's branch whose account manager is 王芳 (the `staff` login);
    another staff member of the branch (no relation); the branch manager; the director."""
    with app.app_context():
        customer = make_customer(office["branch"], name="张伟", phone=PHONE, email=EMAIL,
                                 account_manager=office["staff"], address="南京市鼓楼区1号")
        clerk = make_staff(office["branch"], "E0100", name="周敏")
        make_user("clerk", "staff", staff=clerk)
        make_user("director", "director")
        # the manager fixture's staff record is in the branch: a branch manager
    return {"customer": customer, "clerk": clerk}


def _client(app, username):
    client = Client(app.test_client())
    client.login(username)
    return client


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("025-83451234") == "025****1234"
    assert mask_phone("1234") == "****34" and mask_phone("") == ""
    assert mask_email("zhangwei@example.com") == "z***@example.com"


def test_who_sees_the_contact_details_in_full(app, office, people):
    with app.app_context():
        customer = Customer.get_by_id(people["customer"].id)
        def sees(username):
            return customer.id in contact_shown_ids(User.get(User.username == username), [customer])
        assert sees("staff")            # account manager
        assert sees("manager")          # manager of the customer's branch
        assert not sees("clerk")        # another staff member of the branch
        assert not sees("director") and not sees("admin")
        make_complaint(customer, assignee=people["clerk"])
        assert sees("clerk")            # owns one of the customer's open complaints
        Complaint.update(stage="closed").where(Complaint.customer == customer.id).execute()
        assert not sees("clerk")


def test_list_and_page_mask_for_others_and_show_is_logged(app, office, people):
    clerk = _client(app, "clerk")
    listing = clerk.get("/admin/customer/").get_data(as_text=True)
    assert "138****5678" in listing and PHONE not in listing
    page = clerk.get(f"/admin/customer/details/?id={people['customer'].id}").get_data(as_text=True)
    assert "z***@example.com" in page and EMAIL not in page and PHONE not in page
    edit = clerk.get(f"/admin/customer/edit/?id={people['customer'].id}").get_data(as_text=True)
    assert PHONE not in edit and 'name="phone"' not in edit  # cannot overwrite what is hidden
    shown = clerk.post(f"/admin/customer/contact/?id={people['customer'].id}", {})
    assert shown.status_code == 200
    assert PHONE in shown.get_data(as_text=True) and EMAIL in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    with app.app_context():
        entry = History.get(History.action == "reveal")
        assert (entry.object_type, entry.object_id, entry.username) == ("Customer", people["customer"].id, "clerk")
    owner = _client(app, "staff").get("/admin/customer/").get_data(as_text=True)
    assert PHONE in owner and "138****5678" not in owner


def test_edit_by_someone_who_sees_masked_keeps_the_contact_details(app, office, people):
    clerk = _client(app, "clerk")
    response = clerk.post(f"/admin/customer/edit/?id={people['customer'].id}", {
        "name": "张伟", "kind": "household", "grade": "vip", "lifecycle": "old", "deal_state": "none",
        "branch": office["branch"].id, "account_manager": office["staff"].id, "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        stored = Customer.get_by_id(people["customer"].id)
        assert (stored.grade, stored.phone, stored.email) == ("vip", PHONE, EMAIL)


def test_exports_of_personal_data_say_so(app, office, people):
    manager = _client(app, "manager")
    assert PHONE in manager.get("/admin/customer/export/csv/").get_data(as_text=True)
    manager.get("/admin/slapolicy/export/csv/").get_data()
    manager.get("/admin/award/export/csv/").get_data()
    with app.app_context():
        logs = {log.what: log for log in ExportLog.select()}
        assert logs["customer"].personal_data and "phone" in logs["customer"].filters
        assert not logs["award"].personal_data


def test_cli_export_on_behalf_of_a_user_keeps_to_their_branch(app, office, people, tmp_path):
    from .helpers import make_branch
    with app.app_context():
        make_customer(make_branch("新疆分公司", region="新疆"), name="远方客户")
    runner = app.test_cli_runner()
    out = tmp_path / "customers.csv"
    result = runner.invoke(args=["export", "customers", "--format", "csv", "--out", str(out), "--user", "manager"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    assert "张伟" in text and "远方客户" not in text
    result = runner.invoke(args=["export", "customers", "--format", "csv", "--out", str(out)])
    assert "远方客户" in out.read_text(encoding="utf-8-sig")
    result = runner.invoke(args=["export", "customers", "--format", "csv", "--out", str(out), "--user", "clerk"])
    assert result.exit_code != 0  # staff may not export
    with app.app_context():
        logs = list(ExportLog.select().order_by(ExportLog.id))
        assert logs[0].username == "manager" and logs[0].personal_data
        assert logs[1].username.startswith("cli:")


def test_anonymisation_erases_identity_and_keeps_figures(app, office, people):
    with app.app_context():
        customer = Customer.get_by_id(people["customer"].id)
        complaint = make_complaint(customer, title="张伟反映维修态度差")
        Response.create(survey=__import__("models").Survey.create(title="问卷"), customer=customer,
                        branch=office["branch"])
        customer.opinions = "喜欢电话沟通"
        customer.save()
        from models.audit import record_changes
        before = dict(customer.__data__)
        customer.phone = "13900000000"
        customer.save()
        record_changes(customer, before)
    clerk = _client(app, "clerk")
    assert clerk.post(f"/admin/customer/anonymise/?id={people['customer'].id}", {}).status_code == 403
    manager = _client(app, "manager")
    response = manager.post(f"/admin/customer/anonymise/?id={people['customer'].id}", {})
    assert response.status_code == 302
    with app.app_context():
        stored = Customer.get_by_id(people["customer"].id)
        assert stored.name == f"已匿名客户 #{stored.id}" and stored.anonymised_at is not None
        assert (stored.phone, stored.email, stored.address, stored.opinions) == ("", "", "", "")
        assert (stored.grade, stored.branch_id) == ("regular", office["branch"].id)
        assert Complaint.get_by_id(complaint.id).customer_id == stored.id  # figures kept
        assert "张伟" not in Complaint.get_by_id(complaint.id).title
        assert Response.select().where(Response.customer == stored.id).count() == 1
        texts = " ".join(f"{h.object_label} {h.old_value} {h.new_value}" for h in History.select())
        assert "13900000000" not in texts and PHONE not in texts and "张伟" not in texts
        assert History.get(History.action == "anonymise").username == "manager"
    page = manager.get(f"/admin/customer/details/?id={people['customer'].id}").get_data(as_text=True)
    assert 'id="anonymised"' in page


def test_quadrants_and_callbacks_due_mask_phones_for_others(app, office, people):
    from datetime import date
    with app.app_context():
        Customer.update(first_deal_date=date(2020, 1, 1)).where(Customer.id == people["customer"].id).execute()
    clerk = _client(app, "clerk")
    page = clerk.get("/admin/callbacks-due/").get_data(as_text=True)
    assert "138****5678" in page and PHONE not in page
    staff = _client(app, "staff")
    assert PHONE in staff.get("/admin/callbacks-due/").get_data(as_text=True)

