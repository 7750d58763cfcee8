"""Exports of admin lists: xlsx and csv read back, filters honoured, formula injection
neutralised, manager only, recorded in the export log, and the CLI form."""
import csv
import io
import json
import zipfile
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from models import Complaint, Customer, ExportLog, clock

from .helpers import count_queries, make_complaint, make_customer, make_staff

PROBES = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\tTAB=1", "\rCR=1", "=HYPERLINK(\"http://x\",\"y\")"]


def list_view(app, endpoint):
    for view in app.extensions["admin"][0]._views:
        if getattr(view, "endpoint", None) == endpoint:
            return view
    raise LookupError(endpoint)


def filter_arg(app, endpoint, column, operation="FilterEqual"):
    """The URL argument Flask-Admin uses for a filter (as the filter dropdown would build it)."""
    view = list_view(app, endpoint)
    for key, (_idx, flt) in view._filter_args.items():
        if getattr(flt, "column", None) is column and type(flt).__name__ == operation:
            return f"flt0_{key}"
    raise LookupError(column)


def read_xlsx(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.data))


def read_csv(response):
    assert response.status_code == 200
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def complaints(app, office):
    """Three complaints at known times, in different stages, with related rows."""
    with app.app_context():
        branch = office["branch"]
        responder = make_staff(branch, "E0100", name="赵敏")
        alice = make_customer(branch, name="钱多多", organisation="恒信科技有限公司", phone="13900000001")
        bob = make_customer(branch, name="孙小美", phone="13900000002")
        clock.freeze(datetime(2026, 11, 2, 9, 30))
        first = make_complaint(alice, title="热水器漏水：安装不规范", severity="high", first_responder=responder,
                               compensation="compensation", compensation_amount=Decimal("50.50"))
        clock.freeze(datetime(2026, 11, 3, 14, 0))
        second = make_complaint(bob, title="客服电话无人接听", channel="web")
        clock.freeze(datetime(2026, 11, 4, 8, 0))
        third = make_complaint(bob, title="账单金额错误", stage="acknowledged", acknowledged_at=datetime(2026, 11, 4, 8, 40))
        clock.freeze(None)
    return first, second, third


def test_xlsx_export_has_headers_types_and_human_values(manager, complaints):
    workbook = read_xlsx(manager.get("/admin/complaint/export/xlsx/"))
    sheet = workbook.active
    rows = list(sheet.iter_rows())
    headers = [cell.value for cell in rows[0]]
    assert headers[:9] == ["Number", "Title", "Customer", "Branch", "Channel", "Category", "Severity", "Stage",
                           "Received at"]
    assert {"First responder", "Next deadline", "Acknowledge due", "Acknowledged at", "Closed at",
            "Compensation amount"} <= set(headers)
    assert len(rows) == 4
    col = {name: index for index, name in enumerate(headers)}
    by_title = {row[1].value: row for row in rows[1:]}
    leak = by_title["热水器漏水：安装不规范"]
    assert leak[0].value == "问字【2026】001号"
    assert leak[2].value == "钱多多 (恒信科技有限公司)"        # related name, not an id
    assert leak[3].value == "江苏分公司"
    assert leak[col["Channel"]].value == "Phone" and leak[col["Severity"]].value == "High"  # choice labels
    assert leak[col["Stage"]].value == "Received"
    assert leak[col["First responder"]].value == "赵敏 (E0100)"
    assert leak[col["Responsible staff"]].value is None
    received = leak[col["Received at"]]
    assert received.data_type == "d" and received.value == datetime(2026, 11, 2, 9, 30)  # a real date cell
    assert received.number_format == "yyyy-mm-dd hh:mm"
    assert leak[col["Next deadline"]].value == datetime(2026, 11, 2, 10, 30)  # acknowledge due one hour later
    assert by_title["账单金额错误"][col["Stage"]].value == "Acknowledged"
    assert by_title["客服电话无人接听"][col["Channel"]].value == "Website"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(headers))}4"


