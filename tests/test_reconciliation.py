"""Reconciliation: every figure, read from EVERY surface that shows it, equals the same figure
on the other surfaces and the value computed by hand from tests/reconciliation_data.py.

Surfaces read back: the dashboard (with and without a branch), the branch ranking page, the
staff scoreboard page, survey analytics, customer quadrants, the survey list and survey page
(HTML parsed with BeautifulSoup), the weekly and monthly workbooks (every sheet, openpyxl),
and `flask sla-check --json`. The hand values are written out below, next to how they come
about; the rules are the glossary's (models.reports).

The data set holds a submission held for review (R11) and a rejected one (R12): they are in
no figure, since every hand value below leaves them out; the survey analytics index shows
them apart, with the anonymous feedback (F1) that replaced the old placeholder complaint.
"""
import io
import json
import re

import openpyxl
import pytest
from bs4 import BeautifulSoup

from models import clock

from . import reconciliation_data
from .helpers import Client, make_user

WEEK_DAY, DEC_DAY, NOV_DAY = "2026-12-02", "2026-12-02", "2026-11-15"


# ---------------------------------------------------------------- reading the surfaces

def number(text):
    """A figure as shown: "83.3%" → 83.3, "12" → 12, "–" (no data) → None."""
    text = (text or "").strip().rstrip("%").strip()
    if text in ("", "–"):
        return None
    value = float(text)
    return int(value) if re.fullmatch(r"-?\d+", text) else value


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    # no error message (the public-address warning is about the test server's address, not a figure)
    assert not soup.select(".alert-danger:not(#public-address-warning), .alert-error"), url
    return soup


def text_of(soup, element_id):
    return soup.find(id=element_id).get_text(" ", strip=True)


def table_rows(soup, table_id, key_attr):
    """{row key: {column heading: cell text}} of a table whose rows carry `key_attr`."""
    table = soup.find(id=table_id)
    headings = [th.get_text(" ", strip=True) for th in table.find("thead").find_all("th")]
    return {row[key_attr]: dict(zip(headings, (td.get_text(" ", strip=True) for td in row.find_all("td"))))
            for row in table.find("tbody").find_all("tr") if row.has_attr(key_attr)}


def dashboard(client, query):
    soup = page(client, f"/admin/?{query}")
    sla = {stage: {k: number(v) for k, v in row.items() if k != "SLA stage"}
           for stage, row in table_rows(soup, "sla-table", "data-stage").items()}
    return {
        "open_total": number(text_of(soup, "open-total")), "overdue_total": number(text_of(soup, "overdue-total")),
        "due_soon": number(text_of(soup, "due-soon")), "received_today": number(text_of(soup, "received-today")),
        "by_stage": {stage: (number(row["Open"]), number(row["Overdue"]))
                     for stage, row in table_rows(soup, "open-by-stage", "data-stage").items()},
        "received": number(text_of(soup, "received-period")), "responses": number(text_of(soup, "responses-period")),
        "sla": sla, "csat": number(text_of(soup, "csat")), "nps": number(text_of(soup, "nps")),
        "response_rate": number(text_of(soup, "response-rate")),
        "sent": number(text_of(soup, "rate-sent")), "answered": number(text_of(soup, "rate-answered")),
        "trend": {label: {k: v.split(" ")[0] if k == "Period" else number(v) for k, v in row.items()}
                  for label, row in table_rows(soup, "trend-table", "data-period").items()},
    }


def ranking_page(client, query, office):
    soup = page(client, f"/admin/scoring/ranking/?{query}")
    names = {str(office[k].id): office[k].name for k in ("js", "xj", "gn")}
    rows = table_rows(soup, "ranking", "data-branch")
    order = [names.get(row["data-branch"], row["data-branch"])
             for row in soup.find(id="ranking").find("tbody").find_all("tr") if row.has_attr("data-branch")]
    result = {}
    for key, row in rows.items():
        on_time, done = (number(n) for n in row["Stages done"].split("/"))
        score = row["Score"]
        result[names.get(key, key)] = {
            "rank": number(row["Rank"]), "score": None if score.startswith("Not enough") else number(score),
            "note": score if score.startswith("Not enough") else "", "sla_rate": number(row["SLA compliance"]),
            "sla_on_time": on_time, "sla_done": done, "csat": number(row["CSAT"]),
            "csat_answers": number(row["Ratings"]), "nps": number(row["NPS"]), "complaints": number(row["Complaints"]),
            "customers": number(row["Customers"]),
            "complaints_per_100": number(row["Complaints per 100 customers"]),
            "complaint_score": number(row["Complaint score"])}
    return order, result


