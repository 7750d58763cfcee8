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
from peewee import CharField, DateTimeField, IntegerField
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
    so that an index on a new column is never attempted before the column exists."""
    from . import create_tables
    database = database or db
    echo = echo or (lambda message: None)
    SchemaVersion.create_table(safe=True)
    schema = Schema(database)
    applied = []
    for version, name, function in pending(database):
        with database.atomic():
            function(schema)
            SchemaVersion.create(version=version, name=name)
        echo(f"applied {version}: {name}")
        applied.append((version, name))
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
    # user_branch is a new table: create_tables() makes it after the migrations


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
