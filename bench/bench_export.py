"""Benchmark: export 100k complaints × 15 columns to xlsx.

    /work/main/.venv/bin/python bench/bench_export.py            # full run (also 500k rows)
    /work/main/.venv/bin/python bench/bench_export.py --quick    # skip the 500k step

Measured in the same run, on the same temporary SQLite database:
  raw      hand-written query of the same 15 values (related names joined) written with
           xlsxwriter constant_memory, worksheet.write_row (the baseline)
  ours     exports.rows.model_sheet + exports.writers.write_xlsx: the code behind
           /admin/<view>/export/xlsx/ (labels, choice labels, formula guard, typed cells)
Prints medians of several runs, the ratio ours/raw (target ≤ 1.5), the peak RSS growth of
an export in a fresh process (target ≤ 100 MB) and peak RSS at 500k rows / 100k rows
(target ≤ 1.2).
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = ["number", "title", "customer", "branch", "channel", "category", "severity", "stage", "received_at",
           "due_at", "first_responder", "responsible_staff", "acknowledged_at", "resolved_at",
           "compensation_amount"]


def make_app(db_path):
    from app import create_app
    return create_app({"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})


def generate(db_path, total, start=0):
    """Fill the database up to `total` complaints (bulk insert_many in chunks)."""
    from peewee import chunked

    from models import Branch, Complaint, Customer, Staff, create_tables, db
    from models.complaints import CATEGORIES, CHANNELS, SEVERITIES, STAGES, format_number
    rng = random.Random(2026 + start)
    with make_app(db_path).app_context():
        create_tables()
        with db.atomic():
            if not Branch.select().exists():
                Branch.insert_many([{"name": f"分公司{n:02d}", "region": rng.choice(["江苏", "甘宁", "新疆"])}
                                    for n in range(20)]).execute()
                Staff.insert_many([{"name": f"员工{n}", "employee_no": f"E{n:05d}", "branch": 1 + n % 20}
                                   for n in range(400)]).execute()
                customers = [{"name": f"客户{n}", "organisation": f"单位{n % 700}" if n % 3 else "",
                              "phone": f"139{n:08d}", "branch": 1 + n % 20} for n in range(20000)]
                for batch in chunked(customers, 500):
                    Customer.insert_many(batch).execute()
        fields = [Complaint.number, Complaint.year, Complaint.seq, Complaint.customer, Complaint.branch,
                  Complaint.channel, Complaint.category, Complaint.severity, Complaint.title, Complaint.description,
                  Complaint.received_at, Complaint.first_responder, Complaint.responsible_staff, Complaint.stage,
                  Complaint.due_at, Complaint.acknowledge_due_at, Complaint.acknowledged_at,
                  Complaint.result_due_at, Complaint.resolved_at, Complaint.compensation,
                  Complaint.compensation_amount]
        channels, categories = [c for c, _ in CHANNELS], [c for c, _ in CATEGORIES]
        severities, stages = [c for c, _ in SEVERITIES], [c for c, _ in STAGES]
        titles = ["维修人员服务态度：上门态度冷淡", "=HYPERLINK(\"x\")账单金额错误", "热水器漏水，安装不规范", "-客服电话无人接听"]
        base = datetime(2024, 1, 1, 8, 0)
        chunk = 1000
        for first in range(start, total, chunk):
            rows = []
            for n in range(first, min(first + chunk, total)):
                received = base + timedelta(minutes=7 * n)
                acknowledged = received + timedelta(minutes=rng.randint(5, 120)) if n % 4 else None
                rows.append((format_number(received.year, n + 1), received.year, n + 1, 1 + n % 20000, 1 + n % 20,
                             rng.choice(channels), rng.choice(categories), rng.choice(severities),
                             rng.choice(titles), "描述" * 20, received, 1 + n % 400, (1 + n * 7) % 400 or None,
                             rng.choice(stages), received + timedelta(hours=24), received + timedelta(hours=1),
                             acknowledged, received + timedelta(hours=24),
                             received + timedelta(hours=rng.randint(2, 40)) if n % 3 else None,
                             "compensation" if n % 10 == 0 else "none",
                             Decimal(rng.randint(-500, 5000)) / 4 if n % 10 == 0 else None))
            with db.atomic():
                Complaint.insert_many(rows, fields=fields).execute()


def _rss_kb(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def run_export(db_path, mode, limit, out):
    """One export; returns (seconds, rows). Runs inside the caller's process."""
    from models import Branch, Complaint, Customer, Staff
    from peewee import JOIN
    app = make_app(db_path)
    with app.test_request_context("/", headers={"Cookie": "lang=zh_CN"}):
        query = Complaint.select().order_by(Complaint.id)
        if limit:
            query = query.limit(limit)
        started = time.perf_counter()
        if mode == "raw":
            import xlsxwriter
            responder, responsible = Staff.alias(), Staff.alias()
            raw = (query.select(Complaint.number, Complaint.title, Customer.name, Branch.name, Complaint.channel,
                                Complaint.category, Complaint.severity, Complaint.stage, Complaint.received_at,
                                Complaint.due_at, responder.name, responsible.name, Complaint.acknowledged_at,
                                Complaint.resolved_at, Complaint.compensation_amount)
                   .join_from(Complaint, Customer, JOIN.LEFT_OUTER, on=(Complaint.customer == Customer.id))
                   .join_from(Complaint, Branch, JOIN.LEFT_OUTER, on=(Complaint.branch == Branch.id))
                   .join_from(Complaint, responder, JOIN.LEFT_OUTER, on=(Complaint.first_responder == responder.id))
                   .join_from(Complaint, responsible, JOIN.LEFT_OUTER,
                              on=(Complaint.responsible_staff == responsible.id))
                   .tuples())
            workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "default_date_format": "yyyy-mm-dd hh:mm"})
            sheet = workbook.add_worksheet()
            sheet.write_row(0, 0, COLUMNS)
            rows = 0
            for rows, values in enumerate(raw.iterator(), start=1):
                sheet.write_row(rows, 0, values)
            workbook.close()
        else:
            from exports.rows import model_sheet
            from exports.writers import write_xlsx
            fields = Complaint._meta.fields
            sheet = model_sheet("投诉", Complaint, query, [(name, fields[name].verbose_name) for name in COLUMNS])
            write_xlsx(out, [sheet])
            rows = sheet.count
        return time.perf_counter() - started, rows


