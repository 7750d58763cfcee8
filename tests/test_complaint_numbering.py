"""Complaint numbers 问字【YYYY】NNN号: per year, never reused, unique under concurrency (enforced by the database)."""
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path

import pytest
from peewee import IntegrityError

from models import Complaint, ComplaintCounter, clock, db
from models.complaints import format_number

from .helpers import make_complaint, make_customer

ROOT = Path(__file__).resolve().parent.parent


def test_numbers_follow_the_year_and_sequence(app, office):
    customer = make_customer(office["branch"])
    clock.freeze(datetime(2026, 12, 31, 23, 59, 59))
    first, second = make_complaint(customer), make_complaint(customer)
    clock.freeze(datetime(2027, 1, 1, 0, 0, 0))
    new_year = make_complaint(customer)
    assert [first.number, second.number, new_year.number] == ["问字【2026】001号", "问字【2026】002号", "问字【2027】001号"]
    assert (new_year.year, new_year.seq) == (2027, 1)


def test_number_follows_the_received_date_not_the_entry_date(app, office):
    clock.freeze(datetime(2027, 1, 2, 9, 0))
    late_entry = make_complaint(make_customer(office["branch"]), received_at=datetime(2026, 12, 31, 18, 0))
    assert late_entry.number == "问字【2026】001号"


def test_width_grows_past_999_and_order_stays_numeric(app, office):
    customer = make_customer(office["branch"])
    clock.freeze(datetime(2026, 5, 1, 8, 0))
    make_complaint(customer)
    ComplaintCounter.update(last=998).where(ComplaintCounter.year == 2026).execute()
    numbers = [make_complaint(customer).number for _ in range(3)]
    assert numbers == ["问字【2026】999号", "问字【2026】1000号", "问字【2026】1001号"]
    ordered = [c.seq for c in Complaint.select().order_by(Complaint.year, Complaint.seq)]
    assert ordered == [1, 999, 1000, 1001]


def test_numbers_are_never_reused_after_a_delete(app, office):
    customer = make_customer(office["branch"])
    make_complaint(customer)
    last = make_complaint(customer)
    last.delete_instance()
    assert make_complaint(customer).seq == 3


def test_the_database_rejects_a_duplicate_number(app, office):
    existing = make_complaint(make_customer(office["branch"]))
    row = dict(existing.__data__)
    row.pop("id")
    row["number"] = "问字【2026】手工号"
    with pytest.raises(IntegrityError):
        with db.atomic():
            Complaint.insert(row).execute()  # same (year, seq) bypassing save()
    row.update(number=existing.number, seq=existing.seq + 50)
    with pytest.raises(IntegrityError):
        with db.atomic():
            Complaint.insert(row).execute()  # same number text


def test_threads_with_their_own_connections_get_distinct_numbers(app, office):
    customer = make_customer(office["branch"])
    db.close()
    threads_count, per_thread = 8, 4
    start = threading.Barrier(threads_count)
    made, errors = [], []

    def worker():
        try:
            db.connect(reuse_if_open=True)  # peewee keeps one connection per thread
            start.wait()
            for _ in range(per_thread):
                made.append(make_complaint(customer).number)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    total = threads_count * per_thread
    assert len(made) == len(set(made)) == total
    year = clock.now().year
    assert sorted(c.seq for c in Complaint.select()) == list(range(1, total + 1))
    assert set(made) == {format_number(year, seq) for seq in range(1, total + 1)}
    assert ComplaintCounter.get_by_id(year).last == total


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from models import Complaint, Customer, bind_database
    bind_database({url!r})
    customer = Customer.get_by_id({customer_id})
    for _ in range({count}):
        Complaint(customer=customer, branch=customer.branch_id, title="并发投诉").save()
""")


def test_two_processes_get_distinct_numbers(app, office):
    customer = make_customer(office["branch"])
    db.close()
    script = WRITER.format(root=str(ROOT), url=app.config["DATABASE_URL"], customer_id=customer.id, count=15)
    processes = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE) for _ in range(2)]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
    numbers = [c.number for c in Complaint.select()]
    assert len(numbers) == len(set(numbers)) == 30
    assert sorted(c.seq for c in Complaint.select()) == list(range(1, 31))
