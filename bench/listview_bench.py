"""Admin list views on a big table: p50/p95 of whole requests, and SQL statements per page.

    .venv/bin/python bench/listview_bench.py                  # 100,000 complaints and answers
    .venv/bin/python bench/listview_bench.py --rows 1000000    # the full 1M-row run
    .venv/bin/python bench/listview_bench.py --database sqlite:////tmp/big.db   # keep / reuse the data

Requests go through the Flask test client as a logged-in manager (routing, login, the
Flask-Admin view, templates), for the complaint list and the survey answer list, on page 1
and a deep page, with 20 and 100 rows per page. The deep page is the last one the list
offers: lists count up to LIST_COUNT_CAP rows (10,000) and offer pages up to there, so that
is the largest OFFSET a user can ask for (before the cap, the benchmark used the middle of
the list). The baseline is
the same request on a database of --baseline-rows rows, measured in the same run. The SQL
statement count per request must be the same for 20 and 100 rows (no query per row).
"""
import random
import re
import time

from common import (MANAGER, arguments, describe_database, ensure_answers, ensure_complaints, median, ms,
                    open_database, percentile)
from admin.base import DEFAULT_COUNT_CAP
from models import Answer, Complaint, db


class StatementCounter:
    """Counts SQL statements, and the time spent in them, through peewee's query hooks."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.slowest = (0.0, "")

    def __call__(self, event):
        self.count += 1
        self.seconds += event.duration
        self.slowest = max(self.slowest, (event.duration, event.sql))


def logged_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": MANAGER[0], "password": MANAGER[1], "csrf_token": token})
    assert response.status_code == 302, "manager login failed"
    return client


def measure(client, url, repeats, expect_rows):
    counter = StatementCounter()
    db.obj.query_hooks.append(counter)
    try:
        client.get(url)  # warm-up (template compilation, page cache)
        times, statements, sql_times = [], set(), []
        for _ in range(repeats):
            counter.count, counter.seconds = 0, 0.0
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            statements.add(counter.count)
            sql_times.append(counter.seconds)
            assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        rows = body.count('<td class="list-buttons-column"')
        assert rows == expect_rows, f"{url}: {rows} rows shown, expected {expect_rows}"
        return median(times), percentile(times, 0.95), statements, median(sql_times), counter.slowest
    finally:
        db.obj.query_hooks.remove(counter)


def run(url, rows, repeats, label, rng, verbose=False):
    from app import create_app
    database_url = open_database(url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        ensure_complaints(rows, rng)
        ensure_answers(rows, rng)
        counts = {"complaint": Complaint.select().count(), "answer": Answer.select().count()}
    client = logged_in_client(app)
    results = {}
    for endpoint, total in counts.items():
        for page_size in (20, 100):
            deep = min(total, DEFAULT_COUNT_CAP) // page_size - 1
            for page_label, page in (("page 1", 0), (f"page {deep + 1:,}", deep)):
                p50, p95, statements, sql, slowest = measure(
                    client, f"/admin/{endpoint}/?page={page}&page_size={page_size}", repeats, page_size)
                results[(endpoint, page_size, page_label.split()[0] + (" 1" if page == 0 else " deep"))] = (
                    p50, p95, statements)
                print(f"  {label:>9} {endpoint:<9} {total:>9,} rows  {page_size:>3}/page  {page_label:<13} "
                      f"p50 {ms(p50):>10}  p95 {ms(p95):>10}  SQL statements {sorted(statements)}, "
                      f"{ms(sql)} in SQL")
                if verbose:
                    print(f"            slowest statement {ms(slowest[0])}: {slowest[1][:160]}")
    return results


def main():
    args = arguments(__doc__, rows=(100_000, "complaints and answers in the big database (1000000 for the full run)"),
                     baseline_rows=(1_000, "rows in the baseline database"),
                     baseline_database=("", "database for the baseline (default: a new temporary SQLite file; "
                                            "give an empty PostgreSQL database when --database is PostgreSQL)"),
                     repeats=(15, "requests per measurement")).parse_args()
    rng = random.Random(args.seed)
    baseline_url = args.baseline_database or None
    run(baseline_url, args.baseline_rows, 2, "warm-up", random.Random(args.seed))  # imports, templates, caches
    print("baseline (same requests, small database):")
    small = run(baseline_url, args.baseline_rows, args.repeats, "baseline", rng)
    print("big database:")
    big = run(args.database, args.rows, args.repeats, "big", rng, verbose=True)
    describe_database(args.database or "a temporary SQLite file")
    print("\nratios (big / baseline, p50):")
    constant = True
    for key, (p50, _, _statements) in big.items():
        base = small[key][0]
        print(f"  {key[0]:<9} {key[1]:>3}/page {key[2]:<7} {p50 / base:6.1f}x   ({ms(base)} -> {ms(p50)})")
    for endpoint in ("complaint", "answer"):
        for where in ("page 1", "page deep"):
            per_size = {size: big[(endpoint, size, where)][2] for size in (20, 100)}
            same = per_size[20] == per_size[100] and len(per_size[20]) == 1
            constant &= same
            print(f"  {endpoint:<9} {where:<9}: SQL statements per request, 20 rows {sorted(per_size[20])} "
                  f"vs 100 rows {sorted(per_size[100])}: {'constant' if same else 'NOT CONSTANT'}")
    if not constant:
        raise SystemExit("query count depends on the page size")


if __name__ == "__main__":
    main()
