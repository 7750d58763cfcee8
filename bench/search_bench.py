"""Search at a million complaints and a million customers: the search index against today's LIKE.

    .venv/bin/python bench/search_bench.py                       # 100,000 of each (a few minutes)
    .venv/bin/python bench/search_bench.py --rows 1000000        # the full run
    .venv/bin/python bench/search_bench.py --rows 1000000 --database postgresql://user:pw@127.0.0.1/bench

The data is realistic enough for the terms to have realistic frequencies: Chinese names drawn
from the common surnames (张伟 is about one customer in a thousand), organisations, unique
mobile numbers, complaint titles "subject + nature + what went wrong" from a vocabulary where
态度 is in about a quarter of the complaints and 烟道倒灌 in one in ten thousand.

For each query (a rare term, a common term, a 2-character name, a full complaint number, a
phone's last 4 digits, a term that matches nothing), on each list (complaints, customers):
- search: what the admin list runs for page 1 (models.search: the queue check, the count
  capped at 10,000, the ranked page of 20 rows), timed per run of those statements;
- LIKE: what the list ran before this index, in the same run: ILIKE '%…%' over the columns
  the list searched (complaints: number, title, description; customers: name, organisation,
  phone, contact person, e-mail), an exact COUNT and page 1 in the list's default order;
- request: the whole admin request (/admin/complaint/?search=…, logged in as a manager,
  through Flask) with the SQL statements it ran; and page 500 (the deepest page the
  10,000 cap offers at 20 rows a page) against page 1, for the common term and unfiltered.
It prints p50/p95, the ratio LIKE / search, and the size of the search index.
"""
import random
import time
from datetime import datetime, timedelta

from common import (arguments, describe_database, finish_complaint_numbering, insert_chunked, median, ms,
                    open_database, percentile, seed_office)
from listview_bench import StatementCounter, logged_in_client
from models import Complaint, Customer, db
from models import search
from models.base import is_sqlite
from models.complaints import CATEGORIES, CHANNELS, SEVERITIES, STAGES, format_number

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
SURNAME_WEIGHTS = [72, 70, 67, 54, 45, 31, 22, 21, 20, 19, 18, 15, 13, 12, 12, 11, 11, 10, 9, 9] + [5] * (len(SURNAMES) - 20)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏飞斌宇浩凯峰波宁晨欣怡婷雪琳晓东亮"
CITIES = ["南京", "兰州", "乌鲁木齐", "北京", "上海", "苏州", "银川", "西宁", "无锡", "常州"]
BRANDS = ["宏达", "恒信", "华远", "金桥", "新城", "博瑞", "天元", "安泰", "瑞丰", "东方", "长青", "海纳"]
TRADES = ["建材", "物业", "科技", "餐饮", "物流", "医药", "教育", "置业", "商贸", "电子"]
SUFFIXES = ["有限公司", "股份有限公司", "集团", "管理处", "服务中心"]
AGENCIES = ["市水务局", "区教育局", "市人民医院", "区政务服务中心", "市第一中学"]
SUBJECTS = ["维修人员", "客服专员", "安装师傅", "送货司机", "营业厅", "热线电话", "计费系统", "网上营业厅", "物业管家",
            "质检部门"]
NATURES = ["服务态度", "人为失误", "系统故障", "产品质量", "响应速度", "收费争议", "承诺未兑现"]
WHATS = ["上门迟到两小时", "态度冷淡不作解释", "多收费用未退还", "漏水问题反复出现", "预约后无人上门", "电话长时间无人接听",
         "发票开具错误", "配件质量不合格", "维修后再次损坏", "工作人员言语粗鲁", "账单金额与合同不符", "暖气不热",
         "网络频繁中断", "安装位置与约定不同", "退款迟迟未到账", "更换零件收费过高"]
RARE_WHAT = "厨房烟道倒灌"   # one complaint in RARE_SHARE
RARE_SHARE = 10_000
DEMANDS = ["尽快上门处理", "退还多收的费用", "更换负责人员", "书面道歉", "赔偿损失", "给出明确的处理时间"]


def customer_rows(count, branch_ids, rng):
    rows = []
    for _ in range(count):
        name = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        kind = rng.random()
        if kind < 0.35:
            organisation = f"{rng.choice(CITIES)}{rng.choice(BRANDS)}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
        elif kind < 0.45:
            organisation = rng.choice(CITIES) + rng.choice(AGENCIES)
        else:
            organisation = ""
        contact = (rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + rng.choice(GIVEN)) if organisation else ""
        rows.append({"name": name, "organisation": organisation, "contact_person": contact,
                     "phone": f"1{rng.choice('35789')}{rng.randrange(10 ** 9):09d}",
                     "email": f"kehu{rng.randrange(10 ** 7)}@example.cn" if rng.random() < 0.2 else "",
                     "branch": rng.choice(branch_ids), "grade": rng.choice(["vip", "regular", "regular", "internal"])})
    return rows


