"""Who is told what, and when (通知规则). Every alert reaches the person's in-app list; it also goes
by e-mail and SMS when the person wants that and the channel is configured, and to the branch's
group robots (WeCom, DingTalk) that listen for that kind of event.

| event | when | who is told |
|---|---|---|
| assigned 转交 | a complaint is handed over on record, or recorded with someone else as owner | the new owner |
| due soon 即将到期 | at 50 % and 80 % of a stage's allowed time and with 15 min left (settings) | the owner |
| overdue 已超时 | one second after the stage's due time (done exactly at it is on time) | the owner and the branch managers |
| escalated 升级 | a further delay after the due time (setting); the complaint is escalated on record | the service directors |
| follow-up 低分跟进 | a low survey score opened a follow-up complaint | the branch's duty person, and the owner if different |
| callbacks 回访提醒 | daily at a set time: scheduled callbacks due tomorrow | the customer's account manager, else the duty person |
| report 周报/月报 | Friday 17:00 (the week), the 1st 08:00 (the month before); settings | managers and service directors, workbook attached |
| invitation 调查邀请 | sent from the invitation list; one reminder after N days to non-responders | the customer, unless they unsubscribed |

* **Allowed time.** A stage's deadline counts from receipt (DOMAIN: 受理起算): the allowed time of a
  stage runs from `received_at` to the stage's stored due column. `stage_window` is the one place
  that says so. It is measured the way the due time was counted (models.calendars.sla_clock, the
  function the deadlines use): around the clock, or, when the SLA policy counted working hours, in
  the branch's working time, so "50 %" is half the working time and "15 min left" is 15 working
  minutes.
* **Each event once.** An event has a key (kind, complaint, stage, due time, point); the scheduler
  writes it once (models.outbox.NotifyEvent), and each message once per recipient (its own key).
  Only the latest due-soon point that has passed is told (a worker that was down does not send
  three stale reminders); once overdue, the due-soon points are no longer told.
* **Where the scheduler looks.** `Complaint.alert_at` is the next point of the complaint's current
  stage; a tick reads only complaints whose point has come (index on alert_at), tells what is due
  and moves alert_at on. A new complaint and a completed stage set it to "now" (look at it next tick).
* **A person** is a staff member or an account. An account linked to a staff member uses its own
  e-mail/mobile when filled, else the staff member's; its own preferences decide. Staff without an
  account use the staff record. An inactive owner's alerts go to the branch's duty person.
"""
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask import current_app, has_app_context
from peewee import JOIN

from .audit import Setting
from .base import db, is_postgres, is_sqlite
from .calendars import AROUND_THE_CLOCK, sla_clock
from .clock import now
from .complaints import Complaint, callbacks_due
from .customers import Customer
from .i18n import _l
from .org import Branch, Staff, User
from .outbox import (ChannelEndpoint, NotifyEvent, Notification, OutboxMessage, insert_ignoring_duplicates,
                     message_key)
from .ownership import duty_person, managers_by_branch, service_directors
from .surveys import Invitation

NOTIFY_DEFAULTS = {
    "notify.due_soon_percents": [50, 80],
    "notify.due_soon_minutes_left": 15,
    "notify.escalation_delay_minutes": 60,
    "notify.weekly_report_weekday": 5,
    "notify.weekly_report_time": "17:00",
    "notify.monthly_report_day": 1,
    "notify.monthly_report_time": "08:00",
    "notify.callback_reminder_time": "09:00",
    "notify.invitation_reminder_days": 3,
    "notify.invitations_per_minute": 30,
    "notify.sms_gateway_url": "",
    "notify.sms_gateway_body": {"mobile": "{mobile}", "content": "{text}"},
    "notify.sms_signature": "【客户服务中心】",
    "notify.max_attempts": 6,
    "notify.retry_base_seconds": 60,
}
# whole-number settings and their bounds (inclusive)
NOTIFY_RANGES = {"notify.due_soon_minutes_left": (0, 1440), "notify.escalation_delay_minutes": (0, 10080),
                 "notify.weekly_report_weekday": (1, 7), "notify.monthly_report_day": (1, 28),
                 "notify.invitation_reminder_days": (0, 60), "notify.invitations_per_minute": (1, 600),
                 "notify.max_attempts": (1, 20), "notify.retry_base_seconds": (5, 3600)}
# what the settings form calls them
NOTIFY_LABELS = {
    "notify.due_soon_percents": _l("Due-soon reminders at these percentages of a stage's allowed time"),
    "notify.due_soon_minutes_left": _l("Last reminder with this many minutes left (0: none)"),
    "notify.escalation_delay_minutes": _l("Minutes after the deadline before escalating to the service director"),
    "notify.weekly_report_weekday": _l("Weekly report: day of the week (1 = Monday … 7 = Sunday)"),
    "notify.weekly_report_time": _l("Weekly report: time (HH:MM)"),
    "notify.monthly_report_day": _l("Monthly report (the month before): day of the month"),
    "notify.monthly_report_time": _l("Monthly report: time (HH:MM)"),
    "notify.callback_reminder_time": _l("Daily reminder of tomorrow's callbacks: time (HH:MM)"),
    "notify.invitation_reminder_days": _l("Days after an invitation before the one reminder (0: none)"),
    "notify.invitations_per_minute": _l("Survey invitations sent per minute at most"),
    "notify.sms_gateway_url": _l("SMS gateway address (empty: no SMS)"),
    "notify.sms_gateway_body": _l("SMS gateway request body (JSON; {mobile}, {text}, {key} are filled in)"),
    "notify.sms_signature": _l("SMS signature"),
    "notify.max_attempts": _l("Delivery attempts per message"),
    "notify.retry_base_seconds": _l("Seconds before the first retry (doubled each time)"),
}
TICK_BATCH = 2000
CATCH_UP_DAYS = 3
MY_WORK = "/admin/my-work/"  # the owner's work list (the workbench), linked from alerts once it exists  # a monthly report missed (worker down) is still sent this many days later  # complaints one scheduler transaction handles; a bigger backlog takes several
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_LOCK_KEY = 73_130_013  # PostgreSQL advisory lock of the scheduler


