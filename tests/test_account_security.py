"""Accounts beyond the login: `__Host-` cookies (ASVS V3.3.1, V3.3.3), admin-set initial
passwords replaced at the first login (V6.4.1), reset links for any account (V6.4.3),
sessions a user can list and end (V7.5.2), and key rotation (V11.1.1)."""

from __future__ import annotations

import re

import factories as f
import pytest
from sqlmodel import select
from test_ballots import ballot_url, review  # noqa: F401  (the fixture)
from webclient import Browserless

from evaluation.models import Invitation, Organization, Role, User, UserSession

NEW_PASSWORD = "my own passphrase 7"


@pytest.fixture
def organizer(db):
    return f.user(db, Role.ORGANIZER, f.org(db), username="zhang")


@pytest.fixture
def admin(db):
    return f.user(db, Role.ADMIN, username="root")


@pytest.fixture
def production(app):
    # The password step is what is tested here, not the second factor.
    app.config.update(TESTING=False, PINGYI_ENV="production", REQUIRE_2FA=False)
    return app


def _set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {
        header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")
    }


# --- V3.3.1 / V3.3.3: __Host- cookies in production ----------------------------------------


def test_production_cookies_carry_the_host_prefix_and_are_secure(production, web, organizer):
    response = web.login("zhang")
    assert response.status_code == 302
    cookies = _set_cookies(response)
    assert "session" not in cookies
    session_cookie = cookies["__Host-session"]
    # What a browser requires of a __Host- cookie: Secure, Path=/, no Domain.
    assert "Secure" in session_cookie and "Path=/" in session_cookie
    assert "Domain=" not in session_cookie and "HttpOnly" in session_cookie
    assert web.client.get("/admin/").status_code == 200  # and the prefixed cookie works
    display = _set_cookies(web.post("/display", {"elder": "1", "next": "/"}))
    assert set(display) == {"__Host-pingyi_elder"}
    assert "Secure" in display["__Host-pingyi_elder"]


def test_the_ballot_device_cookie_is_prefixed_in_production(production, web, review):  # noqa: F811
    cookies = _set_cookies(web.client.get(ballot_url(review)))
    assert "Secure" in cookies["__Host-pingyi_device"] and "pingyi_device" not in cookies


def test_production_configuration_prefixes_the_remember_cookie(tmp_path, monkeypatch):
    from evaluation import create_app

    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PINGYI_ENV", "production")
    app = create_app(
        {
            "SECRET_KEY": "k" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
            "SOCKETIO_ASYNC_MODE": "threading",
        }
    )
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_keeps_plain_cookie_names(web, organizer):
    # Plain http on localhost: a browser would drop a __Host- cookie there.
    cookies = _set_cookies(web.login("zhang"))
    assert "session" in cookies and "__Host-session" not in cookies


# --- V6.4.1: an admin-chosen password is replaced at the first login -----------------------


