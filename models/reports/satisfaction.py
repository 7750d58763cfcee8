"""Satisfaction figures: CSAT, NPS, means, dimensions, SERVQUAL gaps, survey analytics,
responses received and the response rate of invitations (definitions: the glossary in
models.reports)."""
from collections import OrderedDict
from datetime import timedelta

from peewee import JOIN, SQL, fn

from ..org import Branch, Staff
from ..surveys import Answer, Choice, Invitation, Question, Response
from .base import (CSAT_SATISFIED_MIN, NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, RATING, SCORE, count_if,
                   counted_responses, customers_of_branch, customers_of_grade, exact, grouped, id_of, mean, nps_of,
                   in_branch, percent, response_filters)


# ---------------------------------------------------------------- CSAT and NPS

def satisfaction_by(key, start, end, **filters):
    """{key value: {"csat": {...}, "nps": {...}}} from rating and score answers of counted
    responses submitted in [start, end), one query; `key` a column to group by (or None)."""
    columns = ([key] if key is not None else []) + [
        Question.kind, fn.COUNT(Answer.id), fn.SUM(Answer.value),
        count_if(Answer.value >= CSAT_SATISFIED_MIN), count_if(Answer.value >= NPS_PROMOTER_MIN),
        count_if(Answer.value <= NPS_DETRACTOR_MAX)]
    query = (Answer.select(*columns).join(Question).switch(Answer).join(Response)
             .where(Question.kind.in_([RATING, SCORE]), Answer.value.is_null(False)))
    query = response_filters(query, start, end, **filters)
    query = query.group_by(SQL("1"), SQL("2")) if key is not None else query.group_by(SQL("1"))
    found = {}
    for row in query.tuples():
        k, rest = (row[0], row[1:]) if key is not None else (None, row)
        found.setdefault(k, {})[rest[0]] = [int(v or 0) for v in rest[1:]]
    return {k: satisfaction_result(kinds) for k, kinds in found.items()}


def satisfaction_result(kinds=None):
    kinds = kinds or {}
    total, value_sum, satisfied, _, _ = kinds.get(RATING, [0] * 5)
    csat_figures = {"answers": total, "satisfied": satisfied, "csat": percent(satisfied, total),
                    "mean": mean(value_sum, total)}
    total, value_sum, _, promoters, detractors = kinds.get(SCORE, [0] * 5)
    nps_figures = {"answers": total, "promoters": promoters, "detractors": detractors,
                   "passives": total - promoters - detractors, "nps": nps_of(promoters, detractors, total),
                   "mean": mean(value_sum, total)}
    return {"csat": csat_figures, "nps": nps_figures}


NO_SATISFACTION = satisfaction_result()


def csat(start, end, branch=None, grade=None, staff=None, survey=None):
    """CSAT: {answers, satisfied (4–5), csat (%), mean} over rating (1–5) answers."""
    return satisfaction_by(None, start, end, branch=branch, grade=grade, staff=staff, survey=survey).get(
        None, NO_SATISFACTION)["csat"]


def nps(start, end, branch=None, grade=None, staff=None, survey=None):
    """NPS: {answers, promoters (9–10), passives (7–8), detractors (0–6), nps, mean} over score (0–10) answers."""
    return satisfaction_by(None, start, end, branch=branch, grade=grade, staff=staff, survey=survey).get(
        None, NO_SATISFACTION)["nps"]


def responses_received(start=None, end=None, branch=None, grade=None, staff=None, survey=None):
    """Counted responses submitted in [start, end) (no period: ever)."""
    return response_filters(Response.select(), start, end, branch, grade, staff, survey).count()


def responses_by(key, start=None, end=None, **filters):
    """{key value: counted responses submitted in [start, end)}."""
    query = response_filters(Response.select(key, fn.COUNT(Response.id)), start, end, **filters)
    return {k: row[0] for k, row in grouped(query, key).items()}


# ---------------------------------------------------------------- response rate of invitations

def response_rate(start=None, end=None, branch=None, grade=None, survey=None):
    """Response rate (回复率): {sent, answered, rate} — invitations SENT in [start, end) (no
    period: ever sent) and how many of them were answered (whenever that was)."""
    return response_rates(start, end, branch=branch, grade=grade, survey=survey).get(None, NO_RESPONSE_RATE)


