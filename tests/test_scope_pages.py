"""The branch scope on the pages that came with the workbench, notifications and surveys in
the field: My work, the customer and complaint pages, the review lists, the outbox, one's own
notifications, sending invitations, the survey analytics index. A manager of 甲 works with 甲's
rows only; another branch's ids answer 404 (or read like unknown ones); phones and e-mail
addresses are masked for people who do not own the customer (models.privacy)."""
import re
from datetime import datetime

import pytest

from models import (AnonymousFeedback, Complaint, Notification, OutboxMessage, Response, RewardPenalty, User,
                    clock)

from .helpers import Client, make_branch, make_branch_rows, make_complaint, make_customer, make_staff, make_user

T0 = datetime(2026, 5, 4, 10, 0)


@pytest.fixture
def two(app):
    clock.freeze(T0)
    with app.app_context():
        a, b = make_branch("甲分公司", region="江苏"), make_branch("乙分公司", region="新疆")
        rows = {"A": make_branch_rows(a, "甲方", with_notifications=True),
                "B": make_branch_rows(b, "乙方", with_notifications=True)}
        rows["manager_a"] = make_user("manager_a", "manager", staff=make_staff(a, "A-M", name="甲经理"))
        rows["colleague"] = make_staff(a, "A-C", name="甲同事")
        rows["staff_a"] = make_user("staff_a", "staff", staff=rows["colleague"])
        rows["director"] = make_user("director", "director")
    return rows


def _login(app, username):
    client = Client(app.test_client())
    assert client.login(username).status_code == 302
    client.http.set_cookie("lang", "zh_CN")
    return client


def _section(page, marker, end="</table>"):
    start = page.index(marker)
    return page[start:page.index(end, start)]


def test_my_work_of_a_manager_stays_in_their_branches(app, two):
    manager = _login(app, "manager_a")
    page = manager.get("/admin/my-work/").get_data(as_text=True)
    picker = _section(page, 'id="queue-picker"', "</form>")
    assert "甲分公司" in picker and "乙分公司" not in picker
    assert "甲方员工" in picker and "乙方员工" not in picker
    # another branch's queue, or its staff member's, reads like an unknown id: nothing of it is shown
    for query in (f"branch={two['B']['branch'].id}", f"staff={two['B']['staff'].id}"):
        page = manager.get(f"/admin/my-work/?{query}").get_data(as_text=True)
        assert "乙方" not in page and "未知" in page, query
    page = manager.get(f"/admin/my-work/?branch={two['A']['branch'].id}").get_data(as_text=True)
    assert two["A"]["complaint"].number in _section(page, 'id="my-complaints"')
    # a follow-up of another branch cannot be taken over
    response = manager.post("/admin/my-work/take/", {"complaint": two["B"]["complaint"].id})
    assert response.status_code == 404
    assert Complaint.get_by_id(two["B"]["complaint"].id).assignee_id == two["B"]["staff"].id


def test_my_work_shows_the_phone_to_the_owner_and_masks_it_for_the_responsible_colleague(app, two):
    customer = make_customer(two["A"]["branch"], name="孙丽", phone="13812345678")
    complaint = make_complaint(customer, title="孙丽投诉：账单错误", first_responder=two["A"]["staff"],
                               responsible_staff=two["colleague"])
    owner = User.get(User.username == "甲方-staff")  # the owner's account (make_branch_rows)
    assert complaint.assignee_id == owner.staff_id
    mine = _section(_login(app, owner.username).get("/admin/my-work/").get_data(as_text=True), 'id="my-complaints"')
    assert "tel:13812345678" in mine
    theirs = _section(_login(app, "staff_a").get("/admin/my-work/").get_data(as_text=True), 'id="my-complaints"')
    assert complaint.number in theirs and "138****5678" in theirs and "13812345678" not in theirs


def test_the_customer_page_tells_only_the_story_in_scope(app, two):
    customer = two["A"]["customer"]
    # the same customer complained at branch 乙 too, and 乙 penalised its own staff member for it
    elsewhere = make_complaint(customer, branch=two["B"]["branch"], title="异地投诉：乙方处理",
                               first_responder=two["B"]["staff"])
    RewardPenalty.create(staff=two["B"]["staff"], kind="verbal_warning", reason="乙方处罚", complaint=elsewhere)
    page = _login(app, "manager_a").get(f"/admin/customer/details/?id={customer.id}").get_data(as_text=True)
    assert two["A"]["complaint"].number in page
    assert elsewhere.number not in page and "乙方" not in page
    page = _login(app, "director").get(f"/admin/customer/details/?id={customer.id}").get_data(as_text=True)
    assert elsewhere.number in page and "乙方处罚" in page
    # the director sees the contact masked (not the customer's owner), with the logged "show"
    contact = _section(page, 'id="customer-file"', 'id="complaints"')
    assert customer.phone not in contact and customer.phone[:3] + "****" + customer.phone[-4:] in contact
    assert 'id="reveal-contact"' in contact
    shown = _login(app, "director").post(f"/admin/customer/contact/?id={customer.id}").get_data(as_text=True)
    assert f"tel:{customer.phone}" in shown
    # out of scope: 404, also for the page's buttons
    manager = _login(app, "manager_a")
    theirs = two["B"]["customer"].id
    assert manager.get(f"/admin/customer/details/?id={theirs}").status_code == 404
    assert manager.post(f"/admin/customer/callback/?id={theirs}", {"outcome": "x"}).status_code == 404
    assert manager.post(f"/admin/customer/invite/?id={theirs}", {"survey": two["B"]["survey"].id}).status_code == 404


