"""Notifications: the scheduler's tick over many open complaints, and outbox delivery to a real SMTP
server against a plain smtplib send loop measured in the same run.

    .venv/bin/python bench/notify_bench.py                          # 10,000 open complaints, 2,000 e-mails
    .venv/bin/python bench/notify_bench.py --database postgresql://user:pw@127.0.0.1/bench_db

Tick: every open complaint is received within the last 3 hours (1 h acknowledge deadline), so at
the first tick all of them have a point that has come: due soon (50 %, 15 min left, 80 %), overdue,
or escalated (received more than 2 h ago). Timed: that first tick (a backlog: every complaint looked
at), the next minute's tick (only complaints whose next point came in that minute) and an idle tick
(nothing due), with the number of SQL statements of each. An idle tick is the same few statements
at any number of open complaints (the due complaints are read through the index on
complaint.alert_at; EXPLAIN is printed); a busy one adds statements per 500 rows written and
per escalation (models.workflow.escalate, on record, 4 statements each).

Delivery: --messages e-mails through deliver_pending() (claim, build with Flask-Mailman, hand-over
mark, SMTP, record) to an aiosmtpd server in its own process, against the baseline of one smtplib
connection sending the same number of pre-built messages. Medians over --repeats rounds.
"""
import os
import random
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

from common import ROOT, arguments, median, ms  # noqa: F401 - ROOT puts the project on sys.path

from app import create_app  # noqa: E402
from models import (Branch, Complaint, Customer, DeliveryAttempt, History, Notification, NotifyEvent,  # noqa: E402
                    OutboxMessage, Staff, User, clock, db)
from models.complaints import format_number  # noqa: E402
from models.migrations import upgrade  # noqa: E402
from models.notifications import (TICK_BATCH, Event, Person, due_complaints_query, run_tick,  # noqa: E402
                                  write_events)

T = datetime(2026, 3, 10, 12, 0)


class Counter:
    """Counts the SQL statements run while active."""

    def __enter__(self):
        self.database = db.obj
        self.original = self.database.execute_sql
        self.count = 0

        def counting(sql, params=None, *args, **kwargs):
            self.count += 1
            return self.original(sql, params, *args, **kwargs)
        self.database.execute_sql = counting
        return self

    def __exit__(self, *exc):
        self.database.execute_sql = self.original


def seed(complaints, rng):
    with db.atomic():
        branches = [Branch.create(name=f"分公司{i}", region="江苏") for i in range(5)]
        staff = [Staff.create(name=f"员工{i}", employee_no=f"B{i:04d}", branch=branches[i % 5],
                              email=f"s{i}@example.cn") for i in range(50)]
        for i in range(len(branches)):  # staff[i] works in branches[i]: one manager per branch
            User.create(username=f"manager{i}", role="manager", staff=staff[i], password_hash="x")
        User.create(username="director", role="director", password_hash="x", email="boss@example.cn")
        customers = [Customer.create(name=f"客户{i}", branch=branches[i % 5]) for i in range(500)]
        rows = []
        for i in range(complaints):
            received = T - timedelta(seconds=rng.randrange(3 * 3600))
            customer = customers[i % len(customers)]
            owner = staff[rng.randrange(len(staff))]
            rows.append({"number": format_number(2026, i + 1), "year": 2026, "seq": i + 1, "customer": customer.id,
                         "branch": customer.branch_id, "title": f"投诉{i}", "received_at": received,
                         "assignee": owner.id, "first_responder": owner.id, "stage": "received",
                         "acknowledge_due_at": received + timedelta(hours=1),
                         "result_due_at": received + timedelta(hours=24),
                         "rectify_due_at": received + timedelta(hours=48),
                         "callback_due_at": received + timedelta(hours=72),
                         "due_at": received + timedelta(hours=1), "alert_at": received})
        for start in range(0, len(rows), 500):
            Complaint.insert_many(rows[start:start + 500]).execute()


def reset_ticks():
    """Back to "nothing told yet" (not timed)."""
    with db.atomic():
        for model in (DeliveryAttempt, OutboxMessage, Notification, NotifyEvent, History):
            model.delete().execute()
        Complaint.update(alert_at=Complaint.received_at, escalation_level=0).execute()


def timed_tick(moment):
    clock.freeze(moment)
    with Counter() as counter:
        started = time.perf_counter()
        counts = run_tick()
        elapsed = time.perf_counter() - started
    return elapsed, counter.count, counts


