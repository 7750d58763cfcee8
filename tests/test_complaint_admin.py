"""Complaints in the browser: list with deadlines and filters, actions, the complaint page with its
stage forms and timeline, hand-over on edit, the printable worksheet, manager-only delete."""
import re
from datetime import datetime, timedelta

import pytest

from admin.complaints import DueSoonFilter, OverdueFilter
from models import Callback, Complaint, History, Rectification, SlaPolicy, Staff, clock

from .helpers import make_branch, make_complaint, make_customer, make_staff

T0 = datetime(2026, 4, 1, 9, 0, 0)


def _view(app, endpoint="complaint"):
    return next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint)


def _filter_arg(app, filter_class=None, name=None, operation="equals"):
    for index, flt in enumerate(_view(app)._filters):
        if filter_class and isinstance(flt, filter_class):
            return f"flt0_{index}"
        if name and str(flt.name) == name and str(flt.operation()) == operation:
            return f"flt0_{index}"
    raise AssertionError("filter not found")


def _numbers(page):
    return set(re.findall(r"问字【\d{4}】\d+号", page))


@pytest.fixture
def three(app, office):
    """Three complaints received at T0 - 2 h, T0 - 30 min and T0 - 10 min; now is T0."""
    customer = make_customer(office["branch"])
    result = {}
    for key, minutes in (("late", 120), ("soon", 30), ("fresh", -50)):
        clock.freeze(T0 - timedelta(minutes=minutes) if minutes > 0 else T0 - timedelta(minutes=10))
        result[key] = make_complaint(customer, title=f"{key}投诉：测试", responsible_staff=office["staff"])
    clock.freeze(T0)
    return result


def test_list_shows_stage_next_deadline_and_highlights(app, en, three):
    page = en("staff").get("/admin/complaint/").get_data(as_text=True)
    assert _numbers(page) == {c.number for c in three.values()}
    assert "Next stage, deadline / time left" in page
    assert page.count("<small class=\"text-muted\">Acknowledged</small>") == 3
    assert re.search(r'class="overdue">04-01 08:00 \(overdue 1 h 0 min\)', page)
    assert re.search(r'class="due-soon">04-01 09:30 \(0 h 30 min left\)', page)
    assert re.search(r'class="due-soon">04-01 09:50 \(0 h 50 min left\)', page)


def test_overdue_and_due_soon_filters(app, en, three):
    staff = en("staff")
    overdue = staff.get(f"/admin/complaint/?{_filter_arg(app, OverdueFilter)}=1").get_data(as_text=True)
    assert _numbers(overdue) == {three["late"].number}
    clock.freeze(T0 + timedelta(minutes=40))  # soon is now 10 min late, fresh due in 10 min
    overdue = staff.get(f"/admin/complaint/?{_filter_arg(app, OverdueFilter)}=1").get_data(as_text=True)
    assert _numbers(overdue) == {three["late"].number, three["soon"].number}
    soon = staff.get(f"/admin/complaint/?{_filter_arg(app, DueSoonFilter)}=1").get_data(as_text=True)
    assert _numbers(soon) == {three["fresh"].number}


def test_stage_branch_and_staff_filters(app, en, office, three):
    other_branch = make_branch("新疆分公司", region="新疆")
    far_staff = make_staff(other_branch, "E0099", name="赵敏")
    far = make_complaint(make_customer(other_branch), responsible_staff=far_staff)
    Complaint.update(stage="acknowledged").where(Complaint.id == three["late"].id).execute()
    staff = en("admin")  # every branch in scope (a staff member's list has only their branch)
    by_branch = staff.get(f"/admin/complaint/?{_filter_arg(app, name='Branch')}={other_branch.id}").get_data(as_text=True)
    assert _numbers(by_branch) == {far.number}
    by_staff = staff.get(f"/admin/complaint/?{_filter_arg(app, name='Responsible staff')}={office['staff'].id}")
    assert _numbers(by_staff.get_data(as_text=True)) == {c.number for c in three.values()}
    by_stage = staff.get(f"/admin/complaint/?{_filter_arg(app, name='Stage')}=acknowledged").get_data(as_text=True)
    assert _numbers(by_stage) == {three["late"].number}


