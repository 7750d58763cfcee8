"""The Content-Security-Policy in a real browser (Chromium): the admin pages work under it —
filters, select2 lookups, inline question rows, delete confirmation, the period picker —
with no violation reported, and script injected into a page does not run."""
import pytest

from models import Question

from .browser import log_in, screenshot
from .helpers import PASSWORD, make_branch_rows

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""


@pytest.fixture
def page(app, office, live_url, browser):
    with app.app_context():
        make_branch_rows(office["branch"], "甲方")
    context = browser.new_context()
    context.add_init_script(WATCH)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    log_in(tab, live_url, "admin", PASSWORD)
    tab.errors = errors
    yield tab
    context.close()


def _violations(page):
    return page.evaluate("window.__violations")


def test_admin_pages_work_under_the_policy(live_url, page):
    for path in ("/admin/", "/admin/complaint/", "/admin/complaint/new/", "/admin/survey/", "/admin/customer/",
                 "/admin/scoring/ranking/", "/admin/scoring/surveys/1/", "/admin/callbacks-due/",
                 "/admin/user/new/", "/admin/history/"):
        response = page.goto(f"{live_url}{path}")
        assert response.status == 200, path
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        assert _violations(page) == [], (path, _violations(page))
    assert page.errors == []

    # a filter added from the menu (Flask-Admin's inline "return false" handler, rewired)
    page.goto(f"{live_url}/admin/complaint/")
    page.click("text=添加过滤器") if page.locator("text=添加过滤器").count() else page.click("text=Add Filter")
    page.click("a.filter >> nth=0")
    assert page.locator(".filter-op, select.filter-op").count() >= 1
    # select2 lookup of a customer on the complaint form
    page.goto(f"{live_url}/admin/complaint/new/")
    page.click("#s2id_customer, .select2-container >> nth=0")
    page.keyboard.type("甲方")
    page.wait_for_selector(".select2-result-label, .select2-results__option")
    assert "甲方客户" in page.inner_text(".select2-results, .select2-drop")
    assert _violations(page) == []


def test_inline_rows_and_delete_confirmation_work(app, live_url, page):
    with app.app_context():
        survey_id = Question.select().first().survey_id
    page.goto(f"{live_url}/admin/survey/edit/?id={survey_id}")
    before = page.locator("input[name$='-text']").count()
    page.click("#questions-button")
    assert page.locator("input[name$='-text']").count() == before + 1
    page.goto(f"{live_url}/admin/branch/")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("form[action$='/delete/'] button >> nth=0")
    assert asked, "no confirmation asked before deleting"
    assert page.url.endswith("/admin/branch/")  # dismissed: nothing posted
    screenshot(page, "csp-branch-list")
    assert _violations(page) == []


def test_injected_script_does_not_run(live_url, page):
    page.goto(f"{live_url}/admin/customer/")
    page.evaluate("""() => {
        document.body.insertAdjacentHTML('beforeend',
            '<img src="/no-such-image.png" onerror="window.__injected = 1">');
        const s = document.createElement('script');
        s.textContent = 'window.__injected2 = 1';
        document.body.appendChild(s);
    }""")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__injected") is None
    assert page.evaluate("window.__injected2") is None
    assert len(_violations(page)) >= 2  # both refused by the policy
