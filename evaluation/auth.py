"""Flask-Login wiring: how a session cookie becomes a user, and the audit actor.

The cookie is Flask's signed session, so the server decides when it stops working:
- the login id embeds the password timestamp and the user's session epoch
  (`User.get_id`): a password change, a logout or `pingyi user end-sessions` ends every
  session of that user, copies of the cookie included;
- the session carries the login time and the time of the last request: it ends after
  SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after the login;
- the session carries the key of its `UserSession` row: the user can end one session from
  the list of their sessions (`evaluation.services.user_sessions`).
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Flask,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user

from evaluation.audit import set_actor
from evaluation.db import get_session
from evaluation.models import User
from evaluation.models.base import utcnow
from evaluation.security_log import account, security_event
from evaluation.services import user_sessions

LOGIN_AT, SEEN_AT = "login_at", "seen_at"
# The blueprints whose pages an account opens (the rest are public or token-based).
ACCOUNT_BLUEPRINTS = frozenset({"admin", "agency", "inspector", "api", "live_pages", "live_http"})
# Rewriting the cookie on every request is wasteful; a minute's precision is enough.
SEEN_PRECISION_SECONDS = 60


def start_session(user: User) -> None:
    """A fresh session for a user who has just proved who they are (no fixation)."""
    session.clear()
    login_user(user)
    now = int(utcnow().timestamp())
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[user_sessions.SESSION_KEY] = user_sessions.open_session(
        get_session(), user, request.headers.get("User-Agent"), session_lifetime()
    )


def session_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def session_idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def current_session_record(user: User):
    """This request's `UserSession` row, if it is open."""
    return user_sessions.current(get_session(), user, session.get(user_sessions.SESSION_KEY))


def _session_expired() -> str | None:
    """Why the request's session is over ("idle", "absolute"), or None."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "absolute"  # a session without stamps predates them: log in again
    now = int(utcnow().timestamp())
    if now - login_at > current_app.config["SESSION_MAX_HOURS"] * 3600:
        return "absolute"
    if now - seen_at > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    if now - seen_at >= SEEN_PRECISION_SECONDS:
        session[SEEN_AT] = now
    return None


def load_user(login_id: str) -> User | None:
    user_id, _sep, _rest = login_id.partition(":")
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    # The id embeds the password timestamp and the session epoch (see the module docstring).
    if user is None or not user.active or user.get_id() != login_id:
        return None
    # The live sweeper re-checks open consoles without a request: only the server-side part.
    if has_request_context():
        expired = _session_expired()
        if expired:
            session.clear()
            security_event("session_expired", user=account(user), reason=expired)
            flash(_("登录已超时，请重新登录。"), "info")
            return None
        record = current_session_record(user)
        if record is None:
            # Ended from the sessions list (here or on another device), or opened before
            # sessions had records: log in again.
            session.clear()
            security_event("session_ended", user=account(user))
            return None
        user_sessions.touch(get_session(), record, utcnow())
    return user


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)

    @app.before_request
    def name_the_actor():
        remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if "_user_id" not in session and remember_cookie not in request.cookies:
            # Nobody can be logged in: not loading the user spares the public pages (a
            # ballot) its cost, and Flask-Login's session protection, which marks any
            # non-empty anonymous session `_fresh=False`: a re-signed cookie per request.
            set_actor("anonymous")
            return
        if current_user.is_authenticated:
            set_actor(f"user:{current_user.id}:{current_user.username}")
        else:
            set_actor("anonymous")

    @app.before_request
    def temporary_password_first():
        """An admin-chosen initial password opens none of the pages an account opens
        (V6.4.1), only the account's own (`auth.*`: the password change, the second factor,
        the sessions list, logout) and what anyone may see anyway."""
        if request.blueprint not in ACCOUNT_BLUEPRINTS:
            return None
        if current_user.is_authenticated and current_user.must_change_password:
            return redirect(url_for("auth.password"))
        return None