def test_created_in_the_browser_with_number_deadlines_and_first_responder(app, en, office):
    customer = make_customer(office["branch"])
    clock.freeze(T0)
    response = en("staff").post("/admin/complaint/new/", {
        "customer": customer.id, "branch": office["branch"].id, "channel": "phone", "category": "attitude",
        "severity": "normal", "title": "前台接待服务态度：长时间无人接待", "compensation": "none"})
    assert response.status_code == 302, response.get_data(as_text=True)
    complaint = Complaint.get()
    assert complaint.number == "问字【2026】001号"
    assert complaint.first_responder_id == office["staff"].id
    assert complaint.created_by.username == "staff"
    assert (complaint.stage, complaint.due_at) == ("received", T0 + timedelta(hours=1))
    created = History.get(History.object_type == "Complaint", History.object_id == complaint.id)
    assert (created.action, created.username) == ("create", "staff")


def test_the_form_offers_no_field_the_product_keeps_itself(app, en, office):
    """Deadlines, the stage, the owner and the alert scheduler's next check are kept by the
    workflow and the scheduler, never typed; a forged value is not taken."""
    complaint = make_complaint(make_customer(office["branch"]))
    staff = en("staff")
    for url in ("/admin/complaint/new/", f"/admin/complaint/edit/?id={complaint.id}"):
        form = staff.get(url).get_data(as_text=True)
        assert 'name="title"' in form
        for kept in ("alert_at", "due_at", "acknowledge_due_at", "stage", "assignee", "sla_hours_kind", "number"):
            assert f'name="{kept}"' not in form, (url, kept)
    alert_at = Complaint.get_by_id(complaint.id).alert_at
    response = staff.post(f"/admin/complaint/edit/?id={complaint.id}", {
        "customer": complaint.customer_id, "branch": office["branch"].id, "channel": "phone", "category": "attitude",
        "severity": "normal", "title": complaint.title, "compensation": "none", "alert_at": "2099-01-01 00:00:00"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert Complaint.get_by_id(complaint.id).alert_at == alert_at


def test_the_received_record_says_who_or_what_opened_the_complaint(app, en, office):
    by_phone = make_complaint(make_customer(office["branch"]), channel="phone", first_responder=office["staff"])
    by_survey = make_complaint(make_customer(office["branch"]), channel="survey", assignee=office["staff"])
    staff = en("staff")

    def received(complaint):
        page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
        section = re.search(r'data-stage="received">(.*?)</section>', page, re.S).group(1)
        return " ".join(re.sub(r"<[^>]+>", " ", section).split())

    assert f"Received by {office['staff']} through Phone." in received(by_phone)
    assert "Opened automatically by a low survey score." in received(by_survey)
    assert "—" not in received(by_survey)


def _post_stage(client, complaint, stage, **fields):
    return client.post(f"/admin/complaint/stage/?id={complaint.id}", {"stage": stage, **fields})


def test_receipt_to_closure_in_the_browser(app, en, office):
    clock.freeze(T0)
    complaint = make_complaint(make_customer(office["branch"]), responsible_staff=office["staff"])
    staff = en("staff")
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "Next stage: Acknowledged" in page and 'name="apology_note"' in page
    steps = [
        ("acknowledged", {"apology_note": "已电话致歉。", "director_notified": "y"}),
        ("resolved", {"result_text": "已重新上门处理。"}),
        ("rectified", {"problem_description": "态度冷淡", "cause_analysis": "未按规范", "immediate_measures": "致歉",
                       "accountability": "扣绩效", "long_term_measures": "培训", "effect_confirmation": "客户满意",
                       "promised_date": "2026-04-15"}),
        ("called_back", {"channel": "phone", "satisfaction": "5", "outcome": "客户满意"}),
        ("closed", {"closing_note": "确认有效", "verifier": str(office["other"].id)}),
    ]
    for minutes, (stage, fields) in enumerate(steps, start=1):
        clock.freeze(T0 + timedelta(minutes=10 * minutes))
        response = _post_stage(staff, complaint, stage, **fields)
        assert response.status_code == 302, response.get_data(as_text=True)
        assert Complaint.get_by_id(complaint.id).stage == stage
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "Next stage:" not in page
    timeline = page[page.index('id="timeline"'):]
    assert timeline.count("Stage completed") == 5
    assert "已重新上门处理。" in timeline
    assert Rectification.get().verifier_id == office["other"].id
    assert Callback.get().satisfaction == 5
    assert "Print rectification worksheet" in page


def test_refused_stage_keeps_what_was_typed(app, en, office):
    complaint = make_complaint(make_customer(office["branch"]))
    staff = en("staff")
    response = _post_stage(staff, complaint, "acknowledged", apology_note="已电话致歉，客户情绪平稳")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Confirm that the incident was reported to the service director." in page
    assert "已电话致歉，客户情绪平稳</textarea>" in page
    assert Complaint.get_by_id(complaint.id).stage == "received"
    # a worksheet with a missing section: everything typed is shown again
    Complaint.update(stage="resolved").where(Complaint.id == complaint.id).execute()
    response = _post_stage(staff, complaint, "rectified", problem_description="问题<描述>", cause_analysis="原因",
                           immediate_measures="", accountability="问责", long_term_measures="长期",
                           effect_confirmation="效果", promised_date="2026-04-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "3. Immediate measures" in page and "fill in" in page
    assert "问题&lt;描述&gt;</textarea>" in page and "长期</textarea>" in page
    assert Rectification.select().count() == 0
    response = _post_stage(staff, complaint, "rectified", problem_description="问题", promised_date="30/04/2026")
    assert response.status_code == 422 and "YYYY-MM-DD" in response.get_data(as_text=True)
    response = _post_stage(staff, complaint, "closed", closing_note="x", verifier="1")
    assert response.status_code == 422
    assert "the next stage is Rectification filed" in response.get_data(as_text=True)


def test_breach_is_shown_on_the_page(app, en, office):
    clock.freeze(T0)
    complaint = make_complaint(make_customer(office["branch"]))
    clock.freeze(T0 + timedelta(hours=1, seconds=1))
    staff = en("staff")
    response = _post_stage(staff, complaint, "acknowledged", apology_note="致歉", director_notified="y")
    assert response.status_code == 302
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "late (SLA breach)" in page
    assert 'class="action-breach"' in page
    # the history tells what people did: the deadline moved, not the scheduler's bookkeeping
    fields = {h.field for h in History.select().where(History.object_type == "Complaint",
                                                      History.object_id == complaint.id)}
    assert "due_at" in fields and "alert_at" not in fields


def test_assign_action_hands_over_with_history(app, en, office, three):
    manager = en("manager")
    ids = [three["late"].id, three["soon"].id]
    fresh_owner = three["fresh"].assignee_id
    response = manager.post("/admin/complaint/action/", {"action": "assign", "rowid": ids})
    assert response.status_code == 302 and "/admin/complaint/assign/" in response.headers["Location"]
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert three["late"].number in page and three["soon"].number in page
    response = manager.post("/admin/complaint/assign/", {"ids": ",".join(map(str, ids)),
                                                         "staff": office["other"].id})
    assert response.status_code == 302
    assert {c.assignee_id for c in Complaint.select().where(Complaint.id.in_(ids))} == {office["other"].id}
    assert Complaint.get_by_id(three["fresh"].id).assignee_id == fresh_owner
    rows = History.select().where(History.action == "handover", History.field == "assignee")
    assert sorted(r.object_id for r in rows) == sorted(ids)
    assert all("王芳" in r.old_value and "李强" in r.new_value and r.username == "manager" for r in rows)
    # handing over again records old → new
    manager.post("/admin/complaint/assign/", {"ids": str(ids[0]), "staff": office["staff"].id})
    last = History.select().where(History.action == "handover").order_by(History.id.desc()).get()
    assert "李强" in last.old_value and "王芳" in last.new_value


def test_assign_without_a_staff_member_is_refused(app, en, three):
    manager = en("manager")
    owner = three["late"].assignee_id
    response = manager.post("/admin/complaint/assign/", {"ids": f"{three['late'].id},{three['soon'].id}",
                                                         "staff": ""})
    assert response.status_code == 200
    assert "Choose the staff member" in response.get_data(as_text=True)
    response = manager.post("/admin/complaint/assign/", {"ids": str(three["late"].id), "staff": ""})
    assert response.status_code == 302  # from the complaint page: back to it, with the message
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose the staff member" in page
    assert Complaint.get_by_id(three["late"].id).assignee_id == owner


def test_escalate_action_writes_history(app, en, three):
    staff = en("staff")
    response = staff.post("/admin/complaint/action/", {"action": "escalate", "rowid": [three["late"].id]})
    assert response.status_code == 302
    assert Complaint.get_by_id(three["late"].id).escalation_level == 1
    row = History.get(History.action == "escalate")
    assert (row.object_id, row.old_value, row.new_value, row.username) == (three["late"].id, "0", "1", "staff")
    staff.post(f"/admin/complaint/escalate/?id={three['late'].id}", {"reason": "客户第三次来电"})
    assert Complaint.get_by_id(three["late"].id).escalation_level == 2
    assert History.get(History.action == "note").new_value == "客户第三次来电"


def test_editing_owners_is_recorded_as_handover(app, en, office, three):
    complaint = three["late"]
    new_branch = make_branch("甘宁分公司", region="甘宁")
    staff = en("staff")
    edit = staff.get(f"/admin/complaint/edit/?id={complaint.id}").get_data(as_text=True)
    assert 'name="apology_note"' not in edit and 'name="stage"' not in edit and 'name="due_at"' not in edit
    response = staff.post(f"/admin/complaint/edit/?id={complaint.id}", {
        "customer": complaint.customer_id, "branch": office["branch"].id, "channel": "phone", "category": "other",
        "severity": "high", "title": complaint.title, "compensation": "none",
        "first_responder": office["other"].id, "responsible_staff": office["other"].id,
        "responsible_branch": new_branch.id})
    assert response.status_code == 302, response.get_data(as_text=True)
    rows = {r.field: r for r in History.select().where(History.object_id == complaint.id, History.action == "handover")}
    assert set(rows) == {"first_responder", "responsible_staff", "responsible_branch"}
    assert "王芳" in rows["responsible_staff"].old_value and "李强" in rows["responsible_staff"].new_value
    assert rows["responsible_branch"].new_value.startswith("甘宁分公司")
    severity = History.get(History.object_id == complaint.id, History.field == "severity")
    assert (severity.action, severity.old_value, severity.new_value) == ("update", "normal", "high")


def test_worksheet_prints_with_its_sections_escaped(app, en, office):
    clock.freeze(T0)
    complaint = make_complaint(make_customer(office["branch"], name="<b>客户</b>"))
    worksheet = Rectification.create(
        complaint=complaint, problem_description="<script>x()</script>问题", cause_analysis="原因分析内容",
        immediate_measures="应急措施内容", accountability="问责内容", long_term_measures="长期措施内容",
        effect_confirmation="效果确认内容", promised_date=T0.date())
    page = en("staff").get(f"/admin/rectification/print/?id={worksheet.id}").get_data(as_text=True)
    for text in (complaint.number, "原因分析内容", "应急措施内容", "问责内容", "长期措施内容", "效果确认内容",
                 "1. Problem description", "5. Effect confirmation", "@media print"):
        assert text in page
    assert "<script>x()</script>" not in page and "&lt;script&gt;" in page
    assert "<b>客户</b>" not in page
    assert en("staff").get("/admin/rectification/print/?id=999").status_code == 404


def test_only_managers_delete_and_history_stays(app, en, office, three):
    complaint = three["late"]
    staff = en("staff")
    assert staff.post("/admin/complaint/delete/", {"id": complaint.id}).status_code == 403
    staff.post("/admin/complaint/action/", {"action": "delete", "rowid": [complaint.id]})
    assert Complaint.get_or_none(Complaint.id == complaint.id) is not None
    en("staff").post("/admin/complaint/action/", {"action": "escalate", "rowid": [complaint.id]})
    before = History.select().where(History.object_id == complaint.id).count()
    response = en("manager").post("/admin/complaint/delete/", {"id": complaint.id})
    assert response.status_code == 302
    assert Complaint.get_or_none(Complaint.id == complaint.id) is None
    rows = list(History.select().where(History.object_type == "Complaint", History.object_id == complaint.id))
    assert len(rows) == before + 1
    assert rows[-1].action == "delete" and rows[-1].username == "manager"
    assert complaint.number in rows[-1].object_label


def test_list_query_count_does_not_grow_with_rows(app, en, office):
    from .helpers import count_queries
    customer = make_customer(office["branch"])
    staff = en("staff")

    def queries_for_list():
        with count_queries() as counter:
            assert staff.get("/admin/complaint/").status_code == 200
        return counter.count

    for _ in range(2):
        make_complaint(customer, responsible_staff=office["staff"], assignee=office["other"])
    few = queries_for_list()
    for _ in range(8):
        make_complaint(customer, responsible_staff=office["staff"], assignee=office["other"])
    assert queries_for_list() == few
    assert Staff.select().count() == 2


def test_admin_edits_sla_policy_and_new_complaints_follow_it(app, en, office):
    admin = en("admin")
    form = {"severity": "critical", "customer_grade": "__None", "acknowledge_hours": "0.5", "result_hours": "12",
            "rectify_hours": "24", "callback_hours": "48"}
    page = admin.get("/admin/slapolicy/new/").get_data(as_text=True)
    blank = re.search(r'<select[^>]*name="customer_grade".*?<option[^>]*value="([^"]*)"', page, re.S).group(1)
    response = admin.post("/admin/slapolicy/new/", {**form, "customer_grade": blank})
    assert response.status_code == 302, response.get_data(as_text=True)
    policy = SlaPolicy.get()
    assert (policy.severity, policy.customer_grade) == ("critical", None)
    clock.freeze(T0)
    complaint = make_complaint(make_customer(office["branch"]), severity="critical")
    assert complaint.due_at == T0 + timedelta(minutes=30)
    assert complaint.callback_due_at == T0 + timedelta(hours=48)
    # out of stage order, or a second row for the same severity × grade: refused with a message
    response = admin.post("/admin/slapolicy/new/", {**form, "customer_grade": blank, "severity": "high",
                                                    "result_hours": "60"})
    assert "Deadlines must follow the stages" in response.get_data(as_text=True)
    response = admin.post("/admin/slapolicy/new/", {**form, "customer_grade": blank})
    assert "There is already a policy for this severity and customer grade" in response.get_data(as_text=True)
    assert SlaPolicy.select().count() == 1
    assert en("manager").get("/admin/slapolicy/").status_code == 403


def test_sorting_by_number_follows_year_and_sequence(app, en, office):
    customer = make_customer(office["branch"])
    for year, seq in ((2026, 1000), (2025, 5000), (2026, 99), (2026, 101)):
        complaint = make_complaint(customer)
        Complaint.update(year=year, seq=seq, number=f"问字【{year}】{seq:03d}号").where(
            Complaint.id == complaint.id).execute()
    column = [name for name, _label in _view(app)._list_columns].index("number")
    expected = ["问字【2025】5000号", "问字【2026】099号", "问字【2026】101号", "问字【2026】1000号"]
    staff = en("staff")
    ascending = staff.get(f"/admin/complaint/?sort={column}").get_data(as_text=True)
    assert re.findall(r"问字【\d{4}】\d+号", ascending) == expected
    descending = staff.get(f"/admin/complaint/?sort={column}&desc=1").get_data(as_text=True)
    assert re.findall(r"问字【\d{4}】\d+号", descending) == expected[::-1]
