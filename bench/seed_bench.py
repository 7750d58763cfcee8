"""Seeding speed: chunked insert_many against per-row create, for complaints and survey answers.

    .venv/bin/python bench/seed_bench.py                       # 100,000 rows each (about a minute)
    .venv/bin/python bench/seed_bench.py --rows 1000000         # the full 1M-row runs
    .venv/bin/python bench/seed_bench.py --database postgresql://user:pw@127.0.0.1/bench_db

Per-row `Model.create()` (one INSERT and one commit per row, as a naive import loop does) is
measured on a sample (--sample rows, in --repeats batches, median rate) and extrapolated to
--rows; so is plain `Model.insert_many(chunk).execute()` (on 10 x --sample rows). The bulk
path used for seeding, insert_many with the chunk statement generated once and each chunk's
parameters built a column at a time (see common.insert_chunked), is timed on all --rows.
The samples are taken when half of the rows are loaded, so every variant meets the same
table size, on the same connection with the same pragmas. Rows come in the order an office
creates them (complaints by receipt time, answers by response).
"""
import random
import time

from common import (ANSWERS_PER_RESPONSE, analyze, timed, arguments, complaint_rows, describe_database,
                    ensure_survey, finish_complaint_numbering, insert_chunked, median, open_database,
                    response_rows, answer_rows, seed_office, chunk_size)
from models import Answer, Complaint, Response, db


def per_row_rate(model, rows, repeats, in_transaction=False):
    """Median rows/s over `repeats` batches of Model.create(**row)."""
    rates = []
    size = len(rows) // repeats
    for batch in range(repeats):
        part = rows[batch * size:(batch + 1) * size]
        started = time.perf_counter()
        if in_transaction:
            with db.atomic():
                for row in part:
                    model.create(**row)
        else:
            for row in part:
                model.create(**row)
        rates.append(len(part) / (time.perf_counter() - started))
    return median(rates)


def plain_insert_many_rate(model, rows, repeats):
    rates = []
    size = len(rows) // repeats
    for batch in range(repeats):
        part = rows[batch * size:(batch + 1) * size]
        started = time.perf_counter()
        insert_chunked(model, part, reuse_statement=False)
        rates.append(len(part) / (time.perf_counter() - started))
    return median(rates)


def report(label, model, total, bulk_seconds, rate_plain, rate_autocommit, rate_transaction):
    bulk_rate = total / bulk_seconds
    print(f"\n{label}: {total:,} rows, insert_many chunks of {chunk_size(model)} rows, one transaction")
    print(f"  chunked insert_many, statement reused {bulk_rate:>9,.0f} rows/s {bulk_seconds:8.1f} s measured")
    print(f"  chunked insert_many, plain  {rate_plain:>10,.0f} rows/s   {total / rate_plain:8.1f} s "
          f"extrapolated   reused statement is {bulk_rate / rate_plain:.1f}x faster")
    print(f"  per-row create (autocommit)  {rate_autocommit:>10,.0f} rows/s   {total / rate_autocommit:8.1f} s "
          f"extrapolated   insert_many is {bulk_rate / rate_autocommit:.1f}x faster "
          f"(plain: {rate_plain / rate_autocommit:.1f}x)")
    print(f"  per-row create (1 txn)       {rate_transaction:>10,.0f} rows/s   {total / rate_transaction:8.1f} s "
          f"extrapolated   insert_many is {bulk_rate / rate_transaction:.1f}x faster "
          f"(plain: {rate_plain / rate_transaction:.1f}x)")


def bench(model, label, data, rows, sample, repeats):
    """Bulk-load the first half of `rows`, measure the per-row and plain insert_many rates on
    the samples there (so they meet a half-full table, the average of the load), then
    bulk-load the second half."""
    half = rows // 2
    first, samples, second = data[:half], data[half:half + 12 * sample], data[half + 12 * sample:rows + 12 * sample]
    seconds, _ = timed(insert_chunked, model, first)
    rate_autocommit = per_row_rate(model, samples[:sample], repeats)
    rate_transaction = per_row_rate(model, samples[sample:2 * sample], repeats, in_transaction=True)
    rate_plain = plain_insert_many_rate(model, samples[2 * sample:], repeats)
    more, _ = timed(insert_chunked, model, second)
    report(label, model, len(first) + len(second), seconds + more, rate_plain, rate_autocommit, rate_transaction)


def bench_complaints(rows, sample, repeats, rng):
    seed_office(rng=rng)
    data = complaint_rows(rows + 12 * sample, rng)  # in the order they were received
    bench(Complaint, "complaints", data, rows, sample, repeats)
    finish_complaint_numbering()
    assert Complaint.select().count() == rows + 12 * sample


def bench_answers(rows, sample, repeats, rng):
    survey, questions = ensure_survey()
    responses = (rows + 12 * sample) // ANSWERS_PER_RESPONSE + 1
    insert_chunked(Response, response_rows(survey, responses, rng))
    ids = [r for (r,) in Response.select(Response.id).order_by(Response.id).tuples()]
    data = answer_rows(questions, ids, rng)
    bench(Answer, "survey answers", data, rows, sample, repeats)


def main():
    args = arguments(__doc__, rows=(100_000, "rows to bulk insert per table (1000000 for the full run)"),
                     sample=(3000, "rows created one by one per variant, to measure the per-row rate"),
                     repeats=(3, "batches the sample is split into (the median rate is used)")).parse_args()
    url = open_database(args.database)
    describe_database(url)
    rng = random.Random(args.seed)
    bench_complaints(args.rows, args.sample, args.repeats, rng)
    bench_answers(args.rows, args.sample, args.repeats, rng)
    analyze()


if __name__ == "__main__":
    main()
