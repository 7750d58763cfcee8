"""Weight of the public survey page on a slow mobile connection (WeChat on 3G): the HTML and
everything it loads (stylesheets, scripts, fonts, images), as the server sends each one and
gzip-compressed (level 6, what nginx or Caddy send with gzip on), for every survey template in
both languages, against the budget of 100 KB compressed.

    .venv/bin/python bench/page_weight.py [--database URL]

tests/test_public_survey_weight.py holds every template to the same budget in the suite.
"""
import gzip
import re
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

BUDGET_BYTES = 100 * 1024
_HTML_REFS = re.compile(r'<(?:link[^>]+href|script[^>]+src|img[^>]+src|source[^>]+src)="([^"]+)"', re.I)
_CSS_REFS = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", re.I)


def gzipped_size(body):
    return len(gzip.compress(body, compresslevel=6, mtime=0))


def page_weight(client, path):
    """{"resources": [(url, kind, bytes, gzipped bytes)], "bytes", "gzip", "external"} of the page
    at `path` and everything it references, fetched through the Flask test `client`."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    html = page.get_data()
    resources = [(path, "html", len(html), gzipped_size(html))]
    queue = [urljoin(path, ref) for ref in _HTML_REFS.findall(html.decode())]
    seen, external = {path}, []
    while queue:
        url = queue.pop(0)
        if url in seen or url.startswith("data:"):
            continue
        seen.add(url)
        if urlsplit(url).netloc:
            external.append(url)  # a request to another site: not allowed on the public pages
            continue
        body = client.get(url).get_data()
        kind = Path(urlsplit(url).path).suffix.lstrip(".") or "other"
        resources.append((url, kind, len(body), gzipped_size(body)))
        if kind == "css":
            queue += [urljoin(url, a or b) for a, b in _CSS_REFS.findall(body.decode())]
    return {"resources": resources, "bytes": sum(r[2] for r in resources), "gzip": sum(r[3] for r in resources),
            "external": external}


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import os

    from bench.common import arguments, open_database
    from models import Branch, OpenLink, db
    from models.base import release_connections
    from models.survey_templates import TEMPLATES, create_from_template
    from wsgi import create_wsgi_app

    args = arguments(__doc__.split("\n")[0]).parse_args()
    url = open_database(args.database)
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    branch = Branch.create(name="页面重量分公司", region="江苏")
    paths = {}
    for kind in TEMPLATES:
        for language in ("zh_CN", "en"):
            link = OpenLink.create(survey=create_from_template(kind, language), branch=branch)
            paths[(kind, language)] = f"/q/{link.short_code}"
    db.close()
    release_connections()
    client = create_wsgi_app({"DATABASE_URL": url}).test_client()
    print(f"public survey page weight (HTML + CSS + JS + fonts + images), gzip level 6, {url.split(':')[0]}")
    heaviest = 0
    for (kind, language), path in paths.items():
        weight = page_weight(client, path)
        parts = ", ".join(f"{k} {g / 1024:.1f}" for _u, k, _b, g in weight["resources"])
        print(f"  {kind:9} {language:5}  {weight['bytes'] / 1024:6.1f} KB sent plain, {weight['gzip'] / 1024:5.1f} KB "
              f"gzipped ({parts}){'  EXTERNAL: ' + ', '.join(weight['external']) if weight['external'] else ''}")
        heaviest = max(heaviest, weight["gzip"])
    verdict = "met" if heaviest <= BUDGET_BYTES else "NOT MET"
    print(f"heaviest page {heaviest / 1024:.1f} KB gzipped; budget {BUDGET_BYTES // 1024} KB: {verdict}")
    return 0 if heaviest <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
