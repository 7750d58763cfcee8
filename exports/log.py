"""The export log: who exported what, when, in which format, with which filters, how many rows."""
import json

from models.audit import ExportLog


def start_export(user, what, fmt, filters=None, username=None, personal_data=False):
    """Record an export as it starts (rows filled in by finish_export), so an export that
    fails half-way is still on record. `personal_data`: the file holds customers' personal
    data (models.privacy.personal_columns), which the log says."""
    return ExportLog.create(
        user=user if getattr(user, "id", None) is not None else None,
        username=username if username is not None else (user.username if user else ""),
        what=str(what)[:100], format=fmt, personal_data=bool(personal_data),
        filters=json.dumps(filters, ensure_ascii=False, default=str) if filters else "")


def finish_export(log, rows):
    ExportLog.update(rows=rows).where(ExportLog.id == log.id).execute()
    log.rows = rows
    return log
