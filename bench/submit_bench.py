"""Public survey submit under gunicorn on loopback, 50 clients at once.

Each submission is what a customer's browser does with a personal invitation: GET the form
/s/i/<token> (session cookie + CSRF token), POST the answers with the cookie (success is
the 302 to the thank-you page), GET the thank-you page. Every token is a fresh invitation
created in bulk before the run, so every POST is a real insert (Response + Answers +
Invitation.answered_at in one transaction). Each client is one keep-alive connection; the
50 clients run on asyncio in one process, because a heavier client (threads and
http.client) took a good part of the two cores the server runs on.

Three flows, in turn, for --rounds rounds:
- browser: every client starts its next customer as soon as the last one is thanked
  (closed loop: the highest rate the server sustains, and the latency at that rate);
- paced: the same flow with customers arriving at --rate per second in all, whatever the
  server does (open loop); a late start counts in the latency, so a slow server cannot
  hide its queue;
- post: POST only, reusing the session's CSRF token, as fast as served: a stress of the
  write path rather than what a customer does.

Baseline, measured in the same run: the same endpoint served by bench/submit_stub_wsgi.py,
where the storing function is replaced by one that does every check but no write.

    /work/main/.venv/bin/python bench/submit_bench.py                       # temporary SQLite file
    /work/main/.venv/bin/python bench/submit_bench.py --database postgresql://user:pw@127.0.0.1/db

Targets (issue 7): >= 200 submissions/s, p99 <= 250 ms, no 5xx, no "database is locked".
"""
import asyncio
import http.client
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, arguments, median, open_database, percentile  # noqa: E402
from models.base import release_connections  # noqa: E402
from models import Branch, Customer, Invitation, Question, Response, db  # noqa: E402
from models.answers import field_name  # noqa: E402
from models.clock import now  # noqa: E402
from models.survey_templates import create_from_template  # noqa: E402
from models.surveys import new_token  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TARGET_RATE, TARGET_P99 = 200, 0.250
CLIENT_PROCESSES = 1


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with the production settings (gunicorn.conf.py), in its own process group."""

    def __init__(self, app_spec, database_url, log_path, workers, threads):
        self.port = free_port()
        self.log_path = log_path
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret", "ACCESS_LOG": "",
               "WEB_CONCURRENCY": str(workers), "THREADS": str(threads), "LOG_LEVEL": "warning"}
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", app_spec],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {Path(log_path).read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/s/thanks")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready: {Path(log_path).read_text()[-2000:]}")

    def cpu_seconds(self):
        """CPU time the server has used so far: the master, its live workers, and the workers
        it has already reaped (recycled after max_requests), from /proc. Unlike rates, this
        hardly moves when other programs load the machine."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            if pid == self.process.pid:
                total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
            elif ppid == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def prepare(count):
    """A survey, a customer and `count` unanswered personal invitations; the answer form."""
    branch = Branch.create(name=f"基准分公司 {new_token()[:6]}", region="江苏")
    customer = Customer.create(name="基准客户", branch=branch)
    survey = create_from_template("csat", "zh_CN")
    form = {field_name(q): ("4" if q.kind == "rating" else "服务很好") for q in
            survey.questions.order_by(Question.id)}
    tokens = [new_token() for _ in range(count)]
    created = now()
    with db.atomic():
        for start in range(0, count, 500):
            Invitation.insert_many([{"survey": survey.id, "customer": customer.id, "token": token,
                                     "created_at": created} for token in tokens[start:start + 500]]).execute()
    return survey, form, tokens


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams. The client is written for
    little CPU per request: the server shares this machine's two cores with it, and a
    heavier client (threads and http.client) took a good part of them."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method, path, headers=(), body=b""):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", *headers]
        if method == "POST":
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        found = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                name = name.lower()
                if name == "set-cookie" and not value.strip().startswith("session="):
                    continue
                found[name] = value.strip()
        length = int(found.get("content-length", 0))
        content = await self.reader.readexactly(length) if length else b""
        if found.get("connection", "").lower() == "close":
            self.close()
        return status, found, content

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _customer(connection, port, form, token, flow, session):
    """One submission: returns (status, POST seconds, whole-flow seconds)."""
    path = f"/s/i/{token}"
    began = time.perf_counter()
    if flow == "browser" or "csrf" not in session:
        headers = [f"Cookie: {session['cookie']}"] if "cookie" in session else []
        status, found, content = await connection.request("GET", path, headers)
        if "set-cookie" in found:
            session["cookie"] = found["set-cookie"].split(";", 1)[0]
        if status != 200:
            return status, 0.0, time.perf_counter() - began
        session["csrf"] = CSRF.search(content.decode()).group(1)
    body = urllib.parse.urlencode({**form, "csrf_token": session["csrf"]}).encode()
    posted = time.perf_counter()
    status, found, _ = await connection.request("POST", path, [f"Cookie: {session['cookie']}"], body)
    done = time.perf_counter()
    location = found.get("location", "")
    if status != 302 or "/s/thanks" not in location:
        return status or 0, done - posted, done - began
    if flow == "browser":  # the browser follows the redirect to the thank-you page
        thanks = location.split("://", 1)[-1].partition("/")[2]
        await connection.request("GET", "/" + thanks, [f"Cookie: {session['cookie']}"])
    return 302, done - posted, time.perf_counter() - began


