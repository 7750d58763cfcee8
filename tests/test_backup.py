"""`flask backup` / `flask restore`: a consistent copy taken while the office keeps writing.

These tests need a SQLite file (the online backup API is SQLite's), so they build their own
app on one even when the rest of the suite runs on PostgreSQL.
"""
import sqlite3
import threading

import pytest

from app import create_app
from models import Complaint, ComplaintCounter, create_tables, db
from models.clock import now

from .helpers import make_branch, make_complaint, make_customer, make_staff


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'office.db'}"})
    with app.app_context():
        create_tables()
        branch = make_branch()
        # someone receives the complaints the writer threads record (else make_complaint hires a
        # receiver, and three threads would hire the same one at once)
        make_staff(branch)
        customer = make_customer(branch)
    yield app, customer
    if not db.is_closed():
        db.close()


def complaint_count(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM complaint").fetchone()[0]
    finally:
        conn.close()


def integrity(path):
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def start_writers(customer, count=3):
    """Threads that keep recording complaints (each its own connection) until stopped."""
    stop, errors, written = threading.Event(), [], [0]
    lock = threading.Lock()

    def write(n):
        try:
            while not stop.is_set():
                make_complaint(customer, title=f"写入线程{n}：备份期间受理的投诉")
                with lock:
                    written[0] += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    return stop, threads, errors, written


def wait_for(written, at_least):
    import time
    deadline = time.monotonic() + 30
    while written[0] < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
    assert written[0] >= at_least, "writers made no progress"


def test_backup_taken_while_writers_run_is_consistent_and_restores(sqlite_app, tmp_path):
    app, customer = sqlite_app
    live = tmp_path / "office.db"
    backup = tmp_path / "backups" / "office-backup.db"
    runner = app.test_cli_runner()

    stop, threads, errors, written = start_writers(customer)
    try:
        wait_for(written, 30)
        before = complaint_count(live)
        result = runner.invoke(args=["backup", str(backup)])
        after_backup = written[0]
        wait_for(written, after_backup + 30)  # the office went on working after the backup
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output

    assert integrity(backup) == ["ok"]
    in_backup = complaint_count(backup)
    final = complaint_count(live)
    assert before <= in_backup < final
    conn = sqlite3.connect(backup)
    numbers = [row[0] for row in conn.execute("SELECT number FROM complaint")]
    counter = conn.execute("SELECT last FROM complaint_counter WHERE year = ?", (now().year,)).fetchone()[0]
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert len(set(numbers)) == len(numbers) == in_backup
    assert counter == in_backup  # the snapshot holds the counter and the rows of the same moment
    assert mode == "delete"  # one self-contained file, no -wal beside it
    assert not (tmp_path / "backups" / "office-backup.db.partial").exists()

    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert complaint_count(live) == in_backup
    assert integrity(live) == ["ok"]
    safety = [p for p in tmp_path.iterdir() if p.name.startswith("office.db.before-restore-")]
    assert len(safety) == 1 and complaint_count(safety[0]) == final

    with app.app_context():  # the app goes on from the restored data: numbers continue, none reused
        fresh = make_complaint(Complaint.select().first().customer, title="恢复后受理：编号继续")
        assert fresh.seq == in_backup + 1
        assert ComplaintCounter.get_by_id(now().year).last == in_backup + 1


def test_backup_refuses_to_overwrite_without_force(sqlite_app, tmp_path):
    app, _ = sqlite_app
    target = tmp_path / "copy.db"
    target.write_text("an older file the user wants to keep")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "--force" in result.output
    assert target.read_text() == "an older file the user wants to keep"
    result = runner.invoke(args=["backup", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert integrity(target) == ["ok"]


@pytest.mark.parametrize("content, message", [
    (b"name,phone\n", "not a SQLite database"),
    (None, "not a service-desk backup"),
])
def test_restore_refuses_a_file_that_is_not_a_backup_and_keeps_the_data(sqlite_app, tmp_path, content, message):
    app, customer = sqlite_app
    with app.app_context():
        make_complaint(customer)
    bad = tmp_path / "bad.db"
    if content is None:  # a valid SQLite database of some other program
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
        conn.close()
    else:
        bad.write_bytes(content * 200)
    result = app.test_cli_runner().invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code != 0
    assert message in result.output
    assert complaint_count(tmp_path / "office.db") == 1
    assert not [p for p in tmp_path.iterdir() if "before-restore" in p.name]


def test_restore_refuses_a_damaged_backup(sqlite_app, tmp_path):
    app, customer = sqlite_app
    with app.app_context():
        for _ in range(50):
            make_complaint(customer, description="很长的投诉描述" * 200)
    backup = tmp_path / "good.db"
    assert app.test_cli_runner().invoke(args=["backup", str(backup)]).exit_code == 0
    data = bytearray(backup.read_bytes())
    for offset in range(4096 * 3, len(data) - 4096, 4096):  # scribble over page bodies
        data[offset + 100:offset + 400] = b"\xff" * 300
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    result = app.test_cli_runner().invoke(args=["restore", str(damaged), "--yes"])
    assert result.exit_code != 0
    assert "integrity" in result.output or "not a SQLite database" in result.output
    assert complaint_count(tmp_path / "office.db") == 50


def test_postgresql_backup_prints_pg_dump_guidance_without_the_password(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE_URL": "postgresql://office:s3cret-pw@db.example:5432/servicedesk"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path / "office.dump")])
    assert result.exit_code != 0
    assert "pg_dump --format=custom" in result.output and "db.example:5432/servicedesk" in result.output
    assert "s3cret-pw" not in result.output
    assert not (tmp_path / "office.dump").exists()
    (tmp_path / "office.dump").write_bytes(b"PGDMP")
    result = runner.invoke(args=["restore", str(tmp_path / "office.dump"), "--yes"])
    assert result.exit_code != 0 and "pg_restore --clean" in result.output
    assert "s3cret-pw" not in result.output


def test_backup_of_a_missing_database_file_says_so_and_creates_nothing(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'never created.db'}"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy #1.db")])
    assert result.exit_code != 0 and "no database at" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_backup_and_restore_work_with_spaces_and_hashes_in_paths(sqlite_app, tmp_path):
    app, customer = sqlite_app
    with app.app_context():
        make_complaint(customer)
    target = tmp_path / "备份 #1 ?.db"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert complaint_count(tmp_path / "office.db") == 1
