"""One realistic office for the reconciliation suite (tests/test_reconciliation.py), with the
boundary cases the figures must agree on. Office time (Asia/Shanghai), "now" is

    NOW = Wednesday 2026-12-02 10:00:00
    WEEK = 2026-W49 [Mon 11-30 00:00, Mon 12-07 00:00)   DEC = [12-01, 2027-01-01)   NOV = [11-01, 12-01)

Branches: 江苏 (JS) and 新疆 (XJ) with data, 甘宁 (GN) with none, 旧分公司 inactive and empty.
Staff: 王芳 s1 and 李强 s2 (JS), 古丽 s3 (XJ). Customers: JS 张伟, 钱多多 (spend 2500: VIP),
王丽, 李娜 (lost); XJ 周敏, 孙小美. No placeholder customer: an anonymous low score is anonymous feedback.

Complaints (received; what was done; where it stands now):
  K1 JS 张伟   Sun 11-29 23:59:59 (W48, NOV)  ack exactly at its due second (on time)         acknowledged, overdue
  K2 JS 张伟   Mon 11-30 00:00:00 (W49, NOV)  ack 1 s late, result on time                   resolved, overdue
  K3 JS 钱多多 Tue 12-01 00:00:00 (W49, DEC)  every stage on time, closed                     closed
  K4 JS 钱多多 Wed 12-02 09:30    (W49, DEC)  nothing (ack due 10:30)                        received, due soon
  K5 XJ 孙小美 Mon 11-30 12:00    (W49, NOV)  ack 2 h late, result exactly at due            resolved, due at now+2h (not "soon")
  (no K6: the anonymous open-link 2/5 of 12-01 08:00 is anonymous feedback F1 of XJ, not a complaint)
  K7 XJ 周敏   follow-up of her invitation answer 1/5, 12-02 09:00 (W49, DEC); ack due = now  received, due soon, not overdue
  K8 JS 张伟   11-15 10:00 (NOV)  every stage on time, closed
  K9 JS 李娜   Sat 10-31 23:59:59 (OCT)  nothing                                              received, overdue

Responses (counted unless said otherwise):
  R1 张伟  S1 11-29 23:59:59 rating 5, vote s1, comment, about s1 (invitation I1)
  R2 钱多多 S1 11-30 00:00:00 rating 4, vote s1, about s2 (invitation I2)
  R3 王丽  S1 12-01 00:00:00 rating 3, vote s2, about s1
  R4 王丽  S2 12-01 11:00 score 9      R5 王丽 S2 12-01 12:00 score 9
  R6 周敏  S1 12-02 09:00 rating 1 (invitation I3, through the public submit: opens K7)
  R7 anonymous open link of XJ, S1 12-01 08:00 rating 2, vote s3, comment (no phone left: anonymous feedback F1)
  R11 open link of JS, S1 12-01 09:00 rating 5, vote s2, comment: HELD for review (sent too fast): in no figure
  R12 open link of JS, S2 12-01 09:30 score 10: held, then REJECTED as not a customer's answer: in no figure
  R8 张伟  S2 11-15 12:00 score 6      R10 钱多多 S2 12-01 15:00 score 10 (invitation I5, never marked sent)
Invitations: I1 S1 张伟 sent 11-28, answered; I2 S1 钱多多 sent 11-29 20:00, answered; I3 S1 周敏 sent
  12-01 10:00, answered; I4 S1 孙小美 sent 11-30 10:00, not answered; I5 S2 钱多多 never sent, answered;
  I6 S2 张伟 created, never sent, never answered.
Callback: 张伟 12-01 10:00 satisfaction 5. Rewards: s1 cash 500 on 12-01; s3 verbal warning on 12-01.
"""
from datetime import date, datetime, timedelta

from models import (Answer, Callback, Complaint, Invitation, OpenLink, Question, Response, RewardPenalty, Survey,
                    clock)
from models.answers import reject_held, submit_response
from models.complaints import STAGE_BY_CODE

from .helpers import make_branch, make_complaint, make_customer, make_staff

NOW = datetime(2026, 12, 2, 10, 0, 0)


