"""The real worker process (`flask worker`, a huey consumer) killed with SIGKILL while it delivers:
every committed message arrives after a restart, and no message reaches the SMTP server twice.

The kills are placed at the two moments that matter (models.outbox): during the SMTP transaction
before the final "." (the message must be sent again by the next worker), and after the server has
taken the message but before the worker heard its answer (in doubt: never sent again by itself),
plus one at a random moment."""
import os
import random
import signal
import time

from models import DeliveryAttempt, OutboxMessage, db
from models.notifications import Event, Person, write_events

from .helpers import start_notify_worker, wait_until

MESSAGES = 40


def start_worker(app, sink, tmp_path, number):
    return start_notify_worker(app.config["DATABASE_URL"], sink.port, tmp_path, f"worker-{number}")


def statuses(app):
    with app.app_context():
        rows = {m.status for m in OutboxMessage.select(OutboxMessage.status)}
        db.close()
    return rows


def kill_after(count_of, limit, process, killed):
    """A hook for the SMTP server: SIGKILL the worker when the `limit`-th call arrives."""
    calls = []

    def hook(*_args):
        calls.append(1)
        if len(calls) == limit and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed.append(count_of)
    return hook


def test_sigkill_during_delivery_loses_nothing_and_sends_nothing_twice(app, smtp_server, tmp_path):
    with app.app_context():
        events = [Event(key=f"kill-test:{i}", kind="test", subject=f"[测试] 第 {i} 条", lines=[("序号", str(i))],
                        people=[Person(f"p{i}", f"收件人{i}", [], email=f"r{i}@example.cn")]) for i in range(MESSAGES)]
        with db.atomic():
            write_events(events)
        assert OutboxMessage.select().count() == MESSAGES
        db.close()
    workers, killed = [], []
    try:
        # 1. killed during the SMTP transaction of its 5th message, before the final "."
        workers.append(start_worker(app, smtp_server, tmp_path, 1))
        smtp_server.on_rcpt = kill_after("before the final dot", 5, workers[-1], killed)
        workers[-1].wait(timeout=60)
        assert killed == ["before the final dot"] and len(smtp_server.messages) == 4
        smtp_server.on_rcpt = None
        # 2. killed after the server took its message, before the worker heard the answer
        workers.append(start_worker(app, smtp_server, tmp_path, 2))
        smtp_server.on_data = kill_after("after the final dot", 6, workers[-1], killed)
        workers[-1].wait(timeout=60)
        assert killed[-1] == "after the final dot"
        taken_in_doubt = smtp_server.messages[-1][2]["subject"]  # the server has it; the worker never heard
        smtp_server.on_data = None
        # 3. killed at a random moment
        workers.append(start_worker(app, smtp_server, tmp_path, 3))
        wait_until(lambda: len(smtp_server.messages) > 12, 60, "the third worker to deliver")
        time.sleep(random.Random(13).uniform(0, 0.3))
        workers[-1].send_signal(signal.SIGKILL)
        workers[-1].wait(timeout=30)
        # 4. a worker that is left alone finishes the outbox
        workers.append(start_worker(app, smtp_server, tmp_path, 4))
        wait_until(lambda: statuses(app) <= {"sent", "unknown"}, 90, "the outbox to be delivered")
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
    message_ids = [message["Message-ID"] for _, _, message, _ in smtp_server.messages]
    assert len(message_ids) == len(set(message_ids)), "a message reached the SMTP server twice"
    received = {message["subject"] for _, _, message, _ in smtp_server.messages}
    with app.app_context():
        rows = list(OutboxMessage.select().order_by(OutboxMessage.id))
        sent = [m for m in rows if m.status == "sent"]
        in_doubt = [m for m in rows if m.status == "unknown"]
        # every message marked sent arrived (exactly once: no Message-ID twice, above)
        assert all(m.subject in received for m in sent)
        assert len(sent) + len(in_doubt) == MESSAGES
        # the message of kill 2 arrived and is in doubt, so it was not sent again; the random kill
        # may have left one more in doubt (which almost always arrived too)
        assert taken_in_doubt in {m.subject for m in in_doubt} and 1 <= len(in_doubt) <= 2
        assert len(smtp_server.messages) >= MESSAGES - (len(in_doubt) - 1)
        # the message of kill 1 was given back by the recovery and delivered by a later worker
        fifth = rows[4]
        assert fifth.status == "sent" and fifth.attempts >= 2
        outcomes = [a.outcome for a in DeliveryAttempt.select().where(DeliveryAttempt.message == fifth)]
        assert "pending" in outcomes and outcomes[-1] == "sent"
        db.close()
