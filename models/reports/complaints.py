"""Complaint figures: open and overdue now, received in a period, SLA compliance and SLA
breaches (definitions: the glossary in models.reports)."""
from collections import OrderedDict
from peewee import fn

from ..clock import now
from ..complaints import DUE_SOON_HOURS, OPEN_STAGES, STAGE_TABLE, TIMED_STAGES, Complaint
from .base import complaint_filters, complaint_scope, count_if, grouped, percent


# ---------------------------------------------------------------- now

def open_by_stage(branch=None, moment=None):
    """{stage: (open, overdue)} for every stage before closed, at `moment` (default now)."""
    moment = moment or now()
    query = (Complaint.open().select(Complaint.stage, fn.COUNT(Complaint.id), count_if(Complaint.past_due(moment)))
             .group_by(Complaint.stage))
    query = complaint_scope(query, branch)
    found = {stage: (count, int(late or 0)) for stage, count, late in query.tuples()}
    return {stage: found.get(stage, (0, 0)) for stage in OPEN_STAGES}


def due_soon_count(branch=None, moment=None, hours=DUE_SOON_HOURS):
    """Open complaints whose next deadline is within `hours` from `moment` (not yet overdue)."""
    return complaint_scope(Complaint.due_soon(moment or now(), hours), branch).count()


# ---------------------------------------------------------------- received in a period

def complaints_received(start, end, branch=None, grade=None, staff=None):
    """Number of complaints received in [start, end)."""
    return complaint_filters(Complaint.select(), start, end, branch, grade, staff).count()


def complaints_by_stage(start, end, key=None, moment=None, branch=None, grade=None):
    """For the complaints received in [start, end): {key value: {"received", "stages":
    {stage: number now at that stage}, "overdue": number open and past their next deadline
    at `moment`}}; `key` a Complaint column to group by (None: one group, key None)."""
    moment = moment or now()
    columns = ([key] if key is not None else []) + [fn.COUNT(Complaint.id)] + [
        count_if(Complaint.stage == stage.code) for stage in STAGE_TABLE] + [
        count_if(Complaint.open_condition() & Complaint.past_due(moment))]
    query = complaint_filters(Complaint.select(*columns), start, end, branch, grade)
    result = {}
    for k, row in grouped(query, key).items():
        values = [int(v or 0) for v in row] or [0] * (len(STAGE_TABLE) + 2)
        result[k] = {"received": values[0],
                     "stages": OrderedDict((stage.code, n) for stage, n in zip(STAGE_TABLE, values[1:-1])),
                     "overdue": values[-1]}
    return result


def no_complaints_by_stage():
    return {"received": 0, "stages": OrderedDict((stage.code, 0) for stage in STAGE_TABLE), "overdue": 0}


# ---------------------------------------------------------------- SLA compliance (stages done)

def _on_time(stage):
    done, due = getattr(Complaint, stage.done_field), getattr(Complaint, stage.due_field)
    return done.is_null(False) & (due.is_null() | (done <= due))


def _sla_aggregates():
    columns = []
    for stage in TIMED_STAGES:
        columns.append(count_if(getattr(Complaint, stage.done_field).is_null(False)))
        columns.append(count_if(_on_time(stage)))
    return columns


def sla_result(row=()):
    """The SLA compliance dict from the aggregate row (done, on time per timed stage)."""
    row = [int(v or 0) for v in row] or [0] * (2 * len(TIMED_STAGES))
    result, done_total, on_time_total = OrderedDict(), 0, 0
    for index, stage in enumerate(TIMED_STAGES):
        done, on_time = row[2 * index], row[2 * index + 1]
        result[stage.code] = {"done": done, "on_time": on_time, "late": done - on_time, "rate": percent(on_time, done)}
        done_total += done
        on_time_total += on_time
    result["overall"] = {"done": done_total, "on_time": on_time_total, "late": done_total - on_time_total,
                         "rate": percent(on_time_total, done_total)}
    return result


def sla_by(key, start, end, **filters):
    """{key value: sla_compliance dict} for complaints received in [start, end)."""
    columns = ([key] if key is not None else []) + _sla_aggregates()
    query = complaint_filters(Complaint.select(*columns), start, end, **filters)
    return {k: sla_result(row) for k, row in grouped(query, key).items()}


def sla_compliance(start, end, branch=None, grade=None, staff=None):
    """SLA compliance (SLA 达标率): {stage: {done, on_time, late, rate}, …, "overall": {…}}
    for the complaints received in [start, end); late = done after the due time."""
    return sla_by(None, start, end, branch=branch, grade=grade, staff=staff)[None]


# ---------------------------------------------------------------- SLA breaches (done late or overdue)

def _breach_conditions(moment):
    conditions = []
    for stage in TIMED_STAGES:
        done, due = getattr(Complaint, stage.done_field), getattr(Complaint, stage.due_field)
        done_late = done.is_null(False) & (done > due)
        overdue = done.is_null() & (due < moment) & Complaint.open_condition()
        conditions.append((done_late, overdue))
    return conditions


def sla_breaches(start, end, key=None, moment=None, branch=None, grade=None):
    """SLA breaches (超时) of the complaints received in [start, end), counted at `moment`
    (default now): {key value: {"received", "stages": {stage: {"done_late", "overdue",
    "breaches"}}, "with_breach", "breach_free", "breach_free_rate"}}."""
    moment = moment or now()
    conditions = _breach_conditions(moment)
    any_breach = None
    columns = ([key] if key is not None else []) + [fn.COUNT(Complaint.id)]
    for done_late, overdue in conditions:
        columns += [count_if(done_late), count_if(overdue)]
        any_breach = (done_late | overdue) if any_breach is None else (any_breach | done_late | overdue)
    columns.append(count_if(any_breach))
    query = complaint_filters(Complaint.select(*columns), start, end, branch, grade)
    return {k: _breach_result([int(v or 0) for v in row]) for k, row in grouped(query, key).items()}


def _breach_result(values):
    values = values or [0] * (2 + 2 * len(TIMED_STAGES))
    received, with_breach = values[0], values[-1]
    stages = OrderedDict()
    for index, stage in enumerate(TIMED_STAGES):
        done_late, overdue = values[1 + 2 * index], values[2 + 2 * index]
        stages[stage.code] = {"done_late": done_late, "overdue": overdue, "breaches": done_late + overdue}
    return {"received": received, "stages": stages, "with_breach": with_breach,
            "breach_free": received - with_breach, "breach_free_rate": percent(received - with_breach, received)}


def no_breaches():
    return _breach_result([])


__all__ = ["open_by_stage", "due_soon_count", "complaints_received", "complaints_by_stage", "sla_compliance",
           "sla_breaches", "sla_by", "sla_result", "no_breaches", "no_complaints_by_stage"]
