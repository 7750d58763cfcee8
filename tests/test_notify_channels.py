"""The channels with real parts: aiosmtpd for e-mail, a local HTTP server for WeCom, DingTalk and the
SMS gateway; retries with back-off, permanent failures, the hand-over point and a lost claim."""
import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from models import ChannelEndpoint, DeliveryAttempt, OutboxMessage, Setting, clock, db
from models.notifications import Event, Person, write_events
from models.outbox import claim, hand_over, recover_stale, resend
from notify.worker import deliver_pending

from .helpers import make_branch, make_complaint, make_customer, make_staff

T0 = datetime(2026, 3, 10, 9, 0)


def _event(key="test:1", **overrides):
    values = {"key": key, "kind": "test", "subject": "[测试] 问字【2026】001号 <script>alert(1)</script>",
              "lines": [("客户意见", "服务 <b>差</b> & 慢")], "link": "/admin/complaint/details/?id=1",
              "link_label": "打开投诉", "intro": "中文正文：请处理。",
              "people": [Person("p1", "王芳", [], email="wang@example.cn", mobile="13800000000", wants_sms=True)]}
    values.update(overrides)
    return Event(**values)


def _write(app, *events):
    with db.atomic():
        write_events(list(events))


def test_an_email_has_a_chinese_subject_escaped_html_and_an_absolute_link(app, smtp_server):
    app.config["ADMIN_BASE_URL"] = "https://kefu.example.cn/"
    with app.app_context():
        clock.freeze(T0)
        _write(app, _event())
        assert deliver_pending()["sent"] == 1
    [(sender, rcpts, message, raw)] = smtp_server.messages
    assert sender == "desk@example.cn" and rcpts == ["wang@example.cn"]
    assert message["subject"] == "[测试] 问字【2026】001号 <script>alert(1)</script>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "中文正文：请处理。" in text and "服务 <b>差</b> & 慢" in text  # plain text as written
    assert "https://kefu.example.cn/admin/complaint/details/?id=1" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "服务 &lt;b&gt;差&lt;/b&gt; &amp; 慢" in html
    assert 'href="https://kefu.example.cn/admin/complaint/details/?id=1"' in html
    with app.app_context():
        row = OutboxMessage.get()
        assert row.status == "sent" and row.attempts == 1 and row.sent_at == T0
        assert message["Message-ID"].startswith(f"<outbox.{row.id}.")


def test_a_second_write_of_the_same_message_is_ignored(app, smtp_server):
    with app.app_context():
        _write(app, _event())
        _write(app, _event())
        deliver_pending()
        deliver_pending()
        assert OutboxMessage.select().count() == 1
    assert len(smtp_server.messages) == 1


def test_wecom_dingtalk_and_sms_get_their_payloads_and_dingtalk_is_signed(app, webhook_server):
    with app.app_context():
        branch = make_branch()
        ChannelEndpoint.create(name="江苏群", kind="wecom", branch=branch, events="overdue",
                               webhook_url=webhook_server.url + "/cgi-bin/webhook/send?key=abc")
        ChannelEndpoint.create(name="总部钉钉", kind="dingtalk", events="overdue", secret="SECxyz",
                               webhook_url=webhook_server.url + "/robot/send?access_token=tok")
        ChannelEndpoint.create(name="别的分公司", kind="wecom", branch=make_branch("新疆分公司", region="新疆"),
                               events="overdue", webhook_url=webhook_server.url + "/other")
        Setting.set_value("notify.sms_gateway_url", webhook_server.url + "/sms")
        Setting.set_value("notify.sms_gateway_body", {"phone": "{mobile}", "msg": "{text}", "id": "{key}", "sign": "x"})
        _write(app, _event(key="overdue:1", kind="overdue", branch_id=branch.id))
        counts = deliver_pending()
        assert counts["sent"] == 3, counts
    [wecom] = webhook_server.at("/cgi-bin/webhook/send")
    assert wecom["query"] == {"key": ["abc"]} and wecom["json"]["msgtype"] == "markdown"
    content = wecom["json"]["markdown"]["content"]
    assert "问字【2026】001号" in content and "[打开投诉](http://" in content
    assert "<script>" not in content.replace("＜script＞", "")  # the customer's brackets cannot make markup
    [ding] = webhook_server.at("/robot/send")
    assert ding["json"]["msgtype"] == "markdown" and ding["json"]["markdown"]["title"].startswith("[测试]")
    timestamp, sign = ding["query"]["timestamp"][0], ding["query"]["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECxyz", f"{timestamp}\nSECxyz".encode(), hashlib.sha256).digest())
    assert sign == expected.decode()  # parse_qs already decoded the url-encoding
    assert ding["query"]["access_token"] == ["tok"]
    [sms] = webhook_server.at("/sms")
    assert sms["json"]["phone"] == "13800000000" and sms["json"]["sign"] == "x"
    assert sms["json"]["msg"].startswith("【客户服务中心】[测试] 问字【2026】001号") and sms["json"]["id"].startswith("overdue:1|sms|")
    assert webhook_server.at("/other") == []  # another branch's group hears nothing


