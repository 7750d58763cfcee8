"""Notifications in the admin: the navbar count and the own list, preferences, the outbox page and its
resend, group robots, the settings form, a test message per channel, survey invitations sent from
the list (opt-out, QR image, one reminder) and the customer's unsubscribe page."""
from datetime import datetime, timedelta

import pytest

from models import (ChannelEndpoint, Complaint, Customer, History, Invitation, Notification, OutboxMessage, Setting,
                    Survey, User, clock, workflow)
from models.notifications import run_tick, unsubscribe_token
from notify.worker import deliver_pending

from .helpers import csrf_token, make_complaint, make_customer

T0 = datetime(2026, 3, 10, 9, 0)


def test_the_navbar_counts_unread_notifications_and_the_list_leads_to_the_complaint(app, office, login_as):
    with app.app_context():
        complaint = make_complaint(make_customer(office["branch"]), first_responder=office["other"])
        workflow.assign([complaint], office["staff"], office["users"]["manager"])  # staff's account is told
    staff = login_as("staff")
    page = staff.get("/admin/").get_data(as_text=True)
    assert 'id="unread-count">1<' in page
    mine = staff.get("/admin/my-notifications/").get_data(as_text=True)
    assert "【转交给您】" in mine and complaint.number in mine
    with app.app_context():
        note = Notification.get()
    response = staff.get(f"/admin/my-notifications/open/{note.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/admin/complaint/details/?id={complaint.id}")
    assert 'id="unread-count"' not in staff.get("/admin/").get_data(as_text=True)
    # another account cannot open it
    assert login_as("manager").get(f"/admin/my-notifications/open/{note.id}").status_code == 404


def test_preferences_are_saved_and_nonsense_is_refused(app, office, login_as):
    staff = login_as("staff")
    response = staff.post("/admin/my-notifications/", {"email": "not an address", "mobile": "010-12345678"})
    assert response.status_code == 422  # the form again, with what was typed and why it is refused
    page = response.get_data(as_text=True)
    assert 'value="not an address"' in page and 'value="010-12345678"' in page
    assert 'id="email-error"' in page and 'id="mobile-error"' in page  # a landline takes no text message
    with app.app_context():
        assert User.get(User.username == "staff").email == ""
    staff.post("/admin/my-notifications/", {"email": "me@example.cn", "mobile": "13800000000", "notify_sms": "y"})
    with app.app_context():
        user = User.get(User.username == "staff")
        assert (user.email, user.mobile, user.notify_email, user.notify_sms) == ("me@example.cn", "13800000000",
                                                                                 False, True)
        assert History.select().where(History.object_type == "User", History.field == "notify_sms").exists()


def test_the_outbox_is_for_managers_and_resends_failed_messages(app, office, login_as, webhook_server):
    webhook_server.answers["/sms"] = (500, {})
    with app.app_context():
        Setting.set_value("notify.sms_gateway_url", webhook_server.url + "/sms")
        Setting.set_value("notify.max_attempts", 1)
        User.update(mobile="13900000000", notify_sms=True).where(User.username == "staff").execute()
        complaint = make_complaint(make_customer(office["branch"]), first_responder=office["other"])
        workflow.assign([complaint], office["staff"], office["users"]["manager"])
        deliver_pending()
        message = OutboxMessage.get()
        assert message.status == "failed"
    assert login_as("staff").get("/admin/outbox/").status_code == 403
    manager = login_as("manager")
    listing = manager.get("/admin/outbox/").get_data(as_text=True)
    assert "13900000000" in listing and "HTTP 500" in listing
    details = manager.get(f"/admin/outbox/details/?id={message.id}").get_data(as_text=True)
    assert 'id="attempts"' in details and "HTTP 500" in details
    webhook_server.answers["/sms"] = (200, {})
    manager.post("/admin/outbox/action/", {"action": "resend", "rowid": [message.id]})
    with app.app_context():
        assert OutboxMessage.get().status == "pending"
        deliver_pending()
        assert OutboxMessage.get().status == "sent"
    assert manager.post("/admin/outbox/delete/", {"id": message.id}).status_code in (403, 405)


