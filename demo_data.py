"""Realistic Chinese demo data for `flask seed-demo`: branches, staff, customers,
complaints in every stage (some overdue), a CSAT and an NPS survey with responses, awards.
Choice values come from the office's lists (models.choices): only active values are used."""
import random
from datetime import date, datetime, time, timedelta

from models import (Answer, Award, Branch, Callback, Choice, Complaint, Customer, Invitation, OpenLink,
                    Question, Response, RewardPenalty, Staff, Survey, User, db)
from models import clock, search, workflow
from models.audit import record
from models.clock import now
from models.complaints import (CALLBACK_CHANNEL_LIST, CATEGORY_LIST, CHANNEL_LIST, DEFAULT_SLA_HOURS, SEVERITY_LIST,
                               STAGE_TABLE)
from models.customers import (CHURN_REASON_LIST, CHURN_SHARES, CUSTOMER_KIND_LIST, DEAL_STATE_LIST, GRADE_LIST,
                              LIFECYCLE_LIST)

DEMO_LOGINS = [
    ("admin", "admin-demo-2026", "admin"),
    ("manager", "manager-demo-2026", "manager"),
    ("director", "director-demo-2026", "director"),
    ("staff", "staff-demo-2026", "staff"),
]

BRANCHES = [("甘宁分公司", "甘宁", "兰州"), ("江苏分公司", "江苏", "南京"), ("新疆分公司", "新疆", "乌鲁木齐"),
            ("北京分公司", "华北", "北京"), ("上海分公司", "华东", "上海")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "雪梅", "国庆", "文博", "子涵"]
POSITIONS = ["客服专员", "品质管理员", "客服主管", "维修工程师", "客户经理", "分公司经理"]
ORGS = ["市人民医院", "区教育局", "阳光花园业主委员会", "华润置地", "市税务局", "第一中学", "恒信科技有限公司",
        "金桥物业", "市图书馆", "新华书店", "城建集团", "绿地小区", "电力公司营业厅", "农业银行支行"]
KINDS = ["government", "institution", "owner", "enterprise", "household"]
TITLES = [
    ("维修人员", "服务态度", "上门维修时态度冷淡、未作解释", "attitude"),
    ("客服热线", "响应延误", "报修电话两天无人回复", "system"),
    ("账单", "计费差错", "本月账单重复收费", "staff_error"),
    ("保洁服务", "质量问题", "公共区域清洁不到位", "quality"),
    ("前台接待", "服务态度", "来访时被长时间晾在一边", "attitude"),
    ("合同条款", "理解偏差", "对续费规则理解不一致", "misunderstanding"),
    ("安装工程", "质量问题", "设备安装后三天内出现故障", "quality"),
    ("网站预约", "系统故障", "在线预约提交后无记录", "system"),
    ("送货服务", "人为失误", "送错地址导致延误", "staff_error"),
    ("停车管理", "其他", "车位被占用无人处理", "other"),
]
RESULTS = ["已向客户当面致歉并重新上门处理，客户表示认可。", "已退还重复收取的费用并书面说明原因。",
           "已安排专人跟进，问题已解决。", "已更换设备并延长保修期。"]


# what the customer said in the callback, by their satisfaction with the handling (1–5)
CALLBACK_OUTCOMES = {5: "客户对处理结果表示满意，感谢及时处理。", 4: "客户对处理结果表示满意。",
                     3: "客户认为处理基本可以，希望今后响应更快。", 2: "客户对处理结果仍不满意，要求再次上门核实。",
                     1: "客户对处理结果很不满意，要求上级领导回复。"}


def _name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng):
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))


def _from_list(product, preferred):
    """The demo's codes (in its order, repeats kept) that are active in the office's list; when
    none is, the list's first active value."""
    active = product.codes(active_only=True)
    return [code for code in preferred if code in active] or active[:1]


def _weighted(rng, product, weights):
    """A code drawn with the demo's weights among those active in the office's list."""
    active = set(product.codes(active_only=True))
    pairs = [(code, weight) for code, weight in weights.items() if code in active]
    if not pairs:
        return product.codes(active_only=True)[0]
    codes, shares = zip(*pairs)
    return rng.choices(codes, weights=shares)[0]


