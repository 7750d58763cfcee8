"""Shared parts of the benchmarks: a database to run on, bulk seeding, statistics.

Every benchmark runs on a throw-away SQLite file by default (--database URL to point it
at PostgreSQL or at a kept file), and prints medians and ratios against a baseline that
is measured in the same run, on the same machine.
"""
import argparse
import atexit
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from itertools import chain
from operator import itemgetter
from pathlib import Path

from peewee import (AutoField, BigIntegerField, BooleanField, CharField, DateTimeField, FixedCharField,
                    ForeignKeyField, IntegerField, SmallIntegerField, TextField, fn)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import (Answer, Branch, Complaint, ComplaintCounter, Customer, Question, Response,  # noqa: E402
                    Staff, Survey, User, UserBranch, db)
from models import search  # noqa: E402
from models.base import bind_database, is_sqlite  # noqa: E402
from models.complaints import CATEGORIES, CHANNELS, SEVERITIES, STAGES, format_number  # noqa: E402
from models.migrations import upgrade  # noqa: E402

MANAGER = ("bench-manager", "bench-password-2026")
START = datetime(2021, 1, 1, 8, 0)


def arguments(description, **defaults):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="sqlite:///file or postgresql://... (default: a new temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    for name, (default, help_text) in defaults.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default, help=help_text)
    return parser