def test_a_gateway_answering_500_is_retried_with_back_off_then_failed_and_nothing_is_lost(app, webhook_server):
    webhook_server.answers["/sms"] = (500, {"error": "down"})
    with app.app_context():
        Setting.set_value("notify.sms_gateway_url", webhook_server.url + "/sms")
        Setting.set_value("notify.max_attempts", 4)
        clock.freeze(T0)
        _write(app, _event(people=[Person("p", "王芳", [], mobile="13800000000", wants_email=False, wants_sms=True)]))
        waits = []
        moment = T0
        for _ in range(4):
            clock.freeze(moment)
            deliver_pending()
            message = OutboxMessage.get()
            if message.status == "pending":
                waits.append((message.next_attempt_at - moment).total_seconds())
                clock.freeze(message.next_attempt_at - timedelta(seconds=1))
                assert deliver_pending()["sent"] == 0  # not before its time
                moment = message.next_attempt_at
        message = OutboxMessage.get()
        assert waits == [60, 120, 240]
        assert message.status == "failed" and message.attempts == 4 and "HTTP 500" in message.last_error
        assert DeliveryAttempt.select().where(DeliveryAttempt.message == message).count() == 4
        assert len(webhook_server.at("/sms")) == 4
        webhook_server.answers["/sms"] = (200, {"ok": True})
        assert resend([message.id]) == 1
        assert deliver_pending()["sent"] == 1
        assert OutboxMessage.get().status == "sent"


def test_a_refused_recipient_fails_at_once_and_an_unreachable_server_is_retried(app, smtp_server):
    smtp_server.reject["gone@example.cn"] = "550 5.1.1 no such user"
    with app.app_context():
        clock.freeze(T0)
        _write(app, _event(key="a", people=[Person("p", "张", [], email="gone@example.cn")]),
               _event(key="b", people=[Person("q", "李", [], email="ok@example.cn")]))
        deliver_pending()
        refused = OutboxMessage.get(OutboxMessage.recipient == "gone@example.cn")
        assert refused.status == "failed" and "550" in refused.last_error and refused.attempts == 1
        assert OutboxMessage.get(OutboxMessage.recipient == "ok@example.cn").status == "sent"
        app.config["MAIL_PORT"] = smtp_server.port + 1 if smtp_server.port < 65535 else 1  # nothing listens
        _write(app, _event(key="c", people=[Person("r", "赵", [], email="later@example.cn")]))
        deliver_pending()
        waiting = OutboxMessage.get(OutboxMessage.recipient == "later@example.cn")
        assert waiting.status == "pending" and "无法连接邮件服务器" in waiting.last_error  # the office's language


def test_a_worker_whose_lease_ran_out_cannot_send_what_another_worker_took(app, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        _write(app, _event())
        [slow] = claim("worker-a", lease=timedelta(seconds=60))
        clock.freeze(T0 + timedelta(seconds=61))
        assert recover_stale() == (1, 0)  # not handed over: certainly not sent, waiting again
        [fast] = claim("worker-b")
        assert hand_over(slow) is False  # worker A finds out before its final "."
        assert hand_over(fast) is True
        clock.freeze(T0 + timedelta(seconds=500))
        assert recover_stale() == (0, 1)  # worker B died after handing over: in doubt
        message = OutboxMessage.get()
        assert message.status == "unknown"
        assert deliver_pending()["sent"] == 0  # never sent again by itself
        assert smtp_server.messages == []
        assert resend([message.id]) == 1 and deliver_pending()["sent"] == 1  # a person decides


def test_owner_alert_respects_preferences_and_configured_channels(app, smtp_server, webhook_server):
    from models.notifications import handed_over
    from models import User
    from .helpers import make_user
    with app.app_context():
        branch = make_branch()
        quiet = make_staff(branch, "E1", name="静", email="quiet@example.cn", mobile="13900000000")
        account = make_user("quiet", "staff", staff=quiet)
        User.update(notify_email=False, notify_sms=True).where(User.id == account.id).execute()
        complaint = make_complaint(make_customer(branch), first_responder=make_staff(branch, "E2", name="甲"))
        handed_over(complaint, quiet.id)  # no SMS gateway configured: in-app only
        assert OutboxMessage.select().count() == 0
        Setting.set_value("notify.sms_gateway_url", webhook_server.url + "/sms")
        handed_over(complaint, quiet.id, None, type("Row", (), {"id": 99})())
        assert [(m.channel, m.recipient) for m in OutboxMessage.select()] == [("sms", "13900000000")]
        deliver_pending()
    assert smtp_server.messages == [] and len(webhook_server.at("/sms")) == 1
