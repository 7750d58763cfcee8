"""The outbox (发送队列): every message that leaves the product is first a row here, written in
the same transaction as the event that caused it; a worker (notify.worker) delivers it.

What the office can rely on:

* **Written with the event.** A hand-over and its e-mail to the new owner, or an escalation and its
  message to the service director, are committed together or not at all. Once committed, the message
  is delivered even if the process dies right after.
* **Once per recipient.** A message's key (event + channel + recipient, `message_key`) is UNIQUE; the
  same message written again (a scheduler tick that runs twice, or on two servers) is ignored.
* **One worker per message.** A worker claims pending rows atomically (PostgreSQL: FOR UPDATE SKIP
  LOCKED; SQLite: one writer at a time) and holds them for a lease (`LEASE`).
* **The hand-over point.** Right before the step that cannot be taken back (the content and the
  final "." of an SMTP DATA, once the server has accepted sender and recipient; the HTTP request to a
  robot or SMS gateway) the worker records `handed_over_at`, and only while it still holds the
  claim. A worker that dies before that point leaves a message that was certainly not delivered
  (a server drops a transaction whose DATA never ended): when the lease runs out it is waiting again
  and the next worker sends it. A worker that dies after it (between handing over and recording the
  answer: the time to send one message, milliseconds) leaves the message in doubt: it becomes "may
  have been sent" and is NOT sent again by itself, so no one ever receives it twice; the outbox page
  lists it for a person to check and resend.
* **Retries with back-off.** A temporary failure (server unreachable, 4xx reply, gateway 5xx) waits
  base × 2^(attempt − 1) seconds and is tried again, up to the maximum number of attempts, then the
  message is "failed" (kept, with its last error, for a resend). A permanent refusal (5xx recipient
  rejected: a bounce) fails at once. Every attempt is a DeliveryAttempt row with its error.
"""
import hashlib
import secrets
from datetime import timedelta

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField)

from .base import BaseModel, db, is_postgres
from .clock import now
from .complaints import Complaint
from .i18n import _l
from .org import Branch, User
from .surveys import Invitation

CHANNELS = [
    ("email", _l("E-mail")),
    ("sms", _l("SMS")),
    ("wecom", _l("WeCom group robot")),
    ("dingtalk", _l("DingTalk group robot")),
]
ROBOT_KINDS = CHANNELS[2:]
STATUSES = [
    ("pending", _l("Waiting")),
    ("sending", _l("Sending")),
    ("sent", _l("Sent")),
    ("failed", _l("Failed")),
    ("unknown", _l("May have been sent")),
]
EVENT_KINDS = [
    ("assigned", _l("Assigned to you")),
    ("due_soon", _l("Due soon")),
    ("overdue", _l("Overdue")),
    ("escalated", _l("Escalated")),
    ("followup", _l("Low-score follow-up")),
    ("callbacks", _l("Callbacks due tomorrow")),
    ("report", _l("Report")),
    ("invitation", _l("Survey invitation")),
    ("reminder", _l("Survey reminder")),
    ("digest", _l("Group summary")),
    ("test", _l("Test message")),
]
# What a group robot may be told about (ChannelEndpoint.events)
ROBOT_EVENTS = ["assigned", "due_soon", "overdue", "escalated", "followup", "report"]
LEASE = timedelta(seconds=300)  # a claimed message is another worker's after this (NOTIFY_LEASE_SECONDS)
INSERT_CHUNK = 500  # rows per INSERT (stays under SQLite's and PostgreSQL's parameter limits)


class NotifyEvent(BaseModel):
    """One thing that happened and was told (an alert, a hand-over, a report run). Its key is what
    makes the scheduler idempotent: an event is written once, whoever writes it first."""

    key = CharField(unique=True, max_length=200, verbose_name=_l("Key"))
    kind = CharField(max_length=12, choices=EVENT_KINDS, verbose_name=_l("Event"))
    complaint = ForeignKeyField(Complaint, null=True, backref="+", on_delete="RESTRICT", index=True,
                                verbose_name=_l("Complaint"))
    created_at = DateTimeField(default=now, verbose_name=_l("When"))

    class Meta:
        table_name = "notify_event"

    def __str__(self):
        return self.key


