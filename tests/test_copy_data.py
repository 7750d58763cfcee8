"""`flask copy-data TARGET_URL`: an office on SQLite moves to PostgreSQL (or another file).

The source is a SQLite file with the demo office in it; the target is the test database
(PostgreSQL when TEST_DATABASE_URL is set, else a second SQLite file).
"""
import pytest

from app import create_app
from models import ALL_MODELS, Complaint, Customer, User, db
from models.base import bind_database, open_database


@pytest.fixture
def source_office(app, tmp_path):
    """The demo office in its own SQLite file; `app` (the target) is created first so that
    its database is reset before the copy."""
    target_url = app.config["DATABASE_URL"]
    source = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                         "DATABASE_URL": f"sqlite:///{tmp_path / 'office.db'}"})
    with source.app_context():
        from demo_data import seed
        from models import create_tables
        create_tables()
        seed(7)
        counts = {m._meta.table_name: m.select().count() for m in ALL_MODELS}
        complaints = {c.number: (c.received_at, c.compensation_amount, c.stage, c.customer.name)
                      for c in Complaint.select()}
    yield source, target_url, counts, complaints
    bind_database(target_url)
    if not db.is_closed():
        db.close()


def test_copy_data_moves_every_row_and_the_target_goes_on_numbering(source_office):
    source, target_url, counts, complaints = source_office
    assert counts["complaint"] > 100 and counts["answer"] > 100  # a real office, not an empty file
    result = source.test_cli_runner().invoke(args=["copy-data", target_url])
    assert result.exit_code == 0, result.output
    assert "Copied" in result.output

    target = open_database(target_url)
    with target.bind_ctx(ALL_MODELS):
        assert {m._meta.table_name: m.select().count() for m in ALL_MODELS} == counts
        copied = {c.number: (c.received_at, c.compensation_amount, c.stage, c.customer.name)
                  for c in Complaint.select()}
        assert copied == complaints
        manager = User.get(User.username == "manager")
        assert manager.check_password("manager-demo-2026")  # logins keep working
        newcomer = Customer.create(name="迁移后新客户", branch=Customer.select().first().branch)
        assert newcomer.id == counts["customer"] + 1  # ids continue after the copied rows
    # the search index is built in the target from the copied rows (not copied: its form differs)
    suffix = "fts" if target_url.startswith("sqlite") else "search"
    for table in ("complaint", "customer"):
        indexed = target.execute_sql(f'SELECT COUNT(*) FROM "{table}_{suffix}"').fetchone()[0]
        assert indexed == counts[table], table
    queued = target.execute_sql('SELECT "kind", "row_id" FROM "search_queue"').fetchall()
    assert queued == [("customer", newcomer.id)]  # only what was written after the copy
    target.close()


def test_copy_data_refuses_a_target_that_already_has_data(source_office):
    source, target_url, counts, _ = source_office
    runner = source.test_cli_runner()
    assert runner.invoke(args=["copy-data", target_url]).exit_code == 0
    result = runner.invoke(args=["copy-data", target_url])
    assert result.exit_code != 0 and "not empty" in result.output
    target = open_database(target_url)
    with target.bind_ctx(ALL_MODELS):
        assert Complaint.select().count() == counts["complaint"]  # nothing doubled
    target.close()


def test_copy_data_refuses_to_copy_a_database_onto_itself(source_office):
    source, _, _, _ = source_office
    result = source.test_cli_runner().invoke(args=["copy-data", source.config["DATABASE_URL"]])
    assert result.exit_code != 0 and "itself" in result.output
