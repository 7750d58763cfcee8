"""Configuring the office without code, in a real browser (headless Chromium, zh-CN): the
administrator adds a complaint category and a custom field, records a complaint with them,
filters the list by both and exports the list; the xlsx read back carries both values. A
category the administrator deactivates stays on the old complaint (its page, the list, the
export) and is no longer offered for a new one."""
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from models import ChoiceList, ChoiceValue, Complaint, SlaPolicy, clock
from models.custom_fields import CustomField, read_values

from .browser import english_words, log_in, screenshot
from .helpers import PASSWORD, make_complaint, make_customer


LOGIN = {"admin"}  # the account's name in the navbar


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


def add_filter(page, name, value):
    """Flask-Admin's filter bar: add the filter `name` (first operation: equals) and pick `value`."""
    page.click("a.dropdown-toggle:has-text('添加筛选条件')")
    page.click(f"a.filter:text-is('{name}')")
    page.select_option("table.filters tr:last-child select.filter-val", value, force=True)  # under select2


def list_data_words():
    """The English names and codes of the lists and values: data an administrator edits, shown as such."""
    texts = [row for pair in ChoiceList.select(ChoiceList.name_en, ChoiceList.code).tuples() for row in pair]
    texts += [row for pair in ChoiceValue.select(ChoiceValue.label_en, ChoiceValue.code).tuples() for row in pair]
    return set(re.findall(r"[A-Za-z]+", " ".join(texts)))


def exported_rows(page):
    page.click("a.dropdown-toggle:has-text('导出')")
    with page.expect_download() as download:
        page.click("a:has-text('xlsx')")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, [cell.value for cell in row])) for row in sheet.iter_rows(min_row=2)]


def test_admin_adds_a_category_and_a_custom_field_records_filters_and_exports_a_complaint(app, office, live_url,
                                                                                          page):
    clock.freeze(datetime(2026, 11, 23, 10, 0))
    customer = make_customer(office["branch"], name="赵敏")
    make_complaint(customer, title="旧投诉：没有产品线", category="attitude")

    # 系统 → 选项列表 → 投诉类别: a new value
    page.goto(f"{live_url}/admin/choicelist/")
    page.click("table.model-list tr:has-text('投诉类别') a:has-text('个值')")
    assert page.inner_text("#choice-list-header h4") == "投诉类别"
    page.click("#add-value")
    page.fill("#label_zh", "账单争议")
    page.fill("#label_en", "Billing dispute")
    page.click("input[type=submit].btn-primary")
    assert "账单争议" in page.inner_text("table.model-list")
    screenshot(page, "config-category-values")
    assert english_words(page, list_data_words() | LOGIN) == []
    page.goto(f"{live_url}/admin/choicelist/")
    assert english_words(page, list_data_words() | LOGIN) == []
    assert ChoiceValue.get(ChoiceValue.code == "billing_dispute").choice_list.code == "complaint_category"

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
    page.select_option("#category", label="账单争议")
    page.select_option("#cf_product_line", "heating")
    screenshot(page, "config-complaint-form")
    assert english_words(page, LOGIN) == []
    page.click("input[type=submit].btn-primary")
    complaint = Complaint.get(Complaint.title.startswith("供暖"))
    assert complaint.category == "billing_dispute"
    assert read_values("complaint", [complaint.id])[complaint.id] == {field.id: "heating"}
    assert "账单争议" in page.inner_text("#channel-category")
    assert english_words(page, LOGIN) == []

    page.goto(f"{live_url}/admin/complaint/")
    add_filter(page, "类别", "billing_dispute")
    add_filter(page, "产品线", "heating")
    with page.expect_navigation():
        page.click("button:has-text('确定')")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 1 and "供暖" in rows.first.inner_text()
    screenshot(page, "config-filtered-complaints")
    assert english_words(page, LOGIN) == []

    rows = exported_rows(page)
    assert [(row["类别"], row["产品线"]) for row in rows] == [("账单争议", "供暖")]
    assert rows[0]["标题"].startswith("供暖")


def test_a_deactivated_category_stays_on_the_old_complaint_and_is_offered_no_more(app, office, live_url, page):
    clock.freeze(datetime(2026, 11, 23, 10, 0))
    old = make_complaint(make_customer(office["branch"], name="钱进"), title="旧投诉：产品质量问题", category="quality")
    categories = ChoiceList.get(ChoiceList.code == "complaint_category")
    quality = ChoiceValue.get(ChoiceValue.choice_list == categories.id, ChoiceValue.code == "quality")

    page.goto(f"{live_url}/admin/choicevalue/?list={categories.id}")
    with page.expect_navigation():
        page.click("table.model-list tr:has-text('产品质量') a[href*='/admin/choicevalue/edit/']")
    page.uncheck("#active")
    page.click("input[type=submit].btn-primary")
    assert not ChoiceValue.get_by_id(quality.id).active
    screenshot(page, "config-category-deactivated")

    page.goto(f"{live_url}/admin/complaint/new/")
    offered = page.locator("#category option").all_inner_texts()
    assert "产品质量" not in offered and "服务态度" in offered

    page.goto(f"{live_url}/admin/complaint/details/?id={old.id}")
    assert "产品质量" in page.inner_text("#channel-category")
    page.goto(f"{live_url}/admin/complaint/")
    add_filter(page, "类别", "quality")
    with page.expect_navigation():
        page.click("button:has-text('确定')")
    assert old.number in page.inner_text("table.model-list")
    assert [row["类别"] for row in exported_rows(page)] == ["产品质量"]


def test_a_policy_in_working_hours_set_in_the_browser_gives_working_hour_deadlines(app, office, live_url, page):
    clock.freeze(datetime(2026, 11, 20, 17, 59))  # a Friday
    page.goto(f"{live_url}/admin/slapolicy/new/")
    assert english_words(page) == ["SLA"] or english_words(page, LOGIN) == []
    page.select_option("#hours_kind", "working")
    page.click("input[type=submit].btn-primary")
    assert "工作小时" in page.inner_text("table.model-list")
    assert SlaPolicy.get().hours_kind == "working"
    complaint = make_complaint(make_customer(office["branch"], name="孙悦"), title="供水：停水未提前通知")
    page.goto(f"{live_url}/admin/complaint/details/?id={complaint.id}")
    assert "11-23 09:59" in page.inner_text("#next-deadline")  # Monday morning, not Friday 18:59
    assert page.is_visible("#working-hours")
    screenshot(page, "config-working-hours-complaint")
    assert english_words(page, LOGIN) == []
    page.goto(f"{live_url}/admin/")
    assert english_words(page, LOGIN | {"No", "data"}) == []  # pygal's empty-chart text (not this page's words)