class ChannelEndpoint(BaseModel):
    """A group robot (群机器人) of WeCom (企业微信) or DingTalk (钉钉) posting into a branch's group chat."""

    name = CharField(max_length=100, verbose_name=_l("Name"))
    kind = CharField(max_length=10, choices=ROBOT_KINDS, verbose_name=_l("Kind"))
    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Branch"),
                             help_text=_l("Empty: every branch (the head office's group)"))
    webhook_url = CharField(max_length=500, verbose_name=_l("Webhook address"),
                            help_text=_l("The robot's address as the group settings show it"))
    secret = CharField(max_length=200, default="", verbose_name=_l("Signing secret"),
                       help_text=_l("DingTalk only: the secret of the robot's signature (加签) security setting"))
    events = CharField(max_length=200, default="overdue,escalated,followup", verbose_name=_l("Events"),
                       help_text=_l("What the group is told about"))
    active = BooleanField(default=True, verbose_name=_l("Active"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created at"))

    class Meta:
        table_name = "channel_endpoint"

    def __str__(self):
        return self.name

    def listens_to(self, kind):
        return kind in self.events.split(",")


class OutboxMessage(BaseModel):
    """One message to one recipient over one channel. Read-only in the admin except "resend"."""

    key = CharField(unique=True, max_length=255, verbose_name=_l("Idempotency key"))
    kind = CharField(max_length=12, choices=EVENT_KINDS, verbose_name=_l("Event"))
    channel = CharField(max_length=10, choices=CHANNELS, verbose_name=_l("Channel"))
    recipient = CharField(max_length=255, verbose_name=_l("Recipient"))
    recipient_name = CharField(max_length=100, default="", verbose_name=_l("Recipient"))
    endpoint = ForeignKeyField(ChannelEndpoint, null=True, backref="+", on_delete="RESTRICT",
                               verbose_name=_l("Group robot"))
    complaint = ForeignKeyField(Complaint, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Complaint"))
    invitation = ForeignKeyField(Invitation, null=True, backref="+", on_delete="RESTRICT",
                                 verbose_name=_l("Invitation"))
    subject = CharField(max_length=255, default="", verbose_name=_l("Subject"))
    body_text = TextField(default="", verbose_name=_l("Text"))
    body_html = TextField(default="", verbose_name=_l("HTML"))
    attachment = CharField(max_length=100, default="", verbose_name=_l("Attachment"))
    status = CharField(max_length=10, choices=STATUSES, default="pending", verbose_name=_l("Status"))
    attempts = IntegerField(default=0, verbose_name=_l("Attempts"))
    next_attempt_at = DateTimeField(default=now, verbose_name=_l("Next attempt"))
    claimed_by = CharField(max_length=80, null=True, index=True, verbose_name=_l("Worker"))
    lease_until = DateTimeField(null=True, verbose_name=_l("Claimed until"))
    handed_over_at = DateTimeField(null=True, verbose_name=_l("Handed over at"))
    sent_at = DateTimeField(null=True, verbose_name=_l("Sent at"))
    last_error = TextField(default="", verbose_name=_l("Last error"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Created at"))

    class Meta:
        table_name = "outbox_message"
        indexes = ((("status", "next_attempt_at"), False),)

    def __str__(self):
        return f"{self.channel} → {self.recipient}: {self.subject or self.body_text[:40]}"


class DeliveryAttempt(BaseModel):
    """One try at delivering a message: when, by which worker, how it went."""

    message = ForeignKeyField(OutboxMessage, backref="delivery_attempts", on_delete="RESTRICT",
                              verbose_name=_l("Message"))
    at = DateTimeField(default=now, verbose_name=_l("When"))
    worker = CharField(max_length=80, default="", verbose_name=_l("Worker"))
    outcome = CharField(max_length=10, choices=STATUSES, verbose_name=_l("Outcome"))
    error = TextField(default="", verbose_name=_l("Error"))

    class Meta:
        table_name = "delivery_attempt"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class Notification(BaseModel):
    """An in-app notification (站内通知): every alert reaches the person's list in the admin, whatever
    channel is configured; the navbar shows the unread count."""

    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT", verbose_name=_l("Account"))
    key = CharField(unique=True, max_length=255, verbose_name=_l("Key"))
    kind = CharField(max_length=12, choices=EVENT_KINDS, verbose_name=_l("Event"))
    title = CharField(max_length=255, verbose_name=_l("Title"))
    body = TextField(default="", verbose_name=_l("Text"))
    link = CharField(max_length=300, default="", verbose_name=_l("Link"))
    complaint = ForeignKeyField(Complaint, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Complaint"))
    created_at = DateTimeField(default=now, verbose_name=_l("When"))
    read_at = DateTimeField(null=True, verbose_name=_l("Read at"))

    class Meta:
        indexes = ((("user", "read_at"), False), (("user", "created_at"), False))

    def __str__(self):
        return self.title


# ----------------------------------------------------------------------------- writing

def message_key(event_key, channel, recipient):
    """event + channel + recipient, the UNIQUE idempotency key (hashed when it would be too long)."""
    key = f"{event_key}|{channel}|{recipient}"
    if len(key) <= 255:
        return key
    return f"{event_key[:150]}|{channel}|{hashlib.sha256(key.encode()).hexdigest()}"


def insert_ignoring_duplicates(model, rows):
    """INSERT the rows, skipping any whose unique key is already there; chunked. Returns the number
    of statements run."""
    statements = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        model.insert_many(rows[start:start + INSERT_CHUNK]).on_conflict_ignore().execute()
        statements += 1
    return statements


def unread_count(user_id):
    return (Notification.select().where(Notification.user == user_id, Notification.read_at.is_null())
            .count())


# ----------------------------------------------------------------------------- delivering

def new_claim_token(worker):
    return f"{worker}#{secrets.token_hex(4)}"[-80:]


def claim(worker, limit=10, moment=None, lease=LEASE, only_ids=None):
    """Claim up to `limit` due messages for `worker` (only those of `only_ids` if given); returns them
    (oldest due first). Two workers never get the same row: on PostgreSQL the candidate rows are
    locked and skipped by the other worker (SKIP LOCKED), on SQLite the claim is one write transaction."""
    moment = moment or now()
    token = new_claim_token(worker)
    candidates = (OutboxMessage.select(OutboxMessage.id)
                  .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= moment)
                  .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if only_ids is not None:
        candidates = candidates.where(OutboxMessage.id.in_(list(only_ids)))
    if is_postgres():
        candidates = candidates.for_update(skip_locked=True)
    with db.atomic():
        claimed = (OutboxMessage.update(status="sending", claimed_by=token, lease_until=moment + lease,
                                        attempts=OutboxMessage.attempts + 1, handed_over_at=None)
                   .where(OutboxMessage.id.in_(candidates), OutboxMessage.status == "pending").execute())
    if not claimed:
        return []
    return list(OutboxMessage.select().where(OutboxMessage.claimed_by == token, OutboxMessage.status == "sending")
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))


def hand_over(message, moment=None):
    """Record that the message is about to leave (the step that cannot be taken back), if its
    claim is still this worker's. False: the lease ran out and the message is someone else's now;
    the caller must not send it."""
    moment = moment or now()
    done = (OutboxMessage.update(handed_over_at=moment)
            .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.claimed_by,
                   OutboxMessage.status == "sending").execute())
    if done:
        message.handed_over_at = moment
    return bool(done)


def retry_delay(attempts, base_seconds):
    """Exponential back-off: base, 2 × base, 4 × base … after the 1st, 2nd, 3rd failed attempt."""
    return timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0))


def finish(message, outcome, error="", moment=None, worker="", retry_base=60, max_attempts=6):
    """Record how an attempt ended: 'sent', 'retry' (temporary failure), 'failed' (permanent) or
    'unknown' (no answer after the hand-over). Only while this worker still holds the claim (or
    the message was found in doubt meanwhile). Returns the message's new status, or None when the
    claim was lost."""
    moment = moment or now()
    if outcome == "retry":
        status = "failed" if message.attempts >= max_attempts else "pending"
    else:
        status = outcome
    values = {"status": status, "last_error": (error or "")[:2000]}
    if status == "sent":
        values["sent_at"] = moment
    if status == "pending":
        values.update(next_attempt_at=moment + retry_delay(message.attempts, retry_base), claimed_by=None,
                      lease_until=None, handed_over_at=None)
    with db.atomic():
        done = (OutboxMessage.update(**values)
                .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.claimed_by,
                       OutboxMessage.status.in_(["sending", "unknown"])).execute())
        if not done:
            return None
        DeliveryAttempt.create(message=message.id, at=moment, worker=worker[:80],
                               outcome="failed" if outcome == "retry" else outcome, error=(error or "")[:2000])
        if message.invitation_id is not None:
            from .notifications import invitation_delivery_finished
            invitation_delivery_finished(message, status, error, moment)
    for name, value in values.items():
        setattr(message, name, value)
    return status


def recover_stale(moment=None):
    """Messages whose worker's lease ran out (the worker died or hung): not yet handed over → waiting
    again (certainly not delivered); handed over → 'unknown' (may have been delivered, not resent).
    Returns (made waiting, made unknown)."""
    moment = moment or now()
    stale = OutboxMessage.select(OutboxMessage.id, OutboxMessage.handed_over_at, OutboxMessage.claimed_by).where(
        OutboxMessage.status == "sending", OutboxMessage.lease_until < moment)
    waiting = unknown = 0
    for row in list(stale):
        with db.atomic():
            if row.handed_over_at is None:
                changed = (OutboxMessage.update(status="pending", claimed_by=None, lease_until=None)
                           .where(OutboxMessage.id == row.id, OutboxMessage.status == "sending",
                                  OutboxMessage.claimed_by == row.claimed_by).execute())
                outcome, error, counter = "pending", str(_l("the worker stopped before handing the message over")), "waiting"
            else:
                changed = (OutboxMessage.update(status="unknown", last_error=str(_l(
                    "the worker stopped after handing the message over; not sent again automatically")))
                           .where(OutboxMessage.id == row.id, OutboxMessage.status == "sending",
                                  OutboxMessage.claimed_by == row.claimed_by).execute())
                outcome, error, counter = "unknown", str(_l("the worker stopped after handing the message over")), "unknown"
            if changed:
                DeliveryAttempt.create(message=row.id, at=moment, worker="recovery", outcome=outcome, error=error)
                if counter == "waiting":
                    waiting += 1
                else:
                    unknown += 1
    return waiting, unknown


def resend(message_ids, moment=None):
    """A person asks for failed or in-doubt messages to be sent again (now, with fresh attempts).
    Returns how many were put back in the queue."""
    moment = moment or now()
    return (OutboxMessage.update(status="pending", next_attempt_at=moment, attempts=0, claimed_by=None,
                                 lease_until=None, handed_over_at=None)
            .where(OutboxMessage.id.in_(list(message_ids)), OutboxMessage.status.in_(["failed", "unknown"]))
            .execute())
