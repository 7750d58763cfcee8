"""查找 Search: one box per list finds complaints and customers by what a caller gives first.

What a search finds
- complaints by number (问字【2026】500000号, also typed 2026-500000, 2026/500000, 500000号 or
  just 500000), title, description, and their customer's name, organisation and phone (the
  whole number, typed with or without spaces and dashes, or its last 4 digits);
- customers by name, organisation, contact person, phone (whole or last 4 digits) and e-mail.
Every word typed must be found (AND). What the user types is literal text: punctuation,
``%``, ``_``, quotes and the operators of either database's full-text syntax (``" * - ^ :
NEAR AND OR & | !``) only separate words, they never act as wildcards or syntax.

Ranking: when a search finds at most `count cap` rows (10,000) and the user has not sorted
by a column, the exact hits come first: the complaint with that number, then the customers
(and their complaints) with that whole phone number, then those whose phone ends in the
digits typed; a customer whose name is exactly the text typed comes before other customers.
After that, and always past the cap, the newest record first (the order they were entered),
which both databases read straight from the index without sorting the matches. A column
the user sorts by replaces the ranking.

The index: one design on both databases
Text is cut into tokens in Python (models/search_tokens.py: `complaint_tokens`,
`customer_tokens`, `parse`), the same code for SQLite and PostgreSQL, and each complaint and
customer has one row of tokens in a search table: an FTS5 table on SQLite (unicode61 over
the space-separated tokens, detail=none: only which rows hold a token, no positions) and a
tsvector built with array_to_tsvector (no text-search configuration: nothing is stemmed or
parsed again) with a GIN index on PostgreSQL. No extension is needed on either (pg_trgm is
not used).
- Chinese text (a run of CJK characters) becomes its overlapping character pairs
  (bigrams: 服务态度 → 服务 务态 态度) plus the run's last character. A query of two or
  more characters is the AND of its bigrams, so 张伟 and 态度 are one exact index lookup
  each; a single character is a prefix lookup (张* finds every bigram starting with 张,
  and the run-final character covers the end of a run). Why not FTS5's trigram tokenizer
  or pg_trgm: a trigram index cannot answer a 2-character term (张伟, 态度) from the index,
  both fall back to scanning every row. Why not word segmentation (jieba): a name or a
  product term cut differently in the record and in the query is not found, and bigrams
  need no dictionary. Measured at 1M complaints and 1M customers: docs/SCALING.md.
- Latin words and digit groups are tokens of their own (a word of 3+ letters and a digit
  group of 7+ digits also match as a prefix, so a phone number or a name finds while typed).
- A phone is also indexed as its digits alone, without a leading 86, and by its last 4
  digits; a complaint by a number key (2026x500000) and its sequence (500000 and 001-style).

Keeping it in sync: database triggers (created with the index, `create_search_schema`) put
the id of every inserted, deleted or changed complaint and customer into `search_queue`
(a customer whose name, organisation or phone changes queues their complaints too), on every
write path whatever wrote it: admin forms, ajax edits, deletes, workflow, imports, survey
follow-ups, the CLI, copy-data, raw SQL. `sync()` re-tokenizes the queued rows; every search
calls it first (one cheap statement when nothing is queued), and writers of many rows call
it when they finish so the next search does not pay for them. `rebuild()` builds it all
again (`flask --app app reindex`, migration 60).
"""
import logging
from dataclasses import dataclass

from peewee import OP, SQL, Case, Cast, DatabaseError, DatabaseProxy, Expression, NodeList, Table, Value, fn

from .base import db, is_sqlite
from .complaints import Complaint
from .customers import Customer
from .search_tokens import PHONE_TAIL, Query, complaint_tokens, customer_tokens, parse  # noqa: F401

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- the index

@dataclass(frozen=True)
class Kind:
    """A searchable model: its search table and how its tokens are read from the database."""

    name: str
    model: type
    rows_sql: str           # id + the columns the tokens are made of; {where} is filled in
    tokens: callable


COMPLAINTS = Kind(
    "complaint", Complaint,
    'SELECT c."id", c."year", c."seq", c."title", c."description", u."name", u."organisation", u."phone" '
    'FROM "complaint" c JOIN "customer" u ON u."id" = c."customer_id" WHERE {where} ORDER BY c."id"',
    complaint_tokens)
CUSTOMERS = Kind(
    "customer", Customer,
    'SELECT u."id", u."name", u."organisation", u."contact_person", u."phone", u."email" '
    'FROM "customer" u WHERE {where} ORDER BY u."id"',
    customer_tokens)
