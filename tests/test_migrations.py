"""Schema versions: `flask upgrade-db` brings an existing database up to the models.

Runs on the test database (SQLite file, or PostgreSQL with TEST_DATABASE_URL). Tests that
change a table's shape work on a probe table of their own and drop it afterwards, so the
shared PostgreSQL schema stays as the models define it.
"""
import pytest
from peewee import CharField, IntegerField

from models import Answer, Branch, db
from models import migrations
from models.base import BaseModel
from models.migrations import MIGRATIONS, Schema, SchemaVersion, applied_versions, index_name, upgrade


class MigrationProbe(BaseModel):
    """A table as an older release created it: no `note` column yet."""

    code = CharField(max_length=20)
    size = IntegerField(default=0)


@pytest.fixture
def probe(app):
    with app.app_context():
        MigrationProbe.drop_table(safe=True)
        MigrationProbe.create_table()
        MigrationProbe.insert_many([{"code": "甘宁-001", "size": 3}, {"code": "江苏-002", "size": 5}]).execute()
        yield MigrationProbe
        db.close()
        MigrationProbe.drop_table(safe=True)


@pytest.fixture
def only_migrations(monkeypatch):
    """Replace the registry with the migrations a test defines."""
    registry = []
    monkeypatch.setattr(migrations, "MIGRATIONS", registry)
    return registry


def columns(table):
    return {c.name: c for c in db.get_columns(table)}


def indexes(table):
    return {i.name for i in db.get_indexes(table)}


def test_real_migrations_are_numbered_in_increasing_order():
    versions = [v for v, _, _ in MIGRATIONS]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert all(name for _, name, _ in MIGRATIONS)


def test_upgrade_of_an_up_to_date_database_only_records_the_versions(app):
    with app.app_context():
        assert applied_versions() == set()
        applied = upgrade()
        assert [v for v, _ in applied] == [v for v, _, _ in MIGRATIONS]
        assert applied_versions() == {v for v, _, _ in MIGRATIONS}
        assert upgrade() == []  # nothing pending: a second run changes nothing
        assert SchemaVersion.select().count() == len(MIGRATIONS)


def test_upgrade_adds_the_scoring_index_to_a_database_created_before_it(app):
    name = index_name("answer", ["response_id", "question_id", "value"])
    with app.app_context():
        db.execute_sql(f'DROP INDEX "{name}"')  # the answer table as release 0 created it
        assert name not in indexes("answer")
        upgrade()
        assert name in indexes("answer")
        assert 1 in applied_versions()


def test_a_migration_adds_a_column_with_its_default_and_keeps_the_rows(app, probe, only_migrations):
    @migrations.migration(1, "probe: note column and code index")
    def add_note(schema):
        schema.add_column("migration_probe", "note", CharField(max_length=50, default="待补充"))
        schema.add_index("migration_probe", ["code"], unique=True)

    with app.app_context():
        applied = upgrade()
        assert applied == [(1, "probe: note column and code index")]
        assert "note" in columns("migration_probe")
        assert "migration_probe_code" in indexes("migration_probe")
        rows = db.execute_sql("SELECT code, size, note FROM migration_probe ORDER BY code").fetchall()
        assert [tuple(r) for r in rows] == [("江苏-002", 5, "待补充"), ("甘宁-001", 3, "待补充")]
        assert upgrade() == []


def test_a_column_added_to_a_referenced_table_keeps_the_rows_that_point_at_it(app, only_migrations):
    """On SQLite a NOT NULL column with a default rebuilds the table; with foreign keys on, the
    drop of the old table would null every vote for a staff member (ON DELETE SET NULL)."""
    from peewee import BooleanField
    from models import Answer, Question, Response, Survey
    from .helpers import make_branch, make_staff

    @migrations.migration(1, "probe: a flag on staff")
    def add_flag(schema):
        schema.add_column("staff", "probe_flag", BooleanField(default=False))

    with app.app_context():
        staff = make_staff(make_branch())
        survey = Survey.create(title="服务之星评选")
        question = Question.create(survey=survey, text="请选择您心中的服务之星", kind="staff")
        response = Response.create(survey=survey)
        vote = Answer.create(response=response, question=question, staff=staff)
        try:
            upgrade()
            assert Answer.get_by_id(vote.id).staff_id == staff.id
        finally:
            if "probe_flag" in columns("staff"):
                migrations.Schema(db.obj).migrator.drop_column("staff", "probe_flag").run()


def test_a_failing_migration_is_rolled_back_and_not_recorded(app, probe, only_migrations):
    @migrations.migration(1, "probe: add a column then fail")
    def broken(schema):
        schema.add_column("migration_probe", "note", CharField(max_length=50, null=True))
        raise RuntimeError("the data does not fit the new rule")

    with app.app_context():
        with pytest.raises(RuntimeError):
            upgrade()
        assert "note" not in columns("migration_probe")
        assert applied_versions() == set()
        assert MigrationProbe.select().count() == 2


