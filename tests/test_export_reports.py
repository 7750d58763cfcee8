"""Report workbooks: weekly and monthly periods, the sheets built from real data, read back."""
import io
from datetime import date, datetime

import openpyxl
import pytest

from models.reports import Period
from models import Answer, Choice, ExportLog, Question, Rectification, Response, Survey, clock

from .helpers import make_branch, make_complaint, make_customer, make_staff

NOW = datetime(2026, 11, 6, 12, 0)  # a Friday: the weekly report is due


def test_periods_are_calendar_weeks_and_months():
    week = Period.of("weekly", date(2026, 11, 8))  # a Sunday
    assert (week.start, week.end) == (datetime(2026, 11, 2), datetime(2026, 11, 9))
    month = Period.of("monthly", date(2028, 2, 14))
    assert (month.start, month.end) == (datetime(2028, 2, 1), datetime(2028, 3, 1))
    assert Period.of("monthly", date(2026, 12, 31)).end == datetime(2027, 1, 1)
    with pytest.raises(ValueError):
        Period.of("daily", date(2026, 1, 1))


@pytest.fixture
def office_week(app, office):
    """Two branches; complaints of the week (late, overdue, on time) and one of the week before;
    a survey with every question kind, answered twice this week."""
    with app.app_context():
        jiangsu = office["branch"]
        xinjiang = make_branch("新疆分公司", region="新疆", city="乌鲁木齐")
        star = make_staff(xinjiang, "E0300", name="古丽")
        alice = make_customer(jiangsu, name="钱多多", organisation="恒信科技有限公司", grade="vip")
        bob = make_customer(xinjiang, name="孙小美", phone="13900000002")

        clock.freeze(datetime(2026, 11, 2, 9, 0))
        late = make_complaint(alice, title="迟复")
        late.acknowledged_at, late.stage = datetime(2026, 11, 2, 11, 0), "acknowledged"  # due 10:00
        late.save()
        clock.freeze(datetime(2026, 11, 3, 9, 0))
        make_complaint(alice, title="未受理")          # acknowledge due 11-03 10:00, still open: overdue
        clock.freeze(datetime(2026, 11, 4, 9, 0))
        on_time = make_complaint(bob, title="按时", branch=xinjiang)
        on_time.acknowledged_at, on_time.resolved_at = datetime(2026, 11, 4, 9, 30), datetime(2026, 11, 4, 15, 0)
        on_time.rectified_at, on_time.called_back_at = datetime(2026, 11, 5, 9, 0), datetime(2026, 11, 6, 9, 0)
        on_time.closed_at, on_time.stage = datetime(2026, 11, 6, 10, 0), "closed"
        on_time.save()
        clock.freeze(datetime(2026, 10, 28, 9, 0))
        make_complaint(bob, title="上周的", branch=xinjiang)  # outside the week
        clock.freeze(NOW)
        Rectification.create(complaint=late, problem_description="迟复", cause_analysis="排班不足",
                             immediate_measures="致歉", long_term_measures="增加值班人员",
                             promised_date=date(2026, 11, 30))

        survey = Survey.create(title="客户满意度调查", kind="csat")
        q = {kind: Question.create(survey=survey, position=n, text=text, kind=kind) for n, (kind, text) in enumerate([
            ("rating", "服务态度"), ("score", "推荐意愿"), ("single", "渠道"), ("multiple", "改进项"),
            ("staff", "服务之星"), ("servqual", "响应速度"), ("text", "意见")])}
        phone = Choice.create(question=q["single"], position=1, text="电话")
        faster = Choice.create(question=q["multiple"], position=1, text="更快")
        kinder = Choice.create(question=q["multiple"], position=2, text="更热情")
        first = Response.create(survey=survey, customer=alice, branch=jiangsu, submitted_at=datetime(2026, 11, 5, 10, 0),
                                followup_complaint=late)
        for values in [dict(question=q["rating"], value=2), dict(question=q["score"], value=10),
                       dict(question=q["single"], choice=phone), dict(question=q["multiple"], choice=faster),
                       dict(question=q["multiple"], choice=kinder), dict(question=q["staff"], staff=star),
                       dict(question=q["servqual"], expectation=5, value=3),
                       dict(question=q["text"], text="=HYPERLINK(\"http://evil\")")]:
            Answer.create(response=first, **values)
        second = Response.create(survey=survey, branch=xinjiang, submitted_at=datetime(2026, 11, 6, 9, 0))
        Answer.create(response=second, question=q["rating"], value=5)
        Answer.create(response=second, question=q["score"], value=3)
        Response.create(survey=survey, branch=xinjiang, submitted_at=datetime(2026, 10, 30, 9, 0))  # last week
    yield
    clock.freeze(None)