def seed(random_seed=2026):
    rng = random.Random(random_seed)
    moment = now()
    kinds = _from_list(CUSTOMER_KIND_LIST, KINDS)
    grades = _from_list(GRADE_LIST, ["regular", "regular", "internal"])
    lifecycles = _from_list(LIFECYCLE_LIST, ["old", "new", "potential"])
    channels = _from_list(CHANNEL_LIST, ["phone", "email", "web", "visit", "letter"])
    categories = set(CATEGORY_LIST.codes(active_only=True))
    counts = {}
    with db.atomic():
        branches = [Branch.create(name=n, region=r, city=c) for n, r, c in BRANCHES]
        staff = []
        for i in range(40):
            branch = branches[i % len(branches)]
            phone = _phone(rng)
            staff.append(Staff.create(
                name=_name(rng), employee_no=f"E{1001 + i}", branch=branch,
                position=POSITIONS[i % len(POSITIONS)], phone=phone,
                hire_date=date(2015 + rng.randrange(10), rng.randrange(1, 13), rng.randrange(1, 28)),
                # alerts reach them by e-mail when MAIL_SERVER is set (README: notifications)
                email=f"e{1001 + i}@example.cn", mobile=phone))
        for username, password, role in DEMO_LOGINS:
            user = User(username=username, role=role,
                        staff=staff[{"admin": 0, "manager": 5, "director": 2, "staff": 1}[role]])
            user.set_password(password)
            user.save()
        for branch in branches:  # the branch's 客服主管 is its duty person (survey follow-ups)
            duty = next(s for s in staff if s.branch_id == branch.id and s.position == "客服主管")
            duty.on_duty = True
            duty.save()
        counts["branches"], counts["staff"] = len(branches), len(staff)

        customers = []
        for i in range(200):
            branch = rng.choice(branches)
            kind = rng.choice(kinds)
            deal = _weighted(rng, DEAL_STATE_LIST, {"transacted": 70, "none": 20, "upgraded": 10})
            # a customer who never bought spends nothing, is a potential customer and cannot churn;
            # one who bought is new in their first year, then an existing customer
            spend = rng.choice([300, 800, 1500, 2500, 5000, 12000]) if deal != "none" else 0
            first_deal = (moment - timedelta(days=rng.randrange(10, 900))).date() if deal != "none" else None
            lifecycle = ("potential" if first_deal is None
                         else "new" if (moment.date() - first_deal).days < 365 else "old")
            churned = first_deal is not None and rng.random() < 0.08
            customers.append(Customer.create(
                name=_name(rng), organisation="" if kind == "household" else rng.choice(ORGS),
                contact_person=_name(rng), phone=_phone(rng), email=f"c{i + 1}@example.cn",
                address=f"{branch.city}市{rng.choice(['人民路', '建设路', '解放路', '中山路'])}{rng.randrange(1, 300)}号",
                kind=kind, grade="vip" if spend >= 2000 else rng.choice(grades),
                monthly_spend=spend, lifecycle=lifecycle if lifecycle in lifecycles else lifecycles[0], deal_state=deal,
                branch=branch, account_manager=rng.choice([s for s in staff if s.branch_id == branch.id]),
                first_deal_date=first_deal,
                habits=rng.choice(["习惯电话沟通", "偏好微信联系", "工作日上午方便", ""]),
                preferences=rng.choice(["重视响应速度", "关注价格", "希望固定专人对接", ""]),
                churned=churned, churn_reason=_weighted(rng, CHURN_REASON_LIST, CHURN_SHARES) if churned else None))
        counts["customers"] = len(customers)

        stages = [stage.code for stage in STAGE_TABLE]
        complaints = []
        # numbers follow the order of receipt, as in the office
        ages = sorted((rng.choice([0.5, 2, 5, 20, 30, 50, 60, 80, 100, 200, 500, 1500]), rng.randrange(60))
                      for _ in range(300))
        for age_hours, minutes in reversed(ages):
            customer = rng.choice(customers)
            branch_staff = [s for s in staff if s.branch_id == customer.branch_id]
            # older complaints are further along; a share of the recent ones are overdue
            received = moment - timedelta(hours=age_hours, minutes=minutes)
            stage_index = _demo_stage_index(rng, age_hours)
            subject, nature, what, category = rng.choice(TITLES)
            complaint = Complaint(
                customer=customer, branch=customer.branch, channel=rng.choice(channels),
                category=category if category in categories else "other",
                severity=_weighted(rng, SEVERITY_LIST, {"low": 20, "normal": 55, "high": 20, "critical": 5}),
                title=f"{subject}{nature}：{what}", description=f"客户反映：{what}。请尽快核实处理。",
                received_at=received, first_responder=rng.choice(branch_staff),
                responsible_staff=rng.choice(branch_staff), responsible_branch=customer.branch)
            complaint.save()
            _advance(rng, complaint, stages[stage_index], staff)
            complaints.append(complaint)
        counts["complaints"] = len(complaints)
        counts["scheduled callbacks"] = _scheduled_callbacks(rng, customers, moment)

        counts["responses"] = _surveys(rng, customers, staff, branches, moment)
        followups = list(Complaint.select().where(Complaint.channel == "survey").order_by(Complaint.id))
        counts["survey follow-ups"] = len(followups)
        # the office worked on the follow-ups as on any complaint: the older ones are further along
        for complaint in followups:
            target = stages[_demo_stage_index(rng, (moment - complaint.received_at).total_seconds() / 3600)]
            if target != "received":
                _advance(rng, complaint, target, staff, created=False)

        for i, person in enumerate(rng.sample(staff, 6)):
            Award.create(staff=person, kind=["star_month", "star_quarter", "innovation_individual"][i % 3],
                         period=f"{moment.year}-{max(moment.month - 1 - i, 1):02d}",
                         reason="客户投票最多，服务态度获客户书面表扬", prize="奖金 500 元及荣誉证书")
        RewardPenalty.create(staff=staff[3], kind="cash", amount=800, reason="连续三个月零投诉")
        RewardPenalty.create(staff=staff[7], kind="verbal_warning", reason="上门服务态度冷淡被投诉",
                             complaint=complaints[0])
        counts["awards"] = 6
    search.sync()  # the demo's customers and complaints are searchable at once
    return counts


