"""Deletes keep evidence (models.archive): deleting each kind of row that has dependants
leaves the dependants and their history intact (archived, or refused with the list of what
depends on it); the database refuses a cascade itself (ON DELETE RESTRICT, migration 43, on
SQLite and PostgreSQL); every delete and archive is in the history."""
import json

import pytest
from peewee import IntegrityError

from models import (Answer, Award, Branch, Callback, Choice, Complaint, Customer, History, Invitation, OpenLink,
                    Question, Rectification, Response, RewardPenalty, Staff, Survey, db)
from models import archive
from models.migrations import Schema, _foreign_keys_restrict

from .helpers import Client, make_branch_rows, make_customer


@pytest.fixture
def rows(app, office):
    with app.app_context():
        return make_branch_rows(office["branch"], "证据")


def _dependants_snapshot(rows, deleted=None):
    """Every evidence row as stored, but the row being deleted."""
    kinds = [Complaint, Rectification, Callback, Award, RewardPenalty, Invitation, Response, Answer, Question,
             Choice, OpenLink]
    return {model.__name__: sorted((r.id, json.dumps(r.__data__, default=str)) for r in model.select()
                                   if (model, r.id) != deleted)
            for model in kinds}


def _history_snapshot():
    return sorted((h.id, h.object_type, h.object_id, h.action, h.new_value) for h in History.select())


# endpoint, row kind, outcome: every kind of row with dependants
CASES = [("staff", "staff", "archived"), ("customer", "customer", "archived"), ("survey", "survey", "archived"),
         ("openlink", "openlink", "archived"), ("branch", "branch", "archived"),
         ("complaint", "complaint", "refused"), ("question", None, "refused"), ("invitation", "invitation", "refused")]


@pytest.mark.parametrize("endpoint,kind,outcome", CASES)
def test_deleting_a_row_with_dependants_keeps_them_and_their_history(app, office, rows, endpoint, kind, outcome):
    admin = Client(app.test_client())
    admin.login("admin")
    with app.app_context():
        row = rows[kind] if kind else Question.get(Question.kind == "rating")
        model = type(row)
        if endpoint == "openlink":  # an answer through the open link
            Response.create(survey=row.survey_id, open_link=row, branch=row.branch_id)
        dependants = _dependants_snapshot(rows, (model, row.id))
        history = _history_snapshot()
    response = admin.post(f"/admin/{endpoint}/delete/", {"id": row.id}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with app.app_context():
        stored = model.get_or_none(model.id == row.id)
        assert stored is not None  # never deleted
        assert _dependants_snapshot(rows, (model, row.id)) == dependants  # nothing that depends on it changed
        new = [h for h in _history_snapshot() if h not in history]
        assert _history_snapshot()[:len(history)] == history  # earlier history untouched
        if outcome == "archived":
            assert stored.active is False
            assert [(h[1], h[2], h[3]) for h in new] == [(model.__name__, row.id, "archive")]
            assert "archived" in page or "已归档" in page
        else:
            assert new == []
            assert "cannot be deleted" in page or "不能删除" in page


def test_a_row_without_dependants_is_deleted_with_its_values_in_the_history(app, office):
    admin = Client(app.test_client())
    admin.login("admin")
    with app.app_context():
        customer = make_customer(office["branch"], name="误建客户", phone="13800001111")
    admin.post("/admin/customer/delete/", {"id": customer.id})
    with app.app_context():
        assert Customer.get_or_none(Customer.id == customer.id) is None
        entry = History.get(History.object_type == "Customer", History.object_id == customer.id,
                            History.action == "delete")
        assert json.loads(entry.old_value)["phone"] == "13800001111" and entry.username == "admin"


def test_a_survey_without_answers_goes_with_its_questions_and_choices(app, office):
    with app.app_context():
        survey = Survey.create(title="草稿问卷")
        question = Question.create(survey=survey, text="渠道", kind="single")
        Choice.create(question=question, text="电话")
    admin = Client(app.test_client())
    admin.login("admin")
    admin.post("/admin/survey/delete/", {"id": survey.id})
    with app.app_context():
        assert Survey.get_or_none(Survey.id == survey.id) is None
        assert not Question.select().where(Question.survey == survey.id).exists()
        deleted = {h.object_type for h in History.select().where(History.action == "delete")}
        assert deleted == {"Survey", "Question", "Choice"}


@pytest.mark.parametrize("parent,child", [
    (Staff, Award), (Staff, RewardPenalty), (Staff, Answer), (Customer, Callback), (Customer, Invitation),
    (Complaint, Rectification), (Survey, Response), (Response, Answer), (Question, Answer), (Survey, Invitation),
])
def test_the_database_refuses_a_cascade(app, rows, parent, child):
    """Even a delete that bypasses the admin cannot take evidence with it."""
    with app.app_context():
        kind = {Staff: "staff", Customer: "customer", Complaint: "complaint", Survey: "survey",
                Response: "response"}.get(parent)
        row = rows[kind] if kind else Question.get(Question.kind == "rating")
        before = child.select().count()
        with pytest.raises(IntegrityError):
            with db.atomic():
                parent.delete().where(parent.id == row.id).execute()
        assert child.select().count() == before


def test_migration_43_turns_an_old_cascade_into_restrict(app, rows):
    """A database made by an older release (award.staff_id ON DELETE CASCADE, answer.staff_id
    SET NULL) is changed in place by the migration, its rows kept."""
    with app.app_context():
        schema = Schema(db.obj)
        if schema.is_sqlite():
            with db.atomic():
                schema._sqlite_on_delete("award", {"staff_id": "CASCADE"})
                schema._sqlite_on_delete("answer", {"staff_id": "SET NULL"})
        else:
            with db.atomic():
                schema._postgres_on_delete("award", Award.staff, "CASCADE")
                schema._postgres_on_delete("answer", Answer.staff, "SET NULL")
        db.close()
        assert schema.on_delete_actions("award")["staff_id"] == "CASCADE"
        awards, votes = Award.select().count(), Answer.select().where(Answer.staff.is_null(False)).count()
        with db.atomic():
            _foreign_keys_restrict(schema)
        db.close()
        assert schema.on_delete_actions("award")["staff_id"] == "RESTRICT"
        assert schema.on_delete_actions("answer")["staff_id"] == "RESTRICT"
        assert (Award.select().count(), Answer.select().where(Answer.staff.is_null(False)).count()) == (awards, votes)
        with pytest.raises(IntegrityError):
            with db.atomic():
                Staff.delete().where(Staff.id == rows["staff"].id).execute()
        if schema.is_sqlite():
            assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_dependants_are_listed_by_kind(app, rows):
    with app.app_context():
        found = dict((model.__name__, n) for model, n in archive.dependants(rows["customer"]))
        assert found["Complaint"] == 1 and found["Callback"] == 1 and found["Invitation"] == 1
        assert "Branch" not in found
        with pytest.raises(archive.DeleteRefused) as refused:
            archive.remove(rows["complaint"])
        assert "1 rectification worksheets" in str(refused.value) or "份整改工作单" in str(refused.value)
        assert archive.remove(Branch.get_by_id(rows["branch"].id)) == "archived"
