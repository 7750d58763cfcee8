"""Customer quadrants: satisfied/dissatisfied × vocal/quiet (definitions: the glossary in models.reports)."""
from fractions import Fraction

from peewee import fn

from ..complaints import Callback, Complaint
from ..customers import Customer
from ..org import Branch
from ..surveys import Answer, Question, Response
from .base import (QUADRANT_SATISFIED_MEAN, RATING, SCORE, customers_of_branch, customers_of_grade, exact, grouped,
                   raised_by_customer, real_customers, response_filters, rounded, sum_if)

QUADRANTS = ("loyal", "praiser", "silent_protester", "complainer")
SATISFIED_AT = QUADRANT_SATISFIED_MEAN


def quadrant_of(mean, raised_complaints, comments):
    """The quadrant of one customer, or None when they are not placed: `mean` their exact
    satisfaction on the 1–5 scale (None without any score)."""
    vocal = raised_complaints > 0 or comments > 0
    if mean is None:
        # satisfaction unknown; a customer who complained is dissatisfied, anyone else unplaced
        return "complainer" if raised_complaints > 0 else None
    if mean >= QUADRANT_SATISFIED_MEAN:
        return "praiser" if vocal else "loyal"
    return "complainer" if vocal else "silent_protester"


def customer_quadrants(start, end, branch=None, grade=None):
    """Customers placed by satisfaction × voice over [start, end): {quadrant: [customer
    dict, …]}, each list sorted by mean satisfaction (lowest first, unknown first) then name;
    each dict: customer_id, name, organisation, phone, branch, grade, mean (0.01), scores,
    complaints (raised by the customer), comments. Rules: the glossary."""
    def customer_scope(query, customer_column):
        if branch is not None:
            query = query.where(customer_column.in_(customers_of_branch(branch)))
        if grade:
            query = query.where(customer_column.in_(customers_of_grade(grade)))
        return query

    answered = customer_scope(response_filters(
        Answer.select(Response.customer, fn.COUNT(Answer.id), sum_if(Question.kind == RATING, Answer.value),
                      sum_if(Question.kind == SCORE, Answer.value))
        .join(Question).switch(Answer).join(Response)
        .where(Question.kind.in_([RATING, SCORE]), Answer.value.is_null(False), Response.customer.is_null(False)),
        start, end), Response.customer)
    called = customer_scope(Callback.select(Callback.customer, fn.COUNT(Callback.id), fn.SUM(Callback.satisfaction))
                            .where(Callback.done_at >= start, Callback.done_at < end,
                                   Callback.satisfaction.is_null(False)), Callback.customer)
    complained = customer_scope(Complaint.select(Complaint.customer, fn.COUNT(Complaint.id)).where(
        Complaint.received_at >= start, Complaint.received_at < end, raised_by_customer()), Complaint.customer)
    commented = customer_scope(response_filters(
        Answer.select(Response.customer, fn.COUNT(Answer.id)).join(Question).switch(Answer).join(Response)
        .where(Question.kind == "text", Answer.text != "", Response.customer.is_null(False)), start, end),
        Response.customer)

    facts = {}

    def entry(customer_id):
        return facts.setdefault(customer_id, {"scores": 0, "sum": Fraction(0), "complaints": 0, "comments": 0})

    for customer_id, (n, ratings, scores) in grouped(answered, Response.customer).items():
        item = entry(customer_id)
        item["scores"] += int(n)
        item["sum"] += exact(ratings) + exact(scores) / 2  # a 0–10 score counts half: 9 → 4.5
    for customer_id, (n, total) in grouped(called, Callback.customer).items():
        item = entry(customer_id)
        item["scores"] += int(n)
        item["sum"] += exact(total)
    for source, key, name in ((complained, Complaint.customer, "complaints"),
                              (commented, Response.customer, "comments")):
        for customer_id, (n,) in grouped(source, key).items():
            entry(customer_id)[name] = int(n)

    result = {q: [] for q in QUADRANTS}
    if not facts:
        return result
    people = {c.id: c for c in Customer.select(Customer, Branch).join(Branch)
              .where(Customer.id.in_(list(facts)), real_customers())}
    for customer_id, item in facts.items():
        customer = people.get(customer_id)
        if customer is None:
            continue  # not a customer (the placeholder of anonymous follow-ups)
        exact_mean = item["sum"] / item["scores"] if item["scores"] else None
        quadrant = quadrant_of(exact_mean, item["complaints"], item["comments"])
        if quadrant is None:
            continue
        result[quadrant].append({
            "customer_id": customer.id, "name": customer.name, "organisation": customer.organisation,
            "phone": customer.phone, "branch": customer.branch.name, "grade": customer.grade,
            "mean": rounded(exact_mean, 1, 2) if exact_mean is not None else None, "exact_mean": exact_mean,
            "scores": item["scores"], "complaints": item["complaints"], "comments": item["comments"]})
    for rows in result.values():
        rows.sort(key=lambda r: (r["exact_mean"] if r["exact_mean"] is not None else -1, r["name"], r["customer_id"]))
        for row in rows:
            del row["exact_mean"]
    return result
