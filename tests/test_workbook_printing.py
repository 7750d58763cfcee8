"""Workbooks that print: the weekly and monthly report workbooks, converted to PDF by
LibreOffice headless (what an office prints from), have the page setup on every sheet and
the expected number of pages per sheet; a ranking of 30 branches is one page.

Needs `soffice` (Debian: libreoffice-calc) and `pdftotext` (poppler-utils); .ci/run installs
both. Outside CI a machine without them skips this file; in CI (CI=true) it fails."""
import io
import os
import shutil
import subprocess
from datetime import datetime, timedelta

import openpyxl
import pytest

from models import Answer, Question, Response, Setting, Survey, clock

from .helpers import make_branch, make_complaint, make_customer, make_staff

NOW = datetime(2026, 11, 27, 15, 0)  # Friday afternoon: the weekly report is due
LONG_TITLE = "维修人员服务态度：上门服务时态度冷淡且未按约定时间到达，客户多次催促仍未处理，要求公司书面道歉并赔偿损失"


def _tool(name):
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install libreoffice-calc poppler-utils; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def thirty_branches(app):
    """30 branches, each with a customer, a staff member, a complaint and a rated response in
    the week; one long complaint title and one long comment."""
    clock.freeze(NOW)
    with app.app_context():
        Setting.set_value("office.name", "华东客户服务中心")
        survey = Survey.create(title="客户满意度调查（2026年度）", kind="csat")
        rating = Question.create(survey=survey, position=1, text="您对服务人员的态度是否满意？", kind="rating")
        comment = Question.create(survey=survey, position=2, text="您还有什么意见或建议？", kind="text")
        for index in range(30):
            branch = make_branch(f"第{index + 1:02d}分公司", region=["华东", "华北", "西北"][index % 3])
            make_staff(branch, f"P{index:03d}", name=f"员工{index:02d}")
            customer = make_customer(branch, name=f"客户{index:02d}")
            make_complaint(customer, title=LONG_TITLE if index == 0 else f"问题{index}", received_at=NOW - timedelta(
                days=index % 4, hours=1))
            response = Response.create(survey=survey, customer=customer, branch=branch,
                                       submitted_at=NOW - timedelta(days=index % 4))
            Answer.create(response=response, question=rating, value=1 + index % 5)
            if index < 8:
                Answer.create(response=response, question=comment, text=LONG_TITLE)
    yield app
    clock.freeze(None)


def _pages_per_sheet(pdf_path):
    """{sheet name: pages}: every printed page's footer starts with its sheet's name (&A)."""
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf_path), "-"], capture_output=True, check=True,
                          text=True).stdout
    pages = {}
    for page in text.split("\f"):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if not lines:
            continue
        footer = lines[-1].rsplit("  ", 1)[0].strip()  # "各分公司排名      2 / 8"
        pages[footer] = pages.get(footer, 0) + 1
    return pages


def _to_pdf(tmp_path, name, data):
    soffice = _tool("soffice")
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(data)
    profile = tmp_path / "lo-profile"  # a profile of its own: other LibreOffice runs do not get in the way
    subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    return tmp_path / f"{name}.pdf"


@pytest.mark.parametrize("kind, day, expected", [
    ("weekly", "2026-11-27", {"概况": 1, "各分公司排名": 1, "各阶段投诉": 1, "各类别投诉": 1, "超时统计": 1, "调查汇总": 1,
                               "员工积分榜": 1, "满意度调查表": 1, "答卷 客户满意度调查（2026年度）": 1}),
    ("monthly", "2026-11-03", {"概况": 1, "各分公司排名": 1, "各阶段投诉": 1, "各类别投诉": 1, "超时统计": 1, "调查汇总": 1,
                                "员工积分榜": 1, "满意度调查表": 1, "答卷 客户满意度调查（2026年度）": 1}),
])
def test_report_workbooks_print_one_page_wide_with_titles(thirty_branches, login_as, tmp_path, kind, day, expected):
    client = login_as("admin")  # every branch (a branch manager prints their own); Chinese, as the office prints it
    response = client.get(f"/admin/report-workbooks/download/?kind={kind}&day={day}")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    period = "2026-11-23 – 2026-11-29" if kind == "weekly" else "2026-11-01 – 2026-11-30"
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert setup.paperSize == 9 and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, sheet.title  # 1: default
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title  # the header row on every page
        header = sheet.oddHeader
        assert header.left.text == "华东客户服务中心" and header.right.text == period, sheet.title
        assert sheet.title in header.center.text, sheet.title
        widths = sum((d.width or 0) * (d.max - d.min + 1) for d in sheet.column_dimensions.values())
        assert setup.orientation == ("landscape" if widths > 95 else "portrait"), sheet.title
    ranking = workbook["各分公司排名"]
    assert ranking.max_row == 32  # the header and 31 branches (the 30 and the office fixture's own)
    # long text is not cut at the default width: the comment column is wide and wraps
    table = workbook["满意度调查表"]
    opinion = next(c.column_letter for c in table[1] if c.value == "意见")
    assert table.column_dimensions[opinion].width >= 40 and table[f"{opinion}2"].alignment.wrap_text

    pages = _pages_per_sheet(_to_pdf(tmp_path, kind, response.data))
    assert pages == expected


def test_a_complaint_list_export_prints_with_the_title_not_cut(thirty_branches, login_as, tmp_path):
    client = login_as("admin")  # every branch
    response = client.get("/admin/complaint/export/xlsx/")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    title = next(c.column_letter for c in sheet[1] if c.value == "标题")
    assert sheet.column_dimensions[title].width >= 50  # the widest title (wrapped beyond 50), not 16
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    assert sheet.oddHeader.left.text == "华东客户服务中心"
