"""Customer import: template, preview with row-level errors, valid-only or all-or-nothing,
duplicates, and bad files refused with a message and nothing written."""
import io
import re
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from models import Customer, History

from .helpers import make_customer

HEADERS = ["Name *", "Organisation", "Phone", "Email", "Customer kind", "Grade", "Average monthly spend",
           "Branch *", "Account manager", "First deal date"]


@pytest.fixture(autouse=True)
def staging_dir(app, tmp_path):
    folder = tmp_path / "imports"
    app.config["IMPORT_STAGING_DIR"] = str(folder)
    return folder


def xlsx_file(rows, headers=HEADERS):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, data, filename="customers.xlsx"):
    return client.post("/admin/customer-import/preview/", {"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, page, mode):
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return client.post("/admin/customer-import/confirm/", {"token": token, "mode": mode})


def customer_count(app):
    with app.app_context():
        return Customer.select().count()


GOOD_ROWS = [
    ["刘洋", "恒信科技有限公司", 13912345678, "liu@example.com", "Enterprise", "Big customer / VIP", 3200.5,
     "江苏分公司", "E0002", datetime(2025, 3, 1)],
    ["陈静", "", "139-1234-5679", "", "household", "", "", "江苏分公司", "王芳", "2024/12/31"],
]


def test_template_has_the_headers_and_allowed_values(manager, office):
    response = manager.get("/admin/customer-import/template.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert headers[:4] == ["Name *", "Organisation", "Contact person", "Phone"]
    assert "Branch *" in headers and workbook.worksheets[0].max_row == 1
    allowed = [row for row in workbook.worksheets[1].iter_rows(values_only=True)]
    assert "江苏分公司" in [row[4] for row in allowed]
    assert "Enterprise" in [row[0] for row in allowed]
    assert workbook.worksheets[0].data_validations.dataValidation  # drop-down lists


def test_good_file_previews_then_imports(app, manager, office, staging_dir):
    before = customer_count(app)
    response = upload(manager, xlsx_file(GOOD_ROWS))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 rows read: 2 valid, 0 with errors." in page
    assert "刘洋" in page
    assert customer_count(app) == before            # a preview writes nothing
    assert len(list(staging_dir.iterdir())) == 1     # the upload waits on disk, not in the cookie
    assert "刘洋" not in manager.http.get_cookie("session").value

    response = confirm(manager, page, "all")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/customer/")
    with app.app_context():
        liu = Customer.get(Customer.name == "刘洋")
        assert liu.phone == "13912345678"                       # numeric cell read as digits
        assert (liu.kind, liu.grade) == ("enterprise", "vip")   # labels mapped to codes
        assert liu.monthly_spend == Decimal("3200.50")
        assert liu.branch_id == office["branch"].id and liu.account_manager_id == office["other"].id
        assert liu.first_deal_date == date(2025, 3, 1)
        chen = Customer.get(Customer.name == "陈静")
        assert chen.kind == "household" and chen.grade == "regular" and chen.first_deal_date == date(2024, 12, 31)
        assert chen.account_manager_id == office["staff"].id
        assert History.select().where(History.object_type == "Customer", History.action == "create").count() == 2
    assert list(staging_dir.iterdir()) == []          # staged file removed after the import
    assert "2 customers imported." in manager.get("/admin/customer/").get_data(as_text=True)


def test_bad_rows_are_listed_and_all_or_nothing_writes_nothing(app, manager, office):
    with app.app_context():
        make_customer(office["branch"], name="老客户", phone="13800001111", organisation="甘宁燃气公司")
    rows = [
        GOOD_ROWS[0],
        ["", "", "13700000000", "not-an-email", "Alien", "", "-5", "火星分公司", "E9999", "someday"],
        ["重复电话", "", "138 0000 1111", "", "", "", "", "江苏分公司", "", ""],
        ["老客户", "甘宁燃气公司", "", "", "", "", "", "江苏分公司", "", ""],
        ["文件内重复", "", "13912345678", "", "", "", "", "江苏分公司", "", ""],
    ]
    before = customer_count(app)
    page = upload(manager, xlsx_file(rows)).get_data(as_text=True)
    assert "5 rows read: 1 valid, 4 with errors." in page
    errors = re.findall(r'<tr><td class="text-right">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', page)
    by_cell = {(int(row), column): message for row, column, message in errors}
    assert "required" in by_cell[(3, "Name")]
    assert "email" in by_cell[(3, "Email")]
    assert "Alien" in by_cell[(3, "Customer kind")]
    assert "cannot be negative" in by_cell[(3, "Average monthly spend")]
    assert "火星分公司" in by_cell[(3, "Branch")]
    assert "E9999" in by_cell[(3, "Account manager")]
    assert "date" in by_cell[(3, "First deal date")]
    assert "老客户" in by_cell[(4, "Phone")]                 # same digits as an existing customer
    assert "老客户" in by_cell[(5, "Organisation")]          # same person in the same organisation
    assert "row 2" in by_cell[(6, "Phone")]                 # duplicate of an earlier row of the file

    response = confirm(manager, page, "all")
    assert response.status_code == 200
    assert "Nothing was imported: 4 rows have errors." in response.get_data(as_text=True)
    assert customer_count(app) == before

    response = confirm(manager, page, "valid")
    assert response.status_code == 302
    assert customer_count(app) == before + 1
    with app.app_context():
        assert Customer.select().where(Customer.name == "刘洋").count() == 1


@pytest.mark.parametrize("data, filename, message", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "photo.xlsx", "not an Excel workbook"),
    (b"PK\x03\x04 broken zip", "customers.xlsx", "could not be read as an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "customers.xls", "Excel 97-2003"),
    (b"%PDF-1.4 ...", "customers.pdf", "Only .xlsx and .csv"),
    (b"", "customers.csv", "The file is empty."),
    (b"\x00\x01\x02binary", "customers.csv", "not a text (.csv) file"),
])
def test_non_spreadsheet_uploads_are_refused(app, manager, office, staging_dir, data, filename, message):
    before = customer_count(app)
    response = upload(manager, data, filename)
    assert response.status_code == 302
    assert message in manager.get("/admin/customer-import/").get_data(as_text=True)
    assert customer_count(app) == before
    assert not staging_dir.exists() or list(staging_dir.iterdir()) == []


def test_wrong_headers_are_refused_with_the_reason(app, manager, office):
    data = xlsx_file([["张三", "江苏分公司", "x"]], headers=["Name", "Branch", "Shoe size"])
    upload(manager, data)
    page = manager.get("/admin/customer-import/").get_data(as_text=True)
    assert "unknown columns: Shoe size" in page
    upload(manager, xlsx_file([["张三"]], headers=["Name"]))
    assert "required columns missing: Branch" in manager.get("/admin/customer-import/").get_data(as_text=True)


def test_too_large_and_too_long_files_are_refused(app, manager, office):
    app.config["CUSTOMER_IMPORT_MAX_BYTES"] = 2000
    upload(manager, b"name,branch\n" + b"x,y\n" * 1000, "big.csv")
    assert "too large" in manager.get("/admin/customer-import/").get_data(as_text=True)
    app.config["CUSTOMER_IMPORT_MAX_BYTES"] = 5 * 1024 * 1024
    app.config["CUSTOMER_IMPORT_MAX_ROWS"] = 3
    upload(manager, xlsx_file([GOOD_ROWS[1]] * 4))
    assert "more than 3 rows" in manager.get("/admin/customer-import/").get_data(as_text=True)
    assert customer_count(app) == 0
    app.config["MAX_CONTENT_LENGTH"] = 10_000   # bigger than the whole request may be
    response = upload(manager, b"x" * 20_000, "huge.csv")
    assert response.status_code == 302
    assert "too large" in manager.get("/admin/customer-import/").get_data(as_text=True)


def test_csv_from_chinese_excel_in_gb18030(app, manager, office):
    text = "name,organisation,phone,branch,kind\r\n王小二,\"城建局,办公室\",13655556666,江苏分公司,政府机构\r\n"
    text = text.replace("政府机构", "government")
    page = upload(manager, text.encode("gb18030"), "customers.csv").get_data(as_text=True)
    assert "1 rows read: 1 valid" in page
    confirm(manager, page, "valid")
    with app.app_context():
        customer = Customer.get(Customer.name == "王小二")
        assert customer.organisation == "城建局,办公室" and customer.kind == "government"


def test_confirm_needs_the_matching_preview_of_this_session(app, manager, login_as, office):
    page = upload(manager, xlsx_file(GOOD_ROWS)).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    other = login_as("admin")   # another session cannot confirm this upload, even with its token
    other.http.set_cookie("lang", "en")
    response = other.post("/admin/customer-import/confirm/", {"token": token, "mode": "all"})
    assert response.status_code == 302
    assert "expired" in other.get("/admin/customer-import/").get_data(as_text=True)
    response = manager.post("/admin/customer-import/confirm/", {"token": "x" * 32, "mode": "all"})
    assert response.status_code == 302
    assert customer_count(app) == 0
    manager.post("/admin/customer-import/cancel/", {})
    response = manager.post("/admin/customer-import/confirm/", {"token": token, "mode": "all"})
    assert customer_count(app) == 0


def test_import_is_for_managers_only(login_as, office):
    staff = login_as("staff")
    assert staff.get("/admin/customer-import/").status_code == 403
    assert staff.get("/admin/customer-import/template.xlsx").status_code == 403
    response = staff.post("/admin/customer-import/preview/",
                          {"file": (io.BytesIO(xlsx_file(GOOD_ROWS)), "c.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 403


def test_a_manager_imports_into_their_own_branches_only(app, manager, office, staging_dir):
    """Another branch (and its staff as account managers) reads like an unknown one (models.scope)."""
    from .helpers import make_branch, make_staff
    with app.app_context():
        far = make_branch("新疆分公司", region="新疆")
        make_staff(far, "X0001", name="马超")
    before = customer_count(app)
    page = upload(manager, xlsx_file([["周杰", "", 13900001111, "", "household", "", "", "新疆分公司", "", ""],
                                      ["吴敏", "", 13900002222, "", "household", "", "", "江苏分公司", "X0001", ""],
                                      ["郑洁", "", 13900003333, "", "household", "", "", "江苏分公司", "E0002", ""]]))
    text = page.get_data(as_text=True)
    assert "新疆分公司" in text and "X0001" in text  # both refused, with the row's error
    response = confirm(manager, text, "valid")
    assert response.status_code == 302
    with app.app_context():
        assert customer_count(app) == before + 1
        assert Customer.get(Customer.name == "郑洁").branch_id == office["branch"].id
        assert not Customer.select().where(Customer.name.in_(["周杰", "吴敏"])).exists()
