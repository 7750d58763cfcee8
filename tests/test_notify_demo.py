"""What a new user sees: `make run` with MAIL_SERVER/MAIL_PORT pointing at an SMTP server. The demo's
overdue and due-soon alerts arrive within a minute of the worker starting, each once."""
import signal
import time

from demo_data import seed
from models import OutboxMessage, db
from models.notifications import run_tick

from .helpers import start_notify_worker, wait_until


def test_the_demo_alerts_arrive_within_a_minute_each_once(app, smtp_server, tmp_path):
    with app.app_context():
        seed()
        db.close()
    started = time.monotonic()
    worker = start_notify_worker(app.config["DATABASE_URL"], smtp_server.port, tmp_path, NOTIFY_LEASE_SECONDS="300")

    def delivered():
        with app.app_context():
            statuses = {m.status for m in OutboxMessage.select(OutboxMessage.status)}
            db.close()
        return statuses and statuses <= {"sent", "failed", "unknown"}
    try:
        wait_until(delivered, 60, "the demo's alerts")
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    assert time.monotonic() - started < 60
    with app.app_context():
        rows = list(OutboxMessage.select())
        assert {m.status for m in rows} == {"sent"}
        kinds = {m.kind for m in rows}
        assert {"overdue", "due_soon", "escalated"} <= kinds
        assert run_tick()["events"] == 0  # the same minute again: nothing new
    ids = [m["Message-ID"] for _, _, m, _ in smtp_server.messages]
    assert len(ids) == len(rows) == len(set(ids))
    assert all(rcpt.endswith("@example.cn") for _, rcpts, _, _ in smtp_server.messages for rcpt in rcpts)
    subjects = [m["subject"] for _, _, m, _ in smtp_server.messages]
    assert any(s.startswith("【已超时】问字【") for s in subjects) and any(s.startswith("【即将到期】") for s in subjects)