async def _client(port, form, tokens, start_at, flow, interval, results):
    """One customer after another on one keep-alive connection. With `interval` (seconds),
    the client starts a submission every `interval` (an open-loop load: a slow server does
    not slow the arrivals) and its latency counts from the moment it was due."""
    connection = Connection(port)
    session = {}
    await asyncio.sleep(max(0.0, start_at - time.time()))
    origin = time.perf_counter()
    for index, token in enumerate(tokens):
        due = origin + index * interval
        if interval:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            status, post_seconds, flow_seconds = await _customer(connection, port, form, token, flow, session)
            lag = max(0.0, time.perf_counter() - flow_seconds - due) if interval else 0.0
            results.append((status, post_seconds + lag, flow_seconds + lag, time.time()))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            results.append((0, 0.0, 0.0, time.time()))
    connection.close()


def _client_process(port, form, token_lists, start_at, flow, interval, queue):
    async def run():
        results = []
        await asyncio.gather(*(_client(port, form, tokens, start_at, flow, interval, results)
                               for tokens in token_lists))
        return results
    queue.put(asyncio.run(run()))


def run_round(port, form, tokens, clients, flow, rate=None):
    """All `tokens` submitted by `clients` concurrent clients, as fast as the server answers
    (rate None) or at `rate` submissions/s in all; returns the measured figures."""
    per_client = [tokens[i::clients] for i in range(clients)]
    interval = clients / rate if rate else 0.0
    start_at = time.time() + 1.0
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_client_process,
                                         args=(port, form, per_client[i::CLIENT_PROCESSES], start_at, flow,
                                               interval, queue))
                 for i in range(CLIENT_PROCESSES)]
    for process in processes:
        process.start()
    results = [row for _ in processes for row in queue.get()]
    for process in processes:
        process.join()
    ok = [row for row in results if row[0] == 302]
    wall = max(row[3] for row in results) - start_at
    return {"rate": len(ok) / wall, "p50": percentile([r[1] for r in ok], 0.5) if ok else float("nan"),
            "p99": percentile([r[1] for r in ok], 0.99) if ok else float("nan"),
            "flow_p99": percentile([r[2] for r in ok], 0.99) if ok else float("nan"),
            "ok": len(ok), "errors_5xx": sum(1 for r in results if r[0] >= 500),
            "other": sum(1 for r in results if r[0] != 302 and r[0] < 500)}


FLOWS = ("browser", "paced", "post")
FLOW_LABELS = {"browser": "customers as fast as served: GET form, POST, GET thank-you page",
               "paced": "customers arriving at --rate per second in all (same flow, open loop)",
               "post": "POST only, as fast as served (CSRF token of the session reused): the write path"}


def measure(label, app_spec, url, form, tokens, args, log_path):
    """Serve `app_spec`, warm up, then take the flows in turn for args.rounds rounds."""
    tokens = iter(tokens)

    def take(count):
        return [next(tokens) for _ in range(count)]

    server = Server(app_spec, url, log_path, args.workers, args.threads)
    try:
        warm = run_round(server.port, form, take(args.warmup), args.clients, "browser")  # imports, caches
        rounds = {flow: [] for flow in FLOWS}
        for number in range(1, args.rounds + 1):
            for flow in FLOWS:
                cpu = server.cpu_seconds()
                figures = run_round(server.port, form, take(args.n), args.clients,
                                    "browser" if flow == "paced" else flow, args.rate if flow == "paced" else None)
                figures["cpu_ms"] = (server.cpu_seconds() - cpu) * 1000 / max(1, figures["ok"])
                rounds[flow].append(figures)
                print(f"  {label}, {flow:7} round {number}: {figures['rate']:4.0f} submissions/s, POST p50 "
                      f"{figures['p50'] * 1000:5.1f} ms p99 {figures['p99'] * 1000:6.1f} ms, whole flow p99 "
                      f"{figures['flow_p99'] * 1000:6.1f} ms, {figures['ok']} ok, {figures['errors_5xx']} 5xx, "
                      f"{figures['other']} other", flush=True)
    finally:
        server.stop()
    summary = {flow: {key: median([r[key] for r in rounds[flow]])
                      for key in ("rate", "p50", "p99", "flow_p99", "cpu_ms")}
               for flow in FLOWS}
    everything = [warm] + [r for flow in FLOWS for r in rounds[flow]]
    summary["totals"] = {key: sum(r[key] for r in everything) for key in ("ok", "errors_5xx", "other")}
    return summary


