"""Deadline alerts with the office clock frozen at each point, hand-overs, follow-ups, callbacks due
tomorrow and the weekly / monthly reports: who is told, exactly once, through a real SMTP server."""
import io
import threading
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from models import (Complaint, History, Notification, NotifyEvent, OutboxMessage, Staff, User, clock, db,
                    workflow)
from models.notifications import run_tick
from notify.worker import deliver_pending

from .helpers import make_branch, make_complaint, make_customer, make_staff, make_user

T0 = datetime(2026, 3, 10, 9, 0)  # a Tuesday


@pytest.fixture
def people(app, smtp_server):
    """A branch with an owner, a colleague, a branch manager (account linked to staff), a duty person,
    a service director, and a second branch whose manager must hear nothing."""
    with app.app_context():
        branch = make_branch()
        other_branch = make_branch("新疆分公司", region="新疆")
        owner = make_staff(branch, "E0001", name="王芳", email="wang@example.cn")
        colleague = make_staff(branch, "E0002", name="刘洋", email="liu@example.cn")
        duty = make_staff(branch, "E0003", name="赵敏", email="zhao@example.cn", on_duty=True)
        manager_staff = make_staff(branch, "E0004", name="李强", email="li@example.cn")
        far_staff = make_staff(other_branch, "E0005", name="马超", email="ma@example.cn")
        make_user("owner", "staff", staff=owner)
        make_user("manager", "manager", staff=manager_staff)
        make_user("far-manager", "manager", staff=far_staff)
        director = make_user("director", "director")
        director.email = "boss@example.cn"
        director.save()
        customer = make_customer(branch)
    return {"branch": branch, "owner": owner, "colleague": colleague, "duty": duty, "customer": customer}


def received(sink):
    """[(recipient, subject)] the SMTP server got, in order."""
    return [(rcpt, message["subject"]) for _, rcpts, message, _ in sink.messages for rcpt in rcpts]


def tick_and_deliver():
    first, second = run_tick(), run_tick()
    assert second["events"] == 0  # the same minute twice adds nothing
    deliver_pending()
    return first


BOUNDARIES = [  # (minutes after receipt, what is told, to whom) for a 1 h acknowledge deadline
    (30, "【即将到期】", ["wang@example.cn"]),  # 50 %
    (45, "【即将到期】", ["wang@example.cn"]),  # 15 min left
    (48, "【即将到期】", ["wang@example.cn"]),  # 80 %
    (60 + 1 / 60, "【已超时】", ["wang@example.cn", "li@example.cn"]),  # one second after the due time
    (120, "【已升级】", ["boss@example.cn"]),  # 60 min later (setting)
]


