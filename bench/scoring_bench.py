"""Scoring queries over many survey answers: time per query, and the plan the database uses.

    .venv/bin/python bench/scoring_bench.py                    # 200,000 answers
    .venv/bin/python bench/scoring_bench.py --rows 1000000      # the full 1M-answer run
    .venv/bin/python bench/scoring_bench.py --database postgresql://user:pw@127.0.0.1/bench_db

The queries are the aggregates the scoring views need, written portably with peewee (CASE,
not SUM over booleans): mean per dimension, NPS per branch, CSAT per branch over the last
12 months, SERVQUAL gap per dimension, service-star votes. Each is run --repeats times
(median and worst printed) and must stay under --budget seconds. The baseline is a plain
COUNT(*) over all answers, timed in the same run. EXPLAIN (QUERY PLAN) is printed for each;
on SQLite a full table scan of `answer` (no index) is reported as a failure.

--index-effect also times the queries with the scoring index of migration 1 dropped and
then restores it, so the index's effect is measured in the same run.
"""
import random
import time
from datetime import datetime, timedelta

from peewee import Case, fn

from common import arguments, describe_database, ensure_answers, median, ms, open_database
from models import Answer, Question, Response, db
from models.base import is_sqlite
from models.migrations import Schema, index_name

SCORING_INDEX = ("answer", ["response_id", "question_id", "value"])  # migration 1


def mean_per_dimension():
    return (Answer.select(Question.dimension, fn.AVG(Answer.value), fn.COUNT(Answer.id))
            .join(Question).where(Question.kind == "rating", Answer.value.is_null(False))
            .group_by(Question.dimension))


def nps_per_branch():
    promoters = fn.SUM(Case(None, [(Answer.value >= 9, 1)], 0))
    detractors = fn.SUM(Case(None, [(Answer.value <= 6, 1)], 0))
    return (Answer.select(Response.branch, promoters, detractors, fn.COUNT(Answer.id))
            .join(Question, on=(Answer.question == Question.id))
            .switch(Answer).join(Response, on=(Answer.response == Response.id))
            .where(Question.kind == "score", Answer.value.is_null(False))
            .group_by(Response.branch))


def csat_per_branch_last_year(until=datetime(2026, 11, 1)):
    satisfied = fn.SUM(Case(None, [(Answer.value >= 4, 1)], 0))
    return (Answer.select(Response.branch, satisfied, fn.COUNT(Answer.id))
            .join(Question, on=(Answer.question == Question.id))
            .switch(Answer).join(Response, on=(Answer.response == Response.id))
            .where(Question.kind == "rating", Answer.value.is_null(False),
                   Response.submitted_at >= until - timedelta(days=365), Response.submitted_at < until)
            .group_by(Response.branch))


def servqual_gap_per_dimension():
    return (Answer.select(Question.dimension, fn.AVG(Answer.value - Answer.expectation), fn.COUNT(Answer.id))
            .join(Question).where(Question.kind == "servqual", Answer.value.is_null(False),
                                  Answer.expectation.is_null(False))
            .group_by(Question.dimension))


def service_star_votes():
    votes = fn.COUNT(Answer.id)
    return (Answer.select(Answer.staff, votes).join(Question)
            .where(Question.kind == "staff", Answer.staff.is_null(False))
            .group_by(Answer.staff).order_by(votes.desc()).limit(10))


QUERIES = [
    ("mean per dimension", mean_per_dimension),
    ("NPS per branch", nps_per_branch),
    ("CSAT per branch, last 12 months", csat_per_branch_last_year),
    ("SERVQUAL gap per dimension", servqual_gap_per_dimension),
    ("service-star votes, top 10", service_star_votes),
]


def plan(query):
    sql, params = query.sql()
    if is_sqlite():
        return [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    return [row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall()]


def full_scan_of_answer(lines):
    """SQLite: 'SCAN answer' without an index is a full table scan of the big table."""
    return [line for line in lines if line.startswith("SCAN answer") and "INDEX" not in line]


def timed_runs(function, repeats):
    """The first run (cold cache) is reported apart; the rest are the measurement."""
    started = time.perf_counter()
    list(function().tuples())
    cold = time.perf_counter() - started
    times = [cold] if repeats <= 1 else []
    for _ in range(repeats):
        started = time.perf_counter()
        rows = list(function().tuples())
        times.append(time.perf_counter() - started)
    return times, rows, cold


def main():
    args = arguments(__doc__, rows=(200_000, "survey answers (1000000 for the full run)"),
                     repeats=(5, "runs per query"), budget=(1.0, "seconds allowed per query"))
    args.add_argument("--index-effect", action="store_true", help="also time the queries without migration 1's index")
    args = args.parse_args()
    url = open_database(args.database)
    ensure_answers(args.rows, random.Random(args.seed))
    describe_database(url)
    total = Answer.select().count()
    base_times, _, _ = timed_runs(lambda: Answer.select(fn.COUNT(Answer.id)), args.repeats)
    baseline = median(base_times)
    print(f"{total:,} answers; baseline COUNT(*) over all answers: median {ms(baseline)}\n")
    failures = []
    for label, function in QUERIES:
        times, rows, cold = timed_runs(function, args.repeats)
        middle, worst = median(times), max(times)
        lines = plan(function())
        scans = full_scan_of_answer(lines) if is_sqlite() else []
        verdict = "ok" if worst <= args.budget and not scans else "FAIL"
        if verdict != "ok":
            failures.append(label)
        print(f"{label}: median {ms(middle)}, worst {ms(worst)} ({middle / baseline:.1f}x the COUNT(*) baseline), "
              f"first (cold) run {ms(cold)}, {len(rows)} result rows, budget {args.budget:.1f} s: {verdict}")
        for line in lines:
            print(f"    {line}")
        for line in scans:
            print(f"    ^ full scan of answer without an index: {line}")
        print()
    if args.index_effect:
        index_effect(args.repeats)
    if failures:
        raise SystemExit(f"over budget or scanning: {', '.join(failures)}")


def index_effect(repeats):
    table, columns = SCORING_INDEX
    name = index_name(table, columns)
    with_index = {label: median(timed_runs(function, repeats)[0]) for label, function in QUERIES}
    db.execute_sql(f'DROP INDEX "{name}"')
    try:
        without = {label: median(timed_runs(function, repeats)[0]) for label, function in QUERIES}
    finally:
        Schema(db.obj).add_index(table, columns)
    print(f"effect of index {name} (median without -> with):")
    for label, _ in QUERIES:
        print(f"  {label:<34} {ms(without[label]):>10} -> {ms(with_index[label]):>10}  "
              f"{without[label] / with_index[label]:.1f}x")


if __name__ == "__main__":
    main()