def main():
    parser = arguments(__doc__.split("\n")[0], clients=(50, "concurrent clients"),
                       n=(1000, "submissions per round and flow"), rounds=(3, "measured rounds per flow"),
                       warmup=(200, "warm-up submissions per server (not measured)"),
                       rate=(TARGET_RATE, "submissions/s offered in all by the paced flow"),
                       workers=(int(os.environ.get("WEB_CONCURRENCY", 5)), "gunicorn worker processes"),
                       threads=(int(os.environ.get("THREADS", 2)), "threads per worker"))
    args = parser.parse_args()
    url = open_database(args.database)
    per_mode = args.warmup + args.rounds * len(FLOWS) * args.n
    survey, form, tokens = prepare(2 * per_mode)
    answered_before = Response.select().where(Response.survey == survey).count()
    db.close()  # the bench process must not hold a SQLite connection while the servers write
    release_connections()

    log_path = Path(tempfile.mkdtemp(prefix="submit-bench-")) / "gunicorn.log"
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite file (WAL)"
    print(f"public survey submit: {args.clients} clients, {args.n} submissions x {args.rounds} rounds per flow, "
          f"gunicorn {args.workers} workers x {args.threads} threads on loopback, {backend}", flush=True)
    stub = measure("write stubbed", "bench.submit_stub_wsgi:create_wsgi_app()", url, form, tokens[per_mode:],
                   args, log_path)
    real = measure("real write   ", "wsgi:create_wsgi_app()", url, form, tokens[:per_mode], args, log_path)

    db.connect(reuse_if_open=True)
    stored = Response.select().where(Response.survey == survey).count() - answered_before
    integrity = db.execute_sql("PRAGMA integrity_check").fetchone()[0] if url.startswith("sqlite") else "n/a"
    db.close()
    locked = log_path.read_text(errors="replace").count("database is locked")

    print(f"\nmedians over {args.rounds} rounds; latency of the POST that stores the answers (p50, p99) "
          "and of the whole flow (p99)")
    for flow in FLOWS:
        print(f"  {FLOW_LABELS[flow].replace('--rate', str(args.rate))}:")
        for label, figures in (("write stubbed", stub[flow]), ("real write   ", real[flow])):
            print(f"    {label}: {figures['rate']:5.0f} submissions/s   server CPU {figures['cpu_ms']:4.1f} ms each   "
                  f"POST p50 {figures['p50'] * 1000:6.1f} ms   p99 {figures['p99'] * 1000:6.1f} ms   "
                  f"flow p99 {figures['flow_p99'] * 1000:6.1f} ms")
        print(f"    ratio real/stubbed: throughput {real[flow]['rate'] / stub[flow]['rate']:.2f}, "
              f"p99 {real[flow]['p99'] / stub[flow]['p99']:.2f}")
    totals = real["totals"]
    print(f"  real writes (warm-up included): {totals['ok']} successful responses, {stored} responses stored; "
          f"{totals['errors_5xx'] + stub['totals']['errors_5xx']} 5xx, "
          f"{totals['other'] + stub['totals']['other']} other statuses; "
          f'{locked} "database is locked" in the server log; integrity_check: {integrity}')
    checks = [(f"{FLOWS[0]}: >= {TARGET_RATE} submissions/s", real["browser"]["rate"] >= TARGET_RATE),
              (f"{FLOWS[0]}: POST p99 <= {TARGET_P99 * 1000:.0f} ms", real["browser"]["p99"] <= TARGET_P99),
              (f"paced at {args.rate}/s: POST p99 <= {TARGET_P99 * 1000:.0f} ms", real["paced"]["p99"] <= TARGET_P99),
              (f"post: >= {TARGET_RATE} submissions/s", real["post"]["rate"] >= TARGET_RATE),
              (f"post: POST p99 <= {TARGET_P99 * 1000:.0f} ms", real["post"]["p99"] <= TARGET_P99),
              ("no 5xx, every success stored", totals["errors_5xx"] == 0 and stored == totals["ok"]),
              ('no "database is locked"', locked == 0)]
    for name, met in checks:
        print(f"  target {name}: {'met' if met else 'NOT met'}")
    print(f"server log: {log_path}")
    return 0 if all(met for _name, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
