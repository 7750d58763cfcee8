"""Scoring pages through real admin URLs: figures match the lists they link to, managers only,
customer text escaped, and a constant number of queries whatever the amount of data."""
import re
from datetime import timedelta

import pytest

from models import (Award, Branch, Callback, Choice, Invitation, OpenLink, Response, RewardPenalty, Survey, User,
                    UserBranch, clock)

from .helpers import count_queries, make_branch, make_customer, make_staff
from .test_reports import NOW, answer, complaint_at, question

SCORING_URLS = ["/admin/scoring/ranking/", "/admin/scoring/ranking/?period=month",
                "/admin/scoring/staff/", "/admin/scoring/staff/?period=quarter",
                "/admin/scoring/surveys/", "/admin/scoring/quadrants/"]


@pytest.fixture
def frozen(app):
    clock.freeze(NOW)
    return app


def _href(page, element_id):
    """The link inside the element with this id (the figure and its link)."""
    match = re.search(rf'id="{element_id}"[^>]*>\s*<a href="([^"]+)">(\d+)</a>', page)
    assert match, f"no linked figure #{element_id}"
    return match.group(1).replace("&amp;", "&"), int(match.group(2))


def _rows_in_list(client, url, endpoint):
    page = client.get(url + ("&" if "?" in url else "?") + "page_size=100").get_data(as_text=True)
    assert "error" not in re.findall(r'class="alert alert-(\w+)', page), page
    return len(set(re.findall(rf"/admin/{endpoint}/details/\?id=(\d+)", page)))


def test_dashboard_figures_equal_the_rows_of_the_linked_lists(frozen, login_as, office):
    with frozen.app_context():
        branch = office["branch"]
        customer = make_customer(branch)
        other_branch = make_branch("新疆分公司", region="新疆")
        other = make_customer(other_branch, name="另一个")
        complaint_at(customer, NOW - timedelta(hours=3))                                  # received, overdue
        complaint_at(customer, NOW - timedelta(minutes=10))                               # received
        complaint_at(other, NOW - timedelta(hours=5), acknowledged=timedelta(0))          # acknowledged
        closed = complaint_at(customer, NOW - timedelta(days=2), acknowledged=timedelta(minutes=-20),
                              resolved=timedelta(hours=1))
        closed.stage = "closed"
        closed.save()
        complaint_at(customer, NOW - timedelta(days=40))                                  # last month, open
        survey = Survey.create(title="CSAT")
        q = question("rating", survey=survey)
        answer(q, 5, customer=customer)
        answer(q, 2, customer=other)
        answer(q, 4, at=NOW - timedelta(days=40))
        for answered in (True, False, False):
            Invitation.create(survey=survey, customer=customer, sent_at=NOW - timedelta(days=3),
                              answered_at=NOW if answered else None)
    manager = login_as("admin")  # every branch (a branch manager's figures: below)
    page = manager.get("/admin/").get_data(as_text=True)

    url, shown = _href(page, "open-total")
    assert shown == 4 == _rows_in_list(manager, url, "complaint")
    for stage, expected in (("received", 3), ("acknowledged", 1)):
        match = re.search(rf'data-stage="{stage}">.*?<a href="([^"]+)">(\d+)</a>', page, re.S)
        assert int(match.group(2)) == expected == _rows_in_list(manager, match.group(1).replace("&amp;", "&"),
                                                                  "complaint")
    url, shown = _href(page, "received-period")
    assert shown == 4 == _rows_in_list(manager, url, "complaint")  # November's complaints
    url, shown = _href(page, "responses-period")
    assert shown == 2 == _rows_in_list(manager, url, "response")
    assert re.search(r'id="csat"><a [^>]*>50\.0%<', page)
    assert re.search(r'id="sla-overall"><a [^>]*>66\.7%<', page)  # 2 of 3 stages on time (one result 1 h late)
    links = re.findall(r'<a href="(/admin/invitation/[^"]+)">(\d+)</a>', page)
    assert [int(n) for _, n in links] == [1, 3]
    for url, n in links:
        assert _rows_in_list(manager, url.replace("&amp;", "&"), "invitation") == int(n)

    # the same figures for one branch link to lists filtered by that branch too
    page = manager.get(f"/admin/?branch={office['branch'].id}").get_data(as_text=True)
    url, shown = _href(page, "open-total")
    assert shown == 3 == _rows_in_list(manager, url, "complaint")
    url, shown = _href(page, "responses-period")
    assert shown == 1 == _rows_in_list(manager, url, "response")

    # the branch manager's dashboard counts their branch, and its links open the same rows
    branch_manager = login_as("manager")
    page = branch_manager.get("/admin/").get_data(as_text=True)
    url, shown = _href(page, "open-total")
    assert shown == 3 == _rows_in_list(branch_manager, url, "complaint")
    url, shown = _href(page, "responses-period")
    assert shown == 1 == _rows_in_list(branch_manager, url, "response")