# ----------------------------------------------------------------------------- settings

def _whole(value, low, high, message):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(str(message)) from None
    if not low <= number <= high:
        raise ValueError(str(message))
    return number


def check_setting(key, value):
    """The value of a notify.* setting, checked and normalised; ValueError (for the user) when it
    makes no sense. The settings forms and the scheduler both go through here."""
    if key == "notify.due_soon_percents":
        items = value if isinstance(value, list) else [v for v in re.split(r"[,，\s]+", str(value)) if v]
        message = _l("Give the points as whole percentages between 1 and 99, e.g. 50, 80.")
        return sorted({_whole(item, 1, 99, message) for item in items})
    if key in NOTIFY_RANGES:
        low, high = NOTIFY_RANGES[key]
        return _whole(value, low, high, _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high))
    if key.endswith("_time"):
        match = _TIME.match(str(value).strip())
        if not match:
            raise ValueError(str(_l("Enter a time of day as HH:MM, e.g. 17:00.")))
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    if key == "notify.sms_gateway_url":
        url = str(value or "").strip()
        if url and not re.match(r"^https?://[^\s/]+", url):
            raise ValueError(str(_l("The gateway address must start with http:// or https://.")))
        return url
    if key == "notify.sms_gateway_body":
        body = value
        if isinstance(value, str):
            try:
                body = json.loads(value)
            except ValueError:
                body = None
        if not isinstance(body, dict) or not body or not all(isinstance(v, (str, int, float, bool))
                                                            for v in body.values()):
            raise ValueError(str(_l('The request body must be a JSON object of simple values, '
                                    'e.g. {"mobile": "{mobile}", "content": "{text}"}.')))
        return body
    if key == "notify.sms_signature":
        return str(value or "").strip()[:20]
    raise ValueError(f"unknown setting {key}")


def notify_rules():
    """Every notify.* setting (one query), falling back to the default where a stored value is
    missing or no longer valid."""
    stored = {row.key: row.value for row in Setting.select().where(Setting.key.in_(list(NOTIFY_DEFAULTS)))}
    rules = {}
    for key, default in NOTIFY_DEFAULTS.items():
        try:
            rules[key[len("notify."):]] = check_setting(key, json.loads(stored[key])) if key in stored else default
        except ValueError:
            rules[key[len("notify."):]] = default
    return rules


def email_configured():
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


# ----------------------------------------------------------------------------- allowed time

@dataclass
class Window:
    """The allowed time of a stage: from `start` to `due`, measured by `clock` (models.calendars:
    around the clock, or a branch's working time)."""

    start: datetime
    due: datetime
    clock: object = AROUND_THE_CLOCK

    def at(self, fraction):
        """The moment `fraction` (0.5 = half) of the allowed time is used."""
        return self.clock.point(self.start, self.due, fraction)

    def before_due(self, minutes):
        """`minutes` of the allowed time before the due time."""
        return self.clock.before(self.start, self.due, minutes)


def stage_window(complaint, stage):
    """The allowed time of `stage` of `complaint` (None when the stage has no deadline): from receipt
    to the stage's stored due time (DOMAIN: deadlines count from the moment it is received), counted
    as the due time was (the complaint's sla_hours_kind, in its branch's calendar)."""
    from .workflow import due_for
    due = due_for(complaint, stage)
    if due is None or complaint.received_at is None:
        return None
    return Window(complaint.received_at, due, sla_clock(complaint.sla_hours_kind, complaint.branch_id))


@dataclass(frozen=True)
class AlertPoint:
    kind: str  # due_soon | overdue | escalated
    mark: str  # "50%", "15min", "" for overdue and escalated
    at: datetime


def alert_points(complaint, rules):
    """(stage, window, points in time order) for the stage the complaint is working on now."""
    from .workflow import next_stage
    stage = next_stage(complaint)
    window = stage_window(complaint, stage) if stage else None
    if window is None:
        return stage, None, []
    points = {}
    for percent in rules["due_soon_percents"]:
        points.setdefault(window.at(percent / 100), AlertPoint("due_soon", f"{percent}%", window.at(percent / 100)))
    minutes = rules["due_soon_minutes_left"]
    if minutes and window.before_due(minutes) > window.start:
        moment = window.before_due(minutes)
        points.setdefault(moment, AlertPoint("due_soon", f"{minutes}min", moment))
    overdue = window.due + timedelta(seconds=1)
    escalation = max(window.due + timedelta(minutes=rules["escalation_delay_minutes"]), overdue)
    ordered = sorted(points.values(), key=lambda p: p.at)
    ordered += [AlertPoint("overdue", "", overdue), AlertPoint("escalated", "", escalation)]
    return stage, window, ordered


