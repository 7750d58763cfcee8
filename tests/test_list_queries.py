"""Admin lists cost the same number of SQL statements for 20 rows per page as for 50: related
rows are loaded per column, not per row (bench/listview_bench.py times them at 1M rows)."""
import pytest

from models import Answer, Callback, Question, Response, Survey

from .helpers import count_queries, make_complaint, make_customer, make_staff


def statements_for(client, url):
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.count, response.get_data(as_text=True).count('<td class="list-buttons-column"')


@pytest.fixture
def busy_office(app, office):
    """60 complaints, callbacks and responses of 3 answers, each with its own customer and staff."""
    with app.app_context():
        survey = Survey.create(title="季度满意度调查")
        questions = [Question.create(survey=survey, position=i, text=f"问题{i}", kind="rating") for i in range(3)]
        for n in range(60):
            staff = make_staff(office["branch"], f"L{n:03d}", name=f"员工{n}")
            customer = make_customer(office["branch"], name=f"客户{n}", account_manager=staff)
            complaint = make_complaint(customer, first_responder=staff, responsible_staff=staff)
            Callback.create(customer=customer, complaint=complaint, staff=staff, kind="complaint")
            response = Response.create(survey=survey, customer=customer, branch=office["branch"], staff=staff)
            for question in questions:
                Answer.create(response=response, question=question, value=1 + n % 5, staff=staff)
    return office


@pytest.mark.parametrize("endpoint", ["complaint", "customer", "response", "answer", "callback"])
def test_list_statement_count_does_not_grow_with_the_page(app, busy_office, login_as, endpoint):
    manager = login_as("manager")
    few, shown_few = statements_for(manager, f"/admin/{endpoint}/?page_size=20")
    many, shown_many = statements_for(manager, f"/admin/{endpoint}/?page_size=50")
    assert (shown_few, shown_many) == (20, 50)
    assert many == few, f"{endpoint}: {few} statements for 20 rows, {many} for 50"