def explain_due_query():
    sql, params = due_complaints_query(T, TICK_BATCH).sql()
    prefix = "EXPLAIN QUERY PLAN " if "sqlite" in type(db.obj).__name__.lower() else "EXPLAIN "
    return [" ".join(str(c) for c in row) for row in db.execute_sql(prefix + sql, params).fetchall()]


def tick_figures(args):
    first, second, idle = [], [], []
    for _ in range(args.repeats):
        reset_ticks()
        first.append(timed_tick(T))
        second.append(timed_tick(T + timedelta(minutes=1)))
        idle.append(timed_tick(T + timedelta(minutes=1)))
    return first, second, idle


def smtp_server_process():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                                "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("aiosmtpd did not start")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def delivery_figures(app, args):
    from notify.email import EmailSender
    from notify.worker import deliver_pending
    server, port = smtp_server_process()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        with db.atomic():
            reset_ticks()
            events = [Event(key=f"bench:{i}", kind="test", subject=f"【到期提醒】问字【2026】{i:03d}号 致歉回复",
                            lines=[("客户", "张伟"), ("分公司", "江苏分公司")], link=f"/admin/complaint/details/?id={i}",
                            link_label="打开投诉", intro="请尽快处理。",
                            people=[Person(f"p{i}", "王芳", [], email=f"r{i}@example.cn")])
                      for i in range(args.messages)]
            write_events(events)
        sample = OutboxMessage.get()
        _sender, data = EmailSender().build(sample)
        outbox, baseline = [], []
        for _ in range(args.repeats):
            OutboxMessage.update(status="pending", attempts=0, claimed_by=None, handed_over_at=None,
                                 next_attempt_at=T).execute()
            DeliveryAttempt.delete().execute()
            clock.freeze(T)
            started = time.perf_counter()
            counts = deliver_pending()
            outbox.append(args.messages / (time.perf_counter() - started))
            assert counts["sent"] == args.messages, counts
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as connection:
                for i in range(args.messages):
                    connection.sendmail("desk@example.cn", [f"r{i}@example.cn"], data)
            baseline.append(args.messages / (time.perf_counter() - started))
        return outbox, baseline
    finally:
        server.terminate()
        server.wait()


def main():
    args = arguments(__doc__.split("\n")[0], complaints=(10000, "open complaints"),
                     messages=(2000, "e-mails delivered per round"), repeats=(3, "rounds (medians printed)")).parse_args()
    rng = random.Random(args.seed)
    folder = None
    url = args.database
    if not url:
        folder = tempfile.mkdtemp(prefix="servicedesk-notify-bench-")
        url = f"sqlite:///{folder}/bench.db"
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_SERVER": ""})
        with app.app_context():
            if url.startswith("postgres"):
                tables = [t for (t,) in db.execute_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()]
                if tables:
                    db.execute_sql("DROP TABLE IF EXISTS {} CASCADE".format(", ".join(f'"{t}"' for t in tables)))
            upgrade()
            seed(args.complaints, rng)
            print(f"database: {type(db.obj).__name__}, {Complaint.select().count()} open complaints")
            print("plan of the due-complaints query:")
            for line in explain_due_query():
                print("   ", line)
            first, second, idle = tick_figures(args)
            print(f"\nscheduler tick (median of {args.repeats}):")
            for label, rows in (("first tick, every complaint due (backlog)", first),
                                ("next minute", second), ("idle tick, nothing due", idle)):
                elapsed = median([r[0] for r in rows])
                statements = sorted({r[1] for r in rows})
                counts = rows[0][2]
                print(f"  {label:44s} {ms(elapsed):>10s}  statements {statements}  "
                      f"complaints looked at {counts['complaints']}, events {counts['events']}")
            escalations = Complaint.select().where(Complaint.escalation_level > 0).count()
            print(f"  (the first tick escalated {escalations} complaints on record)")
            outbox, baseline = delivery_figures(app, args)
            print(f"\ndelivery of {args.messages} e-mails to aiosmtpd (median of {args.repeats}):")
            print(f"  outbox worker (deliver_pending)   {median(outbox):8.0f} messages/s")
            print(f"  plain smtplib loop (baseline)     {median(baseline):8.0f} messages/s")
            print(f"  outbox / baseline                 {median(outbox) / median(baseline):8.2f}")
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
