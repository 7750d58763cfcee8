"""Migrations 50 and 51: databases from before surveys went into the field catch up without
losing a row (on the test database: SQLite file or PostgreSQL)."""
from datetime import datetime

from models import (AnonymousFeedback, Branch, Callback, Complaint, Customer, History, OpenLink, Response, Survey,
                    db)
from models.migrations import LEGACY_PLACEHOLDER_NAME, MIGRATIONS, Schema, applied_versions, index_name, upgrade
from models.surveys import SHORT_CODE_LENGTH

from .helpers import make_branch, make_complaint

RECEIVED = datetime(2026, 4, 2, 15, 30)


def run(version):
    function = next(f for v, _name, f in MIGRATIONS if v == version)
    with db.atomic():
        function(Schema(db))


def test_migration_50_gives_old_open_links_short_codes_and_old_responses_a_counted_status(app):
    with app.app_context():
        survey = Survey.create(title="旧问卷")
        old_links = [OpenLink.create(survey=survey, label=f"旧海报{i}") for i in range(3)]
        Response.create(survey=survey, open_link=old_links[0])
        # the tables as the release before created them
        for table, column in (("open_link", "short_code"), ("response", "status"), ("response", "form_nonce")):
            db.execute_sql(f'DROP INDEX IF EXISTS "{index_name(table, [column])}"')
        for table, column in (("open_link", "short_code"), ("response", "status"), ("response", "hold_reason"),
                              ("response", "contact_name"), ("response", "contact_phone"), ("response", "form_nonce")):
            db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        db.execute_sql('DROP TABLE "anonymous_feedback"')
        upgrade()
        assert {50, 51} <= applied_versions()
        codes = [link.short_code for link in OpenLink.select().order_by(OpenLink.id)]
        assert len(set(codes)) == 3 and all(len(code) == SHORT_CODE_LENGTH for code in codes)
        assert index_name("open_link", ["short_code"]) in {i.name for i in db.get_indexes("open_link")}
        response = Response.get()
        assert (response.status, response.hold_reason, response.contact_phone, response.form_nonce) == (
            "counted", None, "", None)
        assert AnonymousFeedback.select().count() == 0  # the table is back
        fresh = OpenLink.create(survey=survey)
        assert len(fresh.short_code) == SHORT_CODE_LENGTH


def _placeholder(branch):
    return Customer.create(name=LEGACY_PLACEHOLDER_NAME, branch=branch, kind="household", lifecycle="potential",
                           opinions="匿名问卷答卷的占位客户")


def _legacy_followup(survey, branch, placeholder, title):
    complaint = make_complaint(placeholder, branch=branch, channel="survey", title=title,
                               description="问卷：旧问卷\n- 满意程度: 1/5", received_at=RECEIVED)
    # as the release before filed them: nobody received it; the owner is the one migrations 2/20 gave
    Complaint.update(first_responder=None).where(Complaint.id == complaint.id).execute()
    History.create(object_type="Complaint", object_id=complaint.id, object_label=str(complaint), action="create",
                   field="channel", new_value="survey")
    response = Response.create(survey=survey, branch=branch, submitted_at=RECEIVED, followup_complaint=complaint)
    return complaint, response


def test_migration_51_turns_untouched_placeholder_followups_into_feedback_and_keeps_worked_ones(app):
    with app.app_context():
        branch = make_branch()
        survey = Survey.create(title="旧问卷")
        placeholder = _placeholder(branch)
        untouched, untouched_response = _legacy_followup(survey, branch, placeholder, "匿名问卷客户：满意度低分——等候 1/5")
        worked, worked_response = _legacy_followup(survey, branch, placeholder, "匿名问卷客户：满意度低分——态度 1/5")
        Complaint.update(stage="acknowledged", apology_note="已致歉").where(Complaint.id == worked.id).execute()
        real = Customer.create(name=LEGACY_PLACEHOLDER_NAME, phone="13800000000", branch=branch)  # a real namesake
        make_complaint(real, branch=branch)
        run(51)

        assert Complaint.get_or_none(Complaint.id == untouched.id) is None
        feedback = AnonymousFeedback.get()
        assert (feedback.former_complaint, feedback.title, feedback.branch_id, feedback.received_at) == (
            untouched.number, untouched.title, branch.id, RECEIVED)
        assert feedback.description == untouched.description and feedback.reviewed_at is None
        assert (feedback.response_id, feedback.survey_id) == (untouched_response.id, survey.id)
        assert Response.get_by_id(untouched_response.id).followup_complaint_id is None
        assert History.select().where((History.object_type == "Complaint") & (History.object_id == untouched.id)
                                      & (History.action == "delete")).get().new_value == str(feedback.id)
        assert History.select().where((History.object_type == "Complaint") & (History.object_id == untouched.id)
                                      & (History.action == "create")).exists()  # its history stays
        # somebody apologised on the worked one: it stays a complaint, and so its customer stays
        assert Complaint.get_by_id(worked.id).customer_id == placeholder.id
        assert Response.get_by_id(worked_response.id).followup_complaint_id == worked.id
        assert Customer.get_or_none(Customer.id == placeholder.id) is not None
        assert Customer.get_or_none(Customer.id == real.id) is not None  # a customer with a phone is nobody's placeholder
        run(51)  # again: nothing more happens
        assert AnonymousFeedback.select().count() == 1 and Complaint.select().count() == 2


def test_migration_51_removes_a_placeholder_nothing_refers_to_any_more(app):
    with app.app_context():
        branch = make_branch()
        survey = Survey.create(title="旧问卷")
        placeholder = _placeholder(branch)
        for item in ("等候", "价格"):
            _legacy_followup(survey, branch, placeholder, f"匿名问卷客户：满意度低分——{item} 1/5")
        kept_branch = Branch.create(name="新疆分公司", region="新疆")
        kept = _placeholder(kept_branch)
        Callback.create(customer=kept, kind="scheduled")  # something still refers to this one
        run(51)
        assert Complaint.select().count() == 0 and AnonymousFeedback.select().count() == 2
        assert Customer.get_or_none(Customer.id == placeholder.id) is None
        assert History.select().where((History.object_type == "Customer") & (History.object_id == placeholder.id)
                                      & (History.action == "delete")).exists()
        assert Customer.get_or_none(Customer.id == kept.id) is not None
