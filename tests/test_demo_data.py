"""The demo office is one a person can believe: seeded at any moment, nothing in it has
happened after that moment (a vote at 04:08 when the clock says 01:17 was one such slip)."""
from datetime import datetime, timedelta

import pytest

from demo_data import seed
from models import Callback, Complaint, History, Invitation, Response, clock

# just after midnight on the 1st: "this month" is 77 minutes old
MOMENTS = [datetime(2026, 12, 1, 1, 17), datetime(2026, 6, 15, 14, 30)]


@pytest.mark.parametrize("moment", MOMENTS)
def test_nothing_in_the_demo_happened_after_it_was_made(app, moment):
    clock.freeze(moment)
    with app.app_context():
        seed()
        happened = [Response.submitted_at, Complaint.received_at, Complaint.acknowledged_at, Complaint.resolved_at,
                    Complaint.rectified_at, Complaint.called_back_at, Complaint.closed_at, Callback.done_at,
                    Invitation.created_at, Invitation.sent_at, Invitation.opened_at, Invitation.answered_at,
                    History.at]
        for column in happened:
            latest = column.model.select(column).where(column.is_null(False)).order_by(column.desc()).scalar()
            assert latest is not None, column
            if isinstance(latest, str):  # SQLite hands back text for a bare column in scalar()
                latest = datetime.fromisoformat(latest)
            assert latest <= moment, (column, latest)
        # the survey follow-ups were worked on like any complaint: none older than 100 hours is untouched
        followups = Complaint.select().where(Complaint.channel == "survey")
        assert followups.count() > 10
        old = followups.where(Complaint.received_at < moment - timedelta(hours=100))
        assert old.count() > 0 and not old.where(Complaint.stage == "received").exists()