def complaint_rows(count, customer_ids, branch_ids, staff_ids, rng, seq_after):
    start = datetime(2021, 1, 1, 8, 0)
    span = (datetime(2026, 11, 1) - start).total_seconds()
    moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
    stages = [code for code, _ in STAGES]
    rows = []
    for received in moments:
        seq = seq_after[received.year] = seq_after.get(received.year, 0) + 1
        what = RARE_WHAT if rng.randrange(RARE_SHARE) == 0 else rng.choice(WHATS)
        stage = rng.choices(stages, [5, 5, 5, 5, 5, 75])[0]
        rows.append({
            "number": format_number(received.year, seq), "year": received.year, "seq": seq,
            "customer": rng.choice(customer_ids), "branch": rng.choice(branch_ids),
            "channel": rng.choice(CHANNELS)[0], "category": rng.choice(CATEGORIES)[0],
            "severity": rng.choice(SEVERITIES)[0], "stage": stage,
            "title": f"{rng.choice(SUBJECTS)}{rng.choice(NATURES)}：{what}",
            "description": f"客户来电反映{what}，要求{rng.choice(DEMANDS)}。",
            "received_at": received, "first_responder": rng.choice(staff_ids),
            "responsible_staff": rng.choice(staff_ids),
            "acknowledge_due_at": received + timedelta(hours=1), "result_due_at": received + timedelta(hours=24),
            "rectify_due_at": received + timedelta(hours=48), "callback_due_at": received + timedelta(hours=72),
            "due_at": None if stage == "closed" else received + timedelta(hours=24),
            "closed_at": received + timedelta(days=3) if stage == "closed" else None})
    return rows


def ensure_data(rows, rng):
    """`rows` customers and `rows` complaints, and their search index (built in bulk)."""
    from models import Branch, Staff
    have = Complaint.select().count()
    if have >= rows:
        return
    if have:
        raise SystemExit(f"the database has {have:,} complaints, fewer than {rows:,}: use an empty database")
    started = time.perf_counter()
    seed_office(customers=0, rng=rng)
    branch_ids = [b for (b,) in Branch.select(Branch.id).tuples()]
    staff_ids = [s for (s,) in Staff.select(Staff.id).tuples()]
    step = 100_000
    for first in range(0, rows, step):
        insert_chunked(Customer, customer_rows(min(step, rows - first), branch_ids, rng))
    customer_ids = [c for (c,) in Customer.select(Customer.id).tuples()]
    seq_after = {}
    for first in range(0, rows, step):
        insert_chunked(Complaint, complaint_rows(min(step, rows - first), customer_ids, branch_ids, staff_ids, rng,
                                                 seq_after))
    finish_complaint_numbering()
    loaded = time.perf_counter()
    counts = search.rebuild()
    print(f"seeded {rows:,} customers and complaints in {loaded - started:.0f} s, "
          f"indexed {sum(counts.values()):,} rows in {time.perf_counter() - loaded:.0f} s")
    from common import analyze
    analyze()


