"""Run inside a release's source tree (its folder is the working directory) against a database:

    python tests/upgrade_probe.py DATABASE_URL [COLUMNS_JSON]

Prints JSON: every table's row count and a digest of its rows (only the columns named in
COLUMNS_JSON when given: the columns the previous release had), the columns of every table,
and the manager figures of that release's models.reports over the last 12 months, computed
at a fixed moment. Used by tests/test_upgrade_previous_release.py with the previous release's
code before and after the current `upgrade-db`. Only uses functions both releases have.
"""
import hashlib
import json
import os
import sys
from datetime import datetime

sys.path.insert(0, os.getcwd())

MOMENT = datetime(2026, 11, 20, 12, 0)


def main():
    url = sys.argv[1]
    keep = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
    from models import clock, db
    from models.base import bind_database
    bind_database(url)
    clock.freeze(MOMENT)
    tables, columns, row_digests = {}, {}, {}
    for table in sorted(db.get_tables()):
        names = sorted(c.name for c in db.get_columns(table))
        columns[table] = names
        chosen = keep.get(table, names) if keep else names
        quoted = ", ".join(f'"{c}"' for c in chosen)
        rows = db.execute_sql(f'SELECT {quoted} FROM "{table}" ORDER BY {quoted}').fetchall()
        digest, each = hashlib.sha256(), []
        for row in rows:
            text = repr([_plain(v) for v in row]).encode()
            digest.update(text)
            each.append(hashlib.sha256(text).hexdigest()[:16])
        tables[table] = [len(rows), digest.hexdigest()]
        if len(rows) <= 200:  # small tables: each row, so added rows can be told from changed ones
            row_digests[table] = sorted(each)
    print(json.dumps({"tables": tables, "columns": columns, "rows": row_digests, "figures": figures()},
                     default=str, sort_keys=True))


def _plain(value):
    """One representation per value whatever the driver returns (SQLite text, PostgreSQL types)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def figures():
    from models import reports
    start, end = datetime(2025, 11, 1), datetime(2026, 12, 1)
    return {
        "open_by_stage": reports.open_by_stage(moment=MOMENT),
        "sla_compliance": reports.sla_compliance(start, end),
        "complaints_received": reports.complaints_received(start, end),
        "csat": reports.csat(start, end),
        "nps": reports.nps(start, end),
        "response_rate": reports.response_rate(start, end),
        "dimension_scores": reports.dimension_scores(start, end),
        "branch_ranking": reports.branch_ranking(start, end),
        "staff_scoreboard": reports.staff_scoreboard(start, end),
        "customer_quadrants": reports.customer_quadrants(start, end),
    }


if __name__ == "__main__":
    main()