def test_overdue_figure_opens_exactly_the_overdue_complaints(frozen, login_as, office):
    with frozen.app_context():
        customer = make_customer(office["branch"])
        late = [complaint_at(customer, NOW - timedelta(hours=h)).id for h in (5, 2)]   # acknowledge due 1 h
        complaint_at(customer, NOW - timedelta(minutes=20))                           # not yet due
        complaint_at(customer, NOW - timedelta(hours=9), acknowledged=timedelta(0))   # other stage
    manager = login_as("manager")
    page = manager.get("/admin/").get_data(as_text=True)
    match = re.search(r'data-stage="received">.*?<a href="([^"]+)" class="overdue"[^>]*>(\d+)</a>', page, re.S)
    assert int(match.group(2)) == 2
    listed = manager.get(match.group(1).replace("&amp;", "&")).get_data(as_text=True)
    ids = list(dict.fromkeys(int(i) for i in re.findall(r"/admin/complaint/details/\?id=(\d+)", listed)))
    assert ids == late  # exactly the overdue ones, earliest deadline first
    match = re.search(r'id="overdue-total"><a href="([^"]+)" class="overdue"[^>]*>(\d+)</a>', page)
    assert int(match.group(2)) == 2 == _rows_in_list(manager, match.group(1).replace("&amp;", "&"), "complaint")


def test_dashboard_trend_table_and_offline_chart(frozen, login_as, office):
    with frozen.app_context():
        customer = make_customer(office["branch"])
        complaint_at(customer, NOW - timedelta(days=7))
        complaint_at(customer, NOW - timedelta(days=7, hours=1))
    manager = login_as("manager")
    page = manager.get("/admin/?trend=week").get_data(as_text=True)
    rows = re.findall(r'<tr data-period="([^"]+)">.*?<a href="([^"]+)">(\d+)</a>', page, re.S)
    assert len(rows) == 12 and rows[-1][0] == "2026-W48"
    last_week = rows[-2]
    assert last_week[0] == "2026-W47" and int(last_week[2]) == 2
    assert _rows_in_list(manager, last_week[1].replace("&amp;", "&"), "complaint") == 2
    assert page.count("<svg") >= 2
    assert not re.search(r'<script[^>]+src="(https?:)?//', page)  # no CDN: works offline
    monthly = manager.get("/admin/?trend=month&period=week").get_data(as_text=True)
    assert len(re.findall(r'<tr data-period="\d{4}-\d{2}"', monthly)) == 12


def test_dashboard_shows_no_personal_data_to_staff(frozen, login_as, office):
    with frozen.app_context():
        customer = make_customer(office["branch"], name="保密的客户名", phone="13912345678")
        complaint_at(customer, NOW - timedelta(hours=1))
        answer(question("text"), text="保密的意见", customer=customer)
    page = login_as("staff").get("/admin/").get_data(as_text=True)
    assert "保密的客户名" not in page and "13912345678" not in page and "保密的意见" not in page
    assert 'id="open-total"' in page


def test_bad_filters_are_reported_not_crashing(frozen, login_as, office):
    manager = login_as("manager")
    for url in ("/admin/?period=decade", "/admin/scoring/ranking/?period=custom&from=2026-11-30&to=2026-11-01",
                "/admin/scoring/ranking/?grade=gold", "/admin/scoring/staff/?branch=abc",
                "/admin/scoring/quadrants/?period=custom&from=x&to=y"):
        response = manager.get(url)
        assert response.status_code == 200, url
        assert "alert-danger" in response.get_data(as_text=True) or "alert-error" in response.get_data(as_text=True), url


@pytest.mark.parametrize("url", SCORING_URLS + ["/admin/scoring/surveys/1/", "/admin/scoring/staff/certificate/1/"])
def test_scoring_pages_are_for_managers_only(app, login_as, url):
    assert login_as("staff").get(url).status_code == 403


def test_staff_cannot_approve_a_service_star(app, login_as, office):
    response = login_as("staff").post("/admin/scoring/staff/approve/",
                                      {"staff_id": office["staff"].id, "kind": "star_month", "period": "2026-11"})
    assert response.status_code == 403
    with app.app_context():
        assert Award.select().count() == 0


def test_ranking_page_shows_ranks_and_links_complaints(frozen, login_as, office):
    with frozen.app_context():
        customer = make_customer(office["branch"])
        complaint_at(customer, NOW - timedelta(days=1), acknowledged=timedelta(0))
        answer(question("rating"), 4, customer=customer)
        empty = make_branch("新疆分公司", region="新疆")
    manager = login_as("manager")
    manager.http.set_cookie("lang", "en")
    page = manager.get("/admin/scoring/ranking/?period=week").get_data(as_text=True)
    first = re.search(r'<tr data-branch="(\d+)">\s*<td class="rank">(\d+|–)</td>', page)
    assert int(first.group(1)) == office["branch"].id and first.group(2) == "1"
    # the branch without any data is not ranked on nothing
    assert re.search(r'<tr data-branch="%d">\s*<td class="rank">–</td>.*?not-enough-data">Not enough data: '
                     r'SLA compliance, CSAT, Complaint score<' % empty.id, page, re.S)
    link = re.search(r'<tr data-branch="%d">.*?<a href="([^"]+)">(\d+)</a>' % office["branch"].id, page, re.S)
    assert int(link.group(2)) == 1 == _rows_in_list(manager, link.group(1).replace("&amp;", "&"), "complaint")


