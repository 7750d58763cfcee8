"""The public survey page stays light for a slow mobile connection inside WeChat: HTML, CSS,
JS, fonts and images of every template, in both languages, at most 100 KB gzipped (the number
itself: `bench/page_weight.py`), with nothing loaded from another site and no script or web
font an in-app browser might lack."""
import re

import pytest

from bench.page_weight import BUDGET_BYTES, page_weight
from models import OpenLink
from models.survey_templates import TEMPLATES, create_from_template

from .helpers import make_branch, make_staff


@pytest.mark.parametrize("kind", list(TEMPLATES))
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_template_page_is_within_the_weight_budget(app, client, kind, language):
    with app.app_context():
        branch = make_branch()
        for number in range(40):  # the service-star vote lists the branch's staff: a big branch
            make_staff(branch, f"E{number:04d}", name=f"员工{number:02d}")
        link = OpenLink.create(survey=create_from_template(kind, language), branch=branch)
    weight = page_weight(client.http, f"/q/{link.short_code}")
    assert weight["external"] == []
    assert weight["gzip"] <= BUDGET_BYTES, weight
    assert weight["bytes"] <= BUDGET_BYTES, weight  # even a server that does not compress stays in budget
    kinds = {kind for _url, kind, _plain, _gzip in weight["resources"]}
    assert kinds == {"html", "css"}  # no script, no web font, no image to fetch
    html = client.http.get(f"/q/{link.short_code}").get_data(as_text=True)
    assert not re.search(r"<script|@font-face|<iframe", html)
