"""The benchmarks still run against the current models (tiny sizes; the figures come from
the full runs, see docs/SCALING.md)."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("script, args, expect", [
    ("seed_bench.py", ["--rows", "3000", "--sample", "60"], "insert_many is"),
    ("listview_bench.py", ["--rows", "300", "--baseline-rows", "200", "--repeats", "2"], "constant"),
    ("scoring_bench.py", ["--rows", "3000", "--repeats", "2", "--index-effect"], "effect of index"),
    ("search_bench.py", ["--rows", "2000", "--repeats", "2", "--like-repeats", "1"], "LIKE / search"),
    ("request_cost.py", ["--n", "20", "--warmup", "5"], "x the thank-you page"),
    ("page_weight.py", [], "budget 100 KB: met"),
    ("notify_bench.py", ["--complaints", "300", "--messages", "20", "--repeats", "1"], "outbox / baseline"),
])
def test_benchmark_runs(tmp_path, script, args, expect):
    result = subprocess.run([sys.executable, str(BENCH / script), *args,
                             "--database", f"sqlite:///{tmp_path / 'bench.db'}"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert expect in result.stdout
    assert "NOT CONSTANT" not in result.stdout and "FAIL" not in result.stdout


def test_submit_benchmark_runs_and_stores_every_answer(tmp_path):
    """Tiny run of the gunicorn submit bench: its rate and latency targets mean nothing at
    this size, but every confirmed submission must be stored, without errors."""
    result = subprocess.run([sys.executable, str(BENCH / "submit_bench.py"), "--n", "30", "--rounds", "1",
                             "--warmup", "10", "--clients", "5", "--rate", "60", "--workers", "2", "--threads", "2",
                             "--database", f"sqlite:///{tmp_path / 'bench.db'}"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    assert "target no 5xx, every success stored: met" in result.stdout, result.stdout[-2000:]
    assert 'target no "database is locked": met' in result.stdout
    assert "integrity_check: ok" in result.stdout