def queries():
    """(label, text) per list; the number and the phone tail are taken from the data."""
    middle = Complaint.select(Complaint.number).order_by(Complaint.id).offset(Complaint.select().count() // 2) \
        .limit(1).scalar()
    phone = Customer.select(Customer.phone).order_by(Customer.id).offset(Customer.select().count() // 3) \
        .limit(1).scalar()
    return [("rare term", "烟道倒灌"), ("common term", "态度"), ("2-char name", "张伟"),
            ("complaint number", middle), ("phone last 4", phone[-4:]), ("no match", "量子纠缠")]


LIKE_COLUMNS = {Complaint: ["number", "title", "description"],
                Customer: ["name", "organisation", "phone", "contact_person", "email"]}
DEFAULT_ORDER = {Complaint: Complaint.received_at.desc(), Customer: Customer.id.desc()}


def like_page(model, text, page_size=20):
    """What the list did before: every word ILIKE '%word%' in one of the columns, exact COUNT."""
    query = model.select()
    for word in text.split(" "):
        condition = None
        for name in LIKE_COLUMNS[model]:
            term = getattr(model, name) ** f"%{word}%"
            condition = term if condition is None else condition | term
        query = query.where(condition)
    count = query.count()
    return count, list(query.order_by(DEFAULT_ORDER[model]).limit(page_size))


def search_page(model, text, page=0, page_size=20, cap=10_000):
    """What the list runs now (models.search), without the rendering."""
    found = search.search(model.select(), text)
    count, more = search.count_capped(found.query, cap)
    return count, list(found.ordered(ranked=not more).limit(page_size).offset(page * page_size))


def timings(function, repeats, *args):
    counter = StatementCounter()
    db.obj.query_hooks.append(counter)
    try:
        result = function(*args)  # warm-up
        times, statements = [], set()
        for _ in range(repeats):
            counter.count = 0
            started = time.perf_counter()
            result = function(*args)
            times.append(time.perf_counter() - started)
            statements.add(counter.count)
    finally:
        db.obj.query_hooks.remove(counter)
    return median(times), percentile(times, 0.95), statements, result


def main():
    args = arguments(__doc__, rows=(100_000, "complaints and customers (1000000 for the full run)"),
                     repeats=(15, "runs per search measurement"),
                     like_repeats=(5, "runs per LIKE measurement (each scans the whole table)")).parse_args()
    rng = random.Random(args.seed)
    from app import create_app
    url = open_database(args.database)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        ensure_data(args.rows, rng)
        db.connect(reuse_if_open=True)
        search.sync()
        asked = queries()
        totals = {"complaint": Complaint.select().count(), "customer": Customer.select().count()}
        print(f"{totals['complaint']:,} complaints, {totals['customer']:,} customers")
        results = []
        for model in (Complaint, Customer):
            name = model._meta.table_name
            for label, text in asked:
                p50, p95, statements, (count, rows) = timings(search_page, args.repeats, model, text)
                l50, l95, _, (like_count, _rows) = timings(like_page, args.like_repeats, model, text)
                results.append((name, label, text, count, like_count, p50, p95, statements, l50, l95))
                print(f"  {name:<9} {label:<16} {text:<20} search p50 {ms(p50):>9} p95 {ms(p95):>9} "
                      f"({count:,}{'+' if count == 10_000 else ''} found, SQL {sorted(statements)})   "
                      f"LIKE p50 {ms(l50):>10} p95 {ms(l95):>10} ({like_count:,} found)   {l50 / p50:7.1f}x")
        sizes = search.index_size()
        table_sizes = {name: _table_size(name) for name in ("complaint", "customer")}
    client = logged_in_client(app)
    print("whole requests (Flask, logged in as a manager):")
    requests = []
    for endpoint in ("complaint", "customer"):
        for label, text in asked:
            p50, p95, statements, _ = timings(_get, args.repeats, client, f"/admin/{endpoint}/?search={text}")
            requests.append((endpoint, label, p50, p95, statements))
            print(f"  {endpoint:<9} {label:<16} p50 {ms(p50):>9} p95 {ms(p95):>9} SQL statements {sorted(statements)}")
        deep = [_get_timed(client, f"/admin/{endpoint}/?search=态度&page={page}", args.repeats) for page in (0, 499)]
        print(f"  {endpoint:<9} common term, page 1 vs page 500: p50 {ms(deep[0])} vs {ms(deep[1])} "
              f"({deep[1] / deep[0]:.2f}x)")
        unfiltered = [_get_timed(client, f"/admin/{endpoint}/?page={page}", args.repeats) for page in (0, 499)]
        print(f"  {endpoint:<9} unfiltered list, page 1 vs page 500 (the last offered): p50 {ms(unfiltered[0])} "
              f"vs {ms(unfiltered[1])} ({unfiltered[1] / unfiltered[0]:.2f}x)")
    describe_database(args.database or "a temporary SQLite file")
    print("search index size: " + ", ".join(f"{k} {v / 2 ** 20:,.0f} MiB (table itself {table_sizes[k] / 2 ** 20:,.0f} MiB)"
                                             for k, v in sizes.items()))
    print("\n| list | query | found | search p50 / p95 | LIKE p50 (found) | LIKE / search |")
    print("|---|---|---|---|---|---|")
    for name, label, text, count, like_count, p50, p95, _statements, l50, _l95 in results:
        found = f"{count:,}+" if count == 10_000 else f"{count:,}"
        print(f"| {name}s | {label} `{text}` | {found} | {p50 * 1000:,.1f} / {p95 * 1000:,.1f} ms | "
              f"{l50 * 1000:,.0f} ms ({like_count:,}) | {l50 / p50:,.0f}× |")
    slowest = max(r[6] for r in results)
    rare = [r for r in results if r[1] == "rare term"]
    print(f"slowest search p95 {ms(slowest)}; rare term LIKE/search: "
          + ", ".join(f"{r[0]} {r[8] / r[5]:.0f}x" for r in rare))


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def _get_timed(client, url, repeats):
    return timings(_get, repeats, client, url)[0]


def _table_size(name):
    if is_sqlite():
        return db.execute_sql("SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                             "(SELECT name FROM sqlite_master WHERE tbl_name = ?)", (name,)).fetchone()[0] or 0
    return db.execute_sql("SELECT pg_total_relation_size(%s)", (f'"{name}"',)).fetchone()[0]


if __name__ == "__main__":
    main()