def test_each_deadline_point_is_told_once_to_its_people(app, people, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        complaint = make_complaint(people["customer"], first_responder=people["owner"])
        tick_and_deliver()
        assert smtp_server.messages == []
        for minutes, prefix, recipients in BOUNDARIES:
            boundary = T0 + timedelta(minutes=minutes)
            clock.freeze(boundary - timedelta(seconds=1))
            before = len(smtp_server.messages)
            assert tick_and_deliver()["events"] == 0, f"told before {boundary}"
            assert len(smtp_server.messages) == before
            clock.freeze(boundary)
            assert tick_and_deliver()["events"] == 1
            new = received(smtp_server)[before:]
            assert sorted(r for r, _ in new) == sorted(recipients), (minutes, new)
            assert all(subject.startswith(prefix) and complaint.number in subject for _, subject in new)
        # nothing more for this stage, however often the scheduler runs
        clock.freeze(T0 + timedelta(days=3))
        assert tick_and_deliver()["events"] == 0
        assert len(smtp_server.messages) == 3 + 2 + 1
        # the escalation is on the complaint's record
        assert Complaint.get_by_id(complaint.id).escalation_level == 1
        rows = History.select().where(History.object_id == complaint.id, History.action == "escalate")
        assert [r.new_value for r in rows] == ["1"]
        # every alert is also in the in-app lists: owner 4, manager 1, director 1 (no staff record)
        counts = {u.username: Notification.select().where(Notification.user == u).count() for u in User.select()}
        assert counts == {"owner": 4, "manager": 1, "far-manager": 0, "director": 1}


def test_a_worker_that_was_down_tells_only_what_is_still_relevant(app, people, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        make_complaint(people["customer"], first_responder=people["owner"])
        run_tick()
        clock.freeze(T0 + timedelta(minutes=50))  # 50 %, 15 min left and 80 % all passed while down
        tick_and_deliver()
        assert len(smtp_server.messages) == 1 and "0 小时 10 分钟" in smtp_server.messages[0][2]["subject"]
        clock.freeze(T0 + timedelta(hours=5))  # overdue and escalation both passed
        tick_and_deliver()
        subjects = [s for _, s in received(smtp_server)[1:]]
        assert sorted(s.split("】")[0] for s in subjects) == ["【已升级", "【已超时", "【已超时"]


def test_two_schedulers_and_two_workers_at_once_tell_each_once(app, people, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        complaints = [make_complaint(people["customer"], first_responder=people["owner"]) for _ in range(6)]
        run_tick()
        clock.freeze(T0 + timedelta(hours=3))  # overdue and escalation for all six
    errors = []

    def in_thread(function):
        def run():
            try:
                with app.app_context():
                    function()
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                db.close()
        return threading.Thread(target=run)

    threads = [in_thread(run_tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        assert OutboxMessage.select().count() == 6 * 3  # owner + manager (overdue), director (escalated)
        assert [c.escalation_level for c in Complaint.select().where(Complaint.id.in_([c.id for c in complaints]))] \
            == [1] * 6
    workers = [in_thread(lambda name=f"w{i}": deliver_pending(worker=name)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    ids = [m["Message-ID"] for _, _, m, _ in smtp_server.messages]
    assert len(ids) == 18 and len(set(ids)) == 18
    with app.app_context():
        assert {m.status for m in OutboxMessage.select()} == {"sent"}


def test_a_completed_stage_moves_the_alerts_to_the_next_stage(app, people, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        complaint = make_complaint(people["customer"], first_responder=people["owner"])
        run_tick()
        clock.freeze(T0 + timedelta(minutes=20))
        workflow.complete_stage(complaint, "acknowledged", None, apology_note="已致歉", director_notified=True)
        clock.freeze(T0 + timedelta(minutes=50))
        assert tick_and_deliver()["events"] == 0  # the acknowledge stage is done: no reminder about it
        clock.freeze(T0 + timedelta(hours=12))  # half of the 24 h result time
        tick_and_deliver()
        [(rcpt, subject)] = received(smtp_server)
        assert rcpt == "wang@example.cn" and subject.startswith("【即将到期】")
        assert "2026-03-11 09:00" in subject  # the result deadline


def test_a_hand_over_tells_the_new_owner_in_the_same_transaction(app, people, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        complaint = make_complaint(people["customer"], first_responder=people["owner"])
        manager = User.get(User.username == "manager")
        with pytest.raises(RuntimeError):
            with db.atomic():
                workflow.assign([complaint], people["colleague"], manager)
                raise RuntimeError("the hand-over is rolled back")
        assert OutboxMessage.select().count() == 0 and NotifyEvent.select().count() == 0
        complaint = Complaint.get_by_id(complaint.id)
        workflow.assign([complaint], people["colleague"], manager)
        owner_user = User.get(User.username == "owner")
        workflow.assign([Complaint.get_by_id(complaint.id)], people["owner"], owner_user)  # took it back: no alert
        deliver_pending()
    [(rcpt, subject)] = received(smtp_server)
    assert rcpt == "liu@example.cn" and subject == f"【转交给您】{complaint.number} {complaint.title}"
    body = smtp_server.messages[0][2].get_body(("plain",)).get_content()
    assert f"/admin/complaint/details/?id={complaint.id}" in body and "manager" in body


def test_an_inactive_owners_alerts_go_to_the_duty_person(app, people, smtp_server):
    with app.app_context():
        clock.freeze(T0)
        make_complaint(people["customer"], first_responder=people["owner"])
        run_tick()
        Staff.update(active=False).where(Staff.id == people["owner"].id).execute()
        clock.freeze(T0 + timedelta(minutes=30))
        tick_and_deliver()
    assert [r for r, _ in received(smtp_server)] == ["zhao@example.cn"]


def test_a_low_score_follow_up_tells_the_duty_person_and_the_owner(app, people, smtp_server):
    from models import Customer, Invitation, Question, Survey
    from models.answers import submit_response
    with app.app_context():
        Customer.update(account_manager=people["colleague"]).where(Customer.id == people["customer"].id).execute()
        survey = Survey.create(title="满意度调查", kind="csat")
        question = Question.create(survey=survey, position=1, text="服务态度如何？", kind="rating")
        invitation = Invitation.create(survey=survey, customer=people["customer"].id)
        response, errors = submit_response(survey, {question.id: "1"}, invitation=invitation)
        assert not errors and response.followup_complaint is not None
        deliver_pending()
    assert sorted(r for r, _ in received(smtp_server)) == ["liu@example.cn", "zhao@example.cn"]
    assert all(s.startswith("【低分跟进】") for _, s in received(smtp_server))


def test_callbacks_due_tomorrow_reach_the_account_manager_once(app, people, smtp_server):
    from models import Customer
    with app.app_context():
        # first deal on 11 Feb: the first monthly callback is due 11 March, tomorrow
        Customer.update(account_manager=people["colleague"], first_deal_date=date(2026, 2, 11)).where(
            Customer.id == people["customer"].id).execute()
        clock.freeze(datetime(2026, 3, 10, 8, 59))
        tick_and_deliver()
        assert smtp_server.messages == []
        clock.freeze(datetime(2026, 3, 10, 9, 0))
        tick_and_deliver()
        clock.freeze(datetime(2026, 3, 10, 15, 0))
        tick_and_deliver()
    [(rcpt, subject)] = received(smtp_server)
    assert rcpt == "liu@example.cn" and "2026-03-11" in subject and subject.startswith("【明日回访】")
    assert "/admin/callbacks-due/?days=1" in smtp_server.messages[0][2].get_body(("plain",)).get_content()


def _workbook_of(message):
    [attachment] = [part for part in message.iter_attachments() if part.get_filename()]
    workbook = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
    return attachment.get_filename(), workbook.sheetnames


def test_the_weekly_report_goes_to_managers_and_directors_on_friday_at_five(app, people, smtp_server):
    with app.app_context():
        make_complaint(people["customer"], first_responder=people["owner"])
        clock.freeze(datetime(2026, 3, 13, 16, 59))  # Friday
        tick_and_deliver()
        reports = [s for _, s in received(smtp_server) if "周报" in s]
        assert reports == []
        clock.freeze(datetime(2026, 3, 13, 17, 0))
        tick_and_deliver()
        clock.freeze(datetime(2026, 3, 14, 10, 0))
        tick_and_deliver()
    weekly = [(r, m) for _, rcpts, m, _ in smtp_server.messages for r in rcpts if "【周报】" in m["subject"]]
    assert sorted(r for r, _ in weekly) == ["boss@example.cn", "li@example.cn", "ma@example.cn"]
    name, sheets = _workbook_of(weekly[0][1])
    assert name.endswith(".xlsx") and "2026-03-09" in name and len(sheets) >= 5
    # each reader's workbook covers the branches they see (models.scope): the director the whole
    # office, a branch manager their own branch (the ranking shows the others' ranks and scores)
    by_reader = {r: _branches_counted(m) for r, m in weekly}
    assert by_reader == {"boss@example.cn": {"江苏分公司", "新疆分公司"}, "li@example.cn": {"江苏分公司"},
                         "ma@example.cn": {"新疆分公司"}}


def _branches_counted(message):
    """The branches of the "Complaints by stage" sheet of the report attached to `message`."""
    [attachment] = [part for part in message.iter_attachments() if part.get_filename()]
    workbook = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
    sheet = next(ws for ws in workbook.worksheets if ws.title == "各阶段投诉")
    return {row[0] for row in sheet.iter_rows(values_only=True) if row and isinstance(row[0], str)
            and row[0].endswith("分公司") and row[0] != "分公司"}  # not the header


def test_the_monthly_report_covers_the_month_before_on_the_first(app, people, smtp_server):
    with app.app_context():
        clock.freeze(datetime(2026, 4, 1, 7, 59))
        tick_and_deliver()
        clock.freeze(datetime(2026, 4, 1, 8, 0))
        tick_and_deliver()
        tick_and_deliver()
    monthly = [m for _, _, m, _ in smtp_server.messages if "【月报】" in m["subject"]]
    assert len(monthly) == 3 and all("2026-03" in m["subject"] for m in monthly)
    name, sheets = _workbook_of(monthly[0])
    assert "2026-03" in name and sheets