def _demo_stage_index(rng, age_hours):
    """How far the office got with a complaint received `age_hours` ago (an index into the
    stages): older complaints are further along, and a quarter are stuck one stage behind
    (these become overdue)."""
    reachable = sum(1 for h in DEFAULT_SLA_HOURS.values() if age_hours > h * rng.uniform(0.3, 1.0))
    stage_index = min(reachable + (1 if age_hours > 100 else 0), 5)
    if rng.random() < 0.25:
        stage_index = max(stage_index - 1, 0)
    return stage_index


def _advance(rng, complaint, target, staff, created=True):
    """Take a complaint through the real workflow up to `target`, each stage done at a
    plausible past moment (the clock is pinned to it), some of them late; for a complaint
    recorded here (`created`) also writes the 'create' history row at the time it was
    received (a survey follow-up has its own, written when the answer opened it)."""
    recorder = User.get_or_none(User.username == "staff")
    moment = now()
    previous = clock.freeze(complaint.received_at)
    try:
        if created:
            record(complaint, "create", recorder)
        last = complaint.received_at
        for stage in workflow.STAGE_FLOW[1:workflow.STAGE_FLOW.index(workflow.STAGE_BY_CODE[target]) + 1]:
            deadline = workflow.due_for(complaint, stage.code) or last + timedelta(hours=24)
            span = max((deadline - last).total_seconds(), 600)
            late = rng.random() < 0.2
            done = last + timedelta(seconds=int(span * rng.uniform(0.2, 1.3 if late else 0.95)))
            done = max(min(done, moment), last)
            clock.freeze(done)
            workflow.complete_stage(complaint, stage.code, recorder, **_deliverable(rng, complaint, stage.code, done))
            last = done
    finally:
        clock.freeze(previous)


