"""The SQLite write gate (models.base.WriteGate): one write transaction at a time across
threads and processes, queued on a kernel file lock, never left held.

These run on a SQLite file of their own whatever TEST_DATABASE_URL says: PostgreSQL has
no gate."""
import fcntl
import multiprocessing
import os
import signal
import threading

import pytest

from models.base import GatedSqliteDatabase, open_database

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def database(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'gate.db'}")
    assert isinstance(database, GatedSqliteDatabase)
    database.execute_sql("CREATE TABLE t (x INTEGER)")
    database.close()
    yield database
    database.close_all()


def gate_is_free(database):
    """Whether another open file of the lock could take it now (a different open file
    description conflicts even inside this process)."""
    fd = os.open(database.write_gate.lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def _hold_gate(url, inside, release):
    database = open_database(url)
    with database.atomic():
        database.execute_sql("INSERT INTO t VALUES (1)")
        inside.set()
        release.wait(30)


def test_a_transaction_holds_the_gate_until_commit_or_rollback(database):
    with database.atomic():
        database.execute_sql("INSERT INTO t VALUES (1)")
        assert not gate_is_free(database)
        with database.atomic():  # nested: a savepoint, still the same hold
            database.execute_sql("INSERT INTO t VALUES (2)")
        assert not gate_is_free(database)
    assert gate_is_free(database)
    with pytest.raises(ZeroDivisionError):
        with database.atomic():
            database.execute_sql("INSERT INTO t VALUES (3)")
            1 / 0
    assert gate_is_free(database)
    database.execute_sql("SELECT COUNT(*) FROM t")  # reads never take it
    assert gate_is_free(database)
    assert database.execute_sql("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]


def test_a_writer_in_another_process_waits_for_the_gate(database, tmp_path):
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    inside, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_gate, args=(url, inside, release))
    holder.start()
    try:
        assert inside.wait(30)
        order = []

        def writer():
            with database.atomic():
                order.append("writer in")
                database.execute_sql("INSERT INTO t VALUES (2)")

        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and order == []  # queued at the gate, not failing
        order.append("holder released")
        release.set()
        thread.join(30)
        assert order == ["holder released", "writer in"]
    finally:
        release.set()
        holder.join(30)
    assert database.execute_sql("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]


def test_a_killed_holder_does_not_block_the_others(database, tmp_path):
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    inside, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_gate, args=(url, inside, release))
    holder.start()
    assert inside.wait(30)
    assert not gate_is_free(database)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)
    assert gate_is_free(database)
    with database.atomic():
        database.execute_sql("INSERT INTO t VALUES (2)")
    # the killed transaction was never committed
    assert database.execute_sql("SELECT x FROM t").fetchall() == [(2,)]


def test_threads_of_one_process_take_turns(database):
    inside = []
    overlap = []

    def writer(n):
        for _ in range(20):
            with database.atomic():
                inside.append(n)
                if len(inside) > 1:
                    overlap.append(list(inside))
                database.execute_sql("INSERT INTO t VALUES (?)", (n,))
                inside.remove(n)
            database.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert overlap == []
    assert database.execute_sql("SELECT COUNT(*) FROM t").fetchone() == (120,)
    assert gate_is_free(database)
