"""Operations commands: schema upgrades, backup and restore.

    flask --app app upgrade-db [--status]   # bring an existing database up to the models
    flask --app app backup FILE             # consistent copy of the SQLite database, taken live
    flask --app app restore FILE [--yes]    # replace the database with a backup (keeps a safety copy)
    flask --app app copy-data TARGET_URL    # copy everything into another, empty database
                                            # (moving an office from SQLite to PostgreSQL)
    flask --app app reindex                 # build the search index of complaints and customers again

SQLite backups use SQLite's online backup API: the copy is one consistent snapshot, and
with WAL the office keeps working (writers are not blocked) while it is taken. For a
PostgreSQL database the commands print the pg_dump / pg_restore commands to use instead.
"""
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import click
from playhouse.db_url import parse

from peewee import AutoField, PostgresqlDatabase

from models import ALL_MODELS, clock, db
from models.base import create_private_file, is_sqlite, open_database, release_connections
from models.choices import PRODUCT_LISTS, ChoiceList, ChoiceValue
from models.migrations import MIGRATIONS, SchemaVersion, applied_versions, upgrade
from models.search import create_search_schema, rebuild

# A file must have these tables to be accepted as a service-desk backup.
REQUIRED_TABLES = {"branch", "customer", "complaint", "user"}


def register(app):
    @app.cli.command("upgrade-db")
    @click.option("--status", is_flag=True, help="Only show applied and pending schema versions.")
    def upgrade_db(status):
        """Apply pending schema migrations and create missing tables (safe to repeat)."""
        db.connect(reuse_if_open=True)
        if status:
            done = applied_versions()
            for version, name, _ in MIGRATIONS:
                click.echo(f"{version:>4}  {'applied' if version in done else 'PENDING'}  {name}")
            click.echo(f"schema version {max(done) if done else 0}, "
                       f"{sum(v not in done for v, _, _ in MIGRATIONS)} pending")
            return
        applied = upgrade(echo=click.echo)
        from models.settings import ensure_default_settings
        ensure_default_settings()
        done = applied_versions()
        click.echo(f"Database {_safe_url(app.config['DATABASE_URL'])} is at schema version "
                   f"{max(done) if done else 0} ({len(applied)} migration(s) applied now).")

    @app.cli.command("reindex")
    def reindex():
        """Build the search index of complaints and customers again from the stored rows."""
        from models.search import create_search_schema, index_size, rebuild
        db.connect(reuse_if_open=True)
        create_search_schema(fill=False)
        counts = rebuild(echo=click.echo)
        sizes = index_size()
        click.echo("Search index rebuilt: " + ", ".join(
            f"{counts[kind]:,} {kind}s ({sizes[kind] / 2 ** 20:,.1f} MiB)" for kind in counts))

    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
    def backup(file, force):
        """Write a consistent copy of the database to FILE while the app keeps running."""
        source = _sqlite_path_or_guidance(app.config["DATABASE_URL"], "backup", file)
        if not Path(source).is_file():
            raise click.ClickException(f"there is no database at {source} to back up")
        if file.exists() and not force:
            raise click.ClickException(f"{file} exists; choose another name or pass --force")
        file.parent.mkdir(parents=True, exist_ok=True)
        counts = backup_sqlite(source, file)
        click.echo(f"Backup written to {file} ({file.stat().st_size:,} bytes): integrity ok, "
                   + ", ".join(f"{n:,} {t}" for t, n in counts.items()))

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore(file, yes):
        """Replace the database with the backup FILE (a safety copy of the current one is kept)."""
        target = _sqlite_path_or_guidance(app.config["DATABASE_URL"], "restore", file)
        counts = check_backup(file)
        click.echo(f"{file}: integrity ok, " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
        if not yes:
            click.confirm(f"Replace ALL data in {target} with this backup? Stop the app servers first.",
                          abort=True)
        safety = restore_sqlite(file, target)
        message = f"Restored {target} from {file}."
        if safety:
            message += f" The data it replaced is kept in {safety}."
        click.echo(message)


    @app.cli.command("copy-data")
    @click.argument("target_url")
    def copy_data_command(target_url):
        """Copy every row of this database into the empty database at TARGET_URL."""
        if target_url.rstrip("/") == app.config["DATABASE_URL"].rstrip("/"):
            raise click.ClickException("the target is the database itself")
        db.connect(reuse_if_open=True)
        upgrade()  # the source at the current schema, like the target will be
        counts = copy_data(db.obj, open_database(target_url), echo=click.echo)
        click.echo(f"Copied {sum(counts.values()):,} rows in {len(counts)} tables to {_safe_url(target_url)}. "
                   f"Point DATABASE_URL at it and start the app servers.")


# ----------------------------------------------------------------------------- copying

COPY_CHUNK = 1000


def copy_data(source, target, echo=None):
    """Copy all rows of ALL_MODELS (and the schema versions) from `source` to the empty
    `target`, in one target transaction: a failure leaves the target empty. Returns
    {table: rows}. Ids are kept, so every reference stays valid."""
    echo = echo or (lambda message: None)
    models = ALL_MODELS + [SchemaVersion]
    target.connect(reuse_if_open=True)
    with target.bind_ctx(models):
        target.create_tables(models, safe=True)
        busy = [m._meta.table_name for m in models if _office_rows(m).limit(1).exists()]
    if busy:
        raise click.ClickException(f"the target database is not empty ({', '.join(busy)}): "
                                   "copy only into a new, empty database")
    counts = {}
    with target.atomic():
        with target.bind_ctx(models):  # the lists a new database is seeded with give way to the office's
            ChoiceValue.delete().where(ChoiceValue.choice_list.in_(_seeded_lists())).execute()
            ChoiceList.delete().where(ChoiceList.id.in_(_seeded_lists())).execute()
        for model in models:
            fields = model._meta.sorted_fields
            key = model._meta.primary_key
            copied, last = 0, None
            while True:
                query = model.select(*fields).order_by(key).limit(COPY_CHUNK)
                if last is not None:
                    query = query.where(key > last)
                rows = list(query.bind(source).tuples())
                if not rows:
                    break
                model.insert_many(rows, fields=fields).bind(target).execute()
                copied += len(rows)
                last = rows[-1][fields.index(key)]
            counts[model._meta.table_name] = copied
            if isinstance(target, PostgresqlDatabase) and isinstance(key, AutoField):
                table = model._meta.table_name
                target.execute_sql(  # the next new row gets the id after the copied ones
                    f'SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX("{key.column_name}"), 1), '
                    f'MAX("{key.column_name}") IS NOT NULL) FROM "{table}"', (f'"{table}"', key.column_name))
            echo(f"  {model._meta.table_name}: {copied:,}")
        # the search index is not copied: it is built from the copied rows, in the same transaction
        create_search_schema(target, fill=False)
        rebuild(target)
        echo("  search index built")
    with target.bind_ctx(models):
        for model in models:
            stored = model.select().count()
            if stored != counts[model._meta.table_name]:
                raise click.ClickException(f"{model._meta.table_name}: {stored} rows in the target, "
                                           f"{counts[model._meta.table_name]} copied")
    target.close()
    return counts


def _seeded_lists():
    return ChoiceList.select(ChoiceList.id).where(ChoiceList.code.in_(list(PRODUCT_LISTS)))


def _office_rows(model):
    """The rows of `model` an office wrote: all of them, except the product's choice lists that
    create_tables() puts into every new database (models.choices.seed_product_lists)."""
    if model is ChoiceList:
        return model.select().where(ChoiceList.code.not_in(list(PRODUCT_LISTS)))
    if model is ChoiceValue:
        return model.select().where(ChoiceValue.choice_list.not_in(_seeded_lists()))
    return model.select()


# ----------------------------------------------------------------------------- SQLite

def backup_sqlite(source, destination):
    """Copy the live database `source` to `destination` with the online backup API and
    check the copy. Returns row counts of the main tables in the copy."""
    destination = Path(destination)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(str(partial))  # a copy of customer files: owner only (0600)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            # one step (pages=-1): a single read transaction, so the copy is one snapshot;
            # under WAL, writers keep committing meanwhile.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        finally:
            dst.close()
    finally:
        src.close()
    try:
        counts = check_backup(partial)
    except click.ClickException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, destination)
    return counts


