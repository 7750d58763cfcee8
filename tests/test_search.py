"""Search: one box per list finds complaints and customers by every field a caller gives, on
SQLite and PostgreSQL, through the index (models/search.py) kept in sync on every write path;
input is literal, exact numbers and phones come first, counts stop at the cap."""
import html
import io
import json
import re
from urllib.parse import quote

import openpyxl
import pytest

from models import Complaint, Customer, db, search
from models.base import is_sqlite
from models.ownership import hand_over

from .helpers import count_queries, make_branch, make_complaint, make_customer, make_staff


@pytest.fixture
def people(app, office):
    """Two customers and their complaints, plus an unrelated one (what must not be found)."""
    branch = office["branch"]
    zhang = make_customer(branch, name="张伟", organisation="南京市水务局", contact_person="陈主任",
                          phone="138-0013-8000", email="zhang.wei@example.cn")
    wang = make_customer(branch, name="王芳", organisation="恒信科技有限公司", contact_person="刘经理",
                         phone="+86 139 1234 5678", email="wang@hengxin.cn")
    complaints = {
        "leak": make_complaint(zhang, title="物业管家响应速度：漏水三天无人处理", description="客户来电反映厨房烟道倒灌。"),
        "rude": make_complaint(wang, title="维修人员服务态度：上门态度冷淡", description="未作任何解释。"),
        "bill": make_complaint(make_customer(branch, name="李娜", phone="13700001111"),
                               title="账单收费争议：多收费用", description="要求退还。"),
    }
    return {"zhang": zhang, "wang": wang, **complaints}


def complaint_numbers(client, text, **args):
    query = "&".join([f"search={quote(text)}"] + [f"{k}={v}" for k, v in args.items()])
    response = client.get(f"/admin/complaint/?{query}")
    assert response.status_code == 200, text
    return re.findall(r'<td class="col-number">\s*(问字【\d{4}】\d+号)', response.get_data(as_text=True))