def _complaint(customer, received_at, staff=None, branch=None, stage="received", channel="phone", **done):
    """A complaint received at `received_at` whose stages were done at the given moments
    (done={"acknowledged": datetime, …}); `stage` is where it stands now."""
    previous = clock.freeze(received_at)
    try:
        complaint = make_complaint(customer, received_at=received_at, responsible_staff=staff,
                                   branch=branch or customer.branch, channel=channel)
    finally:
        clock.freeze(previous)
    for code, moment in done.items():
        setattr(complaint, STAGE_BY_CODE[code].done_field, moment)
    complaint.stage = stage
    waiting = {"received": "acknowledged", "acknowledged": "resolved", "resolved": "rectified",
               "rectified": "called_back"}.get(stage)
    complaint.due_at = getattr(complaint, STAGE_BY_CODE[waiting].due_field) if waiting else None
    complaint.save()
    return complaint


def _response(survey, at, customer=None, branch=None, staff=None, invitation=None, **answers):
    response = Response.create(survey=survey, submitted_at=at, customer=customer, staff=staff, invitation=invitation,
                               branch=branch or (customer.branch if customer else None))
    for question, values in answers.items():
        Answer.create(response=response, question=survey.q[question], **values)
    if invitation is not None:
        Invitation.update(answered_at=at).where(Invitation.id == invitation.id).execute()
    return response