def check_backup(path):
    """Refuse anything that is not an intact service-desk SQLite database."""
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise click.ClickException(f"{path} cannot be opened: {exc}") from None
    try:
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise click.ClickException(f"{path} is not a SQLite database ({exc})") from None
        if result != ["ok"]:
            raise click.ClickException(f"{path} fails the integrity check: {'; '.join(result[:5])}")
        missing = REQUIRED_TABLES - tables
        if missing:
            raise click.ClickException(f"{path} is not a service-desk backup (no table {', '.join(sorted(missing))})")
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                for t in ("customer", "complaint", "response", "answer") if t in tables}
    finally:
        conn.close()


def restore_sqlite(backup_file, target):
    """Write `backup_file` into the live database `target` through the backup API (which
    takes SQLite's locks and keeps the WAL consistent, unlike copying files over it).
    Returns the path of the safety copy of the replaced data, or None if there was none."""
    target = Path(target)
    safety = None
    if target.exists() and target.stat().st_size > 0:
        safety = target.with_name(f"{target.name}.before-restore-{clock.now():%Y%m%d-%H%M%S}")
        backup_sqlite_raw(target, safety)
    release_connections()
    src = sqlite3.connect(_read_only_uri(backup_file), uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        result = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise click.ClickException(f"restored database fails the integrity check: {result[:5]}")
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        src.close()
        dst.close()
    return safety


def backup_sqlite_raw(source, destination):
    """Backup without the service-desk table check (the safety copy before a restore)."""
    create_private_file(str(destination))
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


# ----------------------------------------------------------------------------- helpers

def _read_only_uri(path):
    """A SQLite URI that opens `path` read-only (and never creates it)."""
    return f"file:{quote(str(Path(path).resolve()))}?mode=ro"


def _safe_url(url):
    """The URL with its password hidden."""
    parsed = parse(url) if "://" in url else {}
    if parsed.get("password"):
        return url.replace(":" + parsed["password"] + "@", ":***@")
    return url


def _sqlite_path_or_guidance(url, action, file):
    """The SQLite file behind `url`; for any other database, stop with the right commands."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return parse(url)["database"]
    if is_sqlite():
        raise click.ClickException(f"cannot {action} an in-memory database")
    safe = _safe_url(url)
    if action == "backup":
        guidance = (f"This is a PostgreSQL database: back it up with pg_dump (consistent while the app runs):\n"
                    f"  pg_dump --format=custom --no-owner --file {file} '{safe}'\n"
                    f"Check the file lists: pg_restore --list {file} | head")
    else:
        guidance = (f"This is a PostgreSQL database: stop the app servers, then restore with pg_restore:\n"
                    f"  pg_restore --clean --if-exists --no-owner --single-transaction --dbname '{safe}' {file}\n"
                    f"then run: flask --app app upgrade-db")
    raise click.ClickException(guidance)
