"""My work: staff land on what they must act on (next deadline first, overdue on top), the
callbacks due to them and the follow-ups waiting at their branch; managers open the same
queues per branch or per person; a fixed number of SQL statements per page."""
import re
from datetime import date, datetime, timedelta

from models import Callback, Complaint, Response, Survey, clock
from models.workbench import complaints_to_act_on, time_left, waiting_followups

from .helpers import count_queries, make_branch, make_complaint, make_customer, make_staff

T0 = datetime(2026, 5, 4, 10, 0)


def _numbers(html, table):
    start = html.index(f'id="{table}"')
    return re.findall(r"问字【\d{4}】\d+号", html[start:html.index("</table>", start)])


def _queue(office):
    """Complaints of the logged-in staff member (王芳) received at different times, one owned
    by someone else but with 王芳 responsible, one of another person, one closed."""
    me, other = office["staff"], office["other"]
    customer = make_customer(office["branch"], phone="13900001111")
    made = {}
    for key, received in (("fresh", T0 - timedelta(minutes=10)), ("overdue", T0 - timedelta(hours=3)),
                          ("soon", T0 - timedelta(minutes=40))):
        clock.freeze(received)
        made[key] = make_complaint(customer, title=f"{key}投诉：测试", first_responder=me)
    clock.freeze(T0 - timedelta(hours=1, minutes=30))
    made["responsible"] = make_complaint(customer, title="责任投诉：测试", first_responder=other, responsible_staff=me)
    made["theirs"] = make_complaint(customer, title="他人投诉：测试", first_responder=other)
    made["closed"] = make_complaint(customer, title="已结案投诉：测试", first_responder=me)
    Complaint.update(stage="closed", due_at=None).where(Complaint.id == made["closed"].id).execute()
    clock.freeze(T0)
    return made


def test_staff_land_on_my_work_and_managers_on_the_dashboard(app, office, client, login_as):
    assert client.login("staff").headers["Location"] == "/admin/my-work/"
    manager_login = login_as("manager")
    assert manager_login.get("/").headers["Location"] == "/admin/"
    staff = login_as("staff")
    assert staff.get("/").headers["Location"] == "/admin/my-work/"
    page = staff.get("/admin/my-work/").get_data(as_text=True)
    menu = page[page.index('id="admin-navbar-collapse"'):page.index("</nav>")]
    assert menu.index("我的工作") < menu.index("数据总览")  # first in the menu for staff
    manager_page = login_as("manager").get("/admin/").get_data(as_text=True)
    menu = manager_page[manager_page.index('id="admin-navbar-collapse"'):manager_page.index("</nav>")]
    assert menu.index("数据总览") < menu.index("我的工作")


def test_my_complaints_come_next_deadline_first_with_time_left(app, office, login_as):
    made = _queue(office)
    page = login_as("staff").get("/admin/my-work/").get_data(as_text=True)
    assert _numbers(page, "my-complaints") == [made[k].number for k in ("overdue", "responsible", "soon", "fresh")]
    rows = page[page.index('id="my-complaints"'):]
    assert "已超时 2 小时 0 分钟" in rows  # received 3 h ago, acknowledge due 1 h after receipt
    assert "剩余 0 小时 20 分钟" in rows and "登记致歉回复" in rows
    assert "tel:13900001111" in rows
    assert made["theirs"].number not in page and made["closed"].number not in page


def test_callbacks_due_to_me_are_those_of_my_customers(app, office, login_as):
    clock.freeze(T0)
    mine = make_customer(office["branch"], name="我的客户", phone="13900002222", account_manager=office["staff"],
                         first_deal_date=date(2026, 3, 1))
    make_customer(office["branch"], name="别人的客户", phone="13900003333", account_manager=office["other"],
                  first_deal_date=date(2026, 3, 1))
    later = make_customer(office["branch"], name="下月回访", phone="13900004444", account_manager=office["staff"],
                          first_deal_date=date(2026, 4, 20))
    Callback.create(customer=later, kind="scheduled", done_at=T0 - timedelta(days=1), outcome="已回访")
    page = login_as("staff").get("/admin/my-work/").get_data(as_text=True)
    table = page[page.index('id="my-callbacks"'):page.index("</table>", page.index('id="my-callbacks"'))]
    assert "我的客户" in table and "别人的客户" not in table and "下月回访" not in table
    assert "2026-04-01" in table and "已逾期 33 天" in table  # monthly in the first year: due 04-01
    assert f'/admin/customer/details/?id={mine.id}#log-callback' in table