def test_schema_changes_skip_missing_tables_and_existing_parts(app):
    with app.app_context():
        schema = Schema(db.obj)
        assert schema.add_column("no_such_table", "note", CharField(null=True)) is False
        assert schema.add_index("branch", ["name"], unique=True) is False  # Branch.name is unique already
        assert schema.add_column("branch", "name", CharField(null=True)) is False


def test_migrations_must_be_registered_in_order(only_migrations):
    migrations.migration(2, "two")(lambda schema: None)
    with pytest.raises(ValueError):
        migrations.migration(2, "two again")(lambda schema: None)
    with pytest.raises(ValueError):
        migrations.migration(1, "older")(lambda schema: None)


def test_upgrade_db_command_reports_status_and_applies(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["upgrade-db", "--status"])
    assert result.exit_code == 0, result.output
    assert "PENDING" in result.output and f"{len(MIGRATIONS)} pending" in result.output
    result = runner.invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert f"schema version {MIGRATIONS[-1][0]}" in result.output
    result = runner.invoke(args=["upgrade-db", "--status"])
    assert "PENDING" not in result.output and "0 pending" in result.output
    with app.app_context():
        # the data the office already had is untouched
        Branch.create(name="新疆分公司", region="新疆")
        assert runner.invoke(args=["upgrade-db"]).exit_code == 0
        assert Branch.select().count() == 1 and Answer.select().count() == 0


def test_migrations_40_to_42_bring_an_older_database_up(app):
    """A database of the release before: no session version, no branch links, no history branch,
    no customer archive flag, no personal-data mark in the export log. Upgrading adds them and
    gives the existing history its branch."""
    from models import Customer, ExportLog, History, User
    from .helpers import make_branch, make_complaint, make_customer

    with app.app_context():
        branch = make_branch()
        complaint = make_complaint(make_customer(branch))
        History.create(object_type="Complaint", object_id=complaint.id, object_label="x", action="create")
        schema = Schema(db.obj)
        if "history_branch_id" in indexes("history"):
            db.execute_sql('DROP INDEX "history_branch_id"')
        for table, column in (("history", "branch_id"), ("user", "session_version"), ("customer", "anonymised_at"),
                              ("export_log", "personal_data")):
            schema.migrator.drop_column(table, column).run()
        SchemaVersion.create_table(safe=True)
        for version in (40, 41, 42):
            SchemaVersion.delete().where(SchemaVersion.version == version).execute()
        for version, _name, _fn in MIGRATIONS:
            if version not in (40, 41, 42):
                SchemaVersion.insert(version=version, name="x").on_conflict_ignore().execute()
        db.close()
        applied = upgrade()
        assert [v for v, _ in applied] == [40, 41, 42]
        assert {"branch_id"} <= set(columns("history")) and "session_version" in columns("user")
        assert "anonymised_at" in columns("customer") and "personal_data" in columns("export_log")
        assert History.get(History.object_id == complaint.id, History.object_type == "Complaint").branch_id == branch.id
        assert User.select().count() == 0 and Customer.select().count() == 1 and ExportLog.select().count() == 0


def test_upgrade_adds_the_notification_columns_and_the_scheduler_looks_at_every_open_complaint(app, office):
    """Migration 30 on a database from before notifications: the columns come back with their
    defaults, and every open complaint (only those) is due for the scheduler's next tick."""
    from playhouse.migrate import migrate

    from models import Complaint, Staff

    from .helpers import make_complaint, make_customer
    with app.app_context():
        customer = make_customer(office["branch"])
        still_open, closed = make_complaint(customer), make_complaint(customer)
        Complaint.update(stage="closed").where(Complaint.id == closed.id).execute()
        db.execute_sql(f'DROP INDEX "{index_name("complaint", ["alert_at"])}"')
        schema = Schema(db)
        migrate(schema.migrator.drop_column("complaint", "alert_at"), schema.migrator.drop_column("staff", "email"))
        assert "alert_at" not in columns("complaint") and "email" not in columns("staff")
        upgrade()
        assert index_name("complaint", ["alert_at"]) in indexes("complaint")
        assert Staff.get_by_id(office["staff"].id).email == ""
        assert Complaint.get_by_id(still_open.id).alert_at == still_open.received_at
        assert Complaint.get_by_id(closed.id).alert_at is None


def test_a_not_null_column_is_added_in_place_keeping_the_tables_triggers(app):
    """A NOT NULL column with a constant default is one ALTER TABLE: on SQLite no rebuild, so
    the search index's triggers on the table survive (and on PostgreSQL nothing changes)."""
    from peewee import BooleanField
    from models.base import is_sqlite

    def search_triggers_present(table):
        if is_sqlite():
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s" % f"'{table}'"
        else:
            sql = f"SELECT tgname FROM pg_trigger WHERE tgrelid = '{table}'::regclass AND NOT tgisinternal"
        return len(db.execute_sql(sql).fetchall()) > 0

    with app.app_context():
        assert search_triggers_present("customer")
        schema = Schema(db.obj)
        try:
            assert schema.add_column("customer", "probe_flag", BooleanField(default=True))
            assert "probe_flag" in columns("customer")
            assert search_triggers_present("customer")
        finally:
            schema.migrator.drop_column("customer", "probe_flag").run()
