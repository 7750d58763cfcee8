"""Flask CLI commands: flask --app app <command>."""
import getpass
import sys

import click

from models import Branch, User, create_tables, db
from models.org import ROLE_RANK


def register(app):
    import cli_export
    import cli_ops
    import cli_notify
    import cli_sla
    cli_sla.register(app)  # sla-check
    cli_notify.register(app)  # worker, notify-once
    cli_export.register(app)  # export
    cli_ops.register(app)  # upgrade-db, backup, restore, copy-data

    @app.cli.command("init-db")
    def init_db():
        """Create the tables (existing tables and data are kept)."""
        from models.settings import ensure_default_settings
        create_tables()
        ensure_default_settings()
        click.echo(f"Database ready: {app.config['DATABASE_URL']}")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(list(ROLE_RANK)), default="staff", show_default=True)
    @click.option("--password", envvar="SERVICE_DESK_PASSWORD", default=None,
                  help="For scripts only (or set SERVICE_DESK_PASSWORD); asked for when omitted.")
    def create_user(username, role, password):
        """Create a login account (asks for the password)."""
        create_tables()
        if User.select().where(User.username == username).exists():
            raise click.ClickException(f"user {username!r} already exists")
        if password is None:
            if not sys.stdin.isatty():
                raise click.ClickException("no terminal to ask for the password: use --password or SERVICE_DESK_PASSWORD")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Repeat password: "):
                raise click.ClickException("the passwords differ")
        user = User(username=username, role=role)
        try:
            user.set_password(password)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        with db.atomic():
            user.save()
        click.echo(f"created {role} {username}")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
    @click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
    def seed_demo(if_empty, seed):
        """Fill the database with realistic Chinese demo data and demo logins."""
        from demo_data import DEMO_LOGINS, seed as run_seed
        create_tables()
        if if_empty and User.select().exists():
            click.echo("database already has data; demo data not added")
        else:
            counts = run_seed(seed)
            click.echo("demo data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        from models.scope import branch_choices
        logins = [(u, p, r, account) for u, p, r in DEMO_LOGINS
                  if (account := User.get_or_none(User.username == u)) and account.check_password(p)]
        if logins:
            click.echo("demo logins (username / password / role / branches seen):")
            for username, password, role, account in logins:
                branches = branch_choices(account)
                seen = "all branches" if len(branches) == Branch.select().count() and role in ("director", "admin") \
                    else ", ".join(b.name for b in branches)
                click.echo(f"  {username} / {password} / {role} / {seen}")
