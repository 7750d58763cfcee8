"""The complaint list filtered by custom fields on a big database: p50/p95 of whole requests,
the plan the database chooses, and the effect of the (field, value, complaint) indexes.

    .venv/bin/python bench/custom_fields_bench.py                         # 100,000 complaints
    .venv/bin/python bench/custom_fields_bench.py --rows 1000000          # the full 1M-row run
    .venv/bin/python bench/custom_fields_bench.py --rows 1000000 --database postgresql://... \\
        --baseline-database postgresql://.../other_empty_db

Every complaint gets three custom values (3 value rows each): a single choice "product line"
(water 50 %, heating 30 %, gas 19 %, sewage 1 %), a text "contract number" (unique) and a
number "amount" (0-10,000). Requests go through the Flask test client as a logged-in manager
(routing, login, Flask-Admin's count and page queries, templates): the list filtered by a rare
choice (1 %), a common one (50 %), one contract number (1 row), an amount above 9,900 (1 %),
and the unfiltered list for comparison. The baseline is the same request on a database of
--baseline-rows complaints, measured in the same run. --index-effect measures the big database
again without the value indexes (then puts them back).
"""
import random
import re
import time
from decimal import Decimal

from common import (MANAGER, analyze, arguments, describe_database, ensure_complaints, insert_chunked, median, ms,
                    open_database, percentile)
from listview_bench import StatementCounter
from models import Complaint, db
from models.base import is_sqlite
from models.choices import ChoiceList, create_list
from models.custom_fields import ComplaintFieldValue, CustomField

LINES = [("water", "供水", "Water", 50), ("heating", "供暖", "Heating", 30), ("gas", "燃气", "Gas", 19),
         ("sewage", "污水", "Sewage", 1)]
VALUE_INDEXES = ["field_id, text, complaint_id", "field_id, number, complaint_id", "field_id, date, complaint_id"]


def ensure_fields():
    if CustomField.select().where(CustomField.entity == "complaint").exists():
        return {f.code: f for f in CustomField.select().where(CustomField.entity == "complaint")}
    lines = ChoiceList.get_or_none(ChoiceList.code == "complaint_product_line") or create_list(
        "complaint_product_line", "产品线", "Product line", [(c, zh, en) for c, zh, en, _share in LINES])
    return {
        "product_line": CustomField.create(entity="complaint", label_zh="产品线", label_en="Product line",
                                           kind="choice", choice_list=lines, in_list=True, in_filter=True),
        "contract_number": CustomField.create(entity="complaint", label_zh="合同编号", label_en="Contract number",
                                              kind="text", in_list=True, in_filter=True),
        "amount": CustomField.create(entity="complaint", label_zh="金额", label_en="Amount", kind="number",
                                     in_filter=True),
    }


def ensure_values(fields, rng):
    """Three value rows per complaint that has none yet (bulk insert)."""
    if ComplaintFieldValue.select().exists():
        return 0
    codes = [code for code, _zh, _en, share in LINES for _ in range(share)]
    last = 0
    written = 0
    while True:
        ids = [i for (i,) in Complaint.select(Complaint.id).where(Complaint.id > last).order_by(Complaint.id)
               .limit(100_000).tuples()]
        if not ids:
            break
        rows = []
        for complaint_id in ids:
            rows.append({"complaint": complaint_id, "field": fields["product_line"].id, "text": rng.choice(codes)})
            rows.append({"complaint": complaint_id, "field": fields["contract_number"].id,
                         "text": f"HT-{complaint_id:08d}"})
            rows.append({"complaint": complaint_id, "field": fields["amount"].id,
                         "number": Decimal(rng.randrange(0, 1_000_000)) / 100})
        for row in rows:
            row.setdefault("text", None)
            row.setdefault("number", None)
            row.setdefault("long_text", None)
            row.setdefault("date", None)
        insert_chunked(ComplaintFieldValue, rows)
        written += len(rows)
        last = ids[-1]
    analyze()
    return written


def logged_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1], "csrf_token": token})
    assert response.status_code == 302, "manager login failed"
    return client


def filter_urls(app, fields, sample_contract):
    """{label: list URL} with Flask-Admin's filter indexes for the custom-field filters."""
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "complaint")
    with app.test_request_context("/admin/complaint/"):
        view._refresh_custom_columns()
        index = {(f.field.code, f.op): i for i, f in enumerate(view._filters) if hasattr(f, "field")}
    return {
        "no filter": "/admin/complaint/",
        "choice 1 %": f"/admin/complaint/?flt0_{index[('product_line', 'eq')]}=sewage",
        "choice 50 %": f"/admin/complaint/?flt0_{index[('product_line', 'eq')]}=water",
        "text = 1 row": f"/admin/complaint/?flt0_{index[('contract_number', 'eq')]}={sample_contract}",
        "number > 1 %": f"/admin/complaint/?flt0_{index[('amount', 'gt')]}=9900",
    }


