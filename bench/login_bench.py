"""Login time does not tell whether an account exists: the same form posted for an unknown
username, for a known one with a wrong password, and for the right password, through the
real login view (Flask test client, rate limit off, a fresh SQLite file). Prints the medians
and the ratio unknown / wrong password (1.0 = indistinguishable; before the fix the unknown
user answered in about a fifth of the time because no hash was computed).

    .venv/bin/python bench/login_bench.py [--repeats 15]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    from app import create_app
    from models import create_tables
    from tests.helpers import PASSWORD, make_user
    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.db", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        create_tables()
        make_user("staff")
    client = app.test_client()

    def median_ms(username, password, expected):
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            response = client.post("/login", data={"username": username, "password": password})
            times.append(time.perf_counter() - started)
            assert response.status_code == expected, (username, response.status_code)
            client.post("/logout")
        return statistics.median(times) * 1000

    unknown = median_ms("nobody-here", "whatever-123456", 200)  # the form again, with its error
    wrong = median_ms("staff", "wrong-password-1", 200)
    right = median_ms("staff", PASSWORD, 302)
    print(f"login, median of {args.repeats} (ms): unknown user {unknown:.1f}, wrong password {wrong:.1f}, "
          f"right password {right:.1f}")
    print(f"ratio unknown / wrong password: {unknown / wrong:.2f}")


if __name__ == "__main__":
    main()
