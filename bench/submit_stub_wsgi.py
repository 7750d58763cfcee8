"""Bench-only WSGI entry point: the real app with the survey write stubbed out.

bench/submit_bench.py serves this module to measure the same public submit endpoint
without the database transaction (link checks, validation, CSRF, rendering and the
redirect all still run). Production never imports it: gunicorn.conf.py serves wsgi.py.

    gunicorn -c gunicorn.conf.py 'bench.submit_stub_wsgi:create_wsgi_app()'
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import surveys  # noqa: E402
from models.answers import (LinkUnavailable, attribution, link_is_usable, staff_candidates,  # noqa: E402
                            survey_questions, validate_answers)
from wsgi import create_wsgi_app as _create_wsgi_app  # noqa: E402


def submit_without_write(survey, raw, invitation=None, open_link=None, language=None, questions=None):
    """models.answers.submit_response up to (not including) its db.atomic() block."""
    link = invitation if invitation is not None else open_link
    if link is None or not link_is_usable(link):
        raise LinkUnavailable()
    questions = questions if questions is not None else survey_questions(survey)
    _customer, branch_id, _staff = attribution(survey, invitation, open_link)
    staff_ids = {s.id for s in staff_candidates(branch_id)} if any(q.kind == "staff" for q in questions) else set()
    _rows, errors = validate_answers(questions, raw, staff_ids)
    if errors:
        return None, errors
    return None, {}


def create_wsgi_app(config=None, proxy_hops=None):
    surveys.submit_response = submit_without_write  # the view looks the name up in its module
    return _create_wsgi_app(config, proxy_hops)