def child(args):
    """Run one export in this fresh process and report time and memory as JSON."""
    before = _rss_kb("VmRSS")
    out = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False).name
    import app  # noqa: F401 - imports counted in the baseline, not in the growth
    import exports.writers  # noqa: F401
    import xlsxwriter  # noqa: F401
    before = _rss_kb("VmRSS")
    seconds, rows = run_export(args.db, args.mode, args.limit, out)
    result = {"seconds": seconds, "rows": rows, "rss_before_mb": before / 1024,
              "peak_mb": _rss_kb("VmHWM") / 1024, "growth_mb": (_rss_kb("VmHWM") - before) / 1024,
              "size_mb": os.path.getsize(out) / 1048576}
    os.unlink(out)
    print(json.dumps(result))


def measure(db_path, mode, limit=0):
    output = subprocess.run([sys.executable, __file__, "--child", "--db", str(db_path), "--mode", mode,
                             "--limit", str(limit)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per variant (median reported)")
    parser.add_argument("--quick", action="store_true", help="skip the 500k-row memory step")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["raw", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        started = time.perf_counter()
        generate(db_path, args.rows)
        print(f"generated {args.rows} complaints × {len(COLUMNS)} columns in {time.perf_counter() - started:.1f} s "
              f"({db_path.stat().st_size / 1048576:.0f} MB SQLite)")

        times = {"raw": [], "ours": []}
        memory = {}
        for run in range(args.runs):
            for mode in ("raw", "ours") if run % 2 == 0 else ("ours", "raw"):  # alternate to spread noise
                result = measure(db_path, mode)
                assert result["rows"] == args.rows, result
                times[mode].append(result["seconds"])
                memory.setdefault(mode, []).append(result)
        raw, ours = statistics.median(times["raw"]), statistics.median(times["ours"])
        print(f"raw xlsxwriter constant_memory : median {raw:.2f} s  runs {', '.join(f'{t:.2f}' for t in times['raw'])}")
        print(f"our export (exports.rows+writers): median {ours:.2f} s  runs {', '.join(f'{t:.2f}' for t in times['ours'])}")
        print(f"ratio ours/raw                  : {ours / raw:.2f}×   (target ≤ 1.5×)")
        growth = max(r["growth_mb"] for r in memory["ours"])
        raw_growth = max(r["growth_mb"] for r in memory["raw"])
        print(f"peak RSS growth, {args.rows} rows   : ours {growth:.1f} MB, raw {raw_growth:.1f} MB   (target ≤ 100 MB; "
              f"xlsx {memory['ours'][0]['size_mb']:.1f} MB)")

        if not args.quick:
            big = args.rows * 5
            started = time.perf_counter()
            generate(db_path, big, start=args.rows)
            print(f"generated up to {big} complaints in {time.perf_counter() - started:.1f} s")
            small_run = measure(db_path, "ours", limit=args.rows)
            big_run = measure(db_path, "ours")
            assert big_run["rows"] == big, big_run
            print(f"peak RSS at {args.rows} rows: {small_run['peak_mb']:.1f} MB (growth {small_run['growth_mb']:.1f}); "
                  f"at {big} rows: {big_run['peak_mb']:.1f} MB (growth {big_run['growth_mb']:.1f}); "
                  f"time {big_run['seconds']:.1f} s")
            print(f"RSS ratio {big} / {args.rows} rows : {big_run['peak_mb'] / small_run['peak_mb']:.2f}×   (target ≤ 1.2×)")


if __name__ == "__main__":
    main()
