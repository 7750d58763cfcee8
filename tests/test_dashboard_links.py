"""Every dashboard figure is a link to the list behind it: the "due within 2 h" and "received
today" cards, and each stage's done / on time / late count of the SLA table."""
import re
from datetime import datetime, timedelta

from models import Complaint, clock
from models.workflow import complete_stage

from .helpers import make_complaint, make_customer

NOW = datetime(2026, 11, 18, 15, 0)


def _linked(page, element_id):
    match = re.search(rf'id="{element_id}"[^>]*>\s*<a href="([^"]+)"[^>]*>([\d.]+)%?</a>', page)
    assert match, f"no linked figure #{element_id}"
    return match.group(1).replace("&amp;", "&"), match.group(2)


def _rows(client, url):
    page = client.get(url + "&page_size=100").get_data(as_text=True)
    assert "alert-danger" not in page, page
    return len(set(re.findall(r"/admin/complaint/details/\?id=(\d+)", page)))


def test_cards_and_sla_figures_link_to_their_lists(app, office, login_as):
    customer = make_customer(office["branch"])
    for received in (NOW - timedelta(minutes=30), NOW - timedelta(minutes=50), NOW - timedelta(hours=3),
                     NOW - timedelta(days=1, hours=2), NOW - timedelta(days=3)):
        clock.freeze(received)
        make_complaint(customer, first_responder=office["staff"])
    # of the two received yesterday and three days ago, one acknowledged on time, one late
    early, late = Complaint.select().order_by(Complaint.received_at).limit(2)
    clock.freeze(early.received_at + timedelta(minutes=30))
    complete_stage(early, "acknowledged", None, apology_note="致歉", director_notified=True)
    clock.freeze(late.received_at + timedelta(hours=2))
    complete_stage(late, "acknowledged", None, apology_note="致歉", director_notified=True)
    clock.freeze(NOW)
    manager = login_as("manager")
    page = manager.get("/admin/").get_data(as_text=True)

    url, shown = _linked(page, "due-soon")  # the two received 30 and 50 minutes ago
    assert int(shown) == 2 == _rows(manager, url)
    url, shown = _linked(page, "received-today")
    assert int(shown) == 3 == _rows(manager, url)
    table = page[page.index('id="sla-table"'):page.index("</table>", page.index('id="sla-table"'))]
    row = table[table.index('data-stage="acknowledged"'):]
    links = re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', row[:row.index("</tr>")])
    done, on_time, late_count = [(u.replace("&amp;", "&"), int(n)) for u, n in links[:3]]
    assert (done[1], on_time[1], late_count[1]) == (2, 1, 1)
    for url, count in (done, on_time, late_count):
        assert _rows(manager, url) == count
    assert "overall" in table and table.count("<a href=") >= 12  # every stage row and the total are linked