KINDS = {k.name: k for k in (COMPLAINTS, CUSTOMERS)}
KIND_OF_MODEL = {k.model: k for k in KINDS.values()}

# Columns whose change makes a row's tokens change (the triggers' UPDATE conditions).
INDEXED_COLUMNS = {"complaint": ["title", "description", "customer_id", "year", "seq"],
                   "customer": ["name", "organisation", "contact_person", "phone", "email"]}
# Customer columns that are part of their complaints' tokens.
CUSTOMER_COLUMNS_IN_COMPLAINTS = ["name", "organisation", "phone"]


def _sqlite(database):
    from peewee import SqliteDatabase
    return isinstance(database, SqliteDatabase)


def _database(database):
    """The Database itself: `database`, or the one behind the proxy `db` when None."""
    database = database if database is not None else db
    return database.obj if isinstance(database, DatabaseProxy) else database


def _changed(columns, old="OLD", new="NEW", sqlite=True):
    op = "IS NOT" if sqlite else "IS DISTINCT FROM"
    return " OR ".join(f'{old}."{c}" {op} {new}."{c}"' for c in columns)


# unicode61 splits the stored token text at spaces only (the tokens are letters, digits and
# CJK); detail=none keeps only which rows hold a token (no positions: every query is an AND
# of tokens), columnsize=0 no per-row sizes (no bm25 ranking is used).
_FTS_TABLE = ('CREATE VIRTUAL TABLE IF NOT EXISTS "{kind}_fts" USING fts5(tokens, '
              "tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0)")


def _sqlite_schema():
    statements = [
        'CREATE TABLE IF NOT EXISTS "search_queue" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, '
        '"kind" VARCHAR(10) NOT NULL, "row_id" INTEGER NOT NULL)']
    for kind in KINDS:
        statements.append(_FTS_TABLE.format(kind=kind))
        statements += [
            f'CREATE TRIGGER IF NOT EXISTS "{kind}_search_insert" AFTER INSERT ON "{kind}" BEGIN '
            f'INSERT INTO "search_queue" ("kind", "row_id") VALUES (\'{kind}\', NEW."id"); END',
            f'CREATE TRIGGER IF NOT EXISTS "{kind}_search_delete" AFTER DELETE ON "{kind}" BEGIN '
            f'INSERT INTO "search_queue" ("kind", "row_id") VALUES (\'{kind}\', OLD."id"); END',
            f'CREATE TRIGGER IF NOT EXISTS "{kind}_search_update" AFTER UPDATE ON "{kind}" '
            f'WHEN {_changed(INDEXED_COLUMNS[kind] + ["id"])} BEGIN '
            f'INSERT INTO "search_queue" ("kind", "row_id") VALUES (\'{kind}\', OLD."id"); '
            f'INSERT INTO "search_queue" ("kind", "row_id") SELECT \'{kind}\', NEW."id" WHERE NEW."id" IS NOT OLD."id"; '
            f'END']
    statements.append(
        'CREATE TRIGGER IF NOT EXISTS "customer_search_complaints" AFTER UPDATE ON "customer" '
        f'WHEN {_changed(CUSTOMER_COLUMNS_IN_COMPLAINTS)} BEGIN '
        'INSERT INTO "search_queue" ("kind", "row_id") '
        'SELECT \'complaint\', "id" FROM "complaint" WHERE "customer_id" = NEW."id"; END')
    return statements