@pytest.fixture
def director(login_as):
    """An account that sees every branch (the office's administrator), English UI."""
    client = login_as("admin")
    client.http.set_cookie("lang", "en")
    return client


def rows_of(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_weekly_report_workbook(app, director, office_week):
    response = director.get("/admin/report-workbooks/download/?kind=weekly&day=2026-11-06")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Overview", "Branch ranking", "Complaints by stage", "Complaints by category",
                                   "SLA breaches",
                                   "Survey summary", "Staff scoreboard", "Satisfaction table",
                                   "Responses 客户满意度调查"]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert sheet.column_dimensions["A"].width > 8

    stages = {row[0]: row for row in rows_of(workbook["Complaints by stage"])[1:]}
    assert stages["江苏分公司"][1:5] == ["江苏", 2, 1, 1]   # received 2: one at received, one acknowledged
    assert stages["江苏分公司"][-1] == 2                    # overdue now (the late one's result is due too)
    assert stages["新疆分公司"][3:] == [0, 0, 0, 0, 0, 1, 0]  # closed on time
    assert stages["新疆分公司"][2] == 1                     # last week's complaint not counted

    sla = rows_of(workbook["SLA breaches"])
    assert sla[0][3] == "Breaches: Acknowledged" and sla[0][-1] == "Breach-free complaints"
    by_branch = {row[0]: row for row in sla[1:]}
    assert by_branch["江苏分公司"][3] == 2 and by_branch["江苏分公司"][-2] == 2   # done late + overdue now
    assert by_branch["江苏分公司"][-1] == 0
    assert by_branch["新疆分公司"][3] == 0 and by_branch["新疆分公司"][-1] == 1
    assert workbook["SLA breaches"]["I3"].number_format == "0.0%"

    summary = rows_of(workbook["Survey summary"])
    assert summary[1][:3] == ["客户满意度调查", "CSAT (5-point)", 2]
    assert summary[1][6:] == [2, 3.5, 0.5, 2, 0.0]   # ratings 2 and 5; NPS: one promoter, one detractor

    table = rows_of(workbook["Satisfaction table"])
    assert table[0][:9] == ["Submitted at", "Survey", "Branch", "Region", "Customer", "Customer grade",
                            "Total score", "Opinion", "Improvement plan"]
    assert table[1][:10] == [datetime(2026, 11, 5, 10, 0), "客户满意度调查", "江苏分公司", "江苏",
                             "钱多多 (恒信科技有限公司)", "Big customer / VIP", 12, '=HYPERLINK("http://evil")',
                             "增加值班人员", datetime(2026, 11, 30)]
    assert workbook["Satisfaction table"]["H2"].data_type == "s"    # customer text never a formula
    assert table[2][2:7] == ["新疆分公司", "新疆", None, None, 8]
    assert len(table) == 3

    wide = rows_of(workbook["Responses 客户满意度调查"])
    assert wide[0] == ["Response", "Submitted at", "Customer", "Branch", "Staff", "服务态度", "推荐意愿", "渠道",
                       "改进项", "服务之星", "响应速度 (expectation)", "响应速度 (perception)", "意见"]
    assert wide[1][2:] == ["钱多多 (恒信科技有限公司)", "江苏分公司", None, 2, 10, "电话", "更快; 更热情", "古丽", 5, 3,
                           '=HYPERLINK("http://evil")']
    assert wide[2][5:7] == [5, 3] and len(wide) == 3

    with app.app_context():
        log = ExportLog.get()
        assert (log.what, log.format, log.username) == ("report:weekly", "xlsx", "admin")
        assert log.personal_data  # the satisfaction table and the responses name customers
        assert log.rows == sum(len(rows_of(sheet)) - 1 for sheet in workbook.worksheets)
        assert "2026-11-02" in log.filters


def test_monthly_report_covers_the_month(app, director, office_week):
    workbook = openpyxl.load_workbook(io.BytesIO(
        director.get("/admin/report-workbooks/download/?kind=monthly&day=2026-10-15").data))
    stages = {row[0]: row for row in rows_of(workbook["Complaints by stage"])[1:]}
    assert stages["新疆分公司"][2] == 1 and stages["江苏分公司"][2] == 0
    assert len(rows_of(workbook["Satisfaction table"])) == 2   # the response of 10-30
    assert rows_of(workbook["Overview"])[1][1] == "Monthly report 2026-10"


