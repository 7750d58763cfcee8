"""Figures for managers, computed with SQL aggregates. One function per figure."""
from datetime import timedelta

from peewee import Case, fn

from .clock import now
from .complaints import STAGES, Complaint

OPEN_STAGES = [code for code, _ in STAGES if code != "closed"]


def open_by_stage():
    """{stage: (open, overdue)} for every stage before closed."""
    moment = now()
    overdue = fn.SUM(Case(None, [(Complaint.due_at < moment, 1)], 0))
    rows = (Complaint.select(Complaint.stage, fn.COUNT(Complaint.id), overdue)
            .where(Complaint.stage.in_(OPEN_STAGES)).group_by(Complaint.stage).tuples())
    found = {stage: (count, int(late or 0)) for stage, count, late in rows}
    return {stage: found.get(stage, (0, 0)) for stage in OPEN_STAGES}


def dashboard_summary():
    moment = now()
    by_stage = open_by_stage()
    return {
        "now": moment,
        "by_stage": by_stage,
        "open_total": sum(count for count, _ in by_stage.values()),
        "overdue_total": sum(late for _, late in by_stage.values()),
        "due_soon": Complaint.select().where(
            Complaint.stage.in_(OPEN_STAGES), Complaint.due_at >= moment,
            Complaint.due_at < moment + timedelta(hours=2)).count(),
        "received_today": Complaint.select().where(
            Complaint.received_at >= moment.replace(hour=0, minute=0, second=0)).count(),
    }
