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
from peewee import CharField, DateTimeField, IntegerField, IntegrityError, SqliteDatabase
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
        """Add `column` (a peewee Field; give it a default or null=True) if it is missing.

        A NOT NULL column with a plain default is added by one ALTER TABLE … NOT NULL DEFAULT x
        on both databases: playhouse's general path fills the column and then adds NOT NULL,
        which on SQLite rebuilds the table (copy, drop, rename) and loses its triggers (the
        search index's, models/search.py)."""
        if not self.has_table(table) or self.has_column(table, column):
            return False
        literal = self._default_literal(field)
        if literal is not None:
            from peewee import SQL
            field = field.clone()
            field.constraints = list(field.constraints or []) + [SQL(f"DEFAULT {literal}")]
            self.migrator.add_column(table, column, field, allow_not_null=True).run()
        else:
            self.migrator.add_column(table, column, field).run()
        return True

    def _default_literal(self, field):
        """The SQL literal of a NOT NULL field's constant default, or None (nullable, no default,
        a callable default, or a type without a safe literal)."""
        from decimal import Decimal
        if field.null or field.default is None or callable(field.default):
            return None
        value = field.db_value(field.default)
        if isinstance(value, bool):
            return ("1" if value else "0") if _is_sqlite(self.database) else ("TRUE" if value else "FALSE")
        if isinstance(value, (int, float, Decimal)):
            return str(value)
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return None

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
        return _is_sqlite(self.database)

    def match_on_delete(self, models):
        """Give every foreign key of `models` the ON DELETE action its model declares (peewee
        without on_delete: NO ACTION). PostgreSQL: the constraint is dropped and added again.
        SQLite cannot alter a constraint: the table's CREATE statement in sqlite_master is
        edited (the documented procedure for constraint changes that leave the stored rows as
        they are), inside this migration's transaction, and the schema version raised so that
        every connection reloads it; upgrade() runs it with foreign keys off and checks them
        (PRAGMA foreign_key_check) before the version row is written. Returns the (table,
        column, action) changed."""
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


def _is_sqlite(database):
    return isinstance(getattr(database, "obj", database), SqliteDatabase)  # db is a DatabaseProxy