def test_report_page_and_bad_input(manager, login_as, office):
    page = manager.get("/admin/report-workbooks/").get_data(as_text=True)
    assert 'name="kind"' in page and 'type="date"' in page
    response = manager.get("/admin/report-workbooks/download/?kind=yearly&day=2026-11-06")
    assert response.status_code == 302
    response = manager.get("/admin/report-workbooks/download/?kind=weekly&day=not-a-date")
    assert response.status_code == 302
    assert "valid date" in manager.get("/admin/report-workbooks/").get_data(as_text=True)
    staff = login_as("staff")
    assert staff.get("/admin/report-workbooks/").status_code == 403
    assert staff.get("/admin/report-workbooks/download/?kind=weekly").status_code == 403


def test_ranking_and_scoreboard_sheets_match_the_scoring_functions(app, director, office_week):
    from models.reports import RANKING_COLUMNS, STAFF_COLUMNS, branch_ranking, staff_scoreboard
    workbook = openpyxl.load_workbook(io.BytesIO(
        director.get("/admin/report-workbooks/download/?kind=weekly&day=2026-11-06").data))
    with app.app_context():
        period = Period.of("weekly", date(2026, 11, 6))
        ranking = branch_ranking(period.start, period.end)
        board = staff_scoreboard(period.start, period.end)
    sheet = workbook["Branch ranking"]
    rows = rows_of(sheet)
    assert rows[0] == [str(label) for label in RANKING_COLUMNS.values()]
    assert [row[1] for row in rows[1:]] == [r["branch"] for r in ranking] and len(ranking) >= 2
    keys = list(RANKING_COLUMNS)
    for row, expected in zip(rows[1:], ranking):
        assert row[keys.index("rank")] == expected["rank"]
        sla = expected["sla_rate"]
        assert row[keys.index("sla_rate")] == (None if sla is None else pytest.approx(sla / 100))
    assert sheet.cell(2, keys.index("sla_rate") + 1).number_format == "0.0%"
    staff_rows = rows_of(workbook["Staff scoreboard"])
    assert staff_rows[0] == [str(label) for label in STAFF_COLUMNS.values()]
    assert [row[1] for row in staff_rows[1:]] == [r["name"] for r in board]


def test_branch_manager_workbook_covers_their_branch(app, manager, office_week):
    """The manager of 江苏: every sheet counts 江苏 only; the ranking shows 新疆's rank and scores
    but none of its counts; no customer, response or staff member of 新疆 appears."""
    from models.reports import RANKING_COLUMNS
    workbook = openpyxl.load_workbook(io.BytesIO(
        manager.get("/admin/report-workbooks/download/?kind=weekly&day=2026-11-06").data))
    everything = "\n".join(str(cell) for sheet in workbook.worksheets for row in rows_of(sheet) for cell in row)
    assert "孙小美" not in everything and "古丽 (E0300)" not in everything
    assert [row[0] for row in rows_of(workbook["Complaints by stage"])[1:]] == ["江苏分公司"]
    assert [row[0] for row in rows_of(workbook["SLA breaches"])[1:]] == ["江苏分公司"]
    assert [row[2] for row in rows_of(workbook["Satisfaction table"])[1:]] == ["江苏分公司"]
    assert rows_of(workbook["Survey summary"])[1][2] == 1           # 江苏's response only
    keys = list(RANKING_COLUMNS)
    ranking = {row[keys.index("branch")]: row for row in rows_of(workbook["Branch ranking"])[1:]}
    assert set(ranking) == {"江苏分公司", "新疆分公司"}
    other = ranking["新疆分公司"]
    assert other[keys.index("score")] is not None and other[keys.index("rank")] is not None
    assert other[keys.index("complaints")] is None and other[keys.index("customers")] is None
    assert ranking["江苏分公司"][keys.index("complaints")] == 2
    assert any(row[0] == "Branches" and row[1] == "江苏分公司" for row in rows_of(workbook["Overview"]))


def test_workbook_in_chinese(app, login_as, office_week):
    client = login_as("manager")
    client.http.set_cookie("lang", "zh_CN")
    response = client.get("/admin/report-workbooks/download/?kind=weekly&day=2026-11-06")
    assert "filename*=UTF-8''%E5%91%A8%E6%8A%A5" in response.headers["Content-Disposition"]  # 周报…
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[:8] == ["概况", "各分公司排名", "各阶段投诉", "各类别投诉", "超时统计", "调查汇总",
                                       "员工积分榜", "满意度调查表"]
    assert rows_of(workbook["满意度调查表"])[0][6:9] == ["总分", "意见", "改进计划"]