def response_rates(start=None, end=None, key=None, branch=None, grade=None, survey=None, surveys=None):
    """{key value: {sent, answered, rate}}; `key` e.g. Invitation.survey (None: one group);
    `surveys` a list of survey ids to restrict to."""
    columns = ([key] if key is not None else []) + [
        fn.COUNT(Invitation.id), count_if(Invitation.answered_at.is_null(False))]
    query = Invitation.select(*columns).where(Invitation.sent_at.is_null(False))
    if start is not None:
        query = query.where(Invitation.sent_at >= start, Invitation.sent_at < end)
    if branch is not None:
        query = query.where(Invitation.customer.in_(customers_of_branch(branch)))
    if grade:
        query = query.where(Invitation.customer.in_(customers_of_grade(grade)))
    if survey:
        query = query.where(Invitation.survey == id_of(survey))
    if surveys is not None:
        query = query.where(Invitation.survey.in_(list(surveys)))
    result = {}
    for k, row in grouped(query, key).items():
        sent, answered = (int(v or 0) for v in row) if row else (0, 0)
        result[k] = {"sent": sent, "answered": answered, "rate": percent(answered, sent)}
    return result


NO_RESPONSE_RATE = {"sent": 0, "answered": 0, "rate": None}


def survey_response_rates(survey_ids, branch=None):
    """The survey list's figure: per survey id {sent, answered, rate, responses} over all
    time (invitations ever sent; counted responses ever received), of `branch` (a branch or a
    list of ids: the user's scope) when given. Two queries."""
    ids = list(survey_ids)
    if not ids:
        return {}
    rates = response_rates(key=Invitation.survey, surveys=ids, branch=branch)
    query = Response.select(Response.survey, fn.COUNT(Response.id)).where(counted_responses(),
                                                                          Response.survey.in_(ids))
    if branch is not None:
        query = query.where(in_branch(Response.branch, branch))
    responses = {k: row[0] for k, row in grouped(query, Response.survey).items()}
    return {i: {**rates.get(i, NO_RESPONSE_RATE), "responses": responses.get(i, 0)} for i in ids}


# ---------------------------------------------------------------- dimensions and SERVQUAL

def dimension_scores(start, end, branch=None, grade=None, staff=None, survey=None):
    """{dimension: {answers, mean, csat}} over rating (1–5) answers of questions with a dimension."""
    query = (Answer.select(Question.dimension, fn.COUNT(Answer.id), fn.SUM(Answer.value),
                           count_if(Answer.value >= CSAT_SATISFIED_MIN))
             .join(Question).switch(Answer).join(Response)
             .where(Question.kind == RATING, Question.dimension.is_null(False), Answer.value.is_null(False)))
    query = response_filters(query, start, end, branch, grade, staff, survey)
    return {dim: {"answers": n, "mean": mean(exact(total), n), "csat": percent(int(ok or 0), n)}
            for dim, n, total, ok in query.group_by(SQL("1")).order_by(SQL("1")).tuples()}


def servqual_gaps(start, end, branch=None, grade=None, staff=None, survey=None):
    """{dimension: {pairs, expectation, perception, gap}}: gap = mean(perception − expectation)
    over SERVQUAL answers having both numbers (dimension "" when the question has none)."""
    dimension = fn.COALESCE(Question.dimension, "")
    query = (Answer.select(dimension, fn.COUNT(Answer.id), fn.SUM(Answer.expectation), fn.SUM(Answer.value))
             .join(Question).switch(Answer).join(Response)
             .where(Question.kind == "servqual", Answer.value.is_null(False), Answer.expectation.is_null(False)))
    query = response_filters(query, start, end, branch, grade, staff, survey)
    return {dim: _servqual(n, exp, per) for dim, n, exp, per in query.group_by(SQL("1")).order_by(SQL("1")).tuples()}


