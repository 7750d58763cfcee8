"""How fast survey answers are stored on SQLite (WAL, file database), one at a time and
200 at once through distinct invitations; prints medians over rounds and the ratio of
concurrent throughput to the sequential baseline measured in the same run.

    /work/main/.venv/bin/python bench/survey_submissions.py [--rounds 3] [--n 200]
"""
import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from models import Branch, Customer, Invitation, Question, Response, create_tables, db  # noqa: E402
from models.survey_templates import create_from_template  # noqa: E402


def prepare(n):
    folder = tempfile.mkdtemp(prefix="bench-surveys-")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        create_tables()
        branch = Branch.create(name="基准分公司", region="江苏")
        customer = Customer.create(name="基准客户", branch=branch)
        survey = create_from_template("csat", "zh_CN")
        form = {f"q{q.id}": ("4" if q.kind == "rating" else "基准测试") for q in survey.questions.order_by(Question.id)}
        with db.atomic():
            tokens = [Invitation.create(survey=survey, customer=customer).token for _ in range(2 * n)]
    return app, form, tokens[:n], tokens[n:]


def sequential(app, form, tokens):
    client = app.test_client()
    started = time.perf_counter()
    for token in tokens:
        assert client.post(f"/s/i/{token}", data=form).status_code == 302
    return time.perf_counter() - started


def concurrent(app, form, tokens):
    barrier = threading.Barrier(len(tokens) + 1)
    codes = []

    def worker(token):
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(f"/s/i/{token}", data=form).status_code)
        if not db.is_closed():
            db.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert codes.count(302) == len(tokens), sorted(set(codes))
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    seq, conc = [], []
    for _ in range(args.rounds):
        app, form, first, second = prepare(args.n)
        seq.append(sequential(app, form, first))
        conc.append(concurrent(app, form, second))
        with app.app_context():
            assert Response.select().count() == 2 * args.n
    seq_ms = 1000 * statistics.median(seq) / args.n
    conc_ms = 1000 * statistics.median(conc) / args.n
    print(f"{args.n} submissions, {args.rounds} rounds, SQLite file database (WAL)")
    print(f"sequential baseline : median {seq_ms:.2f} ms per submission ({1000 / seq_ms:.0f}/s)")
    print(f"{args.n} threads at once: median {conc_ms:.2f} ms per submission ({1000 / conc_ms:.0f}/s)")
    print(f"ratio concurrent/sequential time per submission: {conc_ms / seq_ms:.2f}")


if __name__ == "__main__":
    main()