def test_xlsx_numbers_are_numbers(app, manager, office):
    with app.app_context():
        customer = make_customer(office["branch"], name="大客户", churned=True)
        # a negative amount (stored before amounts were checked) still exports as a number
        Customer.update(monthly_spend=Decimal("-2500.75")).where(Customer.id == customer.id).execute()
    view = list_view(app, "customer")
    view.column_export_list = ["name", "monthly_spend", "churned", "first_deal_date"]
    try:
        view._refresh_cache()
        sheet = read_xlsx(manager.get("/admin/customer/export/xlsx/")).active
    finally:
        view.column_export_list = None
        view._refresh_cache()
    name, spend, churned, first_deal = next(sheet.iter_rows(min_row=2))
    assert spend.data_type == "n" and spend.value == -2500.75   # a negative number stays a number
    assert churned.value == "Yes"
    assert first_deal.value is None


def test_export_honours_search_filters_and_sort(app, manager, complaints):
    stage = filter_arg(app, "complaint", Complaint.stage)
    sheet = read_xlsx(manager.get(f"/admin/complaint/export/xlsx/?{stage}=received")).active
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(titles) == ["客服电话无人接听", "热水器漏水：安装不规范"]

    sheet = read_xlsx(manager.get("/admin/complaint/export/xlsx/?search=漏水")).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["热水器漏水：安装不规范"]

    view = list_view(app, "complaint")
    received = [name for name, _label in view._list_columns].index("received_at")
    rows = read_csv(manager.get(f"/admin/complaint/export/csv/?sort={received}"))
    assert [row[1] for row in rows[1:]] == ["热水器漏水：安装不规范", "客服电话无人接听", "账单金额错误"]
    rows = read_csv(manager.get(f"/admin/complaint/export/csv/?sort={received}&desc=1&page=1&page_size=1"))
    assert [row[1] for row in rows[1:]] == ["账单金额错误", "客服电话无人接听", "热水器漏水：安装不规范"]  # no paging
    title = [name for name, _label in view._list_columns].index("title")   # not sortable
    assert len(read_csv(manager.get(f"/admin/complaint/export/csv/?sort={title}&desc=1"))) == 4


def test_every_injection_probe_comes_back_as_text(app, manager, office):
    with app.app_context():
        for n, probe in enumerate(PROBES):
            customer = make_customer(office["branch"], name=probe, organisation="a=b", phone=f"1380000{n:04d}",
                                     address=probe)
            make_complaint(customer, title=probe)
    for endpoint, column in (("customer", 0), ("complaint", 1)):
        response = manager.get(f"/admin/{endpoint}/export/xlsx/")
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml   # not a single formula in the file
        sheet = read_xlsx(response).active
        cells = [row[column] for row in sheet.iter_rows(min_row=2)]
        assert len(cells) == len(PROBES)
        for cell in cells:
            assert cell.data_type == "s", (endpoint, cell.value)
            assert cell.style_id and cell.quotePrefix, cell.value  # Excel keeps it text when edited
        values = {cell.value for cell in cells}
        assert {"=1+1", "+SUM(A1:A2)", "-2+3", "@cmd"} <= values   # the text itself is unchanged
    customer_rows = list(read_xlsx(manager.get("/admin/customer/export/xlsx/")).active.iter_rows(min_row=2))
    assert all(row[1].value == "a=b" and not row[1].quotePrefix for row in customer_rows)


def test_csv_escapes_probes_and_quotes_like_excel(app, manager, office):
    with app.app_context():
        for n, probe in enumerate(PROBES + ['引号"和,逗号\n换行', "a=b"]):
            make_customer(office["branch"], name=probe, phone=f"1380000{n:04d}", organisation="-")
    response = manager.get("/admin/customer/export/csv/")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''Customers_" in disposition
    assert b'"\xe5\xbc\x95\xe5\x8f\xb7""' in response.data   # "引号"" : quotes doubled inside a quoted field
    assert b"\r\n" in response.data
    rows = read_csv(response)
    assert rows[0][:3] == ["Name", "Organisation", "Phone"]
    names = [row[0] for row in rows[1:]]
    for probe in PROBES:
        assert "'" + probe in names
    assert '引号"和,逗号\n换行' in names and "a=b" in names
    assert {row[1] for row in rows[1:]} == {"'-"}


def test_csv_is_streamed_header_first(app, manager, complaints):
    response = manager.get("/admin/complaint/export/csv/", buffered=False)
    assert response.is_streamed
    chunks = response.iter_encoded()
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbfNumber,Title,")
    assert first.count(b"\r\n") == 1  # the header went out before any row was read
    rest = b"".join(chunks)
    response.close()
    assert rest.count(b"\r\n") == 3