def _servqual(pairs, expectation_sum, perception_sum):
    expectation_sum, perception_sum = exact(expectation_sum), exact(perception_sum)
    return {"pairs": pairs, "expectation": mean(expectation_sum, pairs), "perception": mean(perception_sum, pairs),
            "gap": mean(perception_sum - expectation_sum, pairs)}


# ---------------------------------------------------------------- one survey

def survey_analytics(survey, start, end, branch=None, staff=None, grade=None, comment_limit=200):
    """Everything about one survey's counted responses in [start, end): per question its
    distribution (value or choice or staff member → count), respondents, mean, CSAT/NPS,
    SERVQUAL means and gap; plus per-dimension scores, SERVQUAL gaps per dimension and the
    latest free-text comments. A constant number of queries whatever the amount of data."""
    filters = dict(branch=branch, grade=grade, staff=staff, survey=survey)
    questions = list(Question.select().where(Question.survey == id_of(survey)).order_by(Question.position, Question.id))
    by_id = {q.id: {"question": q, "answers": 0, "distribution": OrderedDict(), "mean": None} for q in questions}

    def answers(*columns):
        return response_filters(Answer.select(*columns).join(Question).switch(Answer).join(Response),
                                start, end, **filters)

    numeric = answers(Answer.question, Answer.value, fn.COUNT(Answer.id)).where(
        Question.kind.in_([RATING, SCORE]), Answer.value.is_null(False)).group_by(SQL("1"), SQL("2"))
    for question_id, value, n in numeric.order_by(SQL("1"), SQL("2")).tuples():
        by_id[question_id]["distribution"][value] = n
    choices = answers(Answer.question, Answer.choice, fn.COUNT(Answer.id)).where(
        Question.kind.in_(["single", "multiple"]), Answer.choice.is_null(False)).group_by(SQL("1"), SQL("2"))
    choice_counts = {(q, c): n for q, c, n in choices.tuples()}
    choice_rows = Choice.select().where(Choice.question.in_([q.id for q in questions])).order_by(
        Choice.question, Choice.position, Choice.id) if questions else []
    for choice in choice_rows:
        by_id[choice.question_id]["distribution"][choice.text] = choice_counts.get((choice.question_id, choice.id), 0)
    respondents = answers(Answer.question, fn.COUNT(fn.DISTINCT(Answer.response))).group_by(SQL("1"))
    for question_id, n in respondents.tuples():
        by_id[question_id]["answers"] = n
    picked = answers(Answer.question, Staff.name, Staff.employee_no, fn.COUNT(Answer.id)).join(
        Staff, on=(Answer.staff == Staff.id)).where(Question.kind == "staff").group_by(SQL("1"), SQL("2"), SQL("3"))
    for question_id, name, number, n in picked.order_by(SQL("4").desc(), SQL("2")).tuples():
        by_id[question_id]["distribution"][f"{name} ({number})"] = n
    pairs = answers(Answer.question, fn.COUNT(Answer.id), fn.SUM(Answer.expectation), fn.SUM(Answer.value)).where(
        Question.kind == "servqual", Answer.value.is_null(False), Answer.expectation.is_null(False)).group_by(SQL("1"))
    for question_id, n, expectation_sum, perception_sum in pairs.tuples():
        by_id[question_id]["servqual"] = _servqual(n, expectation_sum, perception_sum)
    for item in by_id.values():
        kind, dist = item["question"].kind, item["distribution"]
        total = sum(dist.values())
        if kind in (RATING, SCORE) and total:
            item["mean"] = mean(sum(v * n for v, n in dist.items()), total)
            if kind == RATING:
                item["csat"] = percent(sum(n for v, n in dist.items() if v >= CSAT_SATISFIED_MIN), total)
                item["distribution"] = OrderedDict((v, dist.get(v, 0)) for v in range(1, 6))
            else:
                promoters = sum(n for v, n in dist.items() if v >= NPS_PROMOTER_MIN)
                detractors = sum(n for v, n in dist.items() if v <= NPS_DETRACTOR_MAX)
                item["nps"] = nps_of(promoters, detractors, total)
                item["distribution"] = OrderedDict((v, dist.get(v, 0)) for v in range(0, 11))
        item["total"] = total
        # share of each distribution bar, as shown next to it (0.1 %)
        item["shares"] = OrderedDict((label, percent(n, total) or 0.0) for label, n in item["distribution"].items())

    comments = (answers(Question.text, Answer.text, Response.submitted_at, Branch.name)
                .join(Branch, JOIN.LEFT_OUTER, on=(Response.branch == Branch.id))
                .where(Question.kind == "text", Answer.text != "")
                .order_by(Response.submitted_at.desc(), Answer.id.desc()).limit(comment_limit).tuples())
    sat = satisfaction_by(None, start, end, **filters).get(None, NO_SATISFACTION)
    return {
        "questions": [by_id[q.id] for q in questions],
        "responses": responses_received(start, end, **filters),
        "csat": sat["csat"], "nps": sat["nps"],
        "dimensions": dimension_scores(start, end, **filters),
        "servqual": servqual_gaps(start, end, **filters),
        "comments": [{"question": q, "text": t, "submitted_at": at, "branch": b or ""} for q, t, at, b in comments],
    }