def customer_names(client, text):
    response = client.get(f"/admin/customer/?search={quote(text)}")
    assert response.status_code == 200, text
    return [html.unescape(re.sub(r"<[^>]+>", "", name)).strip() for name in  # the name links to the customer page
            re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', response.get_data(as_text=True), re.S)]


# ---------------------------------------------------------------- finding by every field

@pytest.mark.parametrize("field,text,expected", [
    ("title", "漏水", ["leak"]),
    ("title, 2 characters", "态度", ["rude"]),
    ("description", "烟道倒灌", ["leak"]),
    ("customer name", "张伟", ["leak"]),
    ("customer name, one character", "伟", ["leak"]),
    ("organisation", "水务局", ["leak"]),
    ("organisation, latin case folded", "恒信科技", ["rude"]),
    ("phone as stored", "138-0013-8000", ["leak"]),
    ("phone digits only", "13800138000", ["leak"]),
    ("phone with spaces", "138 0013 8000", ["leak"]),
    ("phone with country code", "+8613912345678", ["rude"]),
    ("phone last 4 digits", "5678", ["rude"]),
    ("phone being typed", "1391234", ["rude"]),
    ("two words, both must match", "张伟 漏水", ["leak"]),
    ("two words, one does not match", "张伟 态度", []),
    ("name and phone in groups", "张伟 138 0013 8000", ["leak"]),
    ("full-width digits", "１３７００００１１１１", ["bill"]),
])
def test_complaints_are_found_by_every_field(app, en, people, field, text, expected):
    assert complaint_numbers(en(), text) == [people[key].number for key in expected], field


def test_complaints_are_found_by_their_number_however_it_is_typed(app, en, people):
    complaint = people["rude"]
    staff = en()
    for text in (complaint.number, f"{complaint.year}-{complaint.seq}", f"{complaint.year}/{complaint.seq:03d}",
                 f"[{complaint.year}]{complaint.seq}", f"{complaint.seq}号", f"{complaint.seq:03d}", str(complaint.seq)):
        assert complaint_numbers(staff, text)[0] == complaint.number, text


@pytest.mark.parametrize("text,expected", [
    ("张伟", ["张伟"]), ("水务局", ["张伟"]), ("陈主任", ["张伟"]), ("刘经理", ["王芳"]),
    ("13800138000", ["张伟"]), ("8000", ["张伟"]), ("139 1234 5678", ["王芳"]),
    ("zhang.wei@example.cn", ["张伟"]), ("hengxin", ["王芳"]), ("HengXin.CN", ["王芳"]),
    ("恒信 刘经理", ["王芳"]), ("不存在的客户", []),
])
def test_customers_are_found_by_name_organisation_contact_phone_and_email(app, en, people, text, expected):
    assert customer_names(en(), text) == expected


def test_a_complaint_edited_after_creation_is_found_by_its_new_text_only(app, en, office, people):
    complaint = people["bill"]
    staff = en()
    response = staff.post(f"/admin/complaint/edit/?id={complaint.id}", {
        "customer": complaint.customer_id, "branch": office["branch"].id, "channel": "phone", "category": "other",
        "severity": "normal", "title": "发票开具错误：抬头写错", "description": "客户要求重开发票。",
        "compensation": "none"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert complaint_numbers(staff, "抬头写错") == [complaint.number]
    assert complaint_numbers(staff, "发票 抬头") == [complaint.number]
    assert complaint_numbers(staff, "多收费用") == []


def test_a_renamed_customer_finds_their_complaints_by_the_new_name(app, en, office, people):
    zhang = people["zhang"]
    manager = en("manager")
    response = manager.post(f"/admin/customer/edit/?id={zhang.id}", {
        "name": "张伟强", "organisation": "南京市水务集团", "phone": "025-86001234", "branch": office["branch"].id,
        "kind": "government", "grade": "regular", "lifecycle": "new", "deal_state": "none"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert complaint_numbers(manager, "水务集团") == [people["leak"].number]
    assert complaint_numbers(manager, "86001234") == [people["leak"].number]
    assert complaint_numbers(manager, "水务局") == []
    # the whole tail first, then a phone with the digit group 1234 as typed
    assert customer_names(manager, "1234") == ["张伟强", "王芳"]


def test_a_deleted_complaint_and_customer_leave_the_index(app, en, people):
    manager = en("manager")
    bill = people["bill"]
    assert manager.post("/admin/complaint/delete/", {"id": bill.id}).status_code == 302
    assert complaint_numbers(manager, "多收费用") == []
    assert manager.post("/admin/customer/delete/", {"id": bill.customer_id}).status_code == 302
    assert customer_names(manager, "李娜") == []
    with app.app_context():
        assert search.search(Complaint.select(), "多收费用").query.count() == 0


def test_a_customer_imported_from_xlsx_is_found(app, en, office, tmp_path):
    app.config["IMPORT_STAGING_DIR"] = str(tmp_path / "imports")
    manager = en("manager")
    workbook = openpyxl.Workbook()
    workbook.active.append(["Name *", "Organisation", "Contact person", "Phone", "Email", "Branch *"])
    workbook.active.append(["欧阳娜娜", "金桥物业管理处", "赵师傅", "18912340077", "ouyang@jinqiao.cn", office["branch"].name])
    data = io.BytesIO()
    workbook.save(data)
    page = manager.post("/admin/customer-import/preview/", {"file": (io.BytesIO(data.getvalue()), "new.xlsx")},
                        content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    assert manager.post("/admin/customer-import/confirm/", {"token": token, "mode": "all"}).status_code == 302
    with app.app_context():  # the import indexed its rows itself: nothing is left queued
        assert db.execute_sql('SELECT COUNT(*) FROM "search_queue"').fetchone()[0] == 0
    for text in ("欧阳娜娜", "金桥物业", "赵师傅", "0077", "18912340077", "ouyang"):
        assert customer_names(manager, text) == ["欧阳娜娜"], text


def test_a_survey_follow_up_complaint_is_found_by_its_customer(app, en, office):
    from models import Invitation, Question, Survey
    from models.answers import submit_response
    with app.app_context():
        survey = Survey.create(title="回访问卷")
        rating = Question.create(survey=survey, position=1, text="您对处理结果的满意程度", kind="rating")
        customer = make_customer(office["branch"], name="司马光", phone="13655558888")
        _response, errors = submit_response(survey, {rating.id: "1"},
                                            invitation=Invitation.create(survey=survey, customer=customer))
        assert errors == {}
        followup = Complaint.get(Complaint.customer == customer)
    assert complaint_numbers(en(), "司马光") == [followup.number]
    assert complaint_numbers(en(), "8888") == [followup.number]


def test_any_write_path_is_seen_even_raw_sql(app, en, people):
    """The triggers queue what any statement changes; the next search indexes it first."""
    with app.app_context():
        db.execute_sql('UPDATE "complaint" SET "title" = \'燃气表读数异常\' WHERE "id" = '
                       + str(people["rude"].id))
        db.execute_sql('UPDATE "customer" SET "name" = \'欧阳修\' WHERE "id" = ' + str(people["wang"].id))
    staff = en()
    assert complaint_numbers(staff, "燃气表") == [people["rude"].number]
    assert complaint_numbers(staff, "欧阳修") == [people["rude"].number]
    assert complaint_numbers(staff, "态度冷淡") == []


# ---------------------------------------------------------------- literal input, odd input

def test_wildcards_are_literal_text(app, en, people):
    staff = en()
    for text in ("%", "_", "%%", "_%_", "\\", "*"):
        assert complaint_numbers(staff, text) == [], text
        assert customer_names(staff, text) == [], text
    assert complaint_numbers(staff, "漏水%") == [people["leak"].number]  # % separates words like a space
    assert complaint_numbers(staff, "漏_") == [people["leak"].number]


def test_other_lists_take_percent_and_underscore_literally(app, en, office):
    from models import Survey
    with app.app_context():
        Survey.create(title="满意度 100% 调查")
        Survey.create(title="季度调查")
    manager = en("manager")
    page = manager.get("/admin/survey/?search=%25").get_data(as_text=True)
    assert "100% 调查" in page and "季度调查" not in page
    page = manager.get("/admin/survey/?search=_").get_data(as_text=True)
    assert "季度调查" not in page and "100% 调查" not in page


ODD_INPUT = ["", " ", "　", "x" * 5000, "张" * 3000, "。，！？", '"', '""', "'", "*", "NEAR", "NEAR(a b)", "AND", "OR",
             "NOT", "-", "-态度", "态度*", "^态度", "a:*", "a & b | !c", "(", ")", "{x}", "col:value", "\\", "%00",
             "\x00", "\x01态度", "😀", "问字【", "【】号", "2026-", "-1", "99999999999999999999999999", "号",
             "0", "+", "<script>alert(1)</script>", "' OR 1=1 --", "Robert'); DROP TABLE complaint;--"]


@pytest.mark.parametrize("text", ODD_INPUT)
def test_no_input_makes_a_search_fail(app, en, people, text):
    staff = en("manager")
    for url in ("/admin/complaint/", "/admin/customer/", "/admin/callback/"):
        response = staff.get(f"{url}?search={quote(text)}")
        assert response.status_code == 200, (url, text)
        assert "<script>alert(1)" not in response.get_data(as_text=True)
    for endpoint, name in (("complaint", "customer"), ("callback", "complaint")):
        response = staff.get(f"/admin/{endpoint}/ajax/lookup/?name={name}&query={quote(text)}")
        assert response.status_code == 200, (endpoint, text)
        json.loads(response.get_data(as_text=True))
    with app.app_context():
        assert Complaint.select().count() == 3


def test_a_page_number_out_of_range_shows_a_page(app, en, people):
    staff = en()
    for page in ("-3", "99999999"):
        assert complaint_numbers(staff, "漏水", page=page) == [people["leak"].number]
        assert staff.get(f"/admin/complaint/?page={page}").status_code == 200


# ---------------------------------------------------------------- ranking, filters, sort

def test_the_exact_number_comes_first(app, en, people):
    older = people["leak"]
    newer = make_complaint(people["wang"], title=f"关于{older.number}的后续", description=f"客户再次来电，第{older.seq}次。")
    numbers = complaint_numbers(en(), f"{older.year}-{older.seq}")
    assert numbers == [older.number, newer.number]  # the newer one quotes the number: found, but second


def test_a_phone_finds_its_customer_and_the_last_4_digits_every_customer_with_that_tail(app, en, office, people):
    # (a phone number must look like one, models/validation.py: no customer's whole number is "8000")
    branch = office["branch"]
    tail = make_customer(branch, name="尾号相同", phone="13999998000")  # newer, same last 4 digits
    assert customer_names(en(), "8000") == ["尾号相同", "张伟"]  # newest first
    assert customer_names(en(), "13800138000") == ["张伟"]
    assert customer_names(en(), "139 9999 8000") == ["尾号相同"]
    assert tail.id > people["wang"].id


def test_the_exact_name_comes_before_longer_names(app, en, office, people):
    make_customer(office["branch"], name="张伟明", phone="13511112222")  # newer
    assert customer_names(en(), "张伟") == ["张伟", "张伟明"]


def test_filters_and_sort_still_apply_to_a_search(app, en, office, people):
    other = make_branch("甘宁分公司", region="甘宁")
    elsewhere = make_complaint(make_customer(other, name="张伟", phone="13300003333"), branch=other,
                               title="漏水：楼上渗水")
    staff = en("admin")  # two branches: read by an account that sees every branch (models.scope)
    assert complaint_numbers(staff, "漏水") == [elsewhere.number, people["leak"].number]
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "complaint")
    branch_filter = next(i for i, f in enumerate(view._filters) if str(f.name) == "Branch")
    assert complaint_numbers(staff, "漏水", **{f"flt0_{branch_filter}": other.id}) == [elsewhere.number]
    number_column = [name for name, _ in view._list_columns].index("number")
    assert complaint_numbers(staff, "漏水", sort=number_column) == [people["leak"].number, elsewhere.number]
    assert complaint_numbers(staff, "漏水", sort=number_column, desc=1) == [elsewhere.number, people["leak"].number]


def test_pickers_find_like_the_search_box(app, en, people):
    staff = en("manager")  # the branch manager sees the phone in full (models.privacy)
    found = json.loads(staff.get("/admin/complaint/ajax/lookup/?name=customer&query=8000").get_data(as_text=True))
    assert [label for _id, label in found] == ["张伟 (南京市水务局) · 138-0013-8000"]
    # staff who neither manage the customer's account nor own one of their open complaints see it masked
    with app.test_request_context():
        hand_over(people["leak"], make_staff(people["leak"].branch, "E0998", name="另一位"))
    found = json.loads(en().get("/admin/complaint/ajax/lookup/?name=customer&query=8000").get_data(as_text=True))
    assert [label for _id, label in found] == ["张伟 (南京市水务局) · 138****8000"]  # masked for other staff
    found = json.loads(staff.get(f"/admin/callback/ajax/lookup/?name=complaint&query={quote('张伟')}")
                       .get_data(as_text=True))
    assert [label.split()[0] for _id, label in found] == [people["leak"].number]
    found = json.loads(staff.get("/admin/callback/ajax/lookup/?name=complaint&query=%25").get_data(as_text=True))
    assert found == []


def test_statements_per_search_do_not_grow_with_the_page(app, en, office):
    for n in range(60):
        make_complaint(make_customer(office["branch"], name=f"张伟{n}", phone=f"1380000{n:04d}"),
                       title=f"服务态度：第{n}次")
    staff = en()
    complaint_numbers(staff, "张伟")  # the first search indexes the complaints just written
    counts = []
    for size in (20, 50):
        with count_queries() as counter:
            assert len(complaint_numbers(staff, "张伟 态度", page_size=size)) == size
        counts.append(counter.count)
        # nothing is read twice (the filters' option lists were once built twice per request)
        statements = [str(statement) for statement in counter.statements]
        assert len(statements) == len(set(statements)), statements
    assert counts[0] == counts[1]


# ---------------------------------------------------------------- capped count

@pytest.fixture
def many(app, office):
    """30 complaints about 态度 with a count cap of 25."""
    app.config["LIST_COUNT_CAP"] = 25
    customer = make_customer(office["branch"])
    return [make_complaint(customer, title=f"服务态度：第{n}次") for n in range(30)]


def test_counts_stop_at_the_cap_and_say_so(app, en, login_as, many):
    staff = en()
    page = staff.get("/admin/complaint/?search=态度").get_data(as_text=True)
    assert "List (25+)" in page
    assert "More than 25 rows match" in page
    assert set(re.findall(r"[?&]page=(\d+)", page)) == {"1"}  # two pages offered: rows 1-20 and 21-25
    assert len(complaint_numbers(staff, "态度")) == 20
    last = complaint_numbers(staff, "态度", page=1)
    assert last == [c.number for c in reversed(many)][20:25]  # the rows of the last page: within the cap
    assert complaint_numbers(staff, "态度", page=99) == last  # a page past the cap: the last one
    assert "List (25+)" in staff.get("/admin/complaint/").get_data(as_text=True)  # unfiltered lists too
    make_complaint(many[0].customer, title="燃气表读数异常")
    page = staff.get(f"/admin/complaint/?search={quote('燃气表')}").get_data(as_text=True)
    assert "List (1)" in page and "More than" not in page
    chinese = login_as("staff").get("/admin/complaint/?search=态度").get_data(as_text=True)
    assert "(25+)" in chinese and "符合条件的记录超过 25 条" in chinese


def test_past_the_cap_the_newest_come_first(app, en, many):
    assert complaint_numbers(en(), "态度") == [c.number for c in reversed(many)][:20]


def test_past_the_cap_a_column_sort_still_sorts_every_match(app, en, many):
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "complaint")
    number_column = [name for name, _ in view._list_columns].index("number")
    assert complaint_numbers(en(), "态度", sort=number_column) == [c.number for c in many][:20]


# ---------------------------------------------------------------- the index itself

def test_reindex_builds_the_index_again(app, people):
    with app.app_context():
        search.sync()
        table = "complaint_fts" if is_sqlite() else "complaint_search"
        db.execute_sql(f'DELETE FROM "{table}"')
        assert search.search(Complaint.select(), "漏水").query.count() == 0
        result = app.test_cli_runner().invoke(args=["reindex"])
        assert result.exit_code == 0, result.output
        assert "3 complaints" in result.output and "3 customers" in result.output
        assert [c.id for c in search.search(Complaint.select(), "漏水").query] == [people["leak"].id]


def test_upgrade_builds_the_index_of_a_database_from_before_it(app, people):
    from models.migrations import SchemaVersion, upgrade
    with app.app_context():
        for kind in ("complaint", "customer"):
            for event in ("insert", "update", "delete"):
                db.execute_sql(f'DROP TRIGGER IF EXISTS "{kind}_search_{event}"'
                               + ("" if is_sqlite() else f' ON "{kind}"'))
            db.execute_sql(f'DROP TABLE "{kind}_fts"' if is_sqlite() else f'DROP TABLE "{kind}_search"')
        db.execute_sql('DROP TRIGGER IF EXISTS "customer_search_complaints"' + ("" if is_sqlite() else ' ON "customer"'))
        db.execute_sql('DROP TABLE "search_queue"')
        upgrade()
        SchemaVersion.delete().where(SchemaVersion.version == 60).execute()
        applied = upgrade()
        assert (60, "search index of complaints and customers, and the triggers that keep it in sync "
                    "(models/search.py)") in applied
        assert [c.id for c in search.search(Complaint.select(), "张伟").query] == [people["leak"].id]
        make_customer(people["zhang"].branch, name="升级后新客户")
        assert [c.name for c in search.search(Customer.select(), "升级后").query] == ["升级后新客户"]


@pytest.mark.parametrize("text,terms", [
    ("问字【2026】001号", [("2026x1", False)]),
    ("2026-500000", [("2026x500000", False)]),
    ("500000号", [("500000", False)]),
    ("138 0013 8000", [("13800138000", True)]),
    ("服务态度", [("服务", False), ("务态", False), ("态度", False)]),
    ("张", [("张", True)]),
    ('"态度" NEAR -x*', [("态度", False), ("near", True), ("x", False)]),
    ("%_*", []),
    ("王芳 139-1234-5678", [("王芳", False), ("13912345678", True)]),
])
def test_query_terms(text, terms):
    assert search.parse(text).terms == terms


def test_document_tokens_cover_bigrams_phone_tails_and_numbers():
    tokens = set(search.complaint_tokens(2026, 7, "漏水：Room302", "", "张伟", "", "+86 138-0013-8000").split())
    assert {"漏水", "水", "room302", "room", "302", "张伟", "伟", "2026x7", "7", "007",
            "13800138000", "8000", "138", "0013"} <= tokens
    assert "2026" not in tokens  # the year alone would match a sixth of all complaints
