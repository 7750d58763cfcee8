"""Notifications in the admin: everyone's own list (with their contact details and preferences),
the outbox (status, attempts, last error, resend), the group robots per branch, the notification
settings as a typed form and a test message per channel. Rules live in models.notifications."""
import json

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from models import ChannelEndpoint, DeliveryAttempt, Notification, OutboxMessage, Setting, db
from models.audit import record
from models.clock import now
from models.i18n import label_of
from models.notifications import (NOTIFY_DEFAULTS, NOTIFY_LABELS, Event, Person, check_setting, email_configured, notify_rules,
                                  write_events)
from models.outbox import ROBOT_EVENTS, EVENT_KINDS, STATUSES, resend
from models.privacy import masked_recipient, recipients_shown
from models.scope import get_in_scope, parse_id
from models.settings import notification_settings
from models.validation import email_problem, field_problems, mobile_problem

from .base import DomainModelView, RoleBaseView, _user

PAGE = 50


def _safe_local(link):
    """Only a path inside this site may be followed from a notification (no open redirect)."""
    return link if link.startswith("/") and not link.startswith("//") else url_for("admin.index")


class MyNotificationsView(RoleBaseView):
    """Your notifications (newest first), your e-mail and mobile, and how you want to be told.
    Reached from the navbar's bell, not from the menu."""

    def is_visible(self):
        return False

    @expose("/", methods=("GET", "POST"))
    def index(self):
        user = _user()
        if request.method == "POST":
            return self._save_preferences(user)
        return self._page(user)

    def _page(self, user, errors=None, status=200):
        page = min(max(request.args.get("page", 1, type=int), 1), 10 ** 6)
        query = Notification.select().where(Notification.user == user.id)
        if request.args.get("unread") == "1":
            query = query.where(Notification.read_at.is_null())
        total = query.count()
        items = list(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                     .paginate(page, PAGE))
        return self.render("admin/notifications/mine.html", items=items, page=page, total=total,
                           pages=max((total + PAGE - 1) // PAGE, 1), kind_label=lambda c: label_of(EVENT_KINDS, c),
                           account=user, staff=user.staff if user.staff_id else None,
                           unread_only=request.args.get("unread") == "1", errors=errors or {}), status

    def _save_preferences(self, user):
        """E-mail, mobile and channels as typed; the rules are the account's (models.validation):
        refused values come back in the form with their message, nothing typed is lost."""
        before = dict(user.__data__)
        user.email = request.form.get("email", "").strip()
        user.mobile = request.form.get("mobile", "").strip()
        user.notify_email = request.form.get("notify_email") == "y"
        user.notify_sms = request.form.get("notify_sms") == "y"
        errors = field_problems(user, only=["email", "mobile"])
        if errors:
            return self._page(user, errors, 422)
        with db.atomic():
            user.save(only=["email", "mobile", "notify_email", "notify_sms"])
            from models.audit import record_changes
            record_changes(user, before, user)
        flash(_("Your notification settings were saved."), "success")
        return redirect(url_for(".index"))

    @expose("/open/<int:notification_id>")
    def open(self, notification_id):
        """Mark one notification read and go to the page where you act on it."""
        number = parse_id(notification_id)  # beyond any id: not one of yours either
        item = Notification.get_or_none((Notification.id == number) & (Notification.user == _user().id)) \
            if number else None
        if item is None:
            abort(404)
        if item.read_at is None:
            Notification.update(read_at=now()).where(Notification.id == item.id).execute()
        return redirect(_safe_local(item.link))

    @expose("/read-all/", methods=("POST",))
    def read_all(self):
        count = (Notification.update(read_at=now())
                 .where(Notification.user == _user().id, Notification.read_at.is_null()).execute())
        flash(_("%(n)d notifications marked as read.", n=count), "success")
        return redirect(url_for(".index"))


def _status_badge(view, context, model, name):
    css = {"sent": "success", "failed": "danger", "unknown": "warning", "sending": "info"}.get(model.status, "secondary")
    return Markup('<span class="badge badge-{}">{}</span>').format(css, label_of(STATUSES, model.status))


def _complaint_link(view, context, model, name):
    """The complaint's number, linked to its page (the list loads the complaints in one query)."""
    if model.complaint_id is None or model.complaint is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("complaint.details_view", id=model.complaint_id),
                                                model.complaint.number)