def alerts_due(complaint, rules, moment):
    """What to tell about `complaint` at `moment`, and when to look again:
    (stage, window, [points to tell now], next alert_at or None)."""
    stage, window, points = alert_points(complaint, rules)
    passed = [p for p in points if p.at <= moment]
    upcoming = [p for p in points if p.at > moment]
    late = [p for p in passed if p.kind != "due_soon"]
    tell = late if late else passed[-1:]
    return stage, window, tell, (upcoming[0].at if upcoming else None)


def event_key(kind, complaint_id, stage=None, due=None, mark=""):
    parts = [kind, str(complaint_id)]
    if stage:
        parts += [stage, f"{due:%Y%m%d%H%M%S}", mark]
    return ":".join(parts)


# ----------------------------------------------------------------------------- people

@dataclass
class Person:
    key: str
    name: str
    user_ids: list
    email: str = ""
    mobile: str = ""
    wants_email: bool = True
    wants_sms: bool = False
    active: bool = True


def _person(staff=None, users=()):
    users = [u for u in users if u.active]
    account = users[0] if users else None
    if staff is not None:
        key, name = f"s{staff.id}", staff.name
    else:
        key, name = f"u{account.id}", account.username
    email = (account.email if account else "") or (staff.email if staff else "")
    mobile = (account.mobile if account else "") or (staff.mobile if staff else "")
    prefs = account or staff
    active = staff.active if staff is not None else account.active
    return Person(key, name, [u.id for u in users], email.strip(), mobile.strip(), prefs.notify_email,
                  prefs.notify_sms, active)


def people_for_staff(staff_ids):
    """{staff id: Person} in two queries."""
    ids = list({i for i in staff_ids if i is not None})
    if not ids:
        return {}
    accounts = defaultdict(list)
    for user in User.select().where(User.staff.in_(ids), User.active == True).order_by(User.id):  # noqa: E712
        accounts[user.staff_id].append(user)
    return {staff.id: _person(staff, accounts[staff.id]) for staff in Staff.select().where(Staff.id.in_(ids))}


def people_for_users(users):
    """Persons for accounts (managers, directors): each with its staff record when linked."""
    users = [u for u in users if u.active]
    staff = {s.id: s for s in Staff.select().where(Staff.id.in_([u.staff_id for u in users if u.staff_id]))} \
        if any(u.staff_id for u in users) else {}
    return [_person(staff.get(u.staff_id), [u]) for u in users]


def _unique(people):
    seen, result = set(), []
    for person in people:
        if person is not None and person.key not in seen:
            seen.add(person.key)
            result.append(person)
    return result


def owner_person(complaint, people_by_staff):
    """The complaint's owner; an inactive (or missing) owner's alerts go to the branch duty person."""
    person = people_by_staff.get(complaint.assignee_id)
    if person is not None and person.active:
        return person
    duty = duty_person(complaint.branch_id)
    return people_for_staff([duty.id]).get(duty.id) if duty else None


# ----------------------------------------------------------------------------- events

@dataclass
class Event:
    """Something to tell, with its words (in the office's language) and who hears it."""

    key: str
    kind: str
    subject: str
    lines: list = field(default_factory=list)  # [(label, value)]
    link: str = ""  # path of the page where the person acts
    link_label: str = ""
    intro: str = ""
    people: list = field(default_factory=list)
    complaint_id: int = None
    branch_id: int = None
    attachment: str = ""
    extra_links: list = field(default_factory=list)
    footer: str = ""
    footer_links: list = field(default_factory=list)
    sms_text: str = ""
    image_cid: str = ""
    invitation_id: int = None
    not_before: datetime = None
    robots: list = None  # these group robots whatever they listen to (a test message)


class DeliveryPort:
    """What the rules need from the delivery layer (notify/) without depending on it: the paths of
    the product's pages, absolute addresses, and the texts of a message (e-mail text + HTML, SMS,
    robot markdown), written into the outbox with the event. notify.connect() fills it when the
    app is created (app.create_app), before any event is written."""

    path_for = absolute = route_exists = survey_url = render_event = render_digest = None

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if value is None:
            raise RuntimeError("models.notifications.DELIVERY is not connected: create the app (notify.connect)")
        return value


DELIVERY = DeliveryPort()


def _office_language():
    from .answers import office_language
    return office_language()


def _complaint_link(complaint_id):
    path_for = DELIVERY.path_for
    return path_for("complaint.details_view", id=complaint_id)


# The words of complaint alerts (msgids); translated once per language, not once per alert
_SUBJECTS = {
    "assigned": _l("[Assigned to you] %(number)s %(title)s"),
    "due_soon": _l("[Due soon] %(number)s %(deadline)s %(due)s, %(left)s left"),
    "overdue": _l("[Overdue] %(number)s %(deadline)s was %(due)s"),
    "escalated": _l("[Escalated] %(number)s %(deadline)s was %(due)s"),
    "followup": _l("[Low-score follow-up] %(number)s %(title)s"),
}
_INTROS = {
    "assigned": _l("You are now the owner of this complaint: you handle its next stage."),
    "due_soon": _l("The deadline of this complaint's next stage is close."),
    "overdue": _l("This complaint's stage is past its deadline; it counts as an SLA breach when done."),
    "escalated": _l("This complaint is still overdue and has been escalated to the service director."),
    "followup": _l("A customer gave a low score; a follow-up complaint was opened to close the loop."),
}
_WORDS = {
    "complaint": _l("Complaint"), "customer": _l("Customer"), "branch": _l("Branch"),
    "open": _l("Open the complaint"), "my_work": _l("My work"),
    "footer": _l("Sent by the service desk. Every alert is also in your notifications list."),
    "settings": _l("My notifications and settings"), "h_min": _l("%(h)d h %(m)d min"),
}
_PHRASES = {}


