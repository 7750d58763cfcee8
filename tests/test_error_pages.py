"""403, 404 and 500 come in the product's own layout, in the reader's language; the public
survey pages keep their own polite pages."""
import pytest

@pytest.fixture
def failing_app(app):
    @app.route("/admin/boom")
    def boom():
        raise RuntimeError("a bug")
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    return app


@pytest.mark.parametrize("lang, texts", [
    ("zh_CN", {403: "您无权打开此页面", 404: "页面不存在", 500: "系统出了点问题"}),
    ("en", {403: "You are not allowed to open this page", 404: "Page not found",
            500: "Something went wrong on our side"}),
])
def test_error_pages_in_the_admin_layout_in_both_languages(failing_app, office, login_as, lang, texts):
    staff = login_as("staff")
    staff.http.set_cookie("lang", lang)
    for code, url in ((403, "/admin/setting/"), (404, "/admin/no-such-page/"), (500, "/admin/boom")):
        response = staff.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == code
        assert texts[code] in page and f'data-status="{code}"' in page
        assert 'id="admin-navbar-collapse"' in page and "/admin/my-work/" in page  # the admin's frame and a way on
        assert "Werkzeug" not in page and "Traceback" not in page


def test_an_anonymous_visitor_gets_the_page_with_a_way_to_log_in(client):
    response = client.get("/admin/no-such-page/", headers={"Accept-Language": "zh-CN"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "页面不存在" in page and 'href="/login"' in page


def test_public_survey_paths_keep_their_polite_pages(client):
    response = client.get("/s/no-such-page", headers={"Accept-Language": "zh-CN"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "admin-navbar-collapse" not in page and "页面不存在" not in page
    assert "无法使用" in page  # the survey pages' own "this link cannot be used"
    response = client.get("/s/i/unknown-token", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "This survey link cannot be used" in response.get_data(as_text=True)
