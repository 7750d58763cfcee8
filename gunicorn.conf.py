"""Gunicorn settings for production serving: `make serve`, or

    .venv/bin/gunicorn -c gunicorn.conf.py

Environment: BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (worker processes, default
2 x CPU cores + 1, at most 8), THREADS (per worker, default 2), DATABASE_URL, SECRET_KEY,
RATELIMIT_STORAGE_URI (redis://host:6379/0 so that all workers, and all app servers,
count login attempts together), PROXY_HOPS (proxies in front, see wsgi.py),
FORWARDED_ALLOW_IPS. See docs/SCALING.md.
"""
import multiprocessing
import os
import sys

wsgi_app = "wsgi:create_wsgi_app()"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("THREADS", 2))
worker_class = "gthread"
# a stage action or an export may take a while on a big database; a hung worker is replaced
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# a worker is recycled after this many requests (bounds slow memory growth), with jitter
# so that the workers do not all restart at once
max_requests = 2000
max_requests_jitter = 200
# behind a load balancer / reverse proxy on the same host or network
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("ACCESS_LOG", "-") or None  # ACCESS_LOG= (empty) turns it off
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# each worker opens its own database connections; nothing is shared before the fork
preload_app = False
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl),
# which several servers on one machine would fight over; set CONTROL_SOCKET to use one
control_socket = os.environ.get("CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def on_starting(server):
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if server.cfg.workers > 1 and storage.startswith("memory://"):
        print(f"WARNING: {server.cfg.workers} workers with RATELIMIT_STORAGE_URI={storage}: each worker "
              "counts login attempts on its own. Set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 "
              "to share the limit (see docs/SCALING.md).", file=sys.stderr)
    if not os.environ.get("SECRET_KEY"):
        print("note: SECRET_KEY is not set; every worker reads instance/secret_key. With several app "
              "servers, set the same SECRET_KEY on each.", file=sys.stderr)