def _phrases():
    """The alert words in the language active now (cached per language)."""
    from flask_babel import get_locale
    language = str(get_locale() or "")
    if language not in _PHRASES:
        from .workflow import STAGE_FLOW
        _PHRASES[language] = {
            "subjects": {k: str(v) for k, v in _SUBJECTS.items()}, "intros": {k: str(v) for k, v in _INTROS.items()},
            **{k: str(v) for k, v in _WORDS.items()},
            "deadlines": {stage.code: str(Complaint._meta.fields[stage.due_field].verbose_name)
                          for stage in STAGE_FLOW if stage.due_field}}
    return _PHRASES[language]


def _staff_footer(event):
    path_for = DELIVERY.path_for
    words = _phrases()
    event.footer = words["footer"]
    event.footer_links = [(words["settings"], path_for("my_notifications.index"))]
    return event


def _fmt(moment):
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def _left(delta):
    minutes = max(int(delta.total_seconds() // 60), 0)
    return _phrases()["h_min"].replace("%(h)d", str(minutes // 60)).replace("%(m)d", str(minutes % 60))


def _deadline_label(stage):
    return _phrases()["deadlines"][stage]


def complaint_event(kind, complaint, stage=None, window=None, point=None, moment=None, people=(), key=None,
                    extra_lines=()):
    """The words of an alert about a complaint (call inside _office_language())."""
    route_exists = DELIVERY.route_exists
    words = _phrases()
    moment = moment or now()
    values = {"number": complaint.number, "title": complaint.title}
    lines = [(words["complaint"], f"{complaint.number} {complaint.title}")]
    if stage:
        values.update(deadline=_deadline_label(stage), due=_fmt(window.due), left=_left(window.due - moment))
        lines.append((values["deadline"], values["due"]))
    customer = getattr(complaint, "customer", None)
    branch = getattr(complaint, "branch", None)
    lines += [(words["customer"], str(customer) if customer else ""), (words["branch"], str(branch) if branch else "")]
    lines += list(extra_lines)
    event = Event(key=key or event_key(kind, complaint.id, stage, window.due if window else None,
                                       point.mark if point else ""),
                  kind=kind, subject=words["subjects"][kind] % values, lines=lines, intro=words["intros"][kind],
                  link=_complaint_link(complaint.id), link_label=words["open"],
                  people=_unique(people), complaint_id=complaint.id, branch_id=complaint.branch_id,
                  extra_links=[(words["my_work"], MY_WORK)] if route_exists(MY_WORK) else [])
    return _staff_footer(event)


def write_events(events, rules=None, moment=None, robots="each"):
    """Write the events with their in-app notifications and outbox messages (in the caller's
    transaction). `robots`: "each" (one robot message per event) or "digest" (one per robot for all
    events, as the scheduler does). Returns the number of outbox messages written."""
    if not events:
        return 0
    render_digest, render_event, absolute = DELIVERY.render_digest, DELIVERY.render_event, DELIVERY.absolute
    rules = rules or notify_rules()
    moment = moment or now()
    email_on, sms_on = email_configured(), bool(rules["sms_gateway_url"])
    endpoints = [] if all(e.robots is not None for e in events) else \
        list(ChannelEndpoint.select().where(ChannelEndpoint.active == True))  # noqa: E712
    event_rows, notes, messages = [], [], []
    digests = defaultdict(list)
    for event in events:
        texts = render_event(event, rules["sms_signature"])
        event_rows.append({"key": event.key, "kind": event.kind, "complaint": event.complaint_id,
                           "created_at": moment})
        common = {"kind": event.kind, "complaint": event.complaint_id, "invitation": event.invitation_id,
                  "created_at": moment, "next_attempt_at": event.not_before or moment}
        for person in event.people:
            for user_id in person.user_ids:
                notes.append({"user": user_id, "key": message_key(event.key, "inapp", f"u{user_id}"),
                              "kind": event.kind, "title": texts.subject, "body": texts.inapp, "link": event.link,
                              "complaint": event.complaint_id, "created_at": moment})
            if email_on and person.wants_email and person.email:
                messages.append({**common, "key": message_key(event.key, "email", person.email.lower()),
                                 "channel": "email", "recipient": person.email, "recipient_name": person.name[:100],
                                 "subject": texts.subject, "body_text": texts.text, "body_html": texts.html,
                                 "attachment": event.attachment})
            if sms_on and person.wants_sms and person.mobile:
                messages.append({**common, "key": message_key(event.key, "sms", person.mobile),
                                 "channel": "sms", "recipient": person.mobile, "recipient_name": person.name[:100],
                                 "subject": texts.subject, "body_text": texts.sms})
        if event.kind == "invitation" or event.kind == "reminder":
            continue  # customers' messages never go to a staff group
        for endpoint in (event.robots if event.robots is not None else endpoints):
            if event.robots is None and (not endpoint.listens_to(event.kind)
                                         or endpoint.branch_id not in (None, event.branch_id)):
                continue
            if robots == "digest":
                digests[endpoint].append((event.key, texts.subject, absolute(event.link)))
            else:
                messages.append({**common, "key": message_key(event.key, endpoint.kind, f"e{endpoint.id}"),
                                 "channel": endpoint.kind, "recipient": endpoint.name[:255],
                                 "endpoint": endpoint.id, "subject": texts.subject, "body_text": texts.markdown})
    for endpoint, items in digests.items():
        digest_key = "digest:" + hashlib.sha256("\n".join(sorted(k for k, _, _ in items)).encode()).hexdigest()[:32]
        title = str(_l("%(n)d alerts from the service desk", n=len(items)))
        messages.append({"kind": "digest", "created_at": moment, "next_attempt_at": moment,
                         "key": message_key(digest_key, endpoint.kind, f"e{endpoint.id}"), "channel": endpoint.kind,
                         "recipient": endpoint.name[:255], "endpoint": endpoint.id, "subject": title,
                         "body_text": render_digest(title, [(s, link) for _, s, link in items[:30]]
                                                    + ([(str(_l("and %(n)d more", n=len(items) - 30)), "")]
                                                       if len(items) > 30 else []))})
    insert_ignoring_duplicates(NotifyEvent, event_rows)
    insert_ignoring_duplicates(Notification, notes)
    insert_ignoring_duplicates(OutboxMessage, _same_columns(messages))
    return len(messages)


_MESSAGE_DEFAULTS = {"endpoint": None, "complaint": None, "invitation": None, "body_html": "", "attachment": "",
                     "recipient_name": "", "subject": ""}


def _same_columns(rows):
    """insert_many needs every row to have the same columns."""
    return [{**_MESSAGE_DEFAULTS, **row} for row in rows]


def tell(events, rules=None):
    """Write events that happen now in a user's request (hand-over, follow-up) and return them."""
    with _office_language():
        built = [event() if callable(event) else event for event in events]
    write_events([e for e in built if e is not None], rules)
    return built


# ----------------------------------------------------------------------------- direct events

def handed_over(complaint, new_owner_id, user=None, history_row=None):
    """A complaint changed owner on record (models.workflow.assign, or an edit of the owner): the
    new owner is told, unless they made the change themselves. In the caller's transaction."""
    if user is not None and user.staff_id == new_owner_id:
        return []
    suffix = history_row.id if history_row is not None else f"{now():%Y%m%d%H%M%S}"
    people = people_for_staff([new_owner_id]).get(new_owner_id)
    if people is None:
        return []
    by = [(str(_l("Handed over by")), user.username)] if user is not None else []
    return tell([lambda: complaint_event("assigned", complaint, people=[people], key=f"assigned:{complaint.id}:{suffix}",
                                         extra_lines=by)])


def complaint_recorded(complaint, user=None):
    """A complaint recorded by one person with another as owner: the owner is told."""
    if complaint.channel == "survey" or complaint.assignee_id is None:
        return []
    if user is not None and user.staff_id == complaint.assignee_id:
        return []
    owner = people_for_staff([complaint.assignee_id]).get(complaint.assignee_id)
    by = [(str(_l("Recorded by")), user.username)] if user is not None else []
    return tell([lambda: complaint_event("assigned", complaint, people=[owner], key=f"assigned:{complaint.id}:recorded",
                                         extra_lines=by)])


def followup_opened(complaint):
    """A low score opened a follow-up complaint: the branch's duty person is told, and the owner
    when that is someone else (in the transaction that stores the answers)."""
    duty = duty_person(complaint.branch_id)
    people = people_for_staff([complaint.assignee_id, duty.id if duty else None])
    told = [people.get(duty.id) if duty else None, people.get(complaint.assignee_id)]
    return tell([lambda: complaint_event("followup", complaint, people=told, key=f"followup:{complaint.id}")])


# ----------------------------------------------------------------------------- the scheduler

def _lock_scheduler():
    """One scheduler at a time across processes and servers: a transaction-scoped advisory lock on
    PostgreSQL; on SQLite the transaction already holds the write lock (BEGIN IMMEDIATE)."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    elif is_sqlite():
        # a deferred transaction (if the database was opened without IMMEDIATE) takes the write lock now
        NotifyEvent.update(kind=NotifyEvent.kind).where(NotifyEvent.id == 0).execute()


def due_complaints_query(moment, limit):
    """Open complaints whose next alert point has come, read through the index on alert_at."""
    return (Complaint.select(Complaint, Branch, Customer)
            .join(Branch, on=(Complaint.branch == Branch.id))
            .switch(Complaint).join(Customer, on=(Complaint.customer == Customer.id))
            .where(Complaint.alert_at <= moment, Complaint.stage != "closed")
            .order_by(Complaint.alert_at, Complaint.id).limit(limit))


def _set_alert_at(next_at):
    """One UPDATE per chunk: alert_at = CASE id WHEN … THEN … END."""
    from peewee import Case
    items = list(next_at.items())
    for start in range(0, len(items), 500):
        chunk = items[start:start + 500]
        value = Case(Complaint.id, [(cid, Complaint.alert_at.db_value(at)) for cid, at in chunk], None)
        if is_postgres():
            value = value.cast("timestamp")  # a CASE of parameters (some NULL) is text to PostgreSQL
        Complaint.update(alert_at=value).where(Complaint.id.in_([cid for cid, _ in chunk])).execute()


def deadline_alerts(moment, rules, limit=TICK_BATCH):
    """One scheduler transaction's worth of deadline alerts (due soon, overdue, escalated): reads the
    complaints whose alert point has come, writes what is due, escalates on record, moves alert_at
    on. Returns (complaints looked at, events written)."""
    from .workflow import escalate
    with db.atomic():
        _lock_scheduler()
        complaints = list(due_complaints_query(moment, limit))
        if not complaints:
            return 0, 0
        planned, next_at = [], {}
        for complaint in complaints:
            stage, window, tell_now, following = alerts_due(complaint, rules, moment)
            next_at[complaint.id] = following
            planned += [(complaint, stage, window, point) for point in tell_now]
        keys = {event_key(p.kind, c.id, s, w.due, p.mark): (c, s, w, p) for c, s, w, p in planned}
        known = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys)[start:start + 500]
            known |= {k for (k,) in NotifyEvent.select(NotifyEvent.key).where(NotifyEvent.key.in_(chunk)).tuples()}
        todo = [(key, *value) for key, value in keys.items() if key not in known]
        owners = people_for_staff([c.assignee_id for _, c, _, _, _ in todo])
        managers = managers_by_branch([c.branch_id for _, c, _, _, p in todo if p.kind == "overdue"])
        manager_people = {branch: people_for_users(users) for branch, users in managers.items()}
        directors = people_for_users(service_directors()) if any(p.kind == "escalated" for *_, p in todo) else []
        events = []
        with _office_language():
            for key, complaint, stage, window, point in todo:
                owner = owner_person(complaint, owners)
                people = {"due_soon": [owner], "overdue": [owner] + manager_people.get(complaint.branch_id, []),
                          "escalated": directors}[point.kind]
                events.append(complaint_event(point.kind, complaint, stage, window, point, moment, people, key))
            reasons = {c.id: str(_l("Automatic: %(deadline)s was %(due)s and the stage is still not done.",
                                    deadline=_deadline_label(s), due=_fmt(w.due)))
                       for _, c, s, w, p in todo if p.kind == "escalated"}
        write_events(events, rules, moment, robots="digest")
        escalate([c for _, c, _, _, p in todo if p.kind == "escalated"], None, reasons=reasons)
        _set_alert_at(next_at)
    return len(complaints), len(events)


def _at(day, hhmm):
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes))


def _ran(keys):
    return {k for (k,) in NotifyEvent.select(NotifyEvent.key).where(NotifyEvent.key.in_(keys)).tuples()}


def scheduled_runs(moment, rules):
    """The daily and periodic runs whose time has come and that have not run yet: callbacks due
    tomorrow, the weekly and the monthly report. Returns the events written."""
    from .reports import report_period
    today = moment.date()
    runs = {}
    if moment >= _at(today, rules["callback_reminder_time"]):
        runs[f"run:callbacks:{today}"] = ("callbacks", today)
    weekly_day = today - timedelta(days=today.isoweekday() - rules["weekly_report_weekday"])
    if weekly_day <= today and moment >= _at(weekly_day, rules["weekly_report_time"]) \
            and weekly_day.isocalendar()[:2] == today.isocalendar()[:2]:
        period = report_period("weekly", weekly_day)
        runs[f"run:report:weekly:{period.start.date()}"] = ("weekly", weekly_day)
    monthly_day = today.replace(day=rules["monthly_report_day"])
    # a worker that was down catches up within the week / within CATCH_UP_DAYS, not a month later
    if monthly_day <= today <= monthly_day + timedelta(days=CATCH_UP_DAYS) \
            and moment >= _at(monthly_day, rules["monthly_report_time"]):
        previous = monthly_day.replace(day=1) - timedelta(days=1)
        runs[f"run:report:monthly:{previous.replace(day=1)}"] = ("monthly", previous)
    if not runs:
        return 0
    written = 0
    with db.atomic():
        _lock_scheduler()
        for key in set(runs) - _ran(list(runs)):
            what, day = runs[key]
            events = callbacks_due_tomorrow(day) if what == "callbacks" else report_events(what, day)
            NotifyEvent.insert(key=key, kind="callbacks" if what == "callbacks" else "report",
                               created_at=moment).on_conflict_ignore().execute()
            write_events(events, rules, moment)
            written += len(events)
    return written


def callbacks_due_tomorrow(today):
    """One message per staff member listing their customers whose scheduled callback is due tomorrow."""
    path_for = DELIVERY.path_for
    tomorrow = today + timedelta(days=1)
    rows = [row for row in callbacks_due(today, 1) if row["due_date"] == tomorrow]
    by_staff = defaultdict(list)
    for row in rows:
        manager = row["account_manager"]
        staff = manager if manager is not None and manager.active else duty_person(row["customer"].branch_id)
        if staff is not None:
            by_staff[staff.id].append(row)
    people = people_for_staff(list(by_staff))
    events = []
    with _office_language():
        for staff_id, items in by_staff.items():
            lines = [(str(_l("Customer")), f"{row['customer']} · {row['branch']}") for row in items[:30]]
            event = Event(key=f"callbacks:{tomorrow}:{staff_id}", kind="callbacks",
                          subject=str(_l("[Callbacks due tomorrow] %(n)d customers, %(day)s", n=len(items),
                                         day=tomorrow.isoformat())),
                          intro=str(_l("These customers' scheduled callbacks are due tomorrow.")), lines=lines,
                          link=path_for("callbacks_due.index", days=1), link_label=str(_l("Open callbacks due")),
                          people=[people.get(staff_id)] if people.get(staff_id) else [])
            events.append(_staff_footer(event))
    return events


def report_events(kind, day):
    """The weekly or monthly report for the period containing `day`, the workbook attached (built
    when the message is sent), each reader getting the branches they see (models.scope): the
    service directors the whole office; a branch manager the workbook of their own branches
    (one event per set of branches, so the managers of one branch share it; the ranking in it
    shows the other branches' ranks and scores only). A manager who belongs to no branch gets
    no report (there is nothing of theirs to count)."""
    from .reports import report_period, report_title
    path_for = DELIVERY.path_for
    from .scope import branch_ids
    period = report_period(kind, day)
    managers = list(User.select().where(User.role == "manager", User.active == True).order_by(User.id))  # noqa: E712
    readers = {None: service_directors()}  # branch ids (None: every branch) -> accounts
    for manager in managers:
        scope = branch_ids(manager)
        if scope:
            code = report_scope_code(scope)
            # a key and an attachment name stay short: a manager of very many branches by account
            readers.setdefault(code if len(code) <= 60 else f"u{manager.id}", []).append(manager)
    events = []
    with _office_language():
        title = report_title(period)
        subject = str(_l("[Weekly report] %(title)s", title=title) if kind == "weekly"
                      else _l("[Monthly report] %(title)s", title=title))
        for code, users in readers.items():
            people = _unique(people_for_users(users))
            if not people:
                continue
            scope = "" if code is None else ":" + code
            event = Event(key=f"report:{kind}:{period.start.date()}{scope}", kind="report", subject=subject,
                          intro=str(_l("The report workbook is attached: branch ranking, complaints by stage, SLA "
                                       "breaches, satisfaction.")),
                          lines=[(str(_l("Report period")), f"{period.start.date()} – {period.last_day}")],
                          link=path_for("report_workbooks.index", kind=kind, day=day.isoformat()),
                          link_label=str(_l("Open the report workbooks")), people=people,
                          attachment=f"report:{kind}:{day.isoformat()}{scope}")
            events.append(_staff_footer(event))
    return events


def report_scope_code(branches):
    """The branches of a report workbook as written in its event key and attachment spec:
    "b3-7" (branch ids 3 and 7)."""
    return "b" + "-".join(str(b) for b in sorted(branches))


def report_scope_of(code):
    """The branch ids of report_scope_code() ("b3-7"), or of an account ("u12": the branches it
    sees when the workbook is built); None for the whole office ("")."""
    from .scope import branch_ids
    if not code:
        return None
    if code.startswith("u"):
        account = User.get_or_none(User.id == int(code[1:]))
        scope = branch_ids(account) if account is not None else frozenset()
        return None if scope is None else sorted(scope)
    return [int(b) for b in code[1:].split("-")]


def run_tick(moment=None):
    """The scheduler's minute: deadline alerts (in batches), invitation reminders, and the daily and
    periodic runs. Safe to run twice or on several servers at once. Returns counts."""
    moment = moment or now()
    rules = notify_rules()
    counts = {"complaints": 0, "events": 0}
    while True:
        looked, written = deadline_alerts(moment, rules)
        counts["complaints"] += looked
        counts["events"] += written
        if looked < TICK_BATCH:
            break
    counts["reminders"] = invitation_reminders(moment, rules)
    counts["scheduled"] = scheduled_runs(moment, rules)
    return counts


# ----------------------------------------------------------------------------- survey invitations

def _customer_person(customer, channel):
    return Person(f"c{customer.id}", customer.name, [], (customer.email or "").strip(),
                  (customer.phone or "").strip(), channel == "email", channel == "sms")


def unsubscribe_token(customer_id):
    from itsdangerous import URLSafeSerializer
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="survey-unsubscribe").dumps(customer_id)


def customer_from_unsubscribe_token(token):
    from itsdangerous import BadSignature, URLSafeSerializer
    try:
        customer_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="survey-unsubscribe").loads(token)
    except BadSignature:
        return None
    return Customer.get_or_none(Customer.id == customer_id) if isinstance(customer_id, int) else None


def opt_out(customer, user=None):
    """The customer wants no more survey invitations (unsubscribe link or the customer file)."""
    from .audit import record
    if customer.survey_opt_out:
        return False
    with db.atomic():
        Customer.update(survey_opt_out=True).where(Customer.id == customer.id).execute()
        record(customer, "update", user, "survey_opt_out", False, True)
        Invitation.update(remind_at=None).where(Invitation.customer == customer.id).execute()
    customer.survey_opt_out = True
    return True


def invitation_event(invitation, kind, channel, with_qr=False, not_before=None):
    """The words of a survey invitation or its reminder, in the survey's language."""
    from flask_babel import force_locale
    path_for, survey_url = DELIVERY.path_for, DELIVERY.survey_url
    from .i18n import babel_locale
    survey, customer = invitation.survey, invitation.customer
    with force_locale(babel_locale(survey.language)):
        subject = survey.title if kind == "invitation" else str(_l("Reminder: %(survey)s", survey=survey.title))
        link = survey_url(invitation)
        unsubscribe = path_for("notify.unsubscribe", token=unsubscribe_token(customer.id))
        event = Event(key=f"{kind}:{invitation.id}:{channel}", kind=kind, subject=subject,
                      intro=str(_l("Dear %(name)s, we would like to hear how we did. The survey takes a few "
                                   "minutes.", name=customer.name)) + (f"\n{survey.intro}" if survey.intro else ""),
                      link=link, link_label=str(_l("Answer the survey")),
                      people=[_customer_person(customer, channel)], invitation_id=invitation.id,
                      branch_id=customer.branch_id, not_before=not_before,
                      attachment=f"qr:{invitation.id}" if with_qr and channel == "email" else "",
                      image_cid="qr" if with_qr and channel == "email" else "",
                      footer=str(_l("You receive this because you are our customer. To receive no more survey "
                                    "invitations, unsubscribe here.")),
                      footer_links=[(str(_l("Unsubscribe")), unsubscribe)],
                      sms_text=f"{survey.title}")
        if channel == "sms":
            event.sms_text = str(_l("%(survey)s: please answer %(link)s. Unsubscribe: %(unsubscribe)s",
                                    survey=survey.title, link=link, unsubscribe="{unsubscribe}"))
            event.sms_text = event.sms_text.replace("{unsubscribe}", _absolute(unsubscribe))
            event.link = ""  # already in the text
    return event


def _absolute(path):
    absolute = DELIVERY.absolute
    return absolute(path)


def send_invitations(invitation_ids, channel, with_qr=False, moment=None):
    """Queue personal invitations for delivery by e-mail or SMS, spaced out at the set rate (so a
    mail server or SMS gateway is not flooded). Skips answered, expired, already queued and
    unsubscribed ones, and customers without an address. Returns {outcome: count}."""
    if channel not in ("email", "sms"):
        raise ValueError(str(_l("Choose e-mail or SMS.")))
    rules = notify_rules()
    if channel == "email" and not email_configured():
        raise ValueError(str(_l("E-mail is not configured (MAIL_SERVER); ask the administrator.")))
    if channel == "sms" and not rules["sms_gateway_url"]:
        raise ValueError(str(_l("No SMS gateway is configured; set it under notification settings.")))
    moment = moment or now()
    spacing = timedelta(seconds=60 / rules["invitations_per_minute"])
    counts = defaultdict(int)
    invitations = list(Invitation.select(Invitation, Customer).join(Customer, JOIN.LEFT_OUTER,
                                                                    on=(Invitation.customer == Customer.id))
                       .where(Invitation.id.in_([int(i) for i in invitation_ids])).order_by(Invitation.id))
    queued_already = {k for (k,) in NotifyEvent.select(NotifyEvent.key).where(
        NotifyEvent.key.in_([f"invitation:{i.id}:{channel}" for i in invitations])).tuples()} if invitations else set()
    events = []
    for invitation in invitations:
        customer = invitation.customer if invitation.customer_id else None
        address = (customer.email if channel == "email" else customer.phone) if customer else ""
        if customer is None or not (address or "").strip():
            counts["no_address"] += 1
        elif customer.survey_opt_out:
            counts["opted_out"] += 1
        elif invitation.answered_at is not None or (invitation.expires_at and invitation.expires_at <= moment):
            counts["closed"] += 1
        elif f"invitation:{invitation.id}:{channel}" in queued_already:
            counts["already"] += 1
        else:
            events.append(invitation_event(invitation, "invitation", channel, with_qr,
                                           not_before=moment + spacing * len(events)))
    with db.atomic():
        write_events(events, rules, moment)
        if events:
            Invitation.update(delivery_channel=channel, delivery_status="queued", delivery_error="").where(
                Invitation.id.in_([e.invitation_id for e in events])).execute()
    counts["queued"] = len(events)
    return dict(counts)


def invitation_reminders(moment, rules, limit=500):
    """The one reminder to customers who have not answered N days after their invitation was
    delivered (notify.invitation_reminder_days; 0: none). Returns the reminders written."""
    due = list(Invitation.select(Invitation, Customer).join(Customer, on=(Invitation.customer == Customer.id))
               .where(Invitation.remind_at <= moment).order_by(Invitation.remind_at).limit(limit))
    if not due:
        return 0
    events = []
    for invitation in due:
        usable = (invitation.answered_at is None and not invitation.customer.survey_opt_out
                  and (invitation.expires_at is None or invitation.expires_at > moment)
                  and invitation.survey.is_open(moment) and invitation.delivery_channel in ("email", "sms"))
        if usable:
            events.append(invitation_event(invitation, "reminder", invitation.delivery_channel))
    with db.atomic():
        write_events(events, rules, moment)
        Invitation.update(remind_at=None).where(Invitation.id.in_([i.id for i in due])).execute()
    return len(events)


def invitation_delivery_finished(message, status, error, moment):
    """The outbox tells the invitation how its delivery went (in the outbox's transaction): sent
    (and when to remind), failed (the error: a bounce, a refused number), or in doubt."""
    from peewee import fn
    values = {"delivery_status": status if status in ("sent", "failed", "unknown") else "queued",
              "delivery_error": (error or "")[:1000] if status == "failed" else ""}
    if status == "sent" and message.kind == "invitation":
        values["sent_at"] = fn.COALESCE(Invitation.sent_at, Invitation.sent_at.db_value(moment))
    Invitation.update(**values).where(Invitation.id == message.invitation_id).execute()
    days = notify_rules()["invitation_reminder_days"] if status == "sent" and message.kind == "invitation" else 0
    if days:
        (Invitation.update(remind_at=moment + timedelta(days=days))
         .where(Invitation.id == message.invitation_id, Invitation.answered_at.is_null()).execute())