def _scheduled_callbacks(rng, customers, moment):
    """Most transacted customers were called on schedule; some were missed lately (callbacks due)."""
    from models.complaints import callback_schedule
    made = 0
    for customer in customers:
        if customer.first_deal_date is None or customer.churned:
            continue
        dates = callback_schedule(customer.first_deal_date, moment.date())
        keep_up_to = len(dates) - rng.choices([0, 1, 2], [80, 15, 5])[0]
        for day in dates[max(0, keep_up_to - 3):keep_up_to]:  # the last few kept calls
            done = datetime.combine(day, time(10)) + timedelta(days=rng.randrange(0, 3), minutes=rng.randrange(240))
            Callback.create(customer=customer, kind="scheduled", due_date=day, done_at=min(done, moment),
                            staff=customer.account_manager, channel=rng.choice(_from_list(CALLBACK_CHANNEL_LIST, ["phone", "phone", "visit", "sms"])),
                            outcome=rng.choice(["客户对近期服务满意。", "客户希望上门时间更准时。", "客户提出续费优惠咨询。"]),
                            satisfaction=rng.choice([3, 4, 4, 5, 5]))
            made += 1
    return made


def _deliverable(rng, complaint, stage, done):
    if stage == "acknowledged":
        return {"apology_note": "已电话致歉，并已报告服务总监。", "director_notified": True}
    if stage == "resolved":
        return {"result_text": rng.choice(RESULTS)}
    if stage == "rectified":
        return {"problem_description": f"{complaint.title}。{complaint.description}",
                "cause_analysis": "经调查，为现场人员未按规范操作。",
                "immediate_measures": "当日重新上门处理并致歉。", "accountability": "责任人书面检讨，班组长扣绩效。",
                "long_term_measures": "组织全员服务规范培训，每月抽查。",
                "effect_confirmation": "责任单位已反馈整改结果，客户表示认可。",
                "promised_date": (done + timedelta(days=14)).date()}
    if stage == "called_back":
        satisfaction = rng.choice([3, 4, 4, 5, 5, 2])
        return {"satisfaction": satisfaction, "outcome": CALLBACK_OUTCOMES[satisfaction],
                "channel": "phone", "staff": complaint.responsible_staff_id}
    return {"closing_note": "发出单位确认整改效果。", "verifier": complaint.responsible_staff_id}


def _surveys(rng, customers, staff, branches, moment):
    csat = Survey.create(title="客户满意度调查（2026年度）", kind="csat", intro="感谢您抽出宝贵时间，请对我们的服务打分。")
    rated = [("产品质量是否满足您的需要？", "quality"), ("服务人员的态度如何？", "attitude"),
             ("问题响应速度如何？", "speed"), ("价格是否合理？", "price"), ("服务人员的专业能力如何？", "professionalism")]
    csat_questions = [Question.create(survey=csat, position=i + 1, text=t, kind="rating", dimension=d)
                      for i, (t, d) in enumerate(rated)]
    csat_text = Question.create(survey=csat, position=6, text="您对我们还有什么意见或建议？", kind="text", required=False)
    nps = Survey.create(title="推荐意愿调查（NPS）", kind="nps", intro="一个问题，只需十秒。")
    nps_score = Question.create(survey=nps, position=1, text="您有多大可能把我们推荐给朋友或同事？（0-10分）", kind="score")
    nps_reason = Question.create(survey=nps, position=2, text="您打这个分数的主要原因是？", kind="text", required=False)
    channel = Question.create(survey=nps, position=3, text="您通常通过什么方式联系我们？", kind="single", required=False)
    choices = [Choice.create(question=channel, position=i, text=t) for i, t in enumerate(["电话", "微信", "网站", "上门"])]
    posters = [OpenLink.create(survey=csat, label=f"{branch.name}前台二维码", branch=branch) for branch in branches]

    responses = _poster_answers(rng, csat, csat_questions, csat_text, posters, moment)
    comments = ["服务很好，继续保持", "上门时间能否更准时", "价格有点高", "客服态度很耐心", "希望能提供微信预约", ""]
    # personal invitations answered through the real path (models.answers.submit_response), so a
    # low score opens its follow-up complaint, owned by the customer's account manager
    for customer in rng.sample(customers, 120):
        invitation = Invitation.create(survey=csat, customer=customer, sent_at=moment - timedelta(days=20),
                                       expires_at=moment + timedelta(days=10))
        if rng.random() < 0.7:
            submitted = moment - timedelta(days=rng.randrange(1, 19), hours=rng.randrange(24))
            base = rng.choice([2, 3, 4, 4, 5, 5])
            raw = {q.id: str(max(1, min(5, base + rng.choice([-1, 0, 0, 1])))) for q in csat_questions}
            raw[csat_text.id] = rng.choice(comments)
            _answer_at(submitted, csat, raw, invitation)
            responses += 1
    responses += _star_votes_and_servqual(rng, customers, staff, moment)
    for customer in rng.sample(customers, 80):
        submitted = moment - timedelta(days=rng.randrange(1, 60))
        invitation = Invitation.create(survey=nps, customer=customer, sent_at=submitted - timedelta(days=1))
        raw = {nps_score.id: str(rng.choice([3, 6, 7, 8, 9, 9, 10, 10])), nps_reason.id: rng.choice(comments),
               channel.id: str(rng.choice(choices).id)}
        _answer_at(submitted, nps, raw, invitation)
        responses += 1
    return responses


