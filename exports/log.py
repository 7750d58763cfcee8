"""The export log: who exported what, when, in which format, with which filters, how many rows."""
import json

from models.audit import ExportLog


def start_export(user, what, fmt, filters=None, username=None):
    """Record an export as it starts (rows filled in by finish_export), so an export that
    fails half-way is still on record."""
    return ExportLog.create(
        user=user, username=username if username is not None else (user.username if user else ""),
        what=str(what)[:100], format=fmt,
        filters=json.dumps(filters, ensure_ascii=False, default=str) if filters else "")


def finish_export(log, rows):
    ExportLog.update(rows=rows).where(ExportLog.id == log.id).execute()
    log.rows = rows
    return log
