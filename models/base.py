"""Database handle shared by every model, bound to a real database in create_app().

SQLite (the default) and PostgreSQL are both first-class: a DATABASE_URL of
``sqlite:///path/to/file.db`` or ``postgresql://user:password@host:5432/name``.
"""
import atexit
import os

from peewee import (AutoField, BigAutoField, BigIntegerField, DatabaseProxy, DecimalField, ForeignKeyField,
                    IntegerField, Model, PostgresqlDatabase, SmallIntegerField, SqliteDatabase)
from playhouse.db_url import connect, parse
from playhouse.pool import PooledDatabase, PooledSqliteDatabase

db = DatabaseProxy()

# WAL lets survey submissions read while a writer commits; the busy timeout makes
# concurrent writers queue instead of failing with "database is locked".
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16000,
}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False

    def save(self, force_insert=False, only=None):
        """Store the row after checking the rules of models.validation (amounts, dates, phone
        numbers …); a value that breaks one raises ValidationError and nothing is written."""
        from .validation import check_row  # validation reads the models; imported on first use
        check_row(self, only)
        return super().save(force_insert=force_insert, only=only)


def create_private_file(path):
    """Create the SQLite database file readable by its owner only (0600), in a folder only its
    owner can enter (0700) when that folder is new: customer files are personal data. An
    existing file or folder is left as it is. SQLite gives its -wal and -shm files the
    database file's permissions."""
    if not path or path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another worker created it first


class PrivateSqliteDatabase(PooledSqliteDatabase):
    """The pooled SQLite database, whose file is created private (create_private_file) by the
    first connection, not when the app starts (a CLI command on a missing file creates none)."""

    def _connect(self):
        create_private_file(self.database)
        return super()._connect()


def open_database(url):
    """Return a peewee Database for a playhouse.db_url URL (sqlite:/// or postgresql://).

    Peewee runs in autocommit mode outside db.atomic(), so a failed statement on
    PostgreSQL does not leave the connection in an aborted transaction."""
    if url.startswith("sqlite"):
        parsed = parse(url)
        path = parsed.pop("database")
        # BEGIN IMMEDIATE: a transaction takes the write lock when it starts. A deferred
        # transaction that reads first (form checks, SLA lookups) and writes later fails
        # at once with "database is locked" when another process committed in between:
        # SQLite cannot upgrade a stale WAL snapshot, and the busy timeout does not apply.
        parsed.setdefault("lock_type", "IMMEDIATE")
        # Every request connects and closes (app.py). A pool makes that close hand the
        # connection back instead of closing it: no reconnect and pragmas per request, and
        # no WAL checkpoint each time the last connection of the file closes. A connection
        # serves one thread at a time, but not always the same thread.
        parsed.setdefault("max_connections", 32)
        parsed.setdefault("stale_timeout", 300)
        parsed["check_same_thread"] = False
        # `timeout` of a pooled database is how long to wait for a free connection (the
        # busy timeout is the pragma above)
        parsed.setdefault("timeout", 30)
        return PrivateSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, **parsed)
    if url.startswith(("postgres://", "postgresql://")):
        # fail fast when the server is unreachable instead of hanging a worker
        parsed = parse(url)
        parsed.setdefault("connect_timeout", 10)
        return PostgresqlDatabase(parsed.pop("database"), **parsed)
    return connect(url)


_SQL_TEXT = {}


def _reused_sql(query, shape, params):
    key = (shape, type(db.obj))
    sql = _SQL_TEXT.get(key)
    if sql is None:
        sql, own = query.sql()
        if list(own) != list(params):
            raise ValueError(f"parameters {params!r} are not the query's own {own!r} ({shape!r})")
        _SQL_TEXT[key] = sql
    return sql


def select_reusing_sql(query, shape, *params):
    """Run the SELECT `query` with SQL text generated once per `shape` and dialect.

    Peewee writes a statement's text node by node on every execution; on the public survey
    pages that cost about 30 times what SQLite then spent running the statement. `shape`
    names everything about the query except its parameter values (a tuple such as
    ("link", "Invitation") or ("choices", 6) when the number of parameters varies), and
    `params` are those values, as the database gets them (field.db_value), in the order
    they appear in the statement: the first use of a shape checks them against peewee's
    own. Returns `query`, ready to iterate."""
    cursor = db.obj.execute_sql(_reused_sql(query, shape, params), params)
    query._cursor_wrapper = query._get_cursor_wrapper(cursor)  # as peewee's own _execute does
    return query


def execute_reusing_sql(query, shape, *params):
    """Execute the INSERT or UPDATE `query` like select_reusing_sql; returns the cursor.
    Inside a write transaction this keeps peewee's statement building out of the time the
    database is locked for writing."""
    return db.obj.execute_sql(_reused_sql(query, shape, params), params)


def db_values(fields, values):
    """`values` as the database gets them: each through its field's db_value()."""
    return [field.db_value(value) for field, value in zip(fields, values)]


def bind_database(url):
    database = open_database(url)
    db.initialize(database)
    return database


def release_connections():
    """Close this thread's connection and, for a pool, every idle connection it keeps
    (before a restore replaces the file, at the end of a test)."""
    database = db.obj
    if database is None:
        return
    if not database.is_closed():
        database.close()
    if isinstance(database, PooledDatabase):
        database.close_idle()


@atexit.register
def _close_connections_at_exit():
    """A clean exit (CLI command, gunicorn worker) closes the pooled connections, so the last
    close checkpoints SQLite's WAL into the database file."""
    try:
        release_connections()
    except Exception:  # noqa: BLE001 - a transaction still open: leave it to SQLite's recovery
        pass


# What an integer column holds on both databases (PostgreSQL's smallint / integer / bigint;
# peewee's AutoField and foreign keys are `integer` there). A value outside is refused as
# input, never sent to the database (PostgreSQL would fail, SQLite overflow).
INTEGER_LIMITS = [
    (SmallIntegerField, 2 ** 15 - 1),
    ((BigIntegerField, BigAutoField), 2 ** 63 - 1),
    ((IntegerField, AutoField, ForeignKeyField), 2 ** 31 - 1),
]


def integer_limit(field):
    """The largest absolute value the database column of `field` holds, or None when the field
    is not an integer column."""
    for kinds, limit in INTEGER_LIMITS:
        if isinstance(field, kinds):
            return limit
    return None


def decimal_limit(field):
    """The exclusive bound of a DecimalField's absolute value (max_digits, decimal_places)."""
    if isinstance(field, DecimalField) and field.max_digits:
        return 10 ** (field.max_digits - (field.decimal_places or 0))
    return None


def fits(field, value):
    """True when `value` (an int or Decimal) can be stored in the column of `field`."""
    limit = integer_limit(field)
    if limit is not None:
        return -limit <= value <= limit
    limit = decimal_limit(field)
    if limit is not None:
        return -limit < value < limit
    return True


def is_sqlite():
    return isinstance(db.obj, SqliteDatabase)


def is_postgres():
    return isinstance(db.obj, PostgresqlDatabase)