def test_the_complaint_page_hands_over_within_scope(app, two):
    complaint = two["A"]["complaint"]
    manager = _login(app, "manager_a")
    page = manager.get(f"/admin/complaint/details/?id={complaint.id}").get_data(as_text=True)
    form = _section(page, 'id="assign-form"', "</form>")
    assert "甲同事" in form and "乙方员工" not in form
    response = manager.post("/admin/complaint/assign/", {"ids": str(complaint.id), "staff": two["B"]["staff"].id})
    assert response.status_code == 302
    assert Complaint.get_by_id(complaint.id).assignee_id != two["B"]["staff"].id
    response = manager.post("/admin/complaint/assign/", {"ids": f"{complaint.id},{two['B']['complaint'].id}",
                                                         "staff": two["colleague"].id})
    assert response.status_code == 404
    assert Complaint.get_by_id(two["B"]["complaint"].id).assignee_id == two["B"]["staff"].id


def test_the_outbox_of_a_manager_holds_their_branches_messages(app, two):
    manager = _login(app, "manager_a")
    page = manager.get("/admin/outbox/").get_data(as_text=True)
    assert "甲方超时提醒" in page and "甲方问卷邀请" in page and "甲方群消息" in page and "乙方" not in page
    theirs = two["B"]["outboxmessage"]
    assert manager.get(f"/admin/outbox/details/?id={theirs.id}").status_code == 404
    response = manager.post("/admin/outbox/action/", {"action": "resend", "rowid": str(theirs.id)})
    assert response.status_code == 404
    assert OutboxMessage.get_by_id(theirs.id).status == "failed"
    # a customer's address: in full for the manager of the customer's branch, masked for the director
    invitation = two["A"]["invitation_message"]
    page = manager.get(f"/admin/outbox/details/?id={invitation.id}").get_data(as_text=True)
    assert invitation.recipient in page
    page = _login(app, "director").get(f"/admin/outbox/details/?id={invitation.id}").get_data(as_text=True)
    assert invitation.recipient not in page and "甲***@example.com" in page
    listed = _login(app, "director").get("/admin/outbox/").get_data(as_text=True)
    assert invitation.recipient not in listed and "乙方超时提醒" in listed


def test_notifications_are_ones_own(app, two):
    manager = _login(app, "manager_a")
    theirs = two["A"]["notification"]  # of another account of the same branch
    assert manager.get(f"/admin/my-notifications/open/{theirs.id}").status_code == 404
    assert Notification.get_by_id(theirs.id).read_at is None
    assert "甲方通知" not in manager.get("/admin/my-notifications/").get_data(as_text=True)
    own = _login(app, "甲方-staff")
    assert "甲方通知" in own.get("/admin/my-notifications/").get_data(as_text=True)
    assert own.get(f"/admin/my-notifications/open/{theirs.id}").status_code == 302


def test_review_lists_and_callback_contacts_in_scope(app, two):
    manager = _login(app, "manager_a")
    held = manager.get("/admin/held_response/").get_data(as_text=True)
    assert two["A"]["held_response"].contact_phone in held and "乙方" not in held
    assert two["B"]["held_response"].contact_phone not in held
    feedback = manager.get("/admin/anonymous_feedback/").get_data(as_text=True)
    assert "甲方匿名反馈" in feedback and "乙方匿名反馈" not in feedback
    theirs = two["B"]["feedback"]
    assert manager.post(f"/admin/anonymous_feedback/review/{theirs.id}", {"review_note": "已处理"}).status_code == 404
    assert AnonymousFeedback.get_by_id(theirs.id).reviewed_at is None
    assert manager.get(f"/admin/held_response/details/?id={two['B']['held_response'].id}").status_code == 404
    response = manager.post("/admin/held_response/action/", {"action": "release",
                                                              "rowid": str(two["B"]["held_response"].id)})
    assert response.status_code == 404
    assert Response.get_by_id(two["B"]["held_response"].id).status == "held"
    # the callback contact a respondent left: staff of the branch see it masked
    phone = two["A"]["held_response"].contact_phone
    page = _login(app, "staff_a").get(f"/admin/response/details/?id={two['A']['held_response'].id}")
    assert page.status_code == 200
    assert phone not in page.get_data(as_text=True) and phone[:3] + "****" + phone[-4:] in page.get_data(as_text=True)


def test_invitations_of_another_branch_are_not_sent(app, two):
    manager = _login(app, "manager_a")
    theirs = two["B"]["invitation"].id
    assert manager.get(f"/admin/invitation/send/?ids={theirs}&channel=email").status_code == 404
    before = OutboxMessage.select().count()
    response = manager.post("/admin/invitation/send/", {"ids": f"{two['A']['invitation'].id},{theirs}",
                                                        "channel": "email"})
    assert response.status_code == 404
    assert OutboxMessage.select().count() == before  # nothing queued, not even the own one
    assert manager.get("/admin/invitation/send/?ids=abc&channel=email").status_code == 400


def test_the_survey_analytics_index_counts_the_users_branches(app, two):
    survey = two["A"]["survey"]  # one survey shared by both branches, one counted response each
    url = "/admin/scoring/surveys/?period=custom&from=2026-01-01&to=2026-12-31"

    def responses(username):
        page = _login(app, username).get(url).get_data(as_text=True)
        row = _section(page, f'data-survey="{survey.id}"', "</tr>")
        return int(re.sub(r"<[^>]+>", "", re.search(r'class="text-right responses">(.*?)</td>', row, re.S).group(1)))

    Response.update(submitted_at=T0).execute()
    assert responses("manager_a") == 1
    assert responses("director") == 2