def _postgres_schema():
    statements = [
        'CREATE TABLE IF NOT EXISTS "search_queue" ("id" BIGSERIAL PRIMARY KEY, '
        '"kind" VARCHAR(10) NOT NULL, "row_id" INTEGER NOT NULL)']
    for kind in KINDS:
        statements += [
            f'CREATE TABLE IF NOT EXISTS "{kind}_search" ("{kind}_id" INTEGER PRIMARY KEY, '
            f'"tokens" TSVECTOR NOT NULL)',
            f'CREATE INDEX IF NOT EXISTS "{kind}_search_tokens" ON "{kind}_search" USING GIN ("tokens")',
            # Statement-level triggers with transition tables: a bulk insert queues its rows in
            # one INSERT ... SELECT, not one trigger call per row.
            f'''CREATE OR REPLACE FUNCTION "{kind}_search_queue"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "search_queue" ("kind", "row_id") SELECT '{kind}', "id" FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "search_queue" ("kind", "row_id") SELECT '{kind}', "id" FROM old_rows;
  ELSE
    INSERT INTO "search_queue" ("kind", "row_id")
      SELECT '{kind}', n."id" FROM new_rows n LEFT JOIN old_rows o ON o."id" = n."id"
      WHERE o."id" IS NULL OR {_changed(INDEXED_COLUMNS[kind], "o", "n", sqlite=False)}
      UNION ALL SELECT '{kind}', o."id" FROM old_rows o LEFT JOIN new_rows n ON n."id" = o."id" WHERE n."id" IS NULL;
    {"" if kind != "customer" else f"""INSERT INTO "search_queue" ("kind", "row_id")
      SELECT 'complaint', c."id" FROM new_rows n JOIN old_rows o ON o."id" = n."id"
      JOIN "complaint" c ON c."customer_id" = n."id"
      WHERE {_changed(CUSTOMER_COLUMNS_IN_COMPLAINTS, "o", "n", sqlite=False)};"""}
  END IF;
  RETURN NULL;
END $$''']
        for event, tables in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                              ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            name = f"{kind}_search_{event.lower()}"
            # only when missing: CREATE TRIGGER locks the table against writes for a moment
            statements.append(f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{name}' AND tgrelid = '"{kind}"'::regclass) THEN
    CREATE TRIGGER "{name}" AFTER {event} ON "{kind}" REFERENCING {tables}
      FOR EACH STATEMENT EXECUTE FUNCTION "{kind}_search_queue"();
  END IF;
END $$""")
    return statements


def create_search_schema(database=None, fill=True):
    """Create the search tables, the queue and the triggers where missing (safe to repeat).
    With `fill`, tables created now on a database that already holds complaints or customers
    are filled (rebuild), so the index is never silently empty. Returns True when the search
    tables were created now."""
    database = _database(database)
    sqlite = _sqlite(database)
    tables = [f"{kind}_fts" if sqlite else f"{kind}_search" for kind in KINDS]
    new = not all(database.table_exists(t) for t in tables)
    with database.atomic():
        for statement in (_sqlite_schema() if sqlite else _postgres_schema()):
            database.execute_sql(statement)
        if fill and new and any(database.execute_sql(f'SELECT 1 FROM "{k}" LIMIT 1').fetchone() for k in KINDS):
            rebuild(database)
    return new


def _param(database):
    return "?" if _sqlite(database) else "%s"


def _rows(database, kind, where, params=()):
    return database.execute_sql(kind.rows_sql.format(where=where), params).fetchall()


def _write(database, kind, docs, gone=()):
    """Store `docs` [(id, token text)] and remove the rows of the ids in `gone`."""
    if _sqlite(database):
        table = f'"{kind.name}_fts"'
        ids = [i for i, _ in docs] + list(gone)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            database.execute_sql(f"DELETE FROM {table} WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk)
        if docs:
            database.cursor().executemany(f"INSERT INTO {table} (rowid, tokens) VALUES (?, ?)", docs)
        return
    table = f'"{kind.name}_search"'
    if gone:
        database.execute_sql(f'DELETE FROM {table} WHERE "{kind.name}_id" = ANY(%s)', (list(gone),))
    if docs:
        database.execute_sql(
            f'INSERT INTO {table} ("{kind.name}_id", "tokens") '
            f"SELECT i, array_to_tsvector(string_to_array(t, ' ')) FROM unnest(%s::int[], %s::text[]) AS d(i, t) "
            f'ON CONFLICT ("{kind.name}_id") DO UPDATE SET "tokens" = EXCLUDED."tokens"',
            ([i for i, _ in docs], [t for _, t in docs]))


def index_rows(kind, ids, database=None):
    """Re-tokenize the rows `ids` of `kind` from what is stored now; ids no longer stored
    leave the index."""
    database = _database(database)
    ids = sorted(set(ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        prefix = "c" if kind is COMPLAINTS else "u"
        rows = _rows(database, kind, f'{prefix}."id" IN ({", ".join([_param(database)] * len(chunk))})', chunk)
        docs = [(row[0], kind.tokens(*row[1:])) for row in rows]
        _write(database, kind, docs, sorted(set(chunk) - {row[0] for row in rows}))


SYNC_BATCH = 2000


def sync(database=None):
    """Bring the index up to date with every queued change. Costs one SELECT when nothing
    is queued; the write transaction is only opened when something is."""
    database = _database(database)
    p = _param(database)
    if not database.execute_sql('SELECT 1 FROM "search_queue" LIMIT 1').fetchone():
        return 0
    done = 0
    while True:
        with database.atomic():
            queued = database.execute_sql(
                f'SELECT "id", "kind", "row_id" FROM "search_queue" ORDER BY "id" LIMIT {p}', (SYNC_BATCH,)).fetchall()
            if not queued:
                return done
            for name, kind in KINDS.items():
                ids = [row_id for _, k, row_id in queued if k == name]
                if ids:
                    index_rows(kind, ids, database)
            queue_ids = [q[0] for q in queued]
            database.execute_sql(f'DELETE FROM "search_queue" WHERE "id" IN ({", ".join([p] * len(queue_ids))})',
                                 queue_ids)
            done += len(queued)


REBUILD_CHUNK = 5000


def rebuild(database=None, echo=None):
    """Build the whole index again from the complaints and customers stored (flask reindex).
    Returns {kind: rows indexed}."""
    database = _database(database)
    echo = echo or (lambda message: None)
    sqlite = _sqlite(database)
    p = _param(database)
    counts = {}
    with database.atomic():
        last_queued = database.execute_sql('SELECT MAX("id") FROM "search_queue"').fetchone()[0]
        for name, kind in KINDS.items():
            if sqlite:  # dropping is much faster than deleting a million rows one by one
                database.execute_sql(f'DROP TABLE IF EXISTS "{name}_fts"')
                database.execute_sql(_FTS_TABLE.format(kind=name))
            else:
                database.execute_sql(f'TRUNCATE "{name}_search"')
                database.execute_sql(f'DROP INDEX IF EXISTS "{name}_search_tokens"')  # faster built after
            prefix = "c" if kind is COMPLAINTS else "u"
            last, total = 0, 0
            while True:
                rows = database.execute_sql(
                    kind.rows_sql.format(where=f'{prefix}."id" > {p}') + f" LIMIT {REBUILD_CHUNK}", (last,)).fetchall()
                if not rows:
                    break
                _write(database, kind, [(row[0], kind.tokens(*row[1:])) for row in rows])
                last = rows[-1][0]
                total += len(rows)
                if total % 100_000 < REBUILD_CHUNK:
                    echo(f"  {name}: {total:,}")
            if sqlite:
                database.execute_sql(f"INSERT INTO \"{name}_fts\" (\"{name}_fts\") VALUES ('optimize')")
            else:
                database.execute_sql(f'CREATE INDEX "{name}_search_tokens" ON "{name}_search" USING GIN ("tokens")')
            counts[name] = total
            echo(f"{name}: {total:,} indexed")
        if last_queued is not None:
            database.execute_sql(f'DELETE FROM "search_queue" WHERE "id" <= {p}', (last_queued,))
    if not sqlite:
        # VACUUM (outside a transaction only) sets the hint bits and the visibility map of the
        # new rows, so the first searches do not write pages; ANALYZE gives the planner the
        # token frequencies it chooses between the GIN index and the id order by.
        tables = ", ".join(f'"{name}_search"' for name in KINDS) + ', "search_queue"'
        database.execute_sql(("ANALYZE " if database.in_transaction() else "VACUUM ANALYZE ") + tables)
    return counts


def index_size(database=None):
    """Bytes the search index takes on disk, per kind (tables and their indexes)."""
    database = _database(database)
    sizes = {}
    for name in KINDS:
        if _sqlite(database):
            sizes[name] = database.execute_sql(
                "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ? OR name LIKE ? ESCAPE '\\'",
                (f"{name}_fts", f"{name}\\_fts\\_%")).fetchone()[0]
        else:
            sizes[name] = database.execute_sql(
                "SELECT pg_total_relation_size(%s)", (f'"{name}_search"',)).fetchone()[0]
    return sizes


# ----------------------------------------------------------------------------- searching

def _fts_query(terms):
    """FTS5 MATCH text: each term a quoted string (so no input is FTS syntax), * for a prefix."""
    return " ".join('"' + token.replace('"', '""') + '"' + ("*" if prefix else "") for token, prefix in terms)


def _tsquery(terms):
    """tsquery text: each term a quoted lexeme ('' and \\ escaped), :* for a prefix, & between."""
    return " & ".join("'" + token.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else "")
                      for token, prefix in terms)


_PHONE_SEPARATORS = (" ", "-", "(", ")", "+", ".")


def _phone_digits_sql(column):
    """The phone column with the usual separators removed, in SQL (ranking only)."""
    expression = column
    for separator in _PHONE_SEPARATORS:
        expression = fn.REPLACE(expression, separator, "")
    return expression


@dataclass
class Search:
    """A search applied to a base query.

    query: the base query narrowed to the matches (filters can still be added to it);
    by_column: the same matches, shaped for an ORDER BY on a column of the model;
    rank: an ORDER BY expression putting exact hits first (None when nothing is exact);
    newest: the ORDER BY that lists matches newest first straight from the search index."""

    query: object
    rank: object
    newest: list
    parsed: Query
    by_column: object = None   # the same matches, for ordering by a column of the model

    def order(self, ranked=True):
        """ORDER BY terms: exact hits first (when `ranked`), then the newest."""
        return ([self.rank] if ranked and self.rank is not None else []) + self.newest

    def ordered(self, ranked=True):
        return self.query.order_by(*self.order(ranked))

    def page(self, offset=0, limit=20, cap=10_000):
        """(rows, count, more): one page in ranked order when the matches are at most `cap`,
        newest first beyond (ranking more would sort them all). Two statements."""
        count, more = count_capped(self.query, cap)
        return list(self.ordered(ranked=not more).offset(offset).limit(limit)), count, more


def search(query, text, refresh=True):
    """Narrow `query` (a select of Complaint or Customer: the whole list, a branch's share,
    a filtered list) to the rows that match the search box text `text`.

    Returns a Search (see there). Text with nothing to search for (only punctuation) matches
    nothing. With `refresh`, queued changes are indexed first, so a search always sees every
    committed write."""
    kind = KIND_OF_MODEL[query.model]
    model = kind.model
    parsed = parse(text)
    if refresh:
        _refresh()
    if parsed.empty:
        nothing = query.where(SQL("1 = 0"))
        return Search(nothing, None, [model.id.desc()], parsed, nothing)
    if is_sqlite():
        # the hidden column named like the table: MATCH on the whole row (detail=none
        # has no column filters)
        table = Table(f"{kind.name}_fts", ("rowid", f"{kind.name}_fts")).bind(db)
        match = Expression(getattr(table, f"{kind.name}_fts"), "MATCH", _fts_query(parsed.terms))
        # the join streams the matches newest first from the index and stops after a page
        matched = query.join(table, on=(table.rowid == model.id)).where(match)
        newest = [table.rowid.desc()]
        # For many matches ordered by one of the model's columns: +id IN (the matches). SQLite
        # collects the matches once and walks that column's index, testing each row against
        # them (the + keeps it from looking rows up by id instead); joined, it sorts every
        # match (seconds for a common term at a million rows, a fifth of a second this way).
        # For a few matches the join is better: this way reads the whole column index.
        plus_id = NodeList((SQL("+"), model.id), glue="")
        by_column = query.where(Expression(plus_id, OP.IN, table.select(table.rowid).where(match)))
    else:
        table = Table(f"{kind.name}_search", (f"{kind.name}_id", "tokens")).bind(db)
        key = getattr(table, f"{kind.name}_id")
        matched = query.join(table, on=(key == model.id)).where(
            Expression(table.tokens, "@@", Cast(Value(_tsquery(parsed.terms)), "tsquery")))
        newest = [model.id.desc()]
        by_column = matched
    rank, matched = _rank(kind, matched, parsed)
    return Search(matched, rank, newest, parsed, by_column)


def _rank(kind, query, parsed):
    """(ORDER BY expression with the exact hits first, the query with what it needs)."""
    cases = []
    if kind is COMPLAINTS:
        if parsed.number:
            year, seq = parsed.number
            cases.append(((Complaint.year == year) & (Complaint.seq == seq), 0))
        elif parsed.digits:
            if len(parsed.digits) <= 9:
                cases.append((Complaint.seq == int(parsed.digits), 0))
            owner = Customer.alias("search_customer")
            query = query.join_from(Complaint, owner, on=(Complaint.customer == owner.id))
            cases += _phone_cases(owner.phone, parsed.digits, 1)
    else:
        if parsed.digits:
            cases += _phone_cases(Customer.phone, parsed.digits, 0)
        elif parsed.text:
            cases.append((Customer.name == parsed.text, 0))
    if not cases:
        return None, query
    return Case(None, cases, len(cases) + 1), query


def _phone_cases(column, digits, first):
    stored = _phone_digits_sql(column)
    cases = [(stored.in_([digits, "86" + digits]), first)]
    if len(digits) >= PHONE_TAIL:
        cases.append((stored.endswith(digits), first + 1))
    return cases


def _refresh():
    """Index queued changes before searching. A failure here (the write lock busy past the
    timeout) must not fail the search: it then sees the index as it was."""
    try:
        sync()
    except DatabaseError as exc:  # pragma: no cover - needs a writer holding the lock for 10 s
        log.warning("search index not refreshed before searching: %s", exc)


def count_capped(query, cap):
    """How many rows `query` has, counting no further than cap + 1: (count, more)."""
    inner = query.order_by().select(Value(1)).limit(cap + 1)
    subquery_sql, params = inner.sql()
    total = db.execute_sql(f"SELECT COUNT(*) FROM ({subquery_sql}) AS capped", params).fetchone()[0]
    return min(total, cap), total > cap