def test_group_robots_are_checked_and_a_test_message_reaches_each_channel(app, office, login_as, smtp_server,
                                                                         webhook_server):
    admin = login_as("admin")
    form = csrf_token(admin.get("/admin/channelendpoint/new/").get_data(as_text=True))
    assert form
    bad = admin.post("/admin/channelendpoint/new/", {"name": "江苏群", "kind": "wecom", "webhook_url": "ftp://x",
                                                      "events": "overdue", "active": "y"})
    assert bad.status_code == 200
    admin.post("/admin/channelendpoint/new/", {"name": "江苏群", "kind": "dingtalk", "active": "y",
                                                "webhook_url": webhook_server.url + "/robot/send?access_token=t",
                                                "secret": "SEC1", "events": "overdue, escalated"})
    with app.app_context():
        [robot] = ChannelEndpoint.select()
        assert robot.events == "overdue,escalated"
        Setting.set_value("notify.sms_gateway_url", webhook_server.url + "/sms")
    for data in ({"channel": "email", "to": "admin@example.cn"}, {"channel": "sms", "to": "13700000000"},
                 {"channel": "robot", "endpoint": str(robot.id)}):
        response = admin.post("/admin/notification-settings/test/", data)
        assert response.status_code == 302 and "/admin/outbox/details/" in response.headers["Location"]
    assert smtp_server.to("admin@example.cn")[0]["subject"] == "【测试】来自客服系统的消息"
    assert len(webhook_server.at("/sms")) == 1 and len(webhook_server.at("/robot/send")) == 1
    with app.app_context():
        assert {m.status for m in OutboxMessage.select()} == {"sent"}
    assert admin.post("/admin/notification-settings/test/", {"channel": "sms", "to": "abc"}).status_code == 302
    assert login_as("manager").post("/admin/notification-settings/test/", {"channel": "email"}).status_code == 403


def test_the_settings_form_refuses_nonsense_and_the_scheduler_follows_it(app, office, login_as):
    admin = login_as("admin")
    page = admin.get("/admin/notification-settings/").get_data(as_text=True)
    assert "环节时限用去这些百分比时提醒" in page
    values = {"notify.due_soon_percents": "50, 80", "notify.due_soon_minutes_left": "15",
              "notify.escalation_delay_minutes": "60", "notify.weekly_report_weekday": "5",
              "notify.weekly_report_time": "17:00", "notify.monthly_report_day": "1",
              "notify.monthly_report_time": "08:00", "notify.callback_reminder_time": "09:00",
              "notify.invitation_reminder_days": "3", "notify.invitations_per_minute": "30",
              "notify.sms_gateway_url": "", "notify.sms_gateway_body": '{"mobile": "{mobile}", "content": "{text}"}',
              "notify.sms_signature": "【客服】", "notify.max_attempts": "6", "notify.retry_base_seconds": "60"}
    bad = dict(values, **{"notify.due_soon_percents": "50, 150", "notify.weekly_report_time": "25:00",
                          "notify.sms_gateway_body": "[1, 2]", "notify.escalation_delay_minutes": "abc"})
    response = admin.post("/admin/notification-settings/", bad)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "1 到 99" in text and "HH:MM" in text and "JSON" in text
    with app.app_context():
        assert not Setting.select().where(Setting.key == "notify.due_soon_percents").exists()
    good = dict(values, **{"notify.due_soon_percents": "25，75", "notify.escalation_delay_minutes": "30"})
    assert admin.post("/admin/notification-settings/", good).status_code == 302
    with app.app_context():
        assert Setting.get_value("notify.due_soon_percents") == [25, 75]
        clock.freeze(T0)
        make_complaint(make_customer(office["branch"]), first_responder=office["staff"])
        run_tick()
        clock.freeze(T0 + timedelta(minutes=15))  # 25 % of the hour
        assert run_tick()["events"] == 1
        clock.freeze(T0 + timedelta(minutes=90))  # overdue + escalated 30 min after
        assert run_tick()["events"] == 2


def test_a_complaint_recorded_for_someone_else_tells_that_owner(app, office, login_as):
    staff = login_as("staff")
    with app.app_context():
        customer = make_customer(office["branch"])
    response = staff.post("/admin/complaint/new/", {"customer": customer.id, "branch": office["branch"].id,
                                                    "title": "热水器漏水：安装不规范", "channel": "phone",
                                                    "category": "quality", "severity": "normal",
                                                    "first_responder": office["other"].id,
                                                    "compensation": "none"})
    assert response.status_code == 302
    with app.app_context():
        complaint = Complaint.get()
        assert complaint.assignee_id == office["other"].id
        # the manager's and the admin's accounts are linked to "other": both see it
        notes = list(Notification.select().order_by(Notification.user))
        assert [n.user_id for n in notes] == [office["users"]["manager"].id, office["users"]["admin"].id]
        assert all(complaint.number in n.title for n in notes)


