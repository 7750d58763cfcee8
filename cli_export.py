"""`flask --app app export complaints --format xlsx --out FILE`: the export of an admin list
for cron jobs, with the same columns, labels, filters and formula escaping as the download.

With `--user NAME` the export runs on behalf of that account: its role must allow exports
and only the rows of its branch scope are written (models.scope), exactly as its download
would be; the export log names the account. Without it the operator of the server exports
every branch (models.scope.SYSTEM), logged as cli:<unix user>."""
import getpass
import os
from pathlib import Path

import click
from flask import g

from exports.listing import FORMATS, view_sheet
from exports.log import finish_export, start_export
from models import User
from models.i18n import LANGUAGE_CODES
from models.scope import SYSTEM
from exports.writers import csv_chunks, write_xlsx


def _plural(name):
    if name.endswith("y"):
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    return name + "s"


def exportable_views(app):
    """{name: model view} for every admin list, by endpoint and its plural (complaint, complaints)."""
    views = {}
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            if hasattr(view, "model") and hasattr(view, "_export_columns"):
                views[view.endpoint] = view
                views[_plural(view.endpoint)] = view
    return views


def _counted(rows, bar):
    """Pass rows through, moving the progress bar every 1000 rows."""
    n = 0
    for n, row in enumerate(rows, start=1):
        yield row
        if not n % 1000:
            bar.update(1000)
    bar.update(n % 1000)


def register(app):
    @app.cli.command("export")
    @click.argument("what")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
    @click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
                  help="File to write (replaced only when the export succeeded).")
    @click.option("--query", default="",
                  help="The list's URL query copied from the browser (search, filters, sort), "
                       "e.g. 'search=漏水&flt0_0=received'.")
    @click.option("--lang", type=click.Choice(LANGUAGE_CODES), default="zh_CN", show_default=True,
                  help="Language of the headers and labels.")
    @click.option("--user", "username", default=None,
                  help="Export on behalf of this account: its role and branch scope apply.")
    def export(what, fmt, out, query, lang, username):
        """Export an admin list (e.g. complaints, customers, callbacks) to xlsx or csv."""
        views = exportable_views(app)
        view = views.get(what.lower())
        if view is None:
            names = sorted({v.endpoint for v in views.values()})
            raise click.BadParameter(f"unknown list {what!r}; one of: {', '.join(names)}", param_hint="WHAT")
        account = SYSTEM
        if username is not None:
            account = User.get_or_none(User.username == username)
            if account is None or not account.active:
                raise click.BadParameter(f"no active account {username!r}", param_hint="--user")
            if not (account.has_role(view.required_role) and account.has_role(view.export_role)):
                raise click.BadParameter(f"{username!r} ({account.role}) may not export {view.endpoint}",
                                         param_hint="--user")
        url = f"/admin/{view.endpoint}/?{query.lstrip('?')}"
        with app.test_request_context(url, headers={"Cookie": f"lang={lang}"}):
            g._login_user = account  # what flask_login.current_user returns in this context
            count, sheet, description = view_sheet(view)
            log = start_export(account if username else None, view.endpoint, fmt, description,
                               username=None if username else f"cli:{getpass.getuser()}"[:50],
                               personal_data=sheet.personal_data)
            partial = out.with_name(out.name + ".part")
            with click.progressbar(length=count or 0, label=f"{view.endpoint} → {out.name}",
                                   file=click.get_text_stream("stderr")) as bar:
                sheet.rows = _counted(sheet.rows, bar)
                try:
                    if fmt == "xlsx":
                        write_xlsx(str(partial), [sheet])
                    else:
                        with partial.open("wb") as handle:
                            for chunk in csv_chunks(sheet):
                                handle.write(chunk)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
            os.replace(partial, out)
            finish_export(log, sheet.count)
        click.echo(f"{sheet.count} rows written to {out}")
