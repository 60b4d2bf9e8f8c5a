"""Login, logout, password change, cookies, rate limits, CSRF."""

from __future__ import annotations

from datetime import timedelta

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


def test_logout_clears_the_cache_but_not_a_tablets_storage(web, organizer):
    """ASVS V14.3.1: the browser drops cached pages of the session. Not "storage": it would
    also erase a judge tablet's unsent marks kept by the same browser; not "cookies": that
    clears every cookie of the registrable domain, other sites' too (docs/security.md)."""
    web.login("zhang")
    response = web.logout()
    assert response.headers["Clear-Site-Data"] == '"cache"'


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
        ("elevenchars", "elevenchars", "至少需要 12 个字符"),
        ("x" * 129, "x" * 129, "最多 128 个字符"),
        ("qwertyuiop123", "qwertyuiop123", "常见或已公开的密码"),  # in the shipped list
        ("1Qaz2Wsx3Edc", "1Qaz2Wsx3Edc", "常见或已公开的密码"),  # …whatever the case
        ("pingyi-demo-2024", "pingyi-demo-2024", "常见或已公开的密码"),  # the demo's
        ("Pingyi2024!!!!", "Pingyi2024!!!!", "本平台名称"),  # a context word + digits
        ("zhang-1234567890", "zhang-1234567890", "用户名"),  # the account's own name
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


