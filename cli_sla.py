"""`flask --app app sla-check`: overdue and soon-due complaints per branch, for a cron job."""
import json

import click
from flask_babel import force_locale, gettext as _

from models import clock
from models.i18n import LANGUAGE_CODES, babel_locale
from models.workflow import DUE_SOON_HOURS, sla_check, stage_label


def register(app):
    @app.cli.command("sla-check")
    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON (stage codes, ISO times).")
    @click.option("--hours", default=DUE_SOON_HOURS, show_default=True, type=click.FloatRange(min=0),
                  help="Also list complaints due within this many hours.")
    @click.option("--lang", type=click.Choice(LANGUAGE_CODES), default="zh_CN", show_default=True,
                  help="Language of the text report.")
    def sla_check_command(as_json, hours, lang):
        """List overdue and soon-due complaints per branch (exit code 0)."""
        moment = clock.now()
        branches = sla_check(moment, hours)
        if as_json:
            click.echo(json.dumps({"now": moment.isoformat(sep=" "), "due_soon_hours": hours, "branches": branches},
                                  ensure_ascii=False, indent=2))
            return
        with force_locale(babel_locale(lang)):
            click.echo(_text_report(moment, hours, branches))


def _text_report(moment, hours, branches):
    lines = [_("SLA check %(now)s (due soon: within %(hours)s h)", now=f"{moment:%Y-%m-%d %H:%M}", hours=f"{hours:g}")]
    if not branches:
        lines.append(_("No complaint is overdue or due soon."))
    for entry in branches:
        lines.append("")
        lines.append(_("%(branch)s: %(overdue)d overdue, %(soon)d due soon", branch=entry["branch"],
                       overdue=len(entry["overdue"]), soon=len(entry["due_soon"])))
        for kind in ("overdue", "due_soon"):
            for item in entry[kind]:
                minutes = abs(item["minutes_left"])
                if kind == "overdue":
                    when = _("overdue %(h)d h %(m)d min", h=minutes // 60, m=minutes % 60)
                else:
                    when = _("%(h)d h %(m)d min left", h=minutes // 60, m=minutes % 60)
                lines.append("  " + "  ".join([
                    item["number"], _("next: %(stage)s", stage=stage_label(item["next_stage"])),
                    _("due %(when)s", when=item["due_at"][:16]), when,
                    item["responsible_staff"] or "-", item["title"]]))
    return "\n".join(lines)
