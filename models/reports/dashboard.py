"""The landing page's figures and the 12-week / 12-month trend (definitions: the glossary in models.reports)."""
from peewee import fn

from ..clock import now
from ..complaints import Complaint
from ..surveys import Response
from .base import bucket_of, complaint_filters, grouped
from .complaints import complaints_received, due_soon_count, open_by_stage, sla_by, sla_compliance, sla_result
from .periods import day_of, last_periods, period_of
from .satisfaction import NO_SATISFACTION, response_rate, responses_received, satisfaction_by


def trend(kind="week", count=12, moment=None, branch=None, grade=None):
    """The last `count` weeks or months (oldest first): complaints received, SLA compliance,
    CSAT and NPS per period, each as defined for one period. Three queries whatever `count`."""
    periods = last_periods(kind, count, moment)
    start, end = periods[0].start, periods[-1].end
    bucket = bucket_of(Complaint.received_at, periods)
    received = {k: row[0] for k, row in grouped(
        complaint_filters(Complaint.select(bucket, fn.COUNT(Complaint.id)), start, end, branch, grade),
        bucket).items()}
    sla = sla_by(bucket, start, end, branch=branch, grade=grade)
    satisfaction = satisfaction_by(bucket_of(Response.submitted_at, periods), start, end, branch=branch, grade=grade)
    rows = []
    for index, period in enumerate(periods):
        sat = satisfaction.get(index, NO_SATISFACTION)
        rows.append({"period": period, "label": period.label, "complaints": received.get(index, 0),
                     "sla": sla.get(index, sla_result())["overall"]["rate"],
                     "csat": sat["csat"]["csat"], "nps": sat["nps"]["nps"]})
    return rows


def dashboard_summary(period=None, trend_kind="week", branch=None):
    """The landing page's figures (no personal data: staff see it too)."""
    moment = now()
    period = period or period_of("month", moment)
    by_stage = open_by_stage(branch, moment)
    sat = satisfaction_by(None, period.start, period.end, branch=branch).get(None, NO_SATISFACTION)
    today = day_of(moment)
    return {
        "now": moment,
        "period": period,
        "by_stage": by_stage,
        "open_total": sum(count for count, _ in by_stage.values()),
        "overdue_total": sum(late for _, late in by_stage.values()),
        "due_soon": due_soon_count(branch, moment),
        "received_today": complaints_received(today.start, today.end, branch=branch),
        "received": complaints_received(period.start, period.end, branch=branch),
        "sla": sla_compliance(period.start, period.end, branch=branch),
        "csat": sat["csat"],
        "nps": sat["nps"],
        "responses": responses_received(period.start, period.end, branch=branch),
        "response_rate": response_rate(period.start, period.end, branch=branch),
        "trend": trend(trend_kind, 12, moment, branch=branch),
        "trend_kind": trend_kind,
    }
