"""`upgrade-db` on a database made by the previous release keeps every row and every figure.

The previous release's code is taken from git (PREVIOUS_RELEASE, the main branch before the
configuration work), seeds its demo data into a fresh database (a SQLite file, or on
PostgreSQL a schema of its own in TEST_DATABASE_URL), and its own figures are computed
(tests/upgrade_probe.py). Then this release's `flask upgrade-db` runs on that database, and:
the previous release still reads the same rows (digest of every column it had) and computes
the same figures; this release computes the same figures and serves its pages.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import io

import pytest

from .conftest import TEST_DATABASE_URL
from .helpers import ROOT

# the last release that landed (stop 9, 65f8261): before owners (migration 2), the glossary's
# corrected figures, working calendars, custom fields and choice lists as data (migrations 70-79).
# Move it forward when a release ships.
PREVIOUS_RELEASE = "65f82617f586b9a5fcc9896eb5d61816426dee8a"
# figures whose definition this release corrected on purpose (models/reports glossary: quadrant
# means, "vocal", complaints per 100 customers, no rank on missing data): compared old code to old
# code only; every other figure must come out the same from this release's code too
REDEFINED = {"branch_ranking", "staff_scoreboard", "customer_quadrants"}
# columns an upgrade fills on purpose (checked on their own below): migration 2 gives every
# complaint an owner, its first responder
FILLED = {"complaint": {"assignee_id"}}
SCHEMA = "previous_release_probe"
# upgrade-db adds rows here: its schema versions and the settings the new release offers
GROWING = {"schema_version", "setting"}


def previous_release_tree(target):
    """The previous release's files in `target` (git archive), or skip outside CI without git."""
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE],
                                 check=True, capture_output=True, timeout=120).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the previous release {PREVIOUS_RELEASE[:8]} is not in this clone: {exc}")
        pytest.skip(f"no git history with {PREVIOUS_RELEASE[:8]}: {exc}")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def postgres_schema_url(create):
    """TEST_DATABASE_URL with its own schema (created empty, or dropped)."""
    import psycopg2
    from playhouse.db_url import parse
    params = parse(TEST_DATABASE_URL)
    connection = psycopg2.connect(dbname=params["database"], user=params.get("user"),
                                  password=params.get("password"), host=params.get("host"), port=params.get("port"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        if create:
            cursor.execute(f'CREATE SCHEMA "{SCHEMA}"')
    connection.close()
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{SCHEMA}"


def run(args, cwd, url, timeout=300):
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "previous-release-test", "CI": os.environ.get("CI", "")}
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args} in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def probe(tree, url, columns=None):
    probe_script = str(ROOT / "tests" / "upgrade_probe.py")
    args = [probe_script, url] + ([json.dumps(columns)] if columns else [])
    return json.loads(run(args, tree, url).strip().splitlines()[-1])


@pytest.fixture
def database_url(tmp_path):
    if TEST_DATABASE_URL:
        yield postgres_schema_url(create=True)
        postgres_schema_url(create=False)
    else:
        yield f"sqlite:///{tmp_path / 'previous.db'}"


def test_upgrade_db_keeps_every_row_and_figure_of_the_previous_release(tmp_path, database_url):
    old = previous_release_tree(tmp_path / "previous")
    run(["-m", "flask", "--app", "app", "seed-demo"], old, database_url)
    before = probe(old, database_url)
    assert before["tables"]["complaint"][0] >= 100 and before["figures"]["sla_compliance"]["overall"]["done"] > 0
    kept_columns = {table: [c for c in names if c not in FILLED.get(table, ())]
                    for table, names in before["columns"].items()}
    before_kept = probe(old, database_url, kept_columns)
    first_responders = scalar(old, database_url,
                              "SELECT COUNT(*) FROM complaint WHERE first_responder_id IS NOT NULL")

    output = run(["-m", "flask", "--app", "app", "upgrade-db"], ROOT, database_url)
    assert "applied 2:" in output and "applied 70" in output

    after_old = probe(old, database_url, kept_columns)
    for table, (count, digest) in before_kept["tables"].items():
        if table in GROWING:  # rows are added (versions, new default settings), none changed
            assert set(before_kept["rows"][table]) <= set(after_old["rows"][table]), f"rows of {table} changed"
            continue
        assert after_old["tables"][table] == [count, digest], f"rows of {table} changed"
    assert after_old["figures"] == before["figures"]
    # migration 2: every complaint with a first responder now has an owner, that first responder
    assert scalar(old, database_url, "SELECT COUNT(*) FROM complaint WHERE assignee_id = first_responder_id") \
        == first_responders > 0

    after_new = probe(ROOT, database_url)
    for name, value in before["figures"].items():
        if name not in REDEFINED:
            assert after_new["figures"][name] == value, name
    for table in ("custom_field", "choice_list", "work_calendar", "calendar_day"):
        assert table in after_new["tables"]

    # this release serves its pages on the upgraded database
    pages = run(["-c", PAGES], ROOT, database_url)
    assert pages.strip().splitlines()[-1] == "all pages 200", pages


def scalar(tree, url, query):
    """One number from the database, read through the release in `tree`."""
    code = ("import sys; sys.path.insert(0, '.'); from models.base import bind_database; "
            f"database = bind_database({url!r}); print(database.execute_sql({query!r}).fetchone()[0])")
    return int(run(["-c", code], tree, url).strip().splitlines()[-1])


PAGES = """
import re, sys
sys.path.insert(0, '.')
from app import create_app
app = create_app({'RATELIMIT_ENABLED': False})
client = app.test_client()
page = client.get('/login').get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
assert client.post('/login', data={'username': 'admin', 'password': 'admin-demo-2026', 'csrf_token': token}).status_code == 302
bad = []
for url in ['/admin/', '/admin/complaint/', '/admin/customer/', '/admin/complaint/new/', '/admin/customer/new/',
            '/admin/complaint/details/?id=1', '/admin/slapolicy/', '/admin/workcalendar/', '/admin/customfield/',
            '/admin/scoring/ranking/', '/admin/complaint/export/xlsx/']:
    status = client.get(url).status_code
    if status != 200:
        bad.append((url, status))
print(bad or 'all pages 200')
"""


def test_the_previous_release_is_in_the_history():
    """Guard: the commit named above exists (a rewritten history would silently skip nothing)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    result = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-t", PREVIOUS_RELEASE], capture_output=True,
                            text=True)
    assert result.stdout.strip() == "commit", result.stderr
