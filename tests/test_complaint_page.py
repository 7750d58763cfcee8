"""The complaint page shows everything recorded, stage by stage, readable and printable; the
stage buttons say what the person does; the worksheet's section 3 has two parts, not two 3s;
the verifier is 验证人 everywhere."""
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from models import Complaint, clock
from models.workflow import complete_stage

from .helpers import make_complaint, make_customer

T0 = datetime(2026, 5, 4, 10, 0)
VERBS = {"acknowledged": "登记致歉回复", "resolved": "登记处理结果", "rectified": "填写整改工作单",
         "called_back": "登记回访", "closed": "确认结案"}
DELIVERABLES = {
    "acknowledged": {"apology_note": "已电话向客户致歉", "director_notified": True},
    "resolved": {"result_text": "已重新上门维修，客户认可"},
    "rectified": {"problem_description": "安装不规范导致漏水", "cause_analysis": "安装工未按规范打压测试",
                  "immediate_measures": "当天更换阀门并赔偿地板", "accountability": "安装班组长扣绩效",
                  "long_term_measures": "安装后一律打压测试并拍照留档", "effect_confirmation": "客户确认不再漏水",
                  "promised_date": date(2026, 5, 20)},
    "called_back": {"satisfaction": 4, "outcome": "客户表示满意", "channel": "visit"},
    "closed": {"closing_note": "发出单位确认整改有效"},
}


def _complaint(office):
    clock.freeze(T0)
    customer = make_customer(office["branch"], name="钱多多", phone="0931-8123456 转 12", contact_person="钱经理")
    return make_complaint(customer, title="热水器漏水：安装不规范", first_responder=office["staff"], severity="high",
                          channel="visit", category="quality", compensation="compensation",
                          compensation_amount=Decimal("300"), responsible_staff=office["other"])


def test_the_stage_button_says_what_the_person_does(app, office, login_as):
    complaint = _complaint(office)
    staff = login_as("staff")
    for minutes, (stage, verb) in enumerate(VERBS.items(), start=1):
        page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
        button = re.search(r'<button[^>]*id="complete-stage"[^>]*>([^<]*)</button>', page).group(1)
        assert button == verb
        clock.freeze(T0 + timedelta(minutes=10 * minutes))
        extra = {"verifier": office["other"].id} if stage == "closed" else {}
        complete_stage(Complaint.get_by_id(complaint.id), stage, office["users"]["staff"],
                       **DELIVERABLES[stage], **extra)
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert 'id="complete-stage"' not in page and "办理完成" not in page


def test_everything_recorded_is_shown_stage_by_stage(app, office, login_as):
    complaint = _complaint(office)
    for minutes, stage in enumerate(DELIVERABLES, start=1):
        clock.freeze(T0 + timedelta(minutes=10 * minutes))
        extra = {"verifier": office["other"].id} if stage == "closed" else {}
        complete_stage(Complaint.get_by_id(complaint.id), stage, office["users"]["staff"],
                       **DELIVERABLES[stage], **extra)
    page = login_as("staff").get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    facts = page[page.index('id="complaint-facts"'):page.index('id="stage-progress"')]
    # closed: its former owner no longer owns the customer, so the phone is masked (models.privacy) ...
    for shown in ("093****转 12", "钱经理", "来访", "产品质量", "补偿 · 300.00 元", "王芳 (E0001)",
                  "李强 (E0002)"):
        assert shown in facts, shown
    assert "8123456" not in facts
    # ... and shown in full to the managers of the customer's branch
    managers_page = login_as("manager").get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "tel:0931-8123456 转 12" in managers_page
    assert "严重" in page[page.index('id="severity"'):][:200]
    records = page[page.index('id="stage-records"'):page.index('id="timeline"')]
    order = [records.index(f'data-stage="{stage}"') for stage in
             ("received", "acknowledged", "resolved", "rectified", "called_back", "closed")]
    assert order == sorted(order)  # in the order of the stages
    for values in DELIVERABLES.values():
        for name, value in values.items():
            if isinstance(value, str) and name != "channel":
                assert value in records, value
    assert "是" in records[records.index("已上报服务总监"):][:200]  # the director was told
    assert "4 - 满意" in records and "来访" in records[records.index('data-stage="called_back"'):]
    assert "2026-05-20" in records
    verifier = records[records.index('id="verifier-name"'):][:200]
    assert "李强 (E0002)" in verifier
    # the worksheet: 3 is the immediate measures, with the accountability as its second part
    worksheet = records[records.index('id="worksheet-record"'):]
    headings = re.findall(r"<dt>(\d)\. ([^<]*)</dt>", worksheet)
    assert headings == [("1", "异常问题描述"), ("2", "原因分析"), ("3", "应急处理措施"), ("4", "长期改善措施"),
                        ("5", "执行效果确认")]
    assert "（一）处理措施" in worksheet and "（二）责任追究" in worksheet
    assert "@media print" in page and 'id="print-page"' in page


def test_the_worksheet_form_numbers_its_sections_once(app, office, login_as):
    complaint = _complaint(office)
    for stage in ("acknowledged", "resolved"):
        complete_stage(Complaint.get_by_id(complaint.id), stage, None, **DELIVERABLES[stage])
    page = login_as("staff").get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    form = page[page.index('id="next-stage"'):]
    legends = re.findall(r'<legend[^>]*>([^<]*)</legend>', form)
    assert legends == ["1. 异常问题描述", "2. 原因分析", "3. 应急处理措施", "4. 长期改善措施", "5. 执行效果确认"]
    assert "3. 责任追究" not in page


def test_the_verifier_is_called_the_same_everywhere(app, office, login_as):
    complaint = _complaint(office)
    for stage in ("acknowledged", "resolved", "rectified", "called_back"):
        complete_stage(Complaint.get_by_id(complaint.id), stage, None, **DELIVERABLES[stage])
    staff = login_as("staff")
    page = staff.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    assert "验证人" in page and "核实人" not in page
    response = staff.post(f"/admin/complaint/stage/?id={complaint.id}",
                          {"stage": "closed", "closing_note": "确认有效", "verifier": ""})
    refused = response.get_data(as_text=True)
    assert response.status_code == 422 and "验证人" in refused and "核实人" not in refused
    assert 'id="closing_note"' in refused and "确认有效</textarea>" in refused