def _answer_at(moment, survey, raw, invitation):
    """A customer answers their invitation at `moment` (opened the page, then submitted)."""
    from models.answers import submit_response
    previous = clock.freeze(moment)
    try:
        invitation.opened_at = moment
        invitation.save(only=[Invitation.opened_at])
        response, errors = submit_response(survey, raw, invitation=invitation)
        assert not errors, errors
        return response
    finally:
        clock.freeze(previous)


def _poster_answers(rng, survey, ratings, comment, posters, moment):
    """Answers scanned from the front-desk posters, through the public submit: most fine, a few
    low ones left without a phone (anonymous feedback waiting for review), and one sent too
    fast to be trusted (held for review)."""
    from models.answers import submit_response
    previous = clock.freeze(None)
    count = 0
    try:
        for index in range(25):
            poster = posters[index % len(posters)]
            low = index % 6 == 5
            clock.freeze(moment - timedelta(days=rng.randrange(1, 20), hours=rng.randrange(9, 18)))
            raw = {q.id: str(rng.choice([1, 2]) if low else rng.choice([3, 4, 4, 5, 5])) for q in ratings}
            raw[comment.id] = rng.choice(["排队时间太长，没人引导", "前台没人，等了半小时"]) if low else ""
            submit_response(survey, raw, open_link=poster, hold_reason="too_fast" if index == 7 else None)
            count += 1
    finally:
        clock.freeze(previous)
    return count


def _star_votes_and_servqual(rng, customers, staff, moment):
    """Service-star votes of this month (a few favourites lead) and SERVQUAL answers
    (expectations higher than perceptions, most of all for responsiveness)."""
    from models.survey_templates import create_from_template
    count = 0
    star = create_from_template("star", "zh_CN")
    pick, rate, why = list(star.questions.order_by(Question.position))
    favourites = rng.sample(staff, 5)
    month_start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)  # never after `moment`
    for customer in rng.sample(customers, 60):
        local = [s for s in staff if s.branch_id == customer.branch_id]
        chosen = rng.choice([f for f in favourites if f.branch_id == customer.branch_id] or local) \
            if rng.random() < 0.6 else rng.choice(local)
        submitted = (month_start + (moment - month_start) * rng.random()).replace(microsecond=0)
        response = Response.create(survey=star, customer=customer, branch=customer.branch, staff=chosen,
                                   submitted_at=submitted)
        Answer.create(response=response, question=pick, staff=chosen)
        Answer.create(response=response, question=rate, value=rng.choice([4, 5, 5]))
        Answer.create(response=response, question=why, text=rng.choice(["耐心细致，随叫随到", "专业可靠", "态度热情", ""]))
        count += 1
    servqual = create_from_template("servqual", "zh_CN")
    items = [q for q in servqual.questions.order_by(Question.position) if q.kind == "servqual"]
    shortfall = {"tangibles": 0.3, "reliability": 1.0, "responsiveness": 1.8, "assurance": 0.6, "empathy": 1.2}
    for customer in rng.sample(customers, 40):
        response = Response.create(survey=servqual, customer=customer, branch=customer.branch,
                                   submitted_at=moment - timedelta(days=rng.randrange(1, 40)))
        for item in items:
            expected = rng.choice([5, 6, 6, 7, 7])
            perceived = max(1, min(7, round(expected - shortfall[item.dimension] + rng.uniform(-1, 1))))
            Answer.create(response=response, question=item, expectation=expected, value=perceived)
        count += 1
    return count