def scoreboard_page(client, query, office):
    soup = page(client, f"/admin/scoring/staff/?{query}")
    names = {str(office[k].id): office[k].name for k in ("s1", "s2", "s3")}
    board = {}
    for key, row in table_rows(soup, "scoreboard", "data-staff").items():
        on_time, done = (number(n) for n in row["Stages on time"].split("/"))
        board[names[key]] = {"votes": number(row["Votes"]), "survey_answers": number(row["Ratings about them"]),
                             "survey_mean": number(row["Mean rating"]), "csat": number(row["CSAT"]),
                             "complaints": number(row["Complaints (responsible)"]), "stages_on_time": on_time,
                             "stages_done": done, "sla_rate": number(row["SLA compliance"]),
                             "rewards": number(row["Rewards"]), "penalties": number(row["Penalties"])}
    candidates = [(names[row["data-staff"]], number(row.find("td").get_text(strip=True)))
                  for row in soup.find(id="candidates").find("tbody").find_all("tr") if row.has_attr("data-staff")]
    return board, candidates


def workbook(client, kind, day):
    response = client.get(f"/admin/report-workbooks/download/?kind={kind}&day={day}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))

    def sheet(title, key=0):
        rows = [list(r) for r in book[title].iter_rows(values_only=True)]
        return {row[key]: dict(zip(rows[0], row)) for row in rows[1:]}
    return book, sheet


def pct(cell):
    """A workbook percent cell (0.833) as the glossary's percentage (83.3)."""
    return None if cell is None else round(cell * 100, 1)


# ---------------------------------------------------------------- the data set

@pytest.fixture
def manager(app, office):
    """Every figure of the whole office: read by the service director, who sees every branch
    (a branch manager's pages count their own branches only: models.scope)."""
    with app.app_context():
        make_user("director", "director")
    client = Client(app.test_client())
    client.login("director")
    client.http.set_cookie("lang", "en")
    return client


@pytest.fixture
def office_data(app, office):
    with app.app_context():
        data = reconciliation_data.build(office)
    data.update(office)
    yield data
    clock.freeze(None)


# ---------------------------------------------------------------- complaints now: dashboard, per branch, CLI

def test_open_overdue_and_due_soon_on_dashboard_and_sla_check(app, manager, office_data):
    # open: K1 (acknowledged), K2, K5 (resolved), K4, K7, K9 (received); K3, K8 closed
    # overdue: K1 (result due 11-30 23:59:59), K2 (rectification due 12-02 00:00), K9 (F1 has no deadline);
    # K7 is due exactly now: not overdue, due soon; K4 due 10:30: due soon; K5 due 12:00 = now + 2 h: neither
    board = dashboard(manager, "period=week&at=" + WEEK_DAY)
    assert board["by_stage"] == {"received": (3, 1), "acknowledged": (1, 1), "resolved": (2, 1), "rectified": (0, 0),
                                 "called_back": (0, 0)}
    assert (board["open_total"], board["overdue_total"], board["due_soon"]) == (6, 3, 2)
    assert board["received_today"] == 2  # K4, K7
    per_branch = {}
    for key, name in (("js", "江苏分公司"), ("xj", "新疆分公司"), ("gn", "甘宁分公司")):
        shown = dashboard(manager, f"period=week&at={WEEK_DAY}&branch={office_data[key].id}")
        per_branch[name] = (shown["open_total"], shown["overdue_total"], shown["due_soon"])
    assert per_branch == {"江苏分公司": (4, 3, 1), "新疆分公司": (2, 0, 1), "甘宁分公司": (0, 0, 0)}

    result = app.test_cli_runner().invoke(args=["sla-check", "--json"])
    assert result.exit_code == 0, result.output
    listed = {entry["branch"]: (len(entry["overdue"]), len(entry["due_soon"]))
              for entry in json.loads(result.output)["branches"]}
    assert listed == {"江苏分公司": (3, 1), "新疆分公司": (0, 1)}
    assert {name: (o, s) for name, (_n, o, s) in per_branch.items() if o or s} == listed


# ---------------------------------------------------------------- the week

WEEK_SLA = {  # K2: ack late, result on time; K3: 4 on time; K5: ack late, result exactly on time
    "acknowledged": {"Done": 3, "On time": 1, "Done late": 2, "Compliance": 33.3},
    "resolved": {"Done": 3, "On time": 3, "Done late": 0, "Compliance": 100.0},
    "rectified": {"Done": 1, "On time": 1, "Done late": 0, "Compliance": 100.0},
    "called_back": {"Done": 1, "On time": 1, "Done late": 0, "Compliance": 100.0},
    "overall": {"Done": 8, "On time": 6, "Done late": 2, "Compliance": 75.0},
}
# the composite by hand (weights 0.4 / 0.4 / 0.2): complaint rates JS 3/3, XJ 2/2 (both the highest, F1 is
# no complaint): complaint score 0 for both; JS = 0.4 × 83.3 + 0.4 × 50 + 0.2 × 0 = 53.32; XJ = 0.4 × 50 = 20
WEEK_RANKING = {
    "江苏分公司": {"rank": 1, "score": 53.32, "note": "", "sla_rate": 83.3, "sla_on_time": 5, "sla_done": 6, "csat": 50.0,
              "csat_answers": 2, "nps": 100.0, "complaints": 3, "customers": 3, "complaints_per_100": 100.0,
              "complaint_score": 0.0},
    "新疆分公司": {"rank": 2, "score": 20.0, "note": "", "sla_rate": 50.0, "sla_on_time": 1, "sla_done": 2, "csat": 0.0,
              "csat_answers": 2, "nps": None, "complaints": 2, "customers": 2, "complaints_per_100": 100.0,
              "complaint_score": 0.0},
    "甘宁分公司": {"rank": None, "score": None, "note": "Not enough data: SLA compliance, CSAT, Complaint score",
              "sla_rate": None, "sla_on_time": 0, "sla_done": 0, "csat": None, "csat_answers": 0, "nps": None,
              "complaints": 0, "customers": 0, "complaints_per_100": None, "complaint_score": None},
}


def test_the_week_on_every_surface(manager, office_data):
    board = dashboard(manager, "period=week&at=" + WEEK_DAY)
    # received in W49: K2, K3, K4, K5, K7 (K1 at Sunday 23:59:59 is the week before; F1 is no complaint)
    assert board["received"] == 5
    assert board["sla"] == WEEK_SLA
    # ratings R2 4, R3 3, R6 1, R7 2: one of four is 4-5 (R11's 5 is held); scores R4 9, R5 9, R10 10 (R12 rejected)
    assert (board["csat"], board["nps"]) == (25.0, 100.0)
    assert board["responses"] == 7  # R2 R3 R4 R5 R6 R7 R10
    # sent in the week: I3 (answered), I4; I5 answered but never marked sent, I6 never sent
    assert (board["response_rate"], board["sent"], board["answered"]) == (50.0, 2, 1)
    assert board["trend"]["2026-W49"] == {"Period": "2026-W49", "Complaints received": 5, "SLA compliance": 75.0,
                                          "CSAT": 25.0, "NPS": 100.0}
    assert board["trend"]["2026-W48"] == {"Period": "2026-W48", "Complaints received": 1, "SLA compliance": 100.0,
                                          "CSAT": 100.0, "NPS": None}  # K1 on the dot, R1 at Sunday 23:59:59

    order, ranking = ranking_page(manager, "period=week&at=" + WEEK_DAY, office_data)
    assert ranking == WEEK_RANKING and order == ["江苏分公司", "新疆分公司", "甘宁分公司"]
    # the ranking's per-branch figures add up to the dashboard's
    assert sum(r["complaints"] for r in ranking.values()) == board["received"]
    assert sum(r["sla_done"] for r in ranking.values()) == board["sla"]["overall"]["Done"]
    assert sum(r["sla_on_time"] for r in ranking.values()) == board["sla"]["overall"]["On time"]

    book, sheet = workbook(manager, "weekly", WEEK_DAY)
    ranked = sheet("Branch ranking", 1)
    assert list(ranked) == order
    for name, expected in WEEK_RANKING.items():
        row = ranked[name]
        assert (row["Rank"], row["Score"], row["Note"] or "") == (expected["rank"], expected["score"], expected["note"])
        assert (pct(row["SLA compliance"]), row["Stages done"], row["Stages on time"], pct(row["CSAT"]), row["Ratings"],
                row["NPS"], row["Complaints"], row["Customers"], row["Complaints per 100 customers"],
                row["Complaint score"]) == (
            expected["sla_rate"], expected["sla_done"], expected["sla_on_time"], expected["csat"],
            expected["csat_answers"], expected["nps"], expected["complaints"], expected["customers"],
            expected["complaints_per_100"], expected["complaint_score"])

    # complaints by stage (received in the week, where they stand now) and breaches (counted now)
    stages = sheet("Complaints by stage")
    assert [stages[b]["Complaints received"] for b in ("江苏分公司", "新疆分公司", "甘宁分公司")] == [3, 2, 0]
    assert sum(r["Complaints received"] for r in stages.values()) == board["received"]
    assert [stages["江苏分公司"][f"Now at: {s}"] for s in ("Received", "Result given", "Closed")] == [1, 1, 1]
    assert (stages["江苏分公司"]["Overdue now"], stages["新疆分公司"]["Overdue now"]) == (1, 0)  # K2; none
    assert "旧分公司" not in stages  # inactive and empty
    breaches = sheet("SLA breaches")
    # JS: K2 ack done late + K2 rectification overdue; XJ: K5 ack late (K7 not yet due)
    assert {b: [r["Breaches: Acknowledged"], r["Breaches: Result given"], r["Breaches: Rectification filed"],
                r["Breaches: Callback done"], r["Complaints with a breach"], pct(r["Breach-free complaints"])]
            for b, r in breaches.items()} == {"江苏分公司": [1, 0, 1, 0, 1, 66.7], "新疆分公司": [1, 0, 0, 0, 1, 50.0],
                                              "甘宁分公司": [0, 0, 0, 0, 0, None]}

    summary = sheet("Survey summary")
    assert summary["客户满意度调查"] == {
        "Survey": "客户满意度调查", "Kind": "CSAT (5-point)", "Responses": 4, "Invitations sent": 2,
        "Invitations answered": 1, "Response rate": 0.5, "Rating answers": 4, "Average rating (1-5)": 2.5,
        "CSAT (4-5)": 0.25, "Score answers (0-10)": 0, "NPS": None}
    assert summary["推荐意愿调查"] == {
        "Survey": "推荐意愿调查", "Kind": "NPS", "Responses": 3, "Invitations sent": 0, "Invitations answered": 0,
        "Response rate": None, "Rating answers": 0, "Average rating (1-5)": None, "CSAT (4-5)": None,
        "Score answers (0-10)": 3, "NPS": 100.0}
    assert sum(r["Responses"] for r in summary.values()) == board["responses"]
    assert sum(r["Invitations sent"] for r in summary.values()) == board["sent"]
    assert sum(r["Invitations answered"] for r in summary.values()) == board["answered"]
    table = [list(r) for r in book["Satisfaction table"].iter_rows(values_only=True)][1:]
    assert sorted(row[6] for row in table) == [1, 2, 3, 4, 9, 9, 10] and len(table) == board["responses"]

    # the week's staff figures (the page offers months; the weekly sheet is the same function)
    staff = sheet("Staff scoreboard", 1)
    assert {n: (r["Rank"], r["Votes"], r["Ratings about them"], r["Mean rating"], pct(r["CSAT"]),
                r["Complaints (responsible)"], r["Stages done"], r["Stages on time"], pct(r["SLA compliance"]),
                r["Rewards"], r["Penalties"]) for n, r in staff.items()} == {
        "李强": (1, 1, 1, 4.0, 100.0, 2, 4, 4, 100.0, 0, 0),    # vote R3; R2 about him; K3, K4
        "王芳": (1, 1, 1, 3.0, 0.0, 1, 2, 1, 50.0, 1, 0),      # vote R2; R3 about her; K2; cash bonus
        "古丽": (None, 1, 1, 2.0, 0.0, 1, 2, 1, 50.0, 0, 1),   # vote R7 but a penalty: no candidate; K5
    }
    assert list(staff) == ["李强", "王芳", "古丽"]  # equal votes share rank 1: the higher CSAT first

    survey = page(manager, f"/admin/scoring/surveys/{office_data['S1'].id}/?period=week&at={WEEK_DAY}")
    assert (number(text_of(survey, "responses")), number(text_of(survey, "csat"))) == (4, 25.0)
    dims = table_rows(survey, "dimensions", "data-dimension")
    assert dims == {"attitude": {"Dimension": "Service attitude", "Ratings": "4", "Mean (1–5)": "2.50", "CSAT": "25.0%"}}
    nps_survey = page(manager, f"/admin/scoring/surveys/{office_data['S2'].id}/?period=week&at={WEEK_DAY}")
    assert (number(text_of(nps_survey, "responses")), number(text_of(nps_survey, "nps"))) == (3, 100.0)
    assert number(text_of(survey, "responses")) + number(text_of(nps_survey, "responses")) == board["responses"]


# ---------------------------------------------------------------- the months

def test_december_on_every_surface(manager, office_data):
    board = dashboard(manager, "period=month&at=" + DEC_DAY)
    assert board["received"] == 3  # K3, K4, K7
    assert board["sla"]["overall"] == {"Done": 4, "On time": 4, "Done late": 0, "Compliance": 100.0}  # K3
    assert (board["csat"], board["nps"], board["responses"]) == (0.0, 100.0, 6)  # R3 R6 R7; R4 R5 R10
    assert (board["response_rate"], board["sent"], board["answered"]) == (100.0, 1, 1)  # I3
    trend = dashboard(manager, f"period=month&at={DEC_DAY}&trend=month")["trend"]
    assert trend["2026-12"] == {"Period": "2026-12", "Complaints received": 3, "SLA compliance": 100.0, "CSAT": 0.0,
                                "NPS": 100.0}

    # JS: 2 complaints / 3 customers (the highest rate), SLA 100, CSAT 0 (R3); XJ: K7 / 2 customers, no stage
    # done yet: not ranked. JS complaint score 100 × (1 − (2/3) / (2/3)) = 0; score 0.4 × 100 + 0 + 0 = 40
    order, ranking = ranking_page(manager, "period=month&at=" + DEC_DAY, office_data)
    assert order == ["江苏分公司", "新疆分公司", "甘宁分公司"]  # unranked ones by name
    assert (ranking["江苏分公司"]["rank"], ranking["江苏分公司"]["score"], ranking["江苏分公司"]["complaint_score"],
            ranking["江苏分公司"]["complaints_per_100"]) == (1, 40.0, 0.0, 66.7)
    assert (ranking["新疆分公司"]["rank"], ranking["新疆分公司"]["note"], ranking["新疆分公司"]["customers"]) == (
        None, "Not enough data: SLA compliance", 2)
    assert ranking["新疆分公司"]["complaint_score"] == 25.0  # 100 × (1 − (1/2) / (2/3))

    board_staff, candidates = scoreboard_page(manager, "period=month&at=" + DEC_DAY, office_data)
    assert board_staff == {
        "王芳": {"votes": 0, "survey_answers": 1, "survey_mean": 3.0, "csat": 0.0, "complaints": 0,
               "stages_on_time": 0, "stages_done": 0, "sla_rate": None, "rewards": 1, "penalties": 0},
        "李强": {"votes": 1, "survey_answers": 0, "survey_mean": None, "csat": None, "complaints": 2,
               "stages_on_time": 4, "stages_done": 4, "sla_rate": 100.0, "rewards": 0, "penalties": 0},
        "古丽": {"votes": 1, "survey_answers": 1, "survey_mean": 2.0, "csat": 0.0, "complaints": 0,
               "stages_on_time": 0, "stages_done": 0, "sla_rate": None, "rewards": 0, "penalties": 1},
    }
    assert candidates == [("李强", 1)]  # 古丽 has a vote and a penalty

    book, sheet = workbook(manager, "monthly", DEC_DAY)
    ranked = sheet("Branch ranking", 1)
    assert list(ranked) == order
    for name, shown in ranking.items():
        row = ranked[name]
        assert (row["Rank"], row["Score"], pct(row["SLA compliance"]), pct(row["CSAT"]), row["Complaints"],
                row["Customers"], row["Complaints per 100 customers"], row["Complaint score"]) == (
            shown["rank"], shown["score"], shown["sla_rate"], shown["csat"], shown["complaints"], shown["customers"],
            shown["complaints_per_100"], shown["complaint_score"])
        assert (row["Note"] or "") == shown["note"]
    staff = sheet("Staff scoreboard", 1)
    for name, shown in board_staff.items():
        row = staff[name]
        assert (row["Votes"], row["Ratings about them"], row["Mean rating"], pct(row["CSAT"]),
                row["Complaints (responsible)"], row["Stages done"], row["Stages on time"], pct(row["SLA compliance"]),
                row["Rewards"], row["Penalties"]) == (
            shown["votes"], shown["survey_answers"], shown["survey_mean"], shown["csat"], shown["complaints"],
            shown["stages_done"], shown["stages_on_time"], shown["sla_rate"], shown["rewards"], shown["penalties"])
    summary = sheet("Survey summary")
    assert sum(r["Responses"] for r in summary.values()) == board["responses"]
    assert (summary["客户满意度调查"]["Invitations sent"], summary["客户满意度调查"]["Response rate"]) == (1, 1.0)
    assert sum(r["Complaints received"] for r in sheet("Complaints by stage").values()) == board["received"]

    # quadrants: 王丽 3, 9, 9 → (3 + 4.5 + 4.5) / 3 = 4.00 exactly: satisfied (the integer division made it 3.67);
    # 周敏 only answered 1/5 (the follow-up K7 was opened by the product): a silent protester, not a complainer;
    # 钱多多 complained (K3, K4) and scored 10 → 5.0: praiser; 张伟 callback 5: loyal
    quadrants = quadrant_page(manager, f"period=month&at={DEC_DAY}")
    assert quadrants == {"loyal": [("王丽", 4.0), ("张伟", 5.0)], "praiser": [("钱多多", 5.0)],
                         "silent_protester": [("周敏", 1.0)], "complainer": []}


def quadrant_page(client, query):
    placed = {}
    for quadrant in ("loyal", "praiser", "silent_protester", "complainer"):
        soup = page(client, f"/admin/scoring/quadrants/?{query}&quadrant={quadrant}")
        count = number(soup.find("td", attrs={"data-quadrant": quadrant}).find(class_="quadrant-count").get_text())
        people = [(row.find("a").get_text(strip=True), number(row.find_all("td")[4].get_text()))
                  for row in soup.find(id="quadrant-list").find("tbody").find_all("tr") if row.has_attr("data-customer")]
        assert count == len(people)
        placed[quadrant] = people
    return placed


def test_november_on_every_surface(manager, office_data):
    board = dashboard(manager, "period=month&at=" + NOV_DAY)
    assert board["received"] == 4  # K1, K2, K5, K8 (K9 at 10-31 23:59:59 is October)
    # ack: K1 on the dot, K2 1 s late, K5 late, K8 → 2 of 4; result K2 K5 K8 on time; K8 rectification, callback
    assert board["sla"]["acknowledged"] == {"Done": 4, "On time": 2, "Done late": 2, "Compliance": 50.0}
    assert board["sla"]["overall"] == {"Done": 9, "On time": 7, "Done late": 2, "Compliance": 77.8}
    assert (board["csat"], board["nps"], board["responses"]) == (100.0, -100.0, 3)  # R1 5, R2 4; R8 6
    assert (board["response_rate"], board["sent"], board["answered"]) == (66.7, 3, 2)  # I1, I2 answered; I4 not

    order, ranking = ranking_page(manager, "period=month&at=" + NOV_DAY, office_data)
    # JS 3 complaints / 3 customers (李娜 is lost) = the highest rate: complaint score 0;
    # 0.4 × 85.7 + 0.4 × 100 + 0.2 × 0 = 74.28; XJ has no rating in November
    assert (ranking["江苏分公司"]["score"], ranking["江苏分公司"]["sla_rate"], ranking["江苏分公司"]["csat"]) == (
        74.28, 85.7, 100.0)
    assert ranking["新疆分公司"]["note"] == "Not enough data: CSAT" and ranking["新疆分公司"]["complaint_score"] == 50.0

    board_staff, candidates = scoreboard_page(manager, "period=month&at=" + NOV_DAY, office_data)
    assert board_staff["王芳"] == {"votes": 2, "survey_answers": 1, "survey_mean": 5.0, "csat": 100.0, "complaints": 3,
                                 "stages_on_time": 6, "stages_done": 7, "sla_rate": 85.7, "rewards": 0, "penalties": 0}
    assert candidates == [("王芳", 1)]

    book, sheet = workbook(manager, "monthly", NOV_DAY)
    summary = sheet("Survey summary")
    assert summary["客户满意度调查"]["Response rate"] == pytest.approx(0.667)
    assert (summary["推荐意愿调查"]["NPS"], summary["客户满意度调查"]["CSAT (4-5)"]) == (-100.0, 1.0)
    ranked = sheet("Branch ranking", 1)
    assert (ranked["江苏分公司"]["Score"], ranked["新疆分公司"]["Note"]) == (74.28, "Not enough data: CSAT")
    assert sum(r["Complaints received"] for r in sheet("Complaints by stage").values()) == board["received"]

    # 张伟: 5 and a score 6 (3.0) → 4.0, complained himself and commented: praiser; 孙小美 complained, no score
    assert quadrant_page(manager, f"period=month&at={NOV_DAY}") == {
        "loyal": [("钱多多", 4.0)], "praiser": [("张伟", 4.0)], "silent_protester": [],
        "complainer": [("孙小美", None)]}


# ---------------------------------------------------------------- all-time: the survey list and page

def test_response_rate_on_the_survey_list_and_page(manager, office_data):
    soup = page(manager, "/admin/survey/")
    shown = {}
    for row in soup.find_all("tr"):
        rate = row.find(class_="response-rate")
        if rate is not None:
            title = next(t for t in ("客户满意度调查", "推荐意愿调查") if t in row.get_text())
            shown[title] = (number(rate["data-sent"]), number(rate["data-answered"]), number(rate["data-rate"]),
                            rate.get_text(strip=True))
    # S1: I1 I2 I3 I4 sent, three answered; 5 responses (R1 R2 R3 R6 R7). S2: nothing ever sent; 4 responses
    assert shown == {"客户满意度调查": (4, 3, 75.0, "3 / 4 sent answered (75.0%), 5 responses"),
                     "推荐意愿调查": (0, 0, None, "4 responses, no invitation sent")}
    details = page(manager, f"/admin/survey/details/?id={office_data['S1'].id}")
    assert details.find(id="response-rate").get_text(strip=True) == shown["客户满意度调查"][3]


# ---------------------------------------------------------------- held submissions and anonymous feedback

def test_the_survey_analytics_index_agrees_and_shows_what_does_not_count(manager, office_data):
    soup = page(manager, f"/admin/scoring/surveys/?period=week&at={WEEK_DAY}")
    rows = table_rows(soup, "survey-list", "data-survey")
    s1, s2 = rows[str(office_data["S1"].id)], rows[str(office_data["S2"].id)]
    board = dashboard(manager, "period=week&at=" + WEEK_DAY)
    # S1 in W49: R2 R3 R6 R7 counted; R11 held; K7 its follow-up complaint; F1 its anonymous feedback
    assert (number(s1["Responses"]), number(s1["CSAT"].split()[0]), number(s1["Held for review"])) == (4, 25.0, 1)
    assert (number(s1["Follow-up complaints"]), s1["Anonymous feedback"]) == (1, "1 1 to review")
    assert number(s1["Response rate"].split()[0]) == 50.0  # I3 answered, I4 not: as the dashboard's
    # S2: R4 R5 R10 counted; R12 rejected: neither counted nor waiting
    assert (number(s2["Responses"]), number(s2["NPS"].split()[0]), number(s2["Held for review"])) == (3, 100.0, 0)
    assert number(s1["Responses"]) + number(s2["Responses"]) == board["responses"]