def measure(client, url, repeats):
    """(p50, p95, median time in SQL, rows shown) of `repeats` requests of `url`."""
    counter = StatementCounter()
    db.obj.query_hooks.append(counter)
    try:
        client.get(url)  # warm-up
        times, sql = [], []
        for _ in range(repeats):
            counter.seconds = 0.0
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            sql.append(counter.seconds)
            assert response.status_code == 200, (url, response.status_code)
    finally:
        db.obj.query_hooks.remove(counter)
    body = response.get_data(as_text=True)
    return median(times), percentile(times, 0.95), median(sql), body.count('<td class="list-buttons-column"')


def plan(field_id, value):
    """How the database finds the complaints of one custom value (first lines of its plan)."""
    query = (ComplaintFieldValue.select(ComplaintFieldValue.complaint)
             .where(ComplaintFieldValue.field == field_id, ComplaintFieldValue.text == value))
    sql, params = query.sql()
    if is_sqlite():
        rows = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "; ".join(str(row[-1]) for row in rows)
    rows = db.execute_sql("EXPLAIN " + sql, params).fetchall()
    return "; ".join(row[0].strip() for row in rows[:2])


def run(url, rows, repeats, label, rng):
    from app import create_app
    database_url = open_database(url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        started = time.perf_counter()
        ensure_complaints(rows, rng)
        fields = ensure_fields()
        written = ensure_values(fields, rng)
        if written:
            print(f"  {label}: seeded {Complaint.select().count():,} complaints and {written:,} custom values in "
                  f"{time.perf_counter() - started:.0f} s")
        sample = ComplaintFieldValue.select(ComplaintFieldValue.text).where(
            ComplaintFieldValue.field == fields["contract_number"].id).order_by(ComplaintFieldValue.id.desc()).scalar()
        urls = filter_urls(app, fields, sample)
        index_plan = plan(fields["product_line"].id, "sewage")
    client = logged_in_client(app)
    results = {}
    for name, list_url in urls.items():
        p50, p95, sql, shown = measure(client, list_url, repeats)
        results[name] = (p50, p95, sql)
        print(f"  {label:>9} {rows:>9,} complaints  {name:<14} p50 {ms(p50):>10}  p95 {ms(p95):>10}  "
              f"in SQL {ms(sql):>10}  ({shown} rows on the page)")
    return results, index_plan, app, fields


def drop_value_indexes():
    names = []
    for index in db.get_indexes("complaint_field_value"):
        if index.columns[:1] == ["field_id"] and len(index.columns) > 1:
            db.execute_sql(f'DROP INDEX "{index.name}"')
            names.append(index.name)
    return names


def main():
    args = arguments(__doc__, rows=(100_000, "complaints in the big database (1000000 for the full run)"),
                     baseline_rows=(1_000, "complaints in the baseline database"),
                     baseline_database=("", "database for the baseline (default: a new temporary SQLite file)"),
                     repeats=(15, "requests per measurement"),
                     index_effect=(0, "1: measure the big database again without the (field, value, complaint) "
                                      "indexes")).parse_args()
    rng = random.Random(args.seed)
    baseline_url = args.baseline_database or None
    print("baseline (same requests, small database):")
    small, _plan, _app, _fields = run(baseline_url, args.baseline_rows, args.repeats, "baseline", rng)
    print("big database:")
    big, index_plan, app, _fields = run(args.database, args.rows, args.repeats, "big", rng)
    describe_database(args.database or "a temporary SQLite file")
    print(f"plan of 'product line = sewage': {index_plan}")
    print("\nratios (big / baseline, p50):")
    for name, (p50, _p95, sql) in big.items():
        print(f"  {name:<14} {p50 / small[name][0]:6.1f}x   ({ms(small[name][0])} -> {ms(p50)}; "
              f"in SQL {ms(small[name][2])} -> {ms(sql)})")
    if args.index_effect:
        with app.app_context():
            dropped = drop_value_indexes()
            print(f"\nwithout the value indexes ({', '.join(dropped)}):")
            try:
                client = logged_in_client(app)
                with app.app_context():
                    sample = ComplaintFieldValue.select(ComplaintFieldValue.text).where(
                        ComplaintFieldValue.text.startswith("HT-")).order_by(ComplaintFieldValue.id.desc()).scalar()
                    urls = filter_urls(app, _fields, sample)
                for name, list_url in urls.items():
                    p50, p95, sql, _shown = measure(client, list_url, max(3, args.repeats // 3))
                    print(f"  {name:<14} p50 {ms(p50):>10}  p95 {ms(p95):>10}  in SQL {ms(sql):>10}   "
                          f"({p50 / big[name][0]:.1f}x the indexed p50)")
            finally:
                from models import create_tables
                create_tables()  # puts the indexes back
                analyze()


if __name__ == "__main__":
    main()