def build(office):
    """The office above; returns the names used by the assertions."""
    clock.freeze(NOW)
    js = office["branch"]                       # 江苏分公司, region 江苏
    xj = make_branch("新疆分公司", region="新疆", city="乌鲁木齐")
    gn = make_branch("甘宁分公司", region="甘宁", city="兰州")
    make_branch("旧分公司", region="华东", active=False)
    s1, s2 = office["staff"], office["other"]   # 王芳, 李强
    s3 = make_staff(xj, "E0300", name="古丽")

    zhang = make_customer(js, name="张伟", phone="13800000001")
    qian = make_customer(js, name="钱多多", phone="13800000002", monthly_spend=2500)
    wang = make_customer(js, name="王丽", phone="13800000003")
    li = make_customer(js, name="李娜", phone="13800000004", churned=True, churn_reason="moved")
    zhou = make_customer(xj, name="周敏", phone="13900000001")
    sun = make_customer(xj, name="孙小美", phone="13900000002")

    s1_survey = Survey.create(title="客户满意度调查", kind="csat")
    s1_survey.q = {
        "rating": Question.create(survey=s1_survey, position=1, text="您对服务态度是否满意？", kind="rating",
                                  dimension="attitude"),
        "vote": Question.create(survey=s1_survey, position=2, text="请选出您心目中的服务之星", kind="staff",
                                required=False),
        "text": Question.create(survey=s1_survey, position=3, text="您的意见", kind="text", required=False),
    }
    s2_survey = Survey.create(title="推荐意愿调查", kind="nps")
    s2_survey.q = {"score": Question.create(survey=s2_survey, position=1, text="您向朋友推荐我们的可能性", kind="score")}

    # ------------------------------------------------------------ complaints
    k1 = _complaint(zhang, datetime(2026, 11, 29, 23, 59, 59), s1, stage="acknowledged")
    k1.acknowledged_at = k1.acknowledge_due_at  # exactly at the due second: on time
    k1.save()
    k2 = _complaint(zhang, datetime(2026, 11, 30, 0, 0, 0), s1, stage="resolved")
    k2.acknowledged_at = k2.acknowledge_due_at + timedelta(seconds=1)  # one second late
    k2.resolved_at = datetime(2026, 11, 30, 12, 0)
    k2.save()
    _complaint(qian, datetime(2026, 12, 1, 0, 0), s2, stage="closed", acknowledged=datetime(2026, 12, 1, 0, 30),
               resolved=datetime(2026, 12, 1, 10, 0), rectified=datetime(2026, 12, 1, 20, 0),
               called_back=datetime(2026, 12, 2, 8, 0), closed=datetime(2026, 12, 2, 9, 0))
    _complaint(qian, datetime(2026, 12, 2, 9, 30), s2)
    k5 = _complaint(sun, datetime(2026, 11, 30, 12, 0), s3, stage="resolved",
                    acknowledged=datetime(2026, 11, 30, 15, 0))
    k5.resolved_at = k5.result_due_at  # exactly at the due second
    k5.save()
    _complaint(zhang, datetime(2026, 11, 15, 10, 0), s1, stage="closed", acknowledged=datetime(2026, 11, 15, 10, 30),
               resolved=datetime(2026, 11, 15, 20, 0), rectified=datetime(2026, 11, 16, 10, 0),
               called_back=datetime(2026, 11, 17, 10, 0), closed=datetime(2026, 11, 17, 12, 0))
    _complaint(li, datetime(2026, 10, 31, 23, 59, 59))

    # ------------------------------------------------------------ invitations and responses
    i1 = Invitation.create(survey=s1_survey, customer=zhang, sent_at=datetime(2026, 11, 28, 9, 0),
                           created_at=datetime(2026, 11, 28, 8, 0))
    i2 = Invitation.create(survey=s1_survey, customer=qian, sent_at=datetime(2026, 11, 29, 20, 0),
                           created_at=datetime(2026, 11, 29, 19, 0))
    i3 = Invitation.create(survey=s1_survey, customer=zhou, sent_at=datetime(2026, 12, 1, 10, 0),
                           created_at=datetime(2026, 12, 1, 9, 0))
    Invitation.create(survey=s1_survey, customer=sun, sent_at=datetime(2026, 11, 30, 10, 0),
                      created_at=datetime(2026, 11, 30, 9, 0))
    i5 = Invitation.create(survey=s2_survey, customer=qian, created_at=datetime(2026, 12, 1, 9, 0))  # never sent
    Invitation.create(survey=s2_survey, customer=zhang, created_at=datetime(2026, 12, 1, 9, 0))      # created only

    _response(s1_survey, datetime(2026, 11, 29, 23, 59, 59), zhang, staff=s1, invitation=i1,
              rating={"value": 5}, vote={"staff": s1}, text={"text": "很满意，师傅很专业"})
    _response(s1_survey, datetime(2026, 11, 30, 0, 0, 0), qian, staff=s2, invitation=i2,
              rating={"value": 4}, vote={"staff": s1})
    _response(s1_survey, datetime(2026, 12, 1, 0, 0, 0), wang, staff=s1, rating={"value": 3}, vote={"staff": s2})
    _response(s2_survey, datetime(2026, 12, 1, 11, 0), wang, score={"value": 9})
    _response(s2_survey, datetime(2026, 12, 1, 12, 0), wang, score={"value": 9})
    _response(s2_survey, datetime(2026, 11, 15, 12, 0), zhang, score={"value": 6})
    _response(s2_survey, datetime(2026, 12, 1, 15, 0), qian, invitation=i5, score={"value": 10})

    # through the public submit: the anonymous low score is feedback F1, the invited customer's opens K7
    counter = OpenLink.create(survey=s1_survey, branch=xj, label="乌鲁木齐营业厅")
    clock.freeze(datetime(2026, 12, 1, 8, 0))
    response, errors = submit_response(s1_survey, {s1_survey.q["rating"].id: "2", s1_survey.q["vote"].id: str(s3.id),
                                                   s1_survey.q["text"].id: "等了太久"}, open_link=counter)
    assert not errors and response.followup_complaint_id is None and response.anonymous_feedback.count() == 1
    # held submissions: stored, in no figure (R11 waits for review, R12 was rejected)
    poster = OpenLink.create(survey=s1_survey, branch=js, label="南京营业厅")
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    held, errors = submit_response(s1_survey, {s1_survey.q["rating"].id: "5", s1_survey.q["vote"].id: str(s2.id),
                                               s1_survey.q["text"].id: "很好"}, open_link=poster, hold_reason="too_fast")
    assert not errors and held.status == "held"
    clock.freeze(datetime(2026, 12, 1, 9, 30))
    scored = OpenLink.create(survey=s2_survey, branch=js)
    rejected, errors = submit_response(s2_survey, {s2_survey.q["score"].id: "10"}, open_link=scored,
                                       hold_reason="no_form_token")
    reject_held(rejected, None)
    clock.freeze(datetime(2026, 12, 2, 9, 0))
    response, errors = submit_response(s1_survey, {s1_survey.q["rating"].id: "1"}, invitation=Invitation.get_by_id(i3.id))
    assert not errors and response.followup_complaint_id
    clock.freeze(NOW)

    Callback.create(customer=zhang, kind="scheduled", done_at=datetime(2026, 12, 1, 10, 0), satisfaction=5,
                    outcome="客户表示满意")
    RewardPenalty.create(staff=s1, kind="cash", amount=500, reason="客户书面表扬", decided_on=date(2026, 12, 1))
    RewardPenalty.create(staff=s3, kind="verbal_warning", reason="回复不及时", decided_on=date(2026, 12, 1))

    assert not Complaint.select().where(Complaint.received_at == datetime(2026, 12, 1, 8, 0)).exists()
    return {"js": js, "xj": xj, "gn": gn, "s1": s1, "s2": s2, "s3": s3, "S1": s1_survey, "S2": s2_survey,
            "customers": {c.name: c for c in (zhang, qian, wang, li, zhou, sun)}}
