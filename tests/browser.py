"""A live server on a free loopback port and Debian's Chromium driven by Playwright."""
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


def launch_chromium(playwright):
    """Launch Chromium, or skip outside CI when it is not installed (in CI a missing browser fails)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must install chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk)")
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
              "--no-first-run", "--disable-component-update", "--disable-sync"])


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, base_url, username, password):
    """Log in through the real login form and wait for the admin to open."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


# What may appear in Latin letters on a Chinese page: names of measures and products the office
# uses as such, units, codes, and "English", the language switch's other language in its own name.
ALLOWED = {"English", "SLA", "CSAT", "NPS", "SERVQUAL", "VIP", "QR", "Excel", "WPS", "LibreOffice", "xlsx", "csv", "PNG", "SVG",
           "Asia", "Shanghai", "PDF", "A4", "ID", "E-mail"}
# e-mail addresses, and codes mixing letters and digits (employee numbers E1002, 2026-Q4, 2026-W47)
NOT_WORDS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|\b[A-Za-z]*\d+[A-Za-z\d-]*\b")

VISIBLE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('input, textarea, select, button, [title], [placeholder]')) {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    const shown = box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
    if (el.title) parts.push(el.title);
    if (!shown) continue;
    if (el.placeholder) parts.push(el.placeholder);
    if (el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type)) parts.push(el.value);
    for (const name of ['data-placeholder']) if (el.getAttribute(name)) parts.push(el.getAttribute(name));
  }
  return parts.join('\\n');
}"""


def english_words(page, also_allowed=()):
    """Latin-letter words shown on the page (text, titles, placeholders, buttons), less the allowed ones."""
    page.wait_for_load_state("load")  # the page and its style sheets, not the one being left
    text = NOT_WORDS.sub(" ", page.evaluate(VISIBLE_TEXT))
    words = set(re.findall(r"[A-Za-z][A-Za-z'’-]+", text))
    return sorted(words - ALLOWED - set(also_allowed))