def _create_by_admin(app, web, db, username: str) -> None:
    organization = f.org(db)
    web.login("root")
    response = web.post(
        "/admin/users/new",
        {
            "username": username,
            "display_name": "李组织",
            "password": "chosen by the admin 1",
            "role": "organizer",
            "organization_id": organization.id,
            "agency_id": 0,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    web.logout()


def test_an_admin_set_password_must_be_changed_at_the_first_login(app, web, db, admin):
    _create_by_admin(app, web, db, "li")
    response = web.login("li", "chosen by the admin 1")
    assert response.status_code == 302 and response.location.endswith("/account/password")
    # Nothing else opens until the password is the user's own.
    blocked = web.client.get("/admin/")
    assert blocked.status_code == 302 and blocked.location.endswith("/account/password")
    page = web.client.get("/account/password").get_data(as_text=True)
    assert "初始密码只能用这一次" in page
    same = web.post(
        "/account/password",
        {
            "current_password": "chosen by the admin 1",
            "new_password": "chosen by the admin 1",
            "confirm": "chosen by the admin 1",
        },
    )
    assert same.status_code == 400 and "不能与当前密码相同" in same.get_data(as_text=True)
    changed = web.post(
        "/account/password",
        {
            "current_password": "chosen by the admin 1",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302 and changed.location.endswith("/admin/")
    assert web.client.get("/admin/").status_code == 200
    db.expire_all()
    assert db.exec(select(User).where(User.username == "li")).one().must_change_password is False


def test_the_cli_creates_accounts_with_a_temporary_password(app, web, db):
    organization = f.org(db)
    result = app.test_cli_runner().invoke(
        args=["user", "create", "wang", "--role", "organizer",
              "--organization-id", str(organization.id)],
        input="chosen at the console 2\n",
    )
    assert result.exit_code == 0, result.output
    assert "first login" in result.output
    web.login("wang", "chosen at the console 2")
    assert web.client.get("/admin/").location.endswith("/account/password")


def test_the_demo_and_factory_accounts_are_not_asked_to_change(web, organizer):
    # Accounts not created by an admin's form or command keep working as before.
    web.login("zhang")
    assert web.client.get("/admin/").status_code == 200


# --- V6.4.3: a reset link for organizers and admins ----------------------------------------


def test_an_admin_issues_a_single_use_reset_link_that_revokes_older_ones_and_ends_sessions(
    app, web, db, admin, organizer
):
    victim = Browserless(app.test_client())
    victim.login("zhang")
    web.login("root")
    first = web.post(f"/admin/users/{organizer.id}/security", {"action": "reset_link"})
    second = web.post(f"/admin/users/{organizer.id}/security", {"action": "reset_link"})
    assert second.status_code == 200
    assert second.headers["Cache-Control"] == "no-store"
    assert second.headers["Referrer-Policy"] == "no-referrer"
    old_link, new_link = (
        re.search(r'value="http://localhost(/invite/[^"]+)"', page.get_data(as_text=True)).group(1)
        for page in (first, second)
    )
    assert victim.client.get("/admin/").status_code == 302  # the user's sessions ended
    stranger = Browserless(app.test_client())
    assert stranger.client.get(old_link).status_code == 404  # the older link is revoked
    assert stranger.client.get(new_link).status_code == 200
    done = stranger.post(new_link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert stranger.client.get(new_link).status_code == 404  # single use
    assert stranger.login("zhang").status_code == 401  # the old password is gone
    assert stranger.login("zhang", NEW_PASSWORD).status_code == 302
    stored = db.exec(select(Invitation).where(Invitation.user_id == organizer.id)).all()
    assert all(new_link.rsplit("/", 1)[1] not in row.token_digest for row in stored)


def test_the_cli_prints_a_reset_link_and_ends_sessions(app, web, db, organizer):
    web.login("zhang")
    result = app.test_cli_runner().invoke(
        args=["user", "reset-link", "zhang", "--base-url", "https://pingyi.example/"]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"https://pingyi\.example(/invite/\S+)", result.output).group(1)
    assert web.client.get("/admin/").status_code == 302
    invitation = db.exec(select(Invitation)).one()
    assert invitation.created_by is None  # the operator at the server
    fresh = Browserless(app.test_client())
    assert fresh.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert fresh.login("zhang", NEW_PASSWORD).status_code == 302


def test_no_reset_link_for_a_disabled_account_or_an_unknown_name(app, web, db, admin, organizer):
    organizer.active = False
    db.add(organizer)
    db.commit()
    result = app.test_cli_runner().invoke(args=["user", "reset-link", "zhang"])
    assert result.exit_code != 0 and db.exec(select(Invitation)).all() == []
    result = app.test_cli_runner().invoke(args=["user", "reset-link", "nobody"])
    assert result.exit_code != 0 and "no user named" in result.output
    web.login("root")
    refused = web.post(f"/admin/users/{organizer.id}/security", {"action": "reset_link"})
    assert refused.status_code == 302
    assert db.exec(select(Invitation)).all() == []


def test_organizers_cannot_issue_reset_links(app, web, db, organizer):
    own = db.get(Organization, organizer.organization_id)
    contact = f.user(db, Role.INSPECTOR, own)
    web.login("zhang")
    response = web.post(f"/admin/users/{contact.id}/security", {"action": "reset_link"})
    assert response.status_code == 403
    assert db.exec(select(Invitation)).all() == []


# --- V7.5.2: the sessions list ---------------------------------------------------------------


def _sessions_page(web) -> str:
    response = web.client.get("/account/sessions")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_user_sees_their_sessions_and_ends_one(app, web, db, organizer):
    phone = Browserless(app.test_client())
    phone.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    phone.login("zhang")
    web.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Safari/537.36"
    )
    web.login("zhang")
    page = _sessions_page(web)
    assert "Safari · iPhone" in page and "Chrome · Windows" in page and "当前设备" in page
    rows = db.exec(select(UserSession).where(UserSession.user_id == organizer.id)).all()
    assert len(rows) == 2 and all(len(row.key_digest) == 64 for row in rows)
    phone_row = next(row for row in rows if "iPhone" in row.user_agent)
    # No CSRF token, no effect.
    assert web.client.post(f"/account/sessions/{phone_row.id}/end").status_code == 400
    assert phone.client.get("/admin/").status_code == 200
    ended = web.post(f"/account/sessions/{phone_row.id}/end", {})
    assert ended.status_code == 302
    assert phone.client.get("/admin/").status_code == 302  # the phone is logged out
    assert web.client.get("/admin/").status_code == 200  # this browser is not
    assert "iPhone" not in _sessions_page(web)
    # Ending it again, or ending another user's session, finds nothing.
    assert web.post(f"/account/sessions/{phone_row.id}/end", {}).status_code == 404


def test_a_user_cannot_end_or_see_another_users_session(app, web, db, organizer, admin):
    other = Browserless(app.test_client())
    other.login("root")
    root_row = db.exec(select(UserSession).where(UserSession.user_id == admin.id)).one()
    web.login("zhang")
    assert web.post(f"/account/sessions/{root_row.id}/end", {}).status_code == 404
    assert other.client.get("/admin/").status_code == 200
    assert _sessions_page(web).count("结束此登录") == 0  # only zhang's own (this) session


def test_ending_this_session_logs_out_here(app, web, db, organizer):
    web.login("zhang")
    row = db.exec(select(UserSession)).one()
    response = web.post(f"/account/sessions/{row.id}/end", {})
    assert response.status_code == 302 and "/login" in response.location
    assert web.client.get("/admin/").status_code == 302


def test_a_cookie_whose_session_row_was_ended_opens_nothing(app, web, db, organizer):
    # The row is checked on every request: a copy of the cookie dies with it.
    web.login("zhang")
    thief = app.test_client()
    thief.set_cookie("session", web.client.get_cookie("session").value)
    assert thief.get("/admin/").status_code == 200
    row = db.exec(select(UserSession)).one()
    from evaluation.models.base import utcnow

    row.ended_at = utcnow()
    db.add(row)
    db.commit()
    assert thief.get("/admin/").status_code == 302
    assert web.client.get("/admin/").status_code == 302


def test_logout_and_a_password_change_end_the_listed_sessions(app, web, db, organizer):
    laptop = Browserless(app.test_client())
    laptop.login("zhang")
    web.login("zhang")
    web.post(
        "/account/password",
        {"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    db.expire_all()
    open_rows = db.exec(select(UserSession).where(UserSession.ended_at.is_(None))).all()
    assert len(open_rows) == 1  # the browser that changed it
    assert _sessions_page(web).count("退出此设备") == 1
    web.logout()
    db.expire_all()
    assert db.exec(select(UserSession).where(UserSession.ended_at.is_(None))).all() == []


# --- V11.1.1: rotating SECRET_KEY ----------------------------------------------------------


def test_secret_key_fallbacks_are_read_from_the_environment_as_a_list(tmp_path, monkeypatch):
    from evaluation import create_app
    from evaluation.config import from_environment

    assert from_environment({"SECRET_KEY_FALLBACKS": "old-1, old-2  old-3"}) == {
        "SECRET_KEY_FALLBACKS": ["old-1", "old-2", "old-3"]
    }
    assert from_environment({"PINGYI_SECRET_KEY_FALLBACKS": "old-1"}) == {
        "SECRET_KEY_FALLBACKS": ["old-1"]
    }
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "new")
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "old")
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}", "SOCKETIO_ASYNC_MODE": "threading"}
    )
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old"]


def test_a_session_signed_with_the_previous_key_survives_a_rotation_with_fallbacks(
    app, web, organizer
):
    web.login("zhang")
    signed_with_old_key = web.client.get_cookie("session").value
    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a brand new secret key", SECRET_KEY_FALLBACKS=[old_key])
    browser = app.test_client()
    browser.set_cookie("session", signed_with_old_key)
    assert browser.get("/admin/").status_code == 200  # open sessions keep working
    # ... and the answer re-signs the cookie with the new key.
    assert browser.get_cookie("session").value != signed_with_old_key
    app.config["SECRET_KEY_FALLBACKS"] = []  # the old key retired: its cookies end
    assert browser.get("/admin/").status_code == 200
    late = app.test_client()
    late.set_cookie("session", signed_with_old_key)
    assert late.get("/admin/").status_code == 302


def test_phone_digests_use_their_own_key_and_survive_a_secret_key_rotation(app):
    from evaluation.services.sms import phone_digest

    with app.app_context():
        app.config["PHONE_DIGEST_KEY"] = None
        default = phone_digest("13800138000")  # unset: SECRET_KEY, as before the setting
        app.config["PHONE_DIGEST_KEY"] = app.config["SECRET_KEY"]
        assert phone_digest("13800138000") == default  # the documented rotation step
        app.config["SECRET_KEY"] = "rotated secret key"
        assert phone_digest("13800138000") == default  # rotation: same voter key
        app.config["PHONE_DIGEST_KEY"] = "another key entirely"
        assert phone_digest("13800138000") != default
