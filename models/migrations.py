"""Schema versions: bring an existing database up to the current models.

    flask --app app upgrade-db            # apply what is pending (safe to repeat)
    flask --app app upgrade-db --status   # show applied and pending versions

`create_tables()` only creates what is missing: it never adds a column or an index to a
table that already exists. Every such change is a numbered migration below, recorded in
the `schema_version` table when applied. Write the model change AND a migration:
the model is what a new database gets, the migration is how an existing one catches up.

Migrations are written to be idempotent (a column or index that is already there is
left alone), so a database created by `init-db` at the current models, which has no
`schema_version` rows yet, is simply stamped when upgraded. Each migration runs in one
transaction (PostgreSQL and SQLite both roll back DDL), its version row in the same one.
"""
from peewee import CharField, DateTimeField, IntegerField, SqliteDatabase
from playhouse.migrate import SchemaMigrator, make_index_name

from .base import BaseModel, db
from .clock import now


class SchemaVersion(BaseModel):
    """One row per applied migration."""

    version = IntegerField(primary_key=True)
    name = CharField(max_length=200)
    applied_at = DateTimeField(default=now)

    class Meta:
        table_name = "schema_version"


MIGRATIONS = []  # (version, name, function(Schema)), in version order


def migration(version, name):
    """Register `function(schema)` as migration `version`."""
    def register(function):
        if any(v == version for v, _, _ in MIGRATIONS):
            raise ValueError(f"migration {version} is defined twice")
        if MIGRATIONS and version <= MIGRATIONS[-1][0]:
            raise ValueError(f"migration {version} is out of order")
        MIGRATIONS.append((version, name, function))
        return function
    return register


class Schema:
    """Idempotent schema changes on top of playhouse.migrate. A change to a table that
    does not exist yet is skipped: create_tables() builds that table from the models."""

    def __init__(self, database):
        self.database = database
        self.migrator = SchemaMigrator.from_database(database)

    def has_table(self, table):
        return self.database.table_exists(table)

    def has_column(self, table, column):
        return any(c.name == column for c in self.database.get_columns(table))

    def has_index(self, table, name):
        return any(i.name == name for i in self.database.get_indexes(table))

    def add_column(self, table, column, field):
        """Add `column` (a peewee Field; give it a default or null=True) if it is missing."""
        if self.has_table(table) and not self.has_column(table, column):
            self.migrator.add_column(table, column, field).run()
            return True
        return False

    def add_index(self, table, columns, unique=False, name=None):
        """Create the index peewee would name for `columns`, if it is missing."""
        name = name or index_name(table, columns)
        if self.has_table(table) and not self.has_index(table, name):
            self.migrator.add_index(table, columns, unique=unique, name=name).run()
            return True
        return False


    # ------------------------------------------------------------ foreign-key delete actions
    def on_delete_actions(self, table):
        """{column: ON DELETE action} of the table's foreign keys as the database has them."""
        if self.is_sqlite():
            rows = self.database.execute_sql(f'PRAGMA foreign_key_list("{table}")').fetchall()
            return {row[3]: row[6].upper() for row in rows}
        rows = self.database.execute_sql(
            "SELECT kcu.column_name, rc.delete_rule FROM information_schema.referential_constraints rc "
            "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name "
            "AND kcu.constraint_schema = rc.constraint_schema "
            "WHERE kcu.table_name = %s AND kcu.table_schema = current_schema()", (table,)).fetchall()
        return {column: rule.upper() for column, rule in rows}

    def is_sqlite(self):
        from peewee import SqliteDatabase
        database = getattr(self.database, "obj", None) or self.database  # a DatabaseProxy
        return isinstance(database, SqliteDatabase)

    def match_on_delete(self, models):
        """Give every foreign key of `models` the ON DELETE action its model declares (peewee
        without on_delete: NO ACTION). PostgreSQL: the constraint is dropped and added again.
        SQLite cannot alter a constraint: the table's CREATE statement in sqlite_master is
        edited (the documented procedure for constraint changes that leave the stored rows as
        they are), inside this migration's transaction, and the schema version raised so that
        every connection reloads it. Returns the (table, column, action) changed."""
        changed = []
        for model in models:
            table = model._meta.table_name
            if not self.has_table(table):
                continue
            present = self.on_delete_actions(table)
            wanted = {}
            for field in model._meta.sorted_fields:
                if getattr(field, "rel_model", None) is None or field.column_name not in present:
                    continue
                action = (field.on_delete or "NO ACTION").upper()
                if present[field.column_name] != action:
                    wanted[field] = action
            if not wanted:
                continue
            if self.is_sqlite():
                self._sqlite_on_delete(table, {f.column_name: a for f, a in wanted.items()})
            else:
                for field, action in wanted.items():
                    self._postgres_on_delete(table, field, action)
            changed += [(table, f.column_name, a) for f, a in wanted.items()]
        return changed

    def _postgres_on_delete(self, table, field, action):
        (name,) = self.database.execute_sql(
            "SELECT kcu.constraint_name FROM information_schema.referential_constraints rc "
            "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name "
            "AND kcu.constraint_schema = rc.constraint_schema "
            "WHERE kcu.table_name = %s AND kcu.column_name = %s AND kcu.table_schema = current_schema()",
            (table, field.column_name)).fetchone()
        target = field.rel_model._meta.table_name
        self.database.execute_sql(
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}", ADD CONSTRAINT "{name}" '
            f'FOREIGN KEY ("{field.column_name}") REFERENCES "{target}" ("{field.rel_field.column_name}") '
            f'ON DELETE {action}')

    def _sqlite_on_delete(self, table, actions):
        import re
        (sql,) = self.database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        for column, action in actions.items():
            pattern = re.compile(
                r'((?:FOREIGN KEY \("{0}"\)|"{0}" [^,]*?)\s*REFERENCES\s+"?\w+"?\s*\("?\w+"?\))'
                r'(\s+ON DELETE (?:CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION))?'.format(re.escape(column)))
            sql, count = pattern.subn(lambda m, action=action: m.group(1) + f" ON DELETE {action}", sql, count=1)
            if count != 1:
                raise RuntimeError(f"cannot find the foreign key {table}.{column} in {sql!r}")
        version = self.database.execute_sql("PRAGMA schema_version").fetchone()[0]
        self.database.execute_sql("PRAGMA writable_schema = ON")
        try:
            self.database.execute_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                                      (sql, table))
            self.database.execute_sql(f"PRAGMA schema_version = {version + 1}")
        finally:
            self.database.execute_sql("PRAGMA writable_schema = OFF")


