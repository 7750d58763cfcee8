"""Configuring the office without code, in a real browser (headless Chromium, zh-CN): the
administrator adds a custom field, records a complaint with it, filters the list by it and
exports the list; the xlsx read back carries the value."""
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from models import Complaint, clock
from models.custom_fields import CustomField, read_values

from .browser import log_in, screenshot
from .helpers import PASSWORD, make_complaint, make_customer


@pytest.fixture
def page(live_url, browser):
    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    log_in(tab, live_url, "admin", PASSWORD)
    yield tab
    context.close()


def choose_customer(page, name):
    """Flask-Admin's search-as-you-type customer box (select2 over ajax)."""
    page.click("#s2id_customer")
    page.keyboard.type(name)
    page.click(f".select2-result-label:has-text('{name}')")


def test_admin_adds_a_custom_field_records_filters_and_exports_a_complaint(app, office, live_url, page):
    clock.freeze(datetime(2026, 11, 23, 10, 0))
    customer = make_customer(office["branch"], name="赵敏")
    make_complaint(customer, title="旧投诉：没有产品线")

    page.goto(f"{live_url}/admin/customfield/new/")
    page.select_option("#entity", "complaint")
    page.fill("#label_zh", "产品线")
    page.fill("#label_en", "Product line")
    page.select_option("#kind", "choice")
    page.fill("#options", "供水 | Water\n供暖 | Heating")
    page.check("#in_list")
    page.check("#in_filter")
    page.click("input[type=submit].btn-primary")
    assert "产品线" in page.inner_text("table.model-list")
    field = CustomField.get(CustomField.code == "product_line")

    page.goto(f"{live_url}/admin/complaint/new/")
    choose_customer(page, "赵敏")
    page.select_option("#branch", str(office["branch"].id))
    page.fill("#title", "供暖：暖气片不热，维修人员未按时上门")
    page.select_option("#cf_product_line", "heating")
    page.click("input[type=submit].btn-primary")
    complaint = Complaint.get(Complaint.title.startswith("供暖"))
    assert read_values("complaint", [complaint.id])[complaint.id] == {field.id: "heating"}

    page.goto(f"{live_url}/admin/complaint/")
    page.click("a.dropdown-toggle:has-text('添加筛选条件')")
    page.click("a.filter:has-text('产品线')")
    page.select_option("table.filters select.filter-val", "heating", force=True)  # under select2
    with page.expect_navigation():
        page.click("button:has-text('确定')")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 1 and "供暖" in rows.first.inner_text()
    screenshot(page, "config-filtered-complaints")

    page.click("a.dropdown-toggle:has-text('导出')")
    with page.expect_download() as download:
        page.click("a:has-text('xlsx')")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, [cell.value for cell in row])) for row in sheet.iter_rows(min_row=2)]
    assert [row["产品线"] for row in rows] == ["供暖"]
    assert rows[0]["标题"].startswith("供暖")