def _recipient(view, context, model, name):
    """A customer's address (an invitation sent to them) in full only to those who own the
    customer (models.privacy.recipients_shown), masked to everyone else."""
    value = getattr(model, name) or ""
    if model.id in g.get("recipients_shown", ()):
        return value
    return masked_recipient(model.channel, value) if name == "recipient" else value


class OutboxAdmin(DomainModelView):
    """Every message that left or is leaving: status, attempts, last error; failed and in-doubt
    ones can be sent again. Recipients are personal data: managers and up; a manager sees the
    messages about their branches' complaints, invitations and group robots (models.scope),
    a customer's address masked unless they own the customer (models.privacy)."""

    required_role = "manager"
    can_create = False
    can_edit = False
    column_editable_list = ()
    details_template = "admin/notifications/outbox_details.html"
    column_list = ["created_at", "kind", "channel", "recipient", "subject", "status", "attempts", "next_attempt_at",
                   "sent_at", "last_error", "complaint"]
    column_formatters = {"status": _status_badge, "complaint": _complaint_link, "recipient": _recipient,
                         "last_error": lambda v, c, m, n: (m.last_error or "")[:120]}
    column_filters = ["status", "channel", "kind", "created_at", "sent_at"]
    column_searchable_list = ["recipient", "subject"]
    column_default_sort = ("id", True)
    column_details_exclude_list = ["body_html", "claimed_by", "key"]
    export_types = ["xlsx", "csv"]

    @property
    def can_delete(self):
        return False

    def delete_model(self, model):
        abort(403)

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True) is not False:
            g.setdefault("recipients_shown", set()).update(recipients_shown(_user(), rows))
        return count, rows

    def get_one(self, id):
        message = super().get_one(id)
        g.setdefault("recipients_shown", set()).update(recipients_shown(_user(), [message]))
        return message

    @action("resend", _l("Send again"), _l("Send the selected failed or in-doubt messages again?"))
    def action_resend(self, ids):
        count = resend([int(i) for i in ids if str(i).isdigit()])
        flash(_("%(n)d messages queued again (only failed and in-doubt messages are resent).", n=count), "success")

    @expose("/details/")
    def details_view(self):
        message = self.get_one(request.args.get("id"))  # in the user's branch scope, else 404
        self._template_args["attempts"] = list(DeliveryAttempt.select().where(DeliveryAttempt.message == message.id)
                                               .order_by(DeliveryAttempt.at, DeliveryAttempt.id))
        self._template_args["status_label"] = lambda code: label_of(STATUSES, code)
        return super().details_view()


class ChannelEndpointAdmin(DomainModelView):
    """The WeCom / DingTalk group robots of each branch."""

    required_role = "admin"
    delete_role = "admin"
    column_list = ["name", "kind", "branch", "events", "active"]
    column_filters = ["kind", "active"]
    form_excluded_columns = ["created_at"]
    form_widget_args = {"secret": {"autocomplete": "off"}}
    column_exclude_list = ["secret"]
    column_details_exclude_list = ["secret"]

    def on_model_change(self, form, model, is_created):
        url = (model.webhook_url or "").strip()
        if not url.startswith(("https://", "http://")):
            raise ValueError(str(_l("The webhook address must start with https://.")))
        events = [e.strip() for e in (model.events or "").replace("，", ",").split(",") if e.strip()]
        unknown = [e for e in events if e not in ROBOT_EVENTS]
        if unknown or not events:
            raise ValueError(str(_l("Events: a comma-separated list of %(known)s.", known=", ".join(ROBOT_EVENTS))))
        model.webhook_url, model.events = url, ",".join(events)
        model.secret = (model.secret or "").strip()


SETTINGS_FIELDS = [key for key, _default, _description in notification_settings()]


