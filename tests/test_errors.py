"""Friendly error pages for people, JSON errors for programs, in the user's language."""

from __future__ import annotations

import pytest


@pytest.fixture
def boom_app(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("kaboom")

    return app


def test_404_page_is_friendly_and_chinese_by_default(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "页面不存在" in html and "返回首页" in html and "Traceback" not in html


def test_404_page_in_english_when_asked(client):
    response = client.get("/no/such/page?lang=en")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_api_routes_answer_json_errors(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"]["code"] == 404


def test_clients_asking_for_json_get_json(client):
    response = client.get("/no/such", headers={"Accept": "application/json"})
    assert response.is_json and response.get_json()["error"]["code"] == 404


def test_500_hides_the_exception(boom_app):
    client = boom_app.test_client()
    html = client.get("/boom").get_data(as_text=True)
    assert "服务器出错了" in html and "kaboom" not in html
    response = client.get("/api/boom")
    assert response.status_code == 500 and response.get_json()["error"]["code"] == 500
    assert "kaboom" not in response.get_data(as_text=True)


def test_413_when_the_body_is_too_large(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 5000, "password": "y"})
    assert response.status_code == 413 and "上传的内容太大" in response.get_data(as_text=True)


def test_403_page(web, db):
    import factories as f

    from evaluation.models import Role

    f.user(db, Role.INSPECTOR, f.org(db), username="kao")
    web.login("kao")
    response = web.client.get("/admin/")
    assert response.status_code == 403 and "没有权限" in response.get_data(as_text=True)


def test_400_csrf_page_explains_what_to_do(client):
    response = client.post("/account/language", data={"lang": "en"})
    assert response.status_code == 400 and "请刷新页面" in response.get_data(as_text=True)


def test_405_for_a_wrong_method(client):
    assert client.delete("/login").status_code == 405


@pytest.mark.parametrize("code, english", [
    (400, "The request was invalid"),
    (403, "You do not have permission"),
    (404, "does not exist"),
    (413, "The upload is too large"),
    (500, "A server error occurred"),
])
def test_every_error_page_speaks_english_when_the_user_chose_it(app, code, english):
    from werkzeug.exceptions import abort

    @app.get(f"/raise/{code}")
    def raising():
        if code == 500:
            raise RuntimeError("kaboom")
        abort(code)

    client = app.test_client()
    client.get("/login?lang=en")  # the choice is kept in the session from here on
    response = client.get(f"/raise/{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert english in html and "Back to home" in html and 'lang="en"' in html
    # A program asking for JSON gets the same message as JSON.
    data = client.get(f"/raise/{code}", headers={"Accept": "application/json"}).get_json()
    assert data["error"]["code"] == code and english in data["error"]["message"]