def test_survey_analytics_page_escapes_comments(frozen, login_as, office):
    probe = '<script>alert("x")</script>'
    with frozen.app_context():
        survey = Survey.create(title="满意度")
        answer(question("text", survey=survey), text=probe, branch=office["branch"])
        answer(question("rating", "attitude", survey), 4, branch=office["branch"])
    manager = login_as("manager")
    page = manager.get(f"/admin/scoring/surveys/{survey.id}/").get_data(as_text=True)
    assert probe not in page and "&lt;script&gt;" in page
    filtered = manager.get(f"/admin/scoring/surveys/{survey.id}/?period=week&branch={office['branch'].id}"
                           f"&staff={office['staff'].id}").get_data(as_text=True)
    assert 'id="responses">0<' in filtered
    assert manager.get("/admin/scoring/surveys/999/").status_code == 404


def test_quadrant_page_lists_the_call_list(frozen, login_as, office):
    with frozen.app_context():
        quiet = make_customer(office["branch"], name="<b>沉默客户</b>", phone="13700001111")
        answer(question("rating"), 1, customer=quiet)
    page = login_as("manager").get("/admin/scoring/quadrants/").get_data(as_text=True)
    assert "&lt;b&gt;沉默客户&lt;/b&gt;" in page and "13700001111" in page
    assert re.search(r'data-quadrant="silent_protester">.*?quadrant-count">1<', page, re.S)


# ---------------------------------------------------------------- query counts

def _populate(start, branches):
    """`branches` branches, each with staff, customers, complaints, responses of every kind."""
    survey = Survey.get_or_none(Survey.title == "查询计数") or Survey.create(title="查询计数")
    if not survey.questions.count():
        for kind, dim in (("rating", "attitude"), ("score", None), ("single", None), ("multiple", None),
                          ("text", None), ("staff", None), ("servqual", "reliability")):
            q = question(kind, dim, survey)
            if kind in ("single", "multiple"):
                for text in ("电话", "微信"):
                    Choice.create(question=q, text=text)
    questions = {q.kind: q for q in survey.questions}
    for index in range(start, start + branches):
        branch = make_branch(f"分公司{index}", region="华东")
        people = [make_staff(branch, f"Q{index}-{i}", name=f"员工{index}{i}") for i in range(2)]
        OpenLink.create(survey=survey, branch=branch)
        for i in range(3):
            customer = make_customer(branch, name=f"客户{index}-{i}")
            complaint_at(customer, NOW - timedelta(days=i + 1), staff=people[i % 2], acknowledged=timedelta(0),
                         resolved=timedelta(minutes=i))
            Callback.create(customer=customer, done_at=NOW - timedelta(days=1), satisfaction=3 + i % 3)
            Invitation.create(survey=survey, customer=customer, sent_at=NOW - timedelta(days=2), answered_at=NOW)
            response = Response.create(survey=survey, customer=customer, branch=branch, staff=people[0],
                                       submitted_at=NOW - timedelta(days=i))
            for kind, q in questions.items():
                choice = q.choices.first() if kind in ("single", "multiple") else None
                response.answers.model.create(response=response, question=q, value=(3 + i) if kind != "text" else None,
                                              expectation=4 if kind == "servqual" else None, choice=choice,
                                              staff=people[i % 2] if kind == "staff" else None, text=f"意见{i}")
        Award.create(staff=people[0], kind="star_month", period="2026-11", reason="客户投票最多")
        RewardPenalty.create(staff=people[1], kind="verbal_warning", reason="迟到", decided_on=NOW.date())
    return survey


def test_query_count_does_not_grow_with_the_data(frozen, login_as, office):
    manager = login_as("manager")
    with frozen.app_context():
        survey = _populate(0, 1)
        award = Award.select().first()
    urls = ["/admin/", "/admin/?trend=month&period=quarter", f"/admin/?branch={office['branch'].id}"] + SCORING_URLS + [
        f"/admin/scoring/surveys/{survey.id}/", "/admin/scoring/quadrants/?quadrant=complainer",
        f"/admin/scoring/staff/certificate/{award.id}/"]

    def counts():
        result = {}
        for url in urls:
            with count_queries() as counter:
                assert manager.get(url).status_code == 200, url
            result[url] = counter.count
        return result

    def manage_every_branch():
        # the manager is in charge of every branch (UserBranch): the figures carry the scope
        manager_user = User.get(User.username == "manager")
        for branch in Branch.select():
            UserBranch.insert(user=manager_user, branch=branch).on_conflict_ignore().execute()

    with frozen.app_context():
        manage_every_branch()
    small = counts()
    with frozen.app_context():
        _populate(1, 5)
        manage_every_branch()
    large = counts()
    assert large == small