def total_score(numbers):
    """The satisfaction table's total score (总分) of one response: the sum of its rating
    and score answers; None when it has none."""
    numbers = [n for n in numbers if n is not None]
    return sum(numbers) if numbers else None



# ---------------------------------------------------------------- the survey analytics index

def survey_overview(start, end, surveys=None, weeks=12, branch=None):
    """The survey analytics index: per survey (newest first; `surveys` limits the list), for
    responses submitted in [start, end):

        survey, responses (counted), held (waiting for review), csat, nps (as csat()/nps()),
        rate (as response_rate(), for the survey's invitations sent in the period),
        complaints (follow-up complaints of those responses), feedback (anonymous feedback
        received: {"received", "to_review"}, as models.feedback.feedback_counts()),
        weekly: [(Period, counted responses)] for the `weeks` weeks up to the period's end.

    `branch`: one branch or a list of branch ids (a user's branch scope): every figure counts
    only that branch's responses, invitations and feedback. A constant number of queries
    whatever the number of surveys."""
    from ..feedback import feedback_counts
    from ..surveys import Survey
    from .base import bucket_of
    from .periods import last_periods
    query = Survey.select().order_by(Survey.id.desc())
    if surveys is not None:
        query = query.where(Survey.id.in_([id_of(s) for s in surveys]))
    survey_list = list(query)
    satisfaction = satisfaction_by(Response.survey, start, end, branch=branch)
    volumes = grouped(response_filters(Response.select(Response.survey, fn.COUNT(Response.id),
                                                       count_if(Response.followup_complaint.is_null(False))),
                                       start, end, branch=branch), Response.survey)
    held_query = Response.select(Response.survey, fn.COUNT(Response.id)).where(
        Response.submitted_at >= start, Response.submitted_at < end, Response.status == "held")
    if branch is not None:
        held_query = held_query.where(in_branch(Response.branch, branch))
    held = grouped(held_query, Response.survey)
    rates = response_rates(start, end, key=Invitation.survey, branch=branch)
    feedback = feedback_counts(start, end, group_by="survey", branch=branch)
    periods = last_periods("week", weeks, end - timedelta(seconds=1))
    bucket = bucket_of(Response.submitted_at, periods)
    weekly = {(survey_id, index): n for survey_id, index, n in response_filters(
        Response.select(Response.survey, bucket, fn.COUNT(Response.id)), periods[0].start, periods[-1].end,
        branch=branch).group_by(SQL("1"), SQL("2")).tuples()}
    rows = []
    for survey in survey_list:
        sat = satisfaction.get(survey.id, NO_SATISFACTION)
        responses, complaints = (int(v or 0) for v in volumes.get(survey.id, (0, 0)))
        rows.append({
            "survey": survey, "responses": responses, "held": int(held.get(survey.id, (0,))[0] or 0),
            "csat": sat["csat"], "nps": sat["nps"], "rate": rates.get(survey.id, NO_RESPONSE_RATE),
            "complaints": complaints, "feedback": feedback.get(survey.id, {"received": 0, "to_review": 0}),
            "weekly": [(period, weekly.get((survey.id, index), 0)) for index, period in enumerate(periods)],
        })
    return rows
