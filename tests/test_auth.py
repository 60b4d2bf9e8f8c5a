"""Login, logout, password change, cookies, rate limits, CSRF."""

from __future__ import annotations

import factories as f
import pytest
from webclient import Browserless, csrf_token

from evaluation.models import Role


@pytest.fixture
def organizer(db):
    return f.user(db, Role.ORGANIZER, f.org(db), username="zhang")


def test_login_with_the_right_password_lands_on_the_role_home(web, organizer):
    response = web.login("zhang")
    assert response.status_code == 302 and response.location.endswith("/admin/")
    assert web.client.get("/admin/").status_code == 200


def test_wrong_password_is_refused_with_a_message_and_logged(web, organizer, db):
    from sqlmodel import select

    from evaluation.models import AuditEvent

    response = web.login("zhang", "wrong password 1")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert web.client.get("/admin/").status_code == 302  # still anonymous
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert "login_failed" in actions


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(web, organizer):
    assert web.login("nobody", "whatever 123").status_code == 401


def test_empty_fields_are_named(web):
    response = web.post("/login", {"username": "", "password": ""})
    assert response.status_code == 400
    assert response.get_data(as_text=True).count("此项为必填项") == 2


def test_logout_ends_the_session(web, organizer):
    web.login("zhang")
    assert web.logout().status_code == 302
    assert web.client.get("/admin/").status_code == 302


def test_logout_by_get_is_not_possible(web, organizer):
    web.login("zhang")
    assert web.client.get("/logout").status_code == 405


def test_post_without_csrf_token_is_rejected(client, organizer):
    response = client.post("/login", data={"username": "zhang", "password": f.PASSWORD})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(web, organizer):
    response = web.login("zhang")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_redirect_never_leaves_the_site(web, organizer):
    response = web.post(
        "/login?next=https://evil.example/", {"username": "zhang", "password": f.PASSWORD}
    )
    assert response.location.endswith("/admin/")
    response = web.post(
        "/login?next=//evil.example/", {"username": "zhang", "password": f.PASSWORD}
    )
    assert "evil" not in response.location


def test_login_next_within_the_site_is_followed(web, organizer):
    response = web.post(
        "/login?next=/admin/agencies", {"username": "zhang", "password": f.PASSWORD}
    )
    assert response.location.endswith("/admin/agencies")


def test_password_change_requires_the_current_password(web, organizer):
    web.login("zhang")
    response = web.post(
        "/account/password",
        {
            "current_password": "nope nope 1",
            "new_password": "a new secret 99",
            "confirm": "a new secret 99",
        },
    )
    assert response.status_code == 400 and "当前密码不正确" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "new, confirm, message",
    [
        ("short1", "short1", "至少需要 10 个字符"),
        ("onlyletterslong", "onlyletterslong", "同时包含字母和数字"),
        ("a new secret 99", "a different 99", "两次输入的新密码不一致"),
    ],
)
def test_weak_or_mismatched_new_passwords_are_refused(web, organizer, new, confirm, message):
    web.login("zhang")
    response = web.post(
        "/account/password",
        {"current_password": f.PASSWORD, "new_password": new, "confirm": confirm},
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_password_change_ends_other_sessions_and_new_password_works(app, web, organizer):
    other_device = app.test_client()
    Browserless(other_device).login("zhang")
    web.login("zhang")
    response = web.post(
        "/account/password",
        {
            "current_password": f.PASSWORD,
            "new_password": "a new secret 99",
            "confirm": "a new secret 99",
        },
    )
    assert response.status_code == 302
    assert web.client.get("/admin/").status_code == 200  # this device stays logged in
    assert other_device.get("/admin/").status_code == 302  # the other one is logged out
    web.logout()
    assert web.login("zhang", f.PASSWORD).status_code == 401
    assert web.login("zhang", "a new secret 99").status_code == 302


def test_login_attempts_are_rate_limited(app, web, organizer):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    statuses = [web.login("zhang", "wrong password 1").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "过于频繁" in web.login("zhang").get_data(as_text=True)


def test_inactive_users_cannot_log_in(web, db, organizer):
    organizer.active = False
    db.add(organizer)
    db.commit()
    assert web.login("zhang").status_code == 401


def test_session_cookie_is_secure_over_https(web, organizer):
    # Over https Flask-WTF also checks that the Referer is our own site.
    response = web.client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={
            "username": "zhang",
            "password": f.PASSWORD,
            "csrf_token": csrf_token(web.client, base_url="https://localhost"),
        },
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie


def test_pages_carry_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