def test_exports_are_recorded_in_the_export_log(app, manager, complaints, office):
    stage = filter_arg(app, "complaint", Complaint.stage)
    manager.get(f"/admin/complaint/export/xlsx/?{stage}=received&search=漏水")
    manager.get("/admin/complaint/export/csv/").get_data()
    with app.app_context():
        logs = list(ExportLog.select().order_by(ExportLog.id))
    assert [(log.what, log.format, log.rows, log.username) for log in logs] == [
        ("complaint", "xlsx", 1, "manager"), ("complaint", "csv", 3, "manager")]
    assert logs[0].user_id == office["users"]["manager"].id
    assert "漏水" in logs[0].filters and "received" in logs[0].filters
    # the complaint register names its customers: personal data, and the log says which column
    assert logs[1].personal_data and json.loads(logs[1].filters) == {"personal_data": ["customer"]}


def test_staff_cannot_export_and_sees_no_export_button(app, login_as, manager, complaints):
    staff = login_as("staff")
    assert staff.get("/admin/complaint/export/xlsx/").status_code == 403
    assert staff.get("/admin/complaint/export/csv/").status_code == 403
    assert "/admin/complaint/export/" not in staff.get("/admin/complaint/").get_data(as_text=True)
    with app.app_context():
        assert ExportLog.select().count() == 0
    page = manager.get("/admin/complaint/?search=漏水").get_data(as_text=True)
    assert "/admin/complaint/export/xlsx/?search=" in page and "/admin/complaint/export/csv/?search=" in page


def test_unknown_format_is_404(manager):
    assert manager.get("/admin/complaint/export/xls/").status_code == 404


def test_every_model_list_exports(app, manager, complaints):
    from admin import MODEL_VIEWS
    admin = manager.http
    with app.app_context():
        from models import User
        User.update(role="admin").where(User.username == "manager").execute()
    for _view, _model, _label, _category, endpoint in MODEL_VIEWS:
        response = admin.get(f"/admin/{endpoint}/export/xlsx/")
        sheet = read_xlsx(response).active
        assert sheet.max_column >= 2, endpoint


def test_related_names_cost_one_query_whatever_the_row_count(app, manager, office):
    def queries_for_export():
        with count_queries(only_select=True) as counter:
            assert manager.get("/admin/complaint/export/xlsx/").status_code == 200
        return counter.count

    with app.app_context():
        customer = make_customer(office["branch"])
        make_complaint(customer)
    one = queries_for_export()
    with app.app_context():
        for _ in range(20):
            make_complaint(customer, first_responder=office["staff"], responsible_staff=office["other"])
    assert queries_for_export() == one  # 1 row or 21: the same statements, related names joined


def test_cli_export_writes_the_file_and_logs_it(app, complaints, tmp_path):
    out = tmp_path / "complaints.xlsx"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export", "complaints", "--format", "xlsx", "--out", str(out), "--lang", "en",
                                 "--query", "search=漏水"])
    assert result.exit_code == 0, result.output
    assert "1 rows written" in result.output
    sheet = openpyxl.load_workbook(out).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["热水器漏水：安装不规范"]
    assert sheet.cell(1, 1).value == "Number"

    out_csv = tmp_path / "complaints.csv"
    result = runner.invoke(args=["export", "complaint", "--format", "csv", "--out", str(out_csv)])
    assert result.exit_code == 0, result.output
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(out_csv.read_text("utf-8-sig").splitlines()) == 4
    with app.app_context():
        assert [(log.what, log.format, log.rows) for log in ExportLog.select().order_by(ExportLog.id)] == [
            ("complaint", "xlsx", 1), ("complaint", "csv", 3)]
        assert ExportLog.select().first().username.startswith("cli:")

    result = runner.invoke(args=["export", "nonsense", "--out", str(out)])
    assert result.exit_code != 0 and "unknown list" in result.output


def test_headers_and_labels_follow_the_ui_language(app, login_as, office):
    from flask_babel import force_locale
    from models import Customer
    with app.app_context():
        make_customer(office["branch"], name="周杰", churned=False)
    client = login_as("manager")
    client.http.set_cookie("lang", "zh_CN")
    rows = read_csv(client.get("/admin/customer/export/csv/"))
    with app.test_request_context("/"), force_locale("zh_CN"):
        expected = [str(Customer._meta.fields[name].verbose_name) for name in ("name", "organisation", "phone")]
    assert rows[0][:3] == expected
    assert rows[1][-1] == "否"   # the boolean "Lost" in Chinese
