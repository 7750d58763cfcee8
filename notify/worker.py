"""The worker: every minute it runs the scheduler's tick (models.notifications.run_tick) and then
delivers the outbox (models.outbox) for the rest of the minute, polling every NOTIFY_POLL_SECONDS.

huey (by peewee's author) runs it: its consumer process, its minute schedule (periodic task), its
worker-thread health checks and graceful shutdown. The queue of messages is NOT huey's: it is the
outbox table, because a message must be committed in the same transaction as the event that caused
it, and huey's store (a SQLite file, or Redis) cannot take part in the app database's transaction.
So nothing is lost if huey's own store is lost, and any number of workers can run: they claim rows
atomically and the tick is idempotent.

    flask --app app worker                 # the huey consumer (make run starts one for you)
    HUEY_URL=redis://host:6379/1 flask --app app worker   # huey's schedule in Redis (optional)
    flask --app app notify-once            # one tick and one delivery round, then exit (cron)
"""
import logging
import os
import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from flask import current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from models import ChannelEndpoint
from models.i18n import _l
from models.notifications import notify_rules, run_tick
from models.outbox import claim, finish, hand_over, recover_stale

from .channels import ClaimLost, DeliveryError
from .email import EmailSender
from .webhooks import send_dingtalk, send_sms, send_wecom

log = logging.getLogger("notify.worker")
ROOT = Path(__file__).resolve().parent.parent
CLAIM_BATCH = 20
APP = None  # set by `flask worker`; a bare `huey_consumer notify.worker.huey` creates the app itself
STOP = threading.Event()  # set when the consumer shuts down (`flask worker` passes its stop flag)


def make_huey(url):
    """sqlite:///path (default: instance/huey.db, one machine), redis://host:port/db, memory://."""
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey("service-desk", url=url)
    if url.startswith("memory://"):
        return MemoryHuey("service-desk")
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else "instance/huey.db"
    path = Path(path) if Path(path).is_absolute() else ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("service-desk", filename=str(path))


huey = make_huey(os.environ.get("HUEY_URL", "sqlite:///instance/huey.db"))


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"[:60]


class Senders:
    """The open connections of one delivery round."""

    def __init__(self, rules):
        self.rules = rules
        self.email = EmailSender()
        self.endpoints = {}

    def send(self, message, hand_over_now):
        if message.channel == "email":
            return self.email.send(message, hand_over_now)
        if message.channel == "sms":
            return send_sms(message, self.rules, hand_over_now)
        endpoint = ChannelEndpoint.get_or_none(ChannelEndpoint.id == message.endpoint_id) \
            if message.endpoint_id else None
        if endpoint is None:
            raise DeliveryError(str(_l("the group robot was removed")), "failed")
        if message.channel == "wecom":
            return send_wecom(message, endpoint, hand_over_now)
        return send_dingtalk(message, endpoint, hand_over_now)

    def close(self):
        self.email.close()


def deliver_one(message, senders, worker):
    """One attempt at one claimed message; returns its new status ('lost' if the claim was lost)."""
    rules = senders.rules
    settings = {"worker": worker, "retry_base": rules["retry_base_seconds"], "max_attempts": rules["max_attempts"]}
    try:
        senders.send(message, lambda: hand_over(message))
    except ClaimLost:
        return "lost"
    except DeliveryError as exc:
        return finish(message, exc.outcome, str(exc), **settings) or "lost"
    except Exception as exc:  # noqa: BLE001 - e.g. a report that cannot be built: recorded, retried
        log.exception("delivering outbox message %s", message.id)
        outcome = "unknown" if message.handed_over_at is not None else "retry"
        return finish(message, outcome, f"{type(exc).__name__}: {exc}", **settings) or "lost"
    return finish(message, "sent", **settings) or "lost"


def lease():
    return timedelta(seconds=float(current_app.config.get("NOTIFY_LEASE_SECONDS", 300)))


def deliver_pending(limit=None, worker=None, only_ids=None):
    """Deliver what is due in the outbox now (after giving back what dead workers left); only the
    messages of `only_ids` when given (a test message). Returns {status: count}."""
    worker = worker or worker_name()
    counts = Counter()
    recovered = recover_stale()
    counts["recovered"], counts["in_doubt"] = recovered
    senders = Senders(notify_rules())
    try:
        while limit is None or sum(counts[s] for s in ("sent", "pending", "failed", "unknown", "lost")) < limit:
            batch = claim(worker, CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit), lease=lease(),
                          only_ids=only_ids)
            if not batch:
                break
            for message in batch:
                counts[deliver_one(message, senders, worker)] += 1
    finally:
        senders.close()
    return counts


def run_minute(seconds=None, poll=None):
    """The worker's minute: the tick, then delivery until the minute is nearly over."""
    config = current_app.config
    seconds = float(config.get("NOTIFY_LOOP_SECONDS", 55) if seconds is None else seconds)
    poll = float(config.get("NOTIFY_POLL_SECONDS", 2) if poll is None else poll)
    started = time.monotonic()
    try:
        counts = run_tick()
        if counts["events"] or counts["reminders"] or counts["scheduled"]:
            log.info("tick: %s", counts)
    except Exception:  # noqa: BLE001 - a failed tick must not stop delivery; the next minute tries again
        log.exception("notification tick failed")
    while not STOP.is_set():
        delivered = deliver_pending()
        if any(delivered.values()):
            log.info("delivered: %s", dict(delivered))
        if time.monotonic() - started + poll >= seconds:
            return
        STOP.wait(poll)  # a shutdown (Ctrl-C, SIGTERM) ends the loop at once


def _app():
    global APP
    if APP is None:
        from app import create_app
        APP = create_app()
    return APP


@huey.periodic_task(crontab(minute="*"))
def every_minute():
    from models.base import release_connections
    with _app().app_context():
        try:
            run_minute()
        finally:
            release_connections()
