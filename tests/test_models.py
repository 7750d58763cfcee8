"""The domain schema: constraints, labels, database settings."""
import pytest
from peewee import IntegrityError

from models import ALL_MODELS, Branch, Complaint, Response, Staff, User, db
from models.complaints import format_number

from .helpers import make_branch, make_complaint, make_customer, make_staff


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path):
    """The embedded default, whatever database the rest of this run uses."""
    from app import create_app
    sqlite_app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    with sqlite_app.app_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_every_model_has_a_str_of_its_own():
    for model in ALL_MODELS:
        assert "__str__" in vars(model), model.__name__


def test_unique_values_are_enforced_by_the_database(app):
    with app.app_context():
        branch = make_branch()
        make_staff(branch, "E1")
        with pytest.raises(IntegrityError), db.atomic():
            Branch.create(name=branch.name, region="新疆")
        with pytest.raises(IntegrityError), db.atomic():
            make_staff(branch, "E1", name="另一个人")
        assert Branch.select().count() == 1 and Staff.select().count() == 1


def test_foreign_keys_are_enforced(app):
    with app.app_context():
        with pytest.raises(IntegrityError), db.atomic():
            Staff.create(name="无部门", employee_no="E9", branch=999)
        branch = make_branch()
        make_customer(branch)
        with pytest.raises(IntegrityError), db.atomic():
            branch.delete_instance()  # customers still belong to it


def test_required_fields_are_not_null(app):
    with app.app_context():
        with pytest.raises(IntegrityError), db.atomic():
            Branch.insert(region="甘宁").execute()


def test_complaint_numbers_follow_the_office_format(app):
    with app.app_context():
        first = make_complaint()
        second = make_complaint(first.customer)
        assert first.number == f"问字【{first.year}】001号"
        assert second.seq == first.seq + 1
        assert format_number(2026, 1000) == "问字【2026】1000号"
        with pytest.raises(IntegrityError), db.atomic():
            Complaint.update(seq=first.seq).where(Complaint.id == second.id).execute()


def test_complaint_deadlines_count_from_receipt(app):
    with app.app_context():
        complaint = make_complaint()
        dues = [complaint.acknowledge_due_at, complaint.result_due_at, complaint.rectify_due_at,
                complaint.callback_due_at]
        assert [(due - complaint.received_at).total_seconds() / 3600 for due in dues] == [1, 24, 48, 72]
        assert complaint.due_at == complaint.acknowledge_due_at


def test_one_response_per_invitation(app):
    from models import Invitation, Survey
    with app.app_context():
        survey = Survey.create(title="满意度调查")
        invitation = Invitation.create(survey=survey)
        assert len(invitation.token) >= 32
        Response.create(survey=survey, invitation=invitation)
        with pytest.raises(IntegrityError), db.atomic():
            Response.create(survey=survey, invitation=invitation)


def test_password_rules(app):
    with app.app_context():
        user = User(username="x")
        with pytest.raises(ValueError):
            user.set_password("short")