@pytest.fixture
def invitations(app, office):
    with app.app_context():
        survey = Survey.create(title="客户满意度调查", kind="csat", intro="感谢您的支持。")
        people = [make_customer(office["branch"], name=f"客户{i}", email=f"c{i}@example.cn", phone=f"1380000000{i}")
                  for i in range(4)]
        Customer.update(survey_opt_out=True).where(Customer.id == people[2].id).execute()
        Customer.update(email="").where(Customer.id == people[3].id).execute()
        return [Invitation.create(survey=survey, customer=c.id, expires_at=T0 + timedelta(days=30)).id
                for c in people]


def test_invitations_are_sent_from_the_list_with_link_qr_and_unsubscribe_and_reminded_once(
        app, office, login_as, smtp_server, invitations):
    clock.freeze(T0)
    manager = login_as("manager")
    response = manager.post("/admin/invitation/action/", {"action": "send_email", "rowid": invitations})
    assert response.status_code == 302
    confirm = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "4" in confirm and 'name="qr"' in confirm
    response = manager.post("/admin/invitation/send/", {"ids": ",".join(map(str, invitations)), "channel": "email",
                                                        "qr": "y"})
    assert response.status_code == 302
    with app.app_context():
        messages = list(OutboxMessage.select().order_by(OutboxMessage.id))
        assert len(messages) == 2  # opted out and no address skipped
        assert (messages[1].next_attempt_at - messages[0].next_attempt_at) == timedelta(seconds=2)  # 30 a minute
        deliver_pending()
        clock.freeze(T0 + timedelta(seconds=2))
        deliver_pending()
        first = Invitation.get_by_id(invitations[0])
        assert first.delivery_status == "sent" and first.sent_at is not None
        assert first.remind_at == T0 + timedelta(days=3)
    assert len(smtp_server.messages) == 2
    message = smtp_server.to("c0@example.cn")[0]
    assert message["subject"] == "客户满意度调查"
    assert str(message["List-Unsubscribe"]).strip().startswith("<http")  # RFC 8058 one-click unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",)).get_content()
    with app.app_context():
        token = Invitation.get_by_id(invitations[0]).token
    assert f"/s/i/{token}" in html and 'src="cid:qr"' in html and "/n/unsubscribe/" in html
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<qr>" and image.get_content()[:4] == b"\x89PNG"
    # the second customer answers; the first gets the one reminder after 3 days
    with app.app_context():
        Invitation.update(answered_at=T0 + timedelta(days=1)).where(Invitation.id == invitations[1]).execute()
        clock.freeze(T0 + timedelta(days=3, seconds=5))
        assert run_tick()["reminders"] == 1
        assert run_tick()["reminders"] == 0
        deliver_pending()
    reminders = [m for _, _, m, _ in smtp_server.messages if m["subject"].startswith("提醒")]
    assert [m["To"] for m in reminders] == ["c0@example.cn"]


def test_the_unsubscribe_link_asks_first_and_is_honoured(app, office, client, smtp_server, invitations):
    with app.app_context():
        customer_id = Invitation.get_by_id(invitations[0]).customer_id
        token = unsubscribe_token(customer_id)
    page = client.get(f"/n/unsubscribe/{token}")
    assert page.status_code == 200 and "退订" in page.get_data(as_text=True)
    with app.app_context():
        assert not Customer.get_by_id(customer_id).survey_opt_out  # opening the link changes nothing
    assert client.post(f"/n/unsubscribe/{token}", {"confirm": "yes"}, csrf=False).status_code == 200
    with app.app_context():
        assert Customer.get_by_id(customer_id).survey_opt_out
        assert History.select().where(History.field == "survey_opt_out").count() == 1
    assert client.get("/n/unsubscribe/forged-token").status_code == 404
    # a mail program's one-click unsubscribe (no CSRF token, the signed token is the proof)
    with app.app_context():
        other = unsubscribe_token(Invitation.get_by_id(invitations[1]).customer_id)
    assert client.post(f"/n/unsubscribe/{other}", {"List-Unsubscribe": "One-Click"}, csrf=False).status_code == 200
    assert client.post(f"/n/unsubscribe/{other}", {}, csrf=False).status_code == 400
    with app.app_context():
        from models.notifications import send_invitations
        counts = send_invitations(invitations, "email")
        assert counts["opted_out"] == 3 and counts.get("queued", 0) == 0