@pytest.mark.parametrize(
    "new",
    [
        "onlyletterslongenough",  # no composition rule (ASVS V6.2.5): letters only is fine
        "我们的评议工作一定要公开公正",  # unicode: a Chinese passphrase of 14 characters
        "p" * 64 + " with spaces " + "q" * 51,  # 128 characters
        "  spaces around  ",  # kept exactly as typed (V6.2.8)
    ],
)
def test_long_or_unicode_passphrases_without_composition_rules_are_accepted(web, organizer, new):
    web.login("zhang")
    response = web.post(
        "/account/password",
        {"current_password": f.PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    web.logout()
    if new != new.strip():
        assert web.login("zhang", new.strip()).status_code == 401
    assert web.login("zhang", new).status_code == 302


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
    policy = headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'self'", "style-src 'self';"):
        assert directive in policy
    assert "unsafe-inline" not in policy  # ASVS V3.4.3: no inline styles or scripts
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http: HSTS would be ignored


def test_no_template_relies_on_inline_styles():
    """The CSP refuses inline styles, so a style="" or <style> in a template would silently
    not apply: classes in the stylesheets instead (ASVS V3.4.3)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.html")
        if re.search(r"\sstyle\s*=|<style[\s>]", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_https_responses_carry_hsts(client):
    headers = client.get("/login", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_token_in_the_address_is_never_sent_on_as_a_referer(client):
    # OBS/vMix browser sources open overlay and feed URLs with ?token=…; the page must not
    # hand that URL to anyone, its own static files included.
    response = client.get("/overlay/1/scoreboard?token=secret-overlay-token")
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pages_of_a_logged_in_user_are_not_cached(web, organizer):
    assert "Cache-Control" not in web.client.get("/login").headers
    web.login("zhang")
    assert web.client.get("/admin/").headers["Cache-Control"] == "no-store"


# --- sessions end on the server (ASVS V7.3, V7.4) ----------------------------------------


def _copy_session(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, web, organizer):
    web.login("zhang")
    thief = app.test_client()
    _copy_session(web.client, thief)
    assert thief.get("/admin/").status_code == 200  # the copy works while the session lasts
    web.logout()
    assert thief.get("/admin/").status_code == 302  # and not after the logout


def test_logout_on_one_device_ends_the_others(app, web, organizer):
    laptop = Browserless(app.test_client())
    laptop.login("zhang")
    web.login("zhang")
    web.logout()
    assert laptop.client.get("/admin/").status_code == 302


def test_the_session_cookie_changes_at_login(web, organizer):
    web.client.get("/login")
    before = web.client.get_cookie("session").value
    web.login("zhang")
    assert web.client.get_cookie("session").value != before


def _later(monkeypatch, **delta):
    import evaluation.auth
    from evaluation.models.base import utcnow

    moment = utcnow() + timedelta(**delta)
    monkeypatch.setattr(evaluation.auth, "utcnow", lambda: moment)


def test_an_idle_session_ends_and_an_active_one_lasts_until_the_absolute_limit(
    web, organizer, monkeypatch
):
    web.login("zhang")
    for minutes in (100, 200, 300, 400, 500, 600, 700):  # a request every 100 minutes
        _later(monkeypatch, minutes=minutes)
        assert web.client.get("/admin/").status_code == 200, minutes
    _later(monkeypatch, minutes=12 * 60 + 1)  # 12 h after the login, however active
    response = web.client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.location
    monkeypatch.undo()
    web.login("zhang")
    _later(monkeypatch, minutes=121)  # two hours without a request
    response = web.client.get("/admin/", follow_redirects=True)
    assert "登录已超时" in response.get_data(as_text=True)


def test_a_deactivated_user_loses_an_open_session(web, db, organizer):
    web.login("zhang")
    organizer.active = False
    db.add(organizer)
    db.commit()
    assert web.client.get("/admin/").status_code == 302


def test_the_cli_ends_every_session_of_a_user_and_can_disable_them(app, web, db, organizer):
    web.login("zhang")
    result = app.test_cli_runner().invoke(args=["user", "end-sessions", "zhang"])
    assert result.exit_code == 0, result.output
    assert web.client.get("/admin/").status_code == 302
    assert web.login("zhang").status_code == 302  # may log in again
    result = app.test_cli_runner().invoke(args=["user", "end-sessions", "zhang", "--disable"])
    assert result.exit_code == 0 and "disabled" in result.output
    assert web.client.get("/admin/").status_code == 302
    assert web.login("zhang").status_code == 401


def test_a_session_cookie_signed_with_sha1_is_refused(app, web, organizer):
    # Flask's default signs with HMAC-SHA-1; pingyi uses SHA-256 (ASVS V11.4.1).
    from flask.sessions import SecureCookieSessionInterface

    web.login("zhang")
    cookie = web.client.get_cookie("session").value
    forged = app.test_client()
    with app.test_request_context():
        ours = app.session_interface.get_signing_serializer(app)
        data = ours.loads(cookie)
        sha1_signed = SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)
    forged.set_cookie("session", sha1_signed)
    assert forged.get("/admin/").status_code == 302
    forged.set_cookie("session", cookie)
    assert forged.get("/admin/").status_code == 200


# --- production refuses the demo (ASVS V6.3.2, V15.2.3) ----------------------------------


@pytest.fixture
def production(app):
    app.config.update(TESTING=False, PINGYI_ENV="production")
    return app


def test_the_demo_is_refused_in_production(production, db):
    from sqlmodel import select

    from evaluation.models import User

    result = production.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "PINGYI_ENV=production" in result.output
    assert db.exec(select(User)).all() == []


def test_the_demo_password_opens_nothing_in_production(production, db, web):
    from werkzeug.security import generate_password_hash

    from evaluation.services.passwords import DEFAULT_DEMO_PASSWORD

    # An account left with the demo's published password (copied from a training machine).
    user = f.user(db, Role.ORGANIZER, f.org(db), username="organizer")
    user.password_hash = generate_password_hash(DEFAULT_DEMO_PASSWORD)
    db.add(user)
    db.commit()
    production.config["REQUIRE_2FA"] = False  # the password step is what is tested here
    assert web.login("organizer", DEFAULT_DEMO_PASSWORD).status_code == 401
    production.config["PINGYI_ENV"] = "development"
    assert web.login("organizer", DEFAULT_DEMO_PASSWORD).status_code == 302


def test_organizers_need_the_second_factor_in_production_by_default(production, db, web):
    f.user(db, Role.ORGANIZER, f.org(db), username="zhang")
    assert production.config["REQUIRE_2FA"] is None  # the default: decided by PINGYI_ENV
    assert web.login("zhang").location.endswith("/login/2fa/setup")