def foreign_keys_broken(database):
    """On SQLite, the rows whose foreign key points at nothing (PRAGMA foreign_key_check): while
    migrations run with foreign keys off, a migration checks this itself. [] elsewhere (the
    database enforces its constraints)."""
    if not _is_sqlite(database):
        return []
    return database.execute_sql("PRAGMA foreign_key_check").fetchall()


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
    sqlite = _is_sqlite(database)
    if sqlite:
        database.execute_sql("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: before it
    try:
        for version, name, function in pending(database):
            with database.atomic():
                function(schema)
                broken = foreign_keys_broken(database)
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


@migration(20, "every complaint has an owner: those still without one get their branch's duty person or "
               "longest-serving active staff member (at a branch without staff: headquarters)")
def _complaint_owner_for_everyone(schema):
    if not (schema.has_table("complaint") and schema.has_table("staff")):
        return
    database, p = schema.database, schema.database.param
    # the ownership rule (models.ownership.owner_of_new_complaint) in plain SQL, so that this
    # migration does not depend on the models of a later version
    duty = f"SELECT id FROM staff WHERE branch_id = {p} AND active = {p} AND on_duty = {p} ORDER BY id LIMIT 1"
    senior = (f"SELECT id FROM staff WHERE branch_id = {p} AND active = {p} "
              "ORDER BY CASE WHEN hire_date IS NULL THEN 1 ELSE 0 END, hire_date, id LIMIT 1")
    director = (f'SELECT s.id FROM staff s JOIN "user" u ON u.staff_id = s.id WHERE u.role = {p} '
                f"AND u.active = {p} AND s.active = {p} ORDER BY u.id LIMIT 1")
    anyone = (f"SELECT id FROM staff WHERE active = {p} "
              "ORDER BY CASE WHEN hire_date IS NULL THEN 1 ELSE 0 END, hire_date, id LIMIT 1")
    branches = [b for (b,) in database.execute_sql(
        "SELECT DISTINCT branch_id FROM complaint WHERE assignee_id IS NULL").fetchall()]
    for branch_id in branches:
        owner = (database.execute_sql(duty, (branch_id, True, True)).fetchone()
                 or database.execute_sql(senior, (branch_id, True)).fetchone()
                 or (database.execute_sql(director, ("director", True, True)).fetchone()
                     if schema.has_table("user") else None)
                 or database.execute_sql(anyone, (True,)).fetchone())
        if owner is not None:
            database.execute_sql(f"UPDATE complaint SET assignee_id = {p} WHERE assignee_id IS NULL AND branch_id = {p}",
                                 (owner[0], branch_id))


@migration(30, "notifications: contact details and channel preferences of staff and accounts, complaint alert "
               "point, invitation delivery and reminder, customer opt-out (outbox tables: create_tables)")
def _notifications(schema):
    from peewee import BooleanField, CharField, DateTimeField, TextField
    for table in ("staff", "user"):
        schema.add_column(table, "email", CharField(max_length=120, default=""))
        schema.add_column(table, "mobile", CharField(max_length=30, default=""))
        schema.add_column(table, "notify_email", BooleanField(default=True))
        schema.add_column(table, "notify_sms", BooleanField(default=False))
    schema.add_column("customer", "survey_opt_out", BooleanField(default=False))
    schema.add_column("invitation", "delivery_channel", CharField(max_length=10, default=""))
    schema.add_column("invitation", "delivery_status", CharField(max_length=10, default=""))
    schema.add_column("invitation", "delivery_error", TextField(default=""))
    schema.add_column("invitation", "remind_at", DateTimeField(null=True))
    schema.add_index("invitation", ["remind_at"])
    if schema.add_column("complaint", "alert_at", DateTimeField(null=True)):
        # every open complaint is looked at by the scheduler's next tick (models.notifications)
        schema.database.execute_sql("UPDATE complaint SET alert_at = received_at WHERE stage <> 'closed'")
    schema.add_index("complaint", ["alert_at"])


# ---------------------------------------------------------------- 40–49: branch scope, sessions, evidence (issue 14)

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


# ---------------------------------------------------------------- 50–59: surveys in the field (issue 15)

def _add_column_with_default(schema, table, column, field):
    """Add a NOT NULL column whose DEFAULT is in the table (field constraints), in one ALTER
    TABLE on SQLite and PostgreSQL alike. playhouse's usual path would rebuild a SQLite table
    to add NOT NULL, and dropping the old `response` table would cascade to its answers."""
    if schema.has_table(table) and not schema.has_column(table, column):
        schema.migrator.add_column(table, column, field, allow_not_null=True).run()


@migration(50, "open link short codes; response review status, callback contact and form page; anonymous feedback")
def _surveys_in_the_field(schema):
    from peewee import SQL

    from .surveys import OpenLink, new_short_code
    if schema.add_column("open_link", "short_code", CharField(max_length=16, null=True)):
        taken = set()
        for (link_id,) in OpenLink.select(OpenLink.id).order_by(OpenLink.id).tuples():
            code = new_short_code()
            while code in taken:
                code = new_short_code()
            taken.add(code)
            OpenLink.update(short_code=code).where(OpenLink.id == link_id).execute()
    schema.add_index("open_link", ["short_code"], unique=True)
    _add_column_with_default(schema, "response", "status", CharField(
        max_length=10, default="counted", constraints=[SQL("DEFAULT 'counted'")]))
    schema.add_index("response", ["status"])
    schema.add_column("response", "hold_reason", CharField(max_length=20, null=True))
    for column, size in (("contact_name", 50), ("contact_phone", 30)):
        _add_column_with_default(schema, "response", column, CharField(
            max_length=size, default="", constraints=[SQL("DEFAULT ''")]))
    schema.add_column("response", "form_nonce", CharField(max_length=32, null=True))
    schema.add_index("response", ["form_nonce"])
    _create_feedback_table(schema)


def _create_feedback_table(schema):
    """The anonymous feedback table, when the tables it refers to exist (a brand-new database
    gets every table from create_tables() after the migrations)."""
    from .feedback import AnonymousFeedback
    if all(schema.has_table(t) for t in ("response", "survey", "branch", "user")):
        AnonymousFeedback.create_table(safe=True)


# the customer that anonymous follow-ups were filed against before migration 51
LEGACY_PLACEHOLDER_NAME = "匿名问卷客户"


def _worked_on(complaint_id, stage, people):
    """Somebody acted on the complaint: a stage done, a person named on it, a worksheet,
    callback, invitation, reward or penalty about it, or a history row written by a user."""
    from .audit import History
    from .complaints import Callback, Rectification
    from .recognition import RewardPenalty
    from .surveys import Invitation
    if stage != "received" or any(people):
        return True
    about = [(Rectification, Rectification.complaint), (Callback, Callback.complaint),
             (Invitation, Invitation.complaint), (RewardPenalty, RewardPenalty.complaint)]
    if any(model.select(model.id).where(column == complaint_id).exists() for model, column in about):
        return True
    return History.select(History.id).where((History.object_type == "Complaint") & (History.object_id == complaint_id)
                                            & History.user.is_null(False)).exists()


@migration(51, "anonymous follow-ups: the placeholder customer's untouched complaints become anonymous feedback")
def _placeholder_followups_to_feedback(schema):
    """Every complaint filed against a placeholder customer "匿名问卷客户" that nobody worked
    on becomes anonymous feedback (models.feedback) with the same branch, time, title and
    description and its old number in `former_complaint`; its response points at the
    feedback instead; history is written on both. Complaints somebody worked on stay as
    they are. A placeholder that nothing refers to any more is deleted (with history)."""
    from .audit import History, record
    from .complaints import Callback, Complaint
    from .customers import Customer
    from .feedback import AnonymousFeedback
    from .surveys import Invitation, Response
    if not all(schema.has_table(t) for t in ("customer", "complaint", "response", "callback", "invitation")):
        return  # a brand-new database: nothing was ever filed against a placeholder
    _create_feedback_table(schema)
    placeholders = Customer.select(Customer.id, Customer.name, Customer.organisation).where(
        (Customer.name == LEGACY_PLACEHOLDER_NAME) & (Customer.phone == "") & (Customer.organisation == ""))
    for placeholder in placeholders:
        complaints = (Complaint.select(Complaint.id, Complaint.number, Complaint.title, Complaint.description,
                                       Complaint.branch, Complaint.received_at, Complaint.stage,
                                       Complaint.assignee, Complaint.first_responder, Complaint.responsible_staff,
                                       Complaint.responsible_branch)
                      .where(Complaint.customer == placeholder.id).order_by(Complaint.id))
        for complaint in complaints:
            # the owner (assignee) is not evidence of work: migrations 2 and 20 give every complaint
            # one; a hand-over a person made is (a history row written by a user)
            people = (complaint.first_responder_id, complaint.responsible_staff_id, complaint.responsible_branch_id)
            if _worked_on(complaint.id, complaint.stage, people):
                continue
            source = (Response.select(Response.id, Response.survey)
                      .where(Response.followup_complaint == complaint.id).order_by(Response.id).first())
            feedback = AnonymousFeedback.create(
                response=source.id if source else None, survey=source.survey_id if source else None,
                branch=complaint.branch_id, received_at=complaint.received_at, title=complaint.title,
                description=complaint.description, former_complaint=complaint.number)
            Response.update(followup_complaint=None).where(Response.followup_complaint == complaint.id).execute()
            for table in ("notify_event", "outbox_message", "notification"):  # alerts about it (RESTRICT since 43)
                if schema.has_table(table):
                    schema.database.execute_sql(f'UPDATE "{table}" SET complaint_id = NULL WHERE complaint_id = '
                                                f'{schema.database.param}', (complaint.id,))
            record(feedback, "create", None, "former_complaint", "", complaint.number)
            History.create(object_type="Complaint", object_id=complaint.id,
                           object_label=f"{complaint.number} {complaint.title}"[:200], action="delete",
                           field="anonymous_feedback", new_value=str(feedback.id))
            Complaint.delete().where(Complaint.id == complaint.id).execute()
        still_used = any(model.select(model.id).where(column == placeholder.id).exists() for model, column in (
            (Complaint, Complaint.customer), (Callback, Callback.customer), (Invitation, Invitation.customer),
            (Response, Response.customer)))
        if still_used:
            continue
        try:
            with schema.database.atomic():  # a savepoint: a table this migration does not know may refer to it
                Customer.delete().where(Customer.id == placeholder.id).execute()
                if foreign_keys_broken(schema.database):  # SQLite migrates with foreign keys off (upgrade())
                    raise IntegrityError("the placeholder customer is still referred to")
                History.create(object_type="Customer", object_id=placeholder.id, object_label=placeholder.name,
                               action="delete", field="placeholder", old_value=placeholder.name)
        except IntegrityError:
            pass


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


@migration(71, "the product's choice lists as data (categories, channels, severities, compensations, callback "
               "channels, customer kinds, grades, lifecycles, deal states, churn reasons, survey dimensions)")
def _product_choice_lists(schema):
    # Each list gets today's values (models.choices.seed_product_lists), plus any other code the
    # rows already store (deactivated, labelled with the code), so every stored code keeps a value.
    from .choices import ChoiceList, ChoiceValue, seed_product_lists
    ChoiceList.create_table(safe=True)
    ChoiceValue.create_table(safe=True)
    seed_product_lists()


@migration(72, "complaint.sla_hours_kind: how a complaint's due times were counted (calendar or working hours)")
def _complaint_hours_kind(schema):
    # every complaint so far was given due times around the clock (policies could not count
    # working hours before this release)
    schema.add_column("complaint", "sla_hours_kind", CharField(max_length=10, default="calendar"))
