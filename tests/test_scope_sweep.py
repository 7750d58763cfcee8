"""The branch-scope sweep: a manager of branch 甲 requests every admin URL of app.url_map, with
every method, with the ids of branch 乙's rows wherever a URL, a query or a form takes an id
(details, edit, delete, ajax edits, lookups, list actions, forged filters on lists and exports,
QR, print and poster pages, certificates, workbooks, scoring pages, My work, the customer and
complaint pages, review lists, the outbox, notifications). A URL added later is swept
without a change here: the list comes from app.url_map. Nothing of 乙 may be read (no
page, JSON, csv or xlsx holds 乙's names, texts, phone numbers or link tokens) and nothing of
乙 may change (its rows, their number and their history stay exactly as they were)."""
import io
import re
import zipfile

import openpyxl
import pytest

from models import ALL_MODELS, History, User
from models.scope import SYSTEM, scoped

from .helpers import Client, make_branch, make_branch_rows, make_staff, make_user


def _admin_views(app):
    return {view.endpoint: view for view in app.extensions["admin"][0]._views}


@pytest.fixture
def office(app):
    with app.app_context():
        a, b = make_branch("甲分公司", region="江苏"), make_branch("乙分公司", region="新疆")
        mine = make_branch_rows(a, "甲方", with_notifications=True)
        theirs = make_branch_rows(b, "乙方", with_notifications=True)
        make_user("manager_a", "manager", staff=make_staff(a, "A-M", name="甲经理"))
        secrets = ["乙方", theirs["customer"].phone, theirs["staff"].phone, theirs["invitation"].token,
                   theirs["openlink"].token, theirs["openlink"].short_code, theirs["customer"].email,
                   theirs["held_response"].contact_phone, theirs["channelendpoint"].webhook_url]
    return {"A": mine, "B": theirs, "secrets": secrets}


def _rows_of_b(user):
    """{model: {id: stored values}} of every row the manager of 甲 may not see (SYSTEM minus 甲)."""
    snapshot = {}
    for model in ALL_MODELS:
        if model is History:
            continue
        try:
            seen = {row.get_id() for row in scoped(model.select(), user, model)}
        except LookupError:
            continue
        snapshot[model.__name__] = {row.get_id(): dict(row.__data__) for row in scoped(model.select(), SYSTEM, model)
                                    if row.get_id() not in seen}
    snapshot["history of 乙"] = History.select().where(History.branch_id.not_in(list(user_branches(user)))).count()
    return snapshot


def user_branches(user):
    from models.scope import branch_ids
    return branch_ids(user)


def _text_of(response):
    """What a response shows: the page, the JSON, the csv, or every cell of an xlsx."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)):
            pass
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    if data[:4] == b"\x89PNG":
        return ""
    return data.decode("utf-8", "replace")


def _url_values(rule, view, b):
    """The URL's own arguments filled with 乙's ids."""
    model_rows = {type(row): row for row in b.values() if hasattr(row, "_meta")}
    values = {}
    for name in rule.arguments:
        if name == "export_type":
            values[name] = "xlsx"
        elif name == "kind":
            values[name] = "png"
        elif name == "link_id":
            values[name] = model_rows[view.model].id
        elif name == "award_id":
            values[name] = b["award"].id
        elif name == "survey_id":
            values[name] = b["survey"].id
        elif name == "notification_id":
            values[name] = b["notification"].id
        elif name == "feedback_id":
            values[name] = b["feedback"].id
        elif name == "language":
            values[name] = "zh_CN"
        elif name == "key":
            values[name] = "ranking.weights"
        else:
            values[name] = 1
    return values


def _queries(view, b):
    """Query strings carrying 乙's ids: the row of the view's model, forged filters, figures' ids."""
    queries = [{}]
    model = getattr(view, "model", None)
    by_model = {type(row): row for row in b.values() if hasattr(row, "_meta")}
    if model is not None and model in by_model:
        queries.append({"id": by_model[model].id})
    forged = {}
    for index, flt in enumerate(getattr(view, "_filters", None) or ()):
        column = getattr(flt, "column", None)
        target = getattr(column, "rel_model", None)
        if target in by_model:
            forged[f"flt{len(forged)}_{view.get_filter_arg(index, flt)}"] = by_model[target].id
    if forged:
        queries.append(forged)
    queries.append({"branch": b["branch"].id, "staff": b["staff"].id, "period": "custom", "from": "2000-01-01",
                    "to": "2999-12-31", "kind": "weekly", "day": "2026-11-02", "ids": str(b["complaint"].id),
                    "name": "customer", "query": "方"})
    return queries


