"""WSGI entry point for production servers (gunicorn.conf.py: wsgi_app = "wsgi:create_wsgi_app()").

Behind a load balancer or reverse proxy every request comes from the proxy's address, so
the login rate limit (keyed by client address) would lock out the whole office at once.
Set PROXY_HOPS to the number of proxies in front of the app (usually 1) and the client
address, scheme and host are taken from the X-Forwarded-* headers those proxies set.
Leave it at 0 when clients connect directly: the headers could then be forged.
"""
import os

from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app


def create_wsgi_app(config=None, proxy_hops=None):
    app = create_app(config)
    hops = int(os.environ.get("PROXY_HOPS", "0") if proxy_hops is None else proxy_hops)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