class NotificationSettingsView(RoleBaseView):
    """The notification settings as a form (each value checked by models.notifications.check_setting),
    and a test message for every channel."""

    required_role = "admin"

    def _values(self):
        rules = notify_rules()
        values = {}
        for key in SETTINGS_FIELDS:
            value = rules[key[len("notify."):]]
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)
            values[key] = value
        return values

    @expose("/", methods=("GET", "POST"))
    def index(self):
        values, errors = self._values(), {}
        if request.method == "POST":
            cleaned = {}
            for key in SETTINGS_FIELDS:
                raw = request.form.get(key, "")
                values[key] = raw
                try:
                    cleaned[key] = check_setting(key, raw)
                except ValueError as exc:
                    errors[key] = str(exc)
            if not errors:
                descriptions = {key: description for key, _default, description in notification_settings()}
                with db.atomic():
                    for key, value in cleaned.items():
                        before = Setting.get_or_none(Setting.key == key)
                        old = before.value if before else ""
                        row = Setting.set_value(key, value, descriptions[key])
                        if old != row.value:
                            record(row, "update", _user(), "value", old, row.value)
                flash(_("Notification settings saved."), "success")
                return redirect(url_for(".index"))
            flash(_("Not saved: correct the marked fields."), "error")
        robots = list(ChannelEndpoint.select().order_by(ChannelEndpoint.name))
        return self.render("admin/notifications/settings.html", values=values, errors=errors,
                           labels=NOTIFY_LABELS, defaults=NOTIFY_DEFAULTS, robots=robots,
                           email_on=email_configured(), sms_on=bool(notify_rules()["sms_gateway_url"]),
                           account=_user()), 422 if errors else 200

    @expose("/test/", methods=("POST",))
    def test(self):
        """Write a test message for one channel and deliver it at once; show how that went."""
        from notify.worker import deliver_pending
        channel = request.form.get("channel", "")
        rules = notify_rules()
        target = request.form.get("to", "").strip()
        stamp = f"{now():%Y%m%d%H%M%S}"
        event = Event(key=f"test:{channel}:{stamp}:{current_user.id}", kind="test",
                      subject=_("[Test] A message from the service desk"),
                      intro=_("If you can read this, %(channel)s works.", channel=channel),
                      lines=[(_("Sent by"), current_user.username), (_("Sent at"), f"{now():%Y-%m-%d %H:%M:%S}")],
                      link=url_for("notification_settings.index"), link_label=_("Open the notification settings"))
        if channel == "email":
            if not email_configured():
                flash(_("E-mail is not configured (MAIL_SERVER)."), "error")
                return redirect(url_for(".index"))
            problem = email_problem(target) if target else _("Enter an e-mail address.")
            if problem:
                flash(problem, "error")
                return redirect(url_for(".index"))
            event.people = [Person("test", current_user.username, [], email=target, wants_email=True)]
        elif channel == "sms":
            if not rules["sms_gateway_url"]:
                flash(_("No SMS gateway is configured; set it under notification settings."), "error")
                return redirect(url_for(".index"))
            problem = mobile_problem(target) if target else _("Enter a mobile number.")
            if problem:
                flash(problem, "error")
                return redirect(url_for(".index"))
            event.people = [Person("test", current_user.username, [], mobile=target, wants_email=False, wants_sms=True)]
        elif channel == "robot":
            endpoint = get_in_scope(ChannelEndpoint, request.form.get("endpoint"), _user())
            if endpoint is None:
                abort(404)
            event.robots = [endpoint]
        else:
            abort(400)
        with db.atomic():
            write_events([event], rules)
        message = OutboxMessage.select().where(OutboxMessage.key.startswith(event.key + "|")).first()
        deliver_pending(only_ids=[message.id])
        message = OutboxMessage.get_by_id(message.id)
        if message.status == "sent":
            flash(_("Test message sent to %(to)s.", to=message.recipient), "success")
        else:
            flash(_("The test message was not delivered: %(error)s", error=message.last_error or message.status), "error")
        return redirect(url_for("outbox.details_view", id=message.id))