def _forms(view, b, csrf):
    """POST bodies naming 乙's rows in every field a view reads an id from."""
    base = {"csrf_token": csrf}
    common = {**base, "id": None, "rowid": None, "customer": b["customer"].id, "staff": b["staff"].id,
              "staff_id": b["staff"].id, "survey": b["survey"].id, "ids": str(b["complaint"].id),
              "branch": b["branch"].id, "verifier": b["staff"].id, "stage": "acknowledged", "apology_note": "改",
              "result_text": "改", "reason": "改", "kind": "star_month", "period": "2026-11", "label": "改",
              "due_date": "2026-11-02", "outcome": "改", "channel": "phone", "name": "改", "title": "改"}
    forms = []
    model = getattr(view, "model", None)
    by_model = {type(row): row for row in b.values() if hasattr(row, "_meta")}
    if model is not None:
        own = by_model.get(model)
        if own is not None:
            common["id"] = common["rowid"] = own.id
            common["list_form_pk"] = own.id
        # a create or edit form naming 乙's rows in every foreign key
        for name, field in model._meta.fields.items():
            target = getattr(field, "rel_model", None)
            if target in by_model:
                common[name] = by_model[target].id
        for name, _label in getattr(view, "_actions", []) or []:
            forms.append({**common, "action": name})
    forms.append(common)
    return [{k: v for k, v in form.items() if v is not None} for form in forms]


def test_manager_of_one_branch_reads_and_changes_nothing_of_another(app, office):
    manager = Client(app.test_client())
    assert manager.login("manager_a").status_code == 302
    csrf = manager.csrf
    with app.app_context():
        user = User.get(User.username == "manager_a")
        before = _rows_of_b(user)
    views = _admin_views(app)
    b = office["B"]
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") and "static" not in r.endpoint]
    assert len(rules) > 100
    requests = 0
    for rule in rules:
        view = views.get(rule.endpoint.split(".")[0])
        path = rule.build(_url_values(rule, view, b), append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                attempts = [("GET", query, None) for query in _queries(view, b)]
            else:
                attempts = [(method, {"id": b.get(getattr(getattr(view, "model", None), "__name__", "").lower(),
                                                   b["customer"]).id}, form) for form in _forms(view, b, csrf)]
            for verb, query, form in attempts:
                response = manager.http.open(path, method=verb, query_string=query, data=form)
                requests += 1
                assert response.status_code < 500, (verb, path, query, form, response.status_code)
                shown = _text_of(response)
                for secret in office["secrets"]:
                    assert secret not in shown, (verb, path, query, form, secret)
    assert requests > 300
    with app.app_context():
        after = _rows_of_b(user)
    assert after == before


def test_the_sweep_would_see_a_leak(app, office):
    """The sweep's eyes work: 乙's manager sees 乙's secrets on the same URLs."""
    with app.app_context():
        make_user("manager_b", "manager", staff=make_staff(office["B"]["branch"], "B-M", name="乙经理"))
    other = Client(app.test_client())
    other.login("manager_b")
    page = other.get(f"/admin/customer/details/?id={office['B']['customer'].id}").get_data(as_text=True)
    assert "乙方客户" in page
    export = _text_of(other.get("/admin/complaint/export/xlsx/"))
    assert "乙方投诉" in export
    assert re.search("乙方", _text_of(other.get("/admin/report-workbooks/download/?kind=weekly")))