def open_database(url):
    """Bind the models to `url` (a temporary SQLite file when None), create the schema."""
    if not url:
        folder = tempfile.mkdtemp(prefix="servicedesk-bench-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # 1M rows take hundreds of MB
        url = f"sqlite:///{folder}/bench.db"
    bind_database(url)
    db.connect(reuse_if_open=True)
    upgrade()
    return url


def chunk_size(model, limit=30000):
    """Rows per INSERT: SQLite allows 32766 bound parameters per statement."""
    return max(1, min(1000, limit // len(model._meta.sorted_fields)))


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def percentile(values, share):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def median(values):
    return statistics.median(values)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


# ----------------------------------------------------------------------------- reference data

def seed_office(customers=2000, rng=None):
    """Branches, staff, customers and a manager login, unless already there. The manager is in
    charge of every branch (UserBranch links), so the lists it reads carry the branch scope's
    condition (models.scope) and still show every row."""
    rng = rng or random.Random(1)
    if Branch.select().exists():
        _manager_of_every_branch()
        return
    with db.atomic():
        branches = [Branch.create(name=f"{city}分公司", region=region, city=city)
                    for city, region in [("兰州", "甘宁"), ("南京", "江苏"), ("乌鲁木齐", "新疆"),
                                         ("北京", "华北"), ("上海", "华东")]]
        Staff.insert_many([{"name": f"员工{i:03d}", "employee_no": f"B{i:04d}", "branch": branches[i % 5].id}
                           for i in range(60)]).execute()
        rows = [{"name": f"客户{i:05d}", "phone": f"138{i:08d}", "branch": branches[i % 5].id,
                 "grade": rng.choice(["vip", "normal", "normal", "internal"])} for i in range(customers)]
        for start in range(0, len(rows), chunk_size(Customer)):
            Customer.insert_many(rows[start:start + chunk_size(Customer)]).execute()
        user = User(username=MANAGER[0], role="manager")
        user.set_password(MANAGER[1])
        user.save()
        _manager_of_every_branch()


def _manager_of_every_branch():
    user = User.get_or_none(User.username == MANAGER[0])
    if user is None:
        return
    for (branch_id,) in Branch.select(Branch.id).tuples():
        UserBranch.insert(user=user.id, branch=branch_id).on_conflict_ignore().execute()


# ----------------------------------------------------------------------------- complaints

def complaint_rows(count, rng, first_index=0):
    """`count` realistic complaint rows as dicts, numbered per year without gaps."""
    branch_ids = [b for (b,) in Branch.select(Branch.id).tuples()]
    customer_ids = [c for (c,) in Customer.select(Customer.id).tuples()]
    staff_ids = [s for (s,) in Staff.select(Staff.id).tuples()]
    stages = [code for code, _ in STAGES]
    per_year = {}
    span = (datetime(2026, 11, 1) - START).total_seconds()
    moments = sorted(START + timedelta(seconds=rng.random() * span) for _ in range(count))
    rows = []
    for index, received in enumerate(moments, start=first_index):
        seq = per_year[received.year] = per_year.get(received.year, 0) + 1
        stage = rng.choices(stages, [5, 5, 5, 5, 5, 75])[0]
        rows.append({
            "number": format_number(received.year, seq), "year": received.year, "seq": seq,
            "customer": rng.choice(customer_ids), "branch": rng.choice(branch_ids),
            "channel": rng.choice(CHANNELS)[0], "category": rng.choice(CATEGORIES)[0],
            "severity": rng.choice(SEVERITIES)[0], "stage": stage,
            "title": f"维修人员服务态度：第{index}号上门态度冷淡", "description": "客户来电反映上门人员态度冷淡，未作解释。",
            "received_at": received, "first_responder": rng.choice(staff_ids),
            "responsible_staff": rng.choice(staff_ids),
            "acknowledge_due_at": received + timedelta(hours=1), "result_due_at": received + timedelta(hours=24),
            "rectify_due_at": received + timedelta(hours=48), "callback_due_at": received + timedelta(hours=72),
            "due_at": None if stage == "closed" else received + timedelta(hours=24),
            "closed_at": received + timedelta(days=3) if stage == "closed" else None,
        })
    return rows


def insert_chunked(model, rows, reuse_statement=True):
    """The bulk path: multi-row INSERTs (Model.insert_many) of chunk_size(model) rows, all in
    one transaction.

    With reuse_statement, the SQL text of a full chunk is generated by insert_many once and
    executed again with each chunk's parameters: peewee spends far more time building the
    statement (one node per value) than SQLite spends running it. The parameters are built
    column by column (see chunk_params): the values each field's db_value() would produce,
    missing fields filled with the model's defaults, exactly as insert_many does. Without
    it, every chunk is a plain Model.insert_many(chunk).execute()."""
    size = chunk_size(model)
    with db.atomic():
        if not reuse_statement:
            for start in range(0, len(rows), size):
                model.insert_many(rows[start:start + size]).execute()
            return
        fields = bulk_fields(model, rows[0])
        statements = {}
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            if len(chunk) not in statements:  # the full chunk size, and the last, shorter chunk
                statements[len(chunk)] = model.insert_many(bulk_values(fields, chunk), fields=fields).sql()[0]
            db.execute_sql(statements[len(chunk)], chunk_params(fields, chunk))


def bulk_fields(model, sample_row):
    """The fields a bulk insert writes: those given in the rows plus those with a default."""
    names = set(sample_row) | {f.name for f in model._meta.defaults}
    return [f for f in model._meta.sorted_fields if f.name in names]


def bulk_values(fields, rows):
    """Rows as tuples in `fields` order, defaults filled in like Model.insert_many does."""
    defaults = []
    for field in fields:
        default = field.default
        defaults.append((default, callable(default)))
    return [tuple(row[f.name] if f.name in row else (d() if is_callable else d)
                  for f, (d, is_callable) in zip(fields, defaults)) for row in rows]


# Types of values that db_value() of these peewee field classes returns unchanged (as it
# does None). Exact classes only: a subclass may convert in its own way.
DB_VALUE_KEEPS = {CharField: {str}, FixedCharField: {str}, TextField: {str}, IntegerField: {int},
                  SmallIntegerField: {int}, BigIntegerField: {int}, AutoField: {int}, BooleanField: {bool},
                  DateTimeField: {datetime}}
NONE = type(None)


def chunk_params(fields, rows):
    """The flat parameter list of a multi-row INSERT of `rows` into `fields`: the values
    Model.insert_many would bind, built a column at a time with C-level loops (itemgetter,
    zip, map) instead of a Python loop over every value."""
    columns = row_columns(fields, rows)
    if columns is None:
        columns = list(zip(*bulk_values(fields, rows)))
    sqlite = is_sqlite()
    return list(chain.from_iterable(zip(*[db_column(f, column, sqlite) for f, column in zip(fields, columns)])))


def row_columns(fields, rows):
    """The values of `rows` a column per field, defaults filled in for the fields the rows do
    not give; None when the rows do not all have the same keys."""
    keys = list(rows[0])
    if len(keys) < 2 or set(map(len, rows)) != {len(keys)}:
        return None
    try:  # same number of keys and all of the first row's keys: the same keys
        given = dict(zip(keys, zip(*map(itemgetter(*keys), rows))))
    except KeyError:
        return None
    return [given[f.name] if f.name in given else default_column(f, len(rows)) for f in fields]


def default_column(field, count):
    default = field.default
    return [default() for _ in range(count)] if callable(default) else [default] * count


def db_value_keeps(field):
    """The value types (None included) field.db_value() returns unchanged; None if unknown."""
    if type(field) is ForeignKeyField:  # an instance of the related model becomes its key, the rest
        return db_value_keeps(field.rel_field)  # goes through the key field's db_value
    keeps = DB_VALUE_KEEPS.get(type(field))
    return keeps | {NONE} if keeps else None


def db_column(field, values, sqlite):
    """One column's `values` as field.db_value() returns them, calling it only when a value's
    type is not one it keeps. On SQLite, values of a type sqlite3 adapts (datetime) are
    passed through that adapter here, as sqlite3 would do for each value when binding."""
    keeps = db_value_keeps(field)
    types = set(map(type, values))
    if keeps is None or not types <= keeps:
        values = list(map(field.db_value, values))
        types = set(map(type, values))
    kinds = types - {NONE}
    if sqlite and len(kinds) == 1:
        adapt = sqlite3.adapters.get((next(iter(kinds)), sqlite3.PrepareProtocol))
        if adapt is not None:
            values = list(map(adapt, values)) if NONE not in types else \
                [None if value is None else adapt(value) for value in values]
    return values


def finish_complaint_numbering():
    """Point the per-year counters past the seeded numbers, as the app would have."""
    with db.atomic():
        for year, last in (Complaint.select(Complaint.year, fn.MAX(Complaint.seq)).group_by(Complaint.year)
                           .tuples()):
            (ComplaintCounter.insert(year=year, last=last)
             .on_conflict(conflict_target=[ComplaintCounter.year], update={ComplaintCounter.last: last})
             .execute())


def ensure_complaints(count, rng):
    """Make the database hold at least `count` complaints (bulk insert of the rest)."""
    have = Complaint.select().count()
    if have >= count:
        return 0
    if have:
        raise SystemExit(f"the database has {have:,} complaints, fewer than {count:,}: use an empty database")
    seed_office(rng=rng)
    step = 200_000
    for start in range(0, count, step):
        rows = complaint_rows(min(step, count - start), rng, first_index=start)
        # numbers restart per chunk of rows; shift them past what is stored
        offsets = dict(Complaint.select(Complaint.year, fn.MAX(Complaint.seq)).group_by(Complaint.year).tuples())
        for row in rows:
            row["seq"] += offsets.get(row["year"], 0)
            row["number"] = format_number(row["year"], row["seq"])
        insert_chunked(Complaint, rows)
    finish_complaint_numbering()
    # the triggers queued every row: build the search index in bulk, as `flask reindex` does
    search.rebuild()
    analyze()
    return count


# ----------------------------------------------------------------------------- survey answers

QUESTIONS = [  # (kind, dimension, text)
    ("rating", "quality", "您对产品质量是否满意？"),
    ("rating", "attitude", "您对服务人员的服务态度是否满意？"),
    ("rating", "speed", "您对响应速度是否满意？"),
    ("rating", "price", "您认为价格是否合理？"),
    ("rating", "professionalism", "您对服务人员的专业能力是否满意？"),
    ("score", None, "您有多大可能向朋友推荐我们？(0-10)"),
    ("servqual", "reliability", "承诺的服务按时完成（期望/感受）"),
    ("servqual", "responsiveness", "员工乐于帮助您（期望/感受）"),
    ("staff", None, "请选出您心目中的服务之星"),
    ("text", None, "您还有什么意见或建议？"),
]
ANSWERS_PER_RESPONSE = len(QUESTIONS)


def ensure_survey():
    survey = Survey.get_or_none(Survey.title == "年度客户满意度调查")
    if survey:
        return survey, list(survey.questions.order_by(Question.position))
    survey = Survey.create(title="年度客户满意度调查", kind="custom")
    questions = [Question.create(survey=survey, position=i, text=text, kind=kind, dimension=dimension)
                 for i, (kind, dimension, text) in enumerate(QUESTIONS)]
    return survey, questions


def response_rows(survey, count, rng):
    branch_ids = [b for (b,) in Branch.select(Branch.id).tuples()]
    customer_ids = [c for (c,) in Customer.select(Customer.id).tuples()]
    staff_ids = [s for (s,) in Staff.select(Staff.id).tuples()]
    span = (datetime(2026, 11, 1) - START).total_seconds()
    return [{"survey": survey.id, "branch": rng.choice(branch_ids), "customer": rng.choice(customer_ids),
             "staff": rng.choice(staff_ids), "submitted_at": START + timedelta(seconds=rng.random() * span)}
            for _ in range(count)]


def answer_rows(questions, response_ids, rng):
    staff_ids = [s for (s,) in Staff.select(Staff.id).tuples()]
    rows = []
    for response_id in response_ids:
        for question in questions:
            row = {"response": response_id, "question": question.id, "value": None, "expectation": None,
                   "staff": None, "text": ""}
            if question.kind == "rating":
                row["value"] = rng.choices([1, 2, 3, 4, 5], [3, 5, 12, 40, 40])[0]
            elif question.kind == "score":
                row["value"] = rng.choices(range(11), [1, 1, 1, 2, 2, 4, 6, 12, 20, 26, 25])[0]
            elif question.kind == "servqual":
                row["expectation"] = rng.randint(5, 7)
                row["value"] = rng.randint(3, 7)
            elif question.kind == "staff":
                row["staff"] = rng.choice(staff_ids)
            else:
                row["text"] = rng.choice(["", "", "希望上门前先电话联系。", "服务很好，继续保持。"])
            rows.append(row)
    return rows


def ensure_answers(count, rng):
    """Make the database hold at least `count` survey answers (10 per response)."""
    have = Answer.select().count()
    if have >= count:
        return 0
    if have:
        raise SystemExit(f"the database has {have:,} answers, fewer than {count:,}: use an empty database")
    seed_office(rng=rng)
    survey, questions = ensure_survey()
    responses = count // ANSWERS_PER_RESPONSE
    step = 20_000
    for start in range(0, responses, step):
        batch = min(step, responses - start)
        with db.atomic():
            first = (Response.select(fn.MAX(Response.id)).scalar() or 0) + 1
            insert_chunked(Response, response_rows(survey, batch, rng))
            ids = [r for (r,) in Response.select(Response.id).where(Response.id >= first)
                   .order_by(Response.id).tuples()]
            insert_chunked(Answer, answer_rows(questions, ids, rng))
    analyze()
    return count


def analyze():
    """Refresh the planner's statistics after a bulk load, as an operator (or, later,
    autovacuum) would; on PostgreSQL VACUUM also lets COUNT(*) use index-only scans."""
    if is_sqlite():
        db.execute_sql("ANALYZE")
    else:
        from models import ALL_MODELS
        tables = [m._meta.table_name for m in ALL_MODELS] + ["complaint_search", "customer_search", "search_queue"]
        db.execute_sql("VACUUM ANALYZE " + ", ".join(f'"{t}"' for t in tables))


def describe_database(url):
    kind = "SQLite" if is_sqlite() else "PostgreSQL"
    print(f"database: {kind} {url.split('@')[-1]}")