def index_name(table, columns):
    """The name peewee gives a Meta.indexes / index=True index, so both paths agree."""
    return make_index_name(table, columns)


def applied_versions(database=None):
    database = database or db
    if not database.table_exists(SchemaVersion._meta.table_name):
        return set()
    return {v for (v,) in SchemaVersion.select(SchemaVersion.version).tuples()}


def pending(database=None):
    done = applied_versions(database)
    return [(v, name, fn) for v, name, fn in MIGRATIONS if v not in done]


def current_version(database=None):
    done = applied_versions(database)
    return max(done) if done else 0


def upgrade(database=None, echo=None):
    """Apply every pending migration, then create missing tables and indexes.

    Returns the list of (version, name) applied. Migrations run before create_tables()
    so that an index on a new column is never attempted before the column exists.

    On SQLite, foreign keys are switched off while migrations run (SQLite's own procedure for
    schema changes): several changes rebuild a table (copy, drop, rename), and dropping a
    table with foreign keys on would fire the ON DELETE actions of the rows that point at
    it — a vote for a staff member would lose its staff. Each migration checks the foreign
    keys (PRAGMA foreign_key_check) before it commits and is rolled back if one is broken."""
    from . import create_tables
    database = database or db
    echo = echo or (lambda message: None)
    SchemaVersion.create_table(safe=True)
    schema = Schema(database)
    applied = []
    sqlite = isinstance(getattr(database, "obj", database), SqliteDatabase)  # db is a DatabaseProxy
    if sqlite:
        database.execute_sql("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: before it
    try:
        for version, name, function in pending(database):
            with database.atomic():
                function(schema)
                if sqlite:
                    broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration {version} broke foreign keys: {broken[:5]}")
                SchemaVersion.create(version=version, name=name)
            echo(f"applied {version}: {name}")
            applied.append((version, name))
    finally:
        if sqlite:
            database.execute_sql("PRAGMA foreign_keys = ON")
    create_tables()
    return applied


# ----------------------------------------------------------------------------- migrations
# Never edit or renumber a migration that has shipped; add a new one.


@migration(1, "answer (response, question, value) index for scoring by branch, staff and period")
def _answer_response_question_value(schema):
    # Scores by branch / staff / period reach answers through their response; with this
    # index those answers are read from the index alone. Measured with
    # `bench/scoring_bench.py --rows 1000000 --index-effect` (SQLite, 2 cores): CSAT per
    # branch over 12 months 448 -> 181 ms median, NPS per branch 212 -> 106 ms.
    schema.add_index("answer", ["response_id", "question_id", "value"])


@migration(2, "staff.on_duty (branch duty person); every complaint has an owner (assignee), indexed")
def _complaint_owner(schema):
    from peewee import BooleanField
    schema.add_column("staff", "on_duty", BooleanField(default=False))
    schema.add_index("complaint", ["assignee_id"])
    if schema.has_table("complaint"):
        # ownership rule (models.ownership): a complaint without an owner is its first responder's
        schema.database.execute_sql(
            "UPDATE complaint SET assignee_id = first_responder_id "
            "WHERE assignee_id IS NULL AND first_responder_id IS NOT NULL")


@migration(40, "accounts: session version (sessions end on logout, password, role change, deactivation); "
               "user_branch links (managers of several branches)")
def _session_version_and_branch_links(schema):
    from peewee import IntegerField
    schema.add_column("user", "session_version", IntegerField(default=0))
    if schema.has_table("user"):
        from .org import UserBranch
        UserBranch.create_table(safe=True)  # migration 41 reads it (who belongs to which branch)


@migration(41, "history.branch_id: the branch of the row a history entry describes (branch scope)")
def _history_branch(schema):
    from peewee import IntegerField
    if not schema.has_table("history"):
        return
    schema.add_column("history", "branch_id", IntegerField(null=True))
    schema.add_index("history", ["branch_id"])
    from .audit import History
    from .org import Branch
    from .scope import RULES, rule_of
    rule_of(Branch)  # registers the rules
    branch_ids = [b for (b,) in Branch.select(Branch.id).tuples()]
    for model, rule in list(RULES.items()):
        if rule.shared or model is History or not schema.has_table(model._meta.table_name):
            continue
        for branch_id in branch_ids:
            rows = model.select(model._meta.primary_key).where(rule.condition(model, frozenset([branch_id])))
            (History.update(branch_id=branch_id)
             .where(History.object_type == model.__name__, History.branch_id.is_null(), History.object_id.in_(rows))
             .execute())


@migration(42, "customer.active (archived instead of deleted), customer.anonymised_at; "
               "export_log.personal_data")
def _customer_archive_and_privacy(schema):
    from peewee import BooleanField, DateTimeField
    schema.add_column("customer", "active", BooleanField(default=True))
    schema.add_index("customer", ["active"])
    schema.add_column("customer", "anonymised_at", DateTimeField(null=True))
    schema.add_column("export_log", "personal_data", BooleanField(default=False))


@migration(43, "evidence is never erased by a delete: every foreign key ON DELETE RESTRICT "
               "(no cascade removes awards, penalties, votes, callbacks, invitations or answers)")
def _foreign_keys_restrict(schema):
    from . import ALL_MODELS
    schema.match_on_delete(ALL_MODELS)


@migration(60, "search index of complaints and customers, and the triggers that keep it in sync (models/search.py)")
def _search_index(schema):
    # Built from the rows already stored (on 1M complaints and 1M customers: see
    # docs/SCALING.md for how long); `flask --app app reindex` builds it again at any time.
    # A new database gets it from create_tables(), with its tables.
    if schema.has_table("complaint") and schema.has_table("customer"):
        from .search import create_search_schema
        create_search_schema(schema.database)


@migration(70, "working-time calendars (work_calendar, calendar_day); slapolicy.hours_kind (calendar or working hours)")
def _working_time_calendars(schema):
    # every existing policy keeps counting around the clock, as before
    schema.add_column("sla_policy", "hours_kind", CharField(max_length=10, default="calendar"))