def test_waiting_followups_of_my_branch_can_be_taken_over(app, office, login_as):
    from models import History
    clock.freeze(T0)
    survey = Survey.create(title="满意度")
    customer = make_customer(office["branch"], name="低分客户", phone="13900005555")
    followup = make_complaint(customer, channel="survey", title="低分跟进：1/5", assignee=office["other"])
    Response.create(survey=survey, customer=customer, branch=office["branch"], followup_complaint=followup)
    acknowledged = make_complaint(customer, channel="survey", title="已致歉跟进", assignee=office["other"])
    Complaint.update(stage="acknowledged").where(Complaint.id == acknowledged.id).execute()
    xinjiang = make_branch("新疆分公司", region="新疆")
    make_staff(xinjiang, "X0001", name="新疆值班员", on_duty=True)
    elsewhere = make_complaint(make_customer(xinjiang, phone="13900006666"), channel="survey", title="外地跟进")
    assert [c.id for c in waiting_followups(office["branch"])] == [followup.id]
    staff = login_as("staff")
    page = staff.get("/admin/my-work/").get_data(as_text=True)
    assert _numbers(page, "waiting-followups") == [followup.number]
    assert elsewhere.number not in page
    response = staff.post("/admin/my-work/take/", {"complaint": followup.id})
    assert response.headers["Location"].endswith(f"/admin/complaint/details/?id={followup.id}")
    assert Complaint.get_by_id(followup.id).assignee_id == office["staff"].id
    assert History.select().where(History.action == "handover", History.object_id == followup.id).count() == 1
    assert followup.number in _numbers(staff.get("/admin/my-work/").get_data(as_text=True), "my-complaints")


def test_managers_open_the_queue_of_a_branch_or_a_person_staff_only_their_own(app, office, login_as):
    made = _queue(office)
    manager = login_as("manager")
    page = manager.get(f"/admin/my-work/?staff={office['staff'].id}").get_data(as_text=True)
    assert _numbers(page, "my-complaints") == [made[k].number for k in ("overdue", "responsible", "soon", "fresh")]
    page = manager.get(f"/admin/my-work/?branch={office['branch'].id}").get_data(as_text=True)
    assert set(_numbers(page, "my-complaints")) == {c.number for k, c in made.items() if k != "closed"}
    assert "李强" in page[page.index('id="my-complaints"'):]  # the owner column
    staff = login_as("staff")
    page = staff.get(f"/admin/my-work/?staff={office['other'].id}").get_data(as_text=True)
    assert made["theirs"].number not in page and "只有经理可以查看他人的工作" in page
    assert made["overdue"].number in page
    assert manager.get("/admin/my-work/?staff=abc").status_code == 200  # a bad id is reported, not a 500


def test_my_work_costs_the_same_statements_for_3_or_30_complaints(app, office, login_as):
    staff = login_as("staff")
    customer = make_customer(office["branch"], account_manager=office["staff"], first_deal_date=date(2026, 1, 1))

    def statements():
        with count_queries() as counted:
            assert staff.get("/admin/my-work/").status_code == 200
        return counted()

    for _ in range(3):
        make_complaint(customer, first_responder=office["staff"], responsible_staff=office["other"])
        make_complaint(customer, channel="survey", assignee=office["other"])
    few = statements()
    for n in range(27):
        other_customer = make_customer(office["branch"], name=f"客户{n}", phone=f"1390000{n:04d}",
                                       account_manager=office["staff"], first_deal_date=date(2026, 1, 1))
        make_complaint(other_customer, first_responder=office["staff"], responsible_staff=make_staff(
            office["branch"], f"S{n:03d}", name=f"员工{n}"))
        make_complaint(other_customer, channel="survey", assignee=office["other"])
    assert statements() == few


def test_queue_functions_are_queries_that_scoping_can_wrap(app, office):
    made = _queue(office)
    query = complaints_to_act_on(office["staff"])
    narrowed = query.where(Complaint.title.contains("overdue"))
    assert [c.id for c in narrowed] == [made["overdue"].id]
    assert time_left(T0 + timedelta(minutes=5), T0) == 5 and time_left(T0 - timedelta(seconds=61), T0) == -2


def test_a_long_queue_shows_its_first_rows_and_links_to_the_full_list(app, office, login_as, monkeypatch):
    import admin.workbench
    monkeypatch.setattr(admin.workbench, "QUEUE_LIMIT", 2)
    made = _queue(office)
    manager = login_as("manager")
    page = manager.get(f"/admin/my-work/?branch={office['branch'].id}").get_data(as_text=True)
    assert _numbers(page, "my-complaints") == [made["overdue"].number, made["responsible"].number]
    more = page[page.index('id="queue-more"'):]
    url = re.search(r'href="([^"]+)"', more).group(1).replace("&amp;", "&")
    listed = manager.get(url + "&page_size=100").get_data(as_text=True)
    assert set(re.findall(r"问字【\d{4}】\d+号", listed)) == {c.number for k, c in made.items() if k != "closed"}
