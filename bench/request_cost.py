"""What one public survey request costs inside the app, without a server or network:
the form page, the POST that stores the answers, and the thank-you page, each through
Flask's test client on a SQLite file (WAL) with fresh invitations.

    /work/main/.venv/bin/python bench/request_cost.py [--n 1000] [--database URL]

Prints the median and p95 time and the SQL statements per request, and each page's time as
a ratio to the thank-you page measured in the same run (the smallest request that still
goes through sessions, CSRF, languages, the rate limiter and a database connection).
This is the CPU a server spends per request; bench/submit_bench.py measures the same
pages under 50 concurrent clients.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playhouse.test_utils import count_queries  # noqa: E402

from bench.common import arguments, median, open_database, percentile  # noqa: E402
from bench.submit_bench import CSRF, prepare  # noqa: E402
from models import db  # noqa: E402
from models.base import release_connections  # noqa: E402
from wsgi import create_wsgi_app  # noqa: E402


def main():
    args = arguments(__doc__.split("\n")[0], n=(1000, "submissions measured"),
                     warmup=(200, "submissions before measuring")).parse_args()
    url = open_database(args.database)
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    _survey, form, tokens = prepare(args.warmup + args.n)
    db.close()
    release_connections()
    app = create_wsgi_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    times = {"form page (GET)": [], "answers (POST)": [], "thank-you page": []}
    statements = {}
    for index, token in enumerate(tokens):
        path = f"/s/i/{token}"
        with count_queries() as counter:
            started = time.perf_counter()
            page = client.get(path)
            got = time.perf_counter()
        statements["form page (GET)"] = counter.count
        csrf = CSRF.search(page.get_data(as_text=True)).group(1)
        with count_queries() as counter:
            posted = time.perf_counter()
            answer = client.post(path, data={**form, "csrf_token": csrf})
            done = time.perf_counter()
        statements["answers (POST)"] = counter.count
        if answer.status_code != 302:
            raise SystemExit(f"submission refused: {answer.status_code}")
        with count_queries() as counter:
            thanked = time.perf_counter()
            client.get(answer.headers["Location"])
            end = time.perf_counter()
        statements["thank-you page"] = counter.count
        if index >= args.warmup:
            for name, seconds in zip(times, (got - started, done - posted, end - thanked)):
                times[name].append(seconds)
    baseline = median(times["thank-you page"])
    print(f"{args.n} submissions after {args.warmup} warm-up, in-process, {url.split(':')[0]}")
    for name, values in times.items():
        print(f"  {name:16} median {median(values) * 1000:5.2f} ms   p95 {percentile(values, 0.95) * 1000:5.2f} ms   "
              f"{statements[name]} SQL statements   {median(values) / baseline:4.1f}x the thank-you page")
    total = sum(median(values) for values in times.values())
    print(f"  one customer (all three): {total * 1000:.2f} ms, at most {2 / total:.0f} customers/s on two cores "
          "if nothing else ran")


if __name__ == "__main__":
    main()
