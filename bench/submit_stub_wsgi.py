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
from wsgi import create_wsgi_app as _create_wsgi_app  # noqa: E402


def store_without_write(survey, submission, invitation=None, open_link=None, language=None, hold_reason=None,
                        nonce=None):
    """models.answers.store_submission without its write transaction (the view has already
    run the same checks and reads: prepare_submission)."""
    return None


def create_wsgi_app(config=None, proxy_hops=None):
    surveys.store_submission = store_without_write  # the view looks the name up in its module
    return _create_wsgi_app(config, proxy_hops)
