"""Login, logout, password change, language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlmodel import select

from evaluation.audit import record
from evaluation.auth import current_session_record, start_session
from evaluation.config import two_factor_required
from evaluation.db import get_session
from evaluation.extensions import limiter
from evaluation.forms import LoginForm, PasswordChangeForm, attach_errors
from evaluation.i18n import LANGUAGES
from evaluation.models import Role, User
from evaluation.models.base import utcnow
from evaluation.security_log import account, name_fingerprint, security_event
from evaluation.services import two_factor
from evaluation.services.accounts import authenticate, change_password, end_sessions
from evaluation.services.errors import ValidationFailed

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    Role.ADMIN: "admin.dashboard",
    Role.ORGANIZER: "admin.dashboard",
    Role.AGENCY_CONTACT: "agency.home",
    Role.INSPECTOR: "inspector.home",
}


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not bounce the user to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, methods=["POST"], error_message=lambda: _("登录尝试过于频繁，请一分钟后再试。")
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.errors else 200
    db = get_session()
    user = authenticate(db, form.username.data, form.password.data)
    if user is None:
        _record_failed_login(db, form.username.data)
        form.password.errors = [_("用户名或密码不正确。")]
        return render_template("auth/login.html", form=form), 401
    next_url = _safe_next(request.args.get("next"))
    if user.has_totp or (
        two_factor.must_use_2fa(user) and two_factor_required(current_app.config)
    ):
        # The password was right; the session belongs to nobody until the second factor is.
        session.clear()
        session[PENDING_2FA] = {
            "login_id": user.get_id(),
            "at": int(utcnow().timestamp()),
            "tries": 0,
            "next": next_url,
        }
        step = "second_factor" if user.has_totp else "second_factor_setup"
        security_event("login_password_accepted", user=account(user), then=step)
        return redirect(url_for(f"auth.{step}"))
    return finish_login(user, next_url, method="password")


def _record_failed_login(db, typed: str) -> None:
    # A name that is no account is often a password typed in the wrong field: hash it.
    known = db.exec(select(User.id).where(User.username == typed.strip())).first()
    who = typed[:64] if known is not None else f"#{name_fingerprint(typed)}"
    record(db, "login_failed", "user", known, {"username": who})
    db.commit()
    security_event("login_failed", username=who)


# The half-finished login between a right password and a right second factor.
PENDING_2FA = "pending_2fa"


def finish_login(user: User, next_url: str | None, *, method: str):
    start_session(user)
    security_event("login_succeeded", user=account(user), method=method)
    if user.must_change_password:
        # An admin chose this password: it is replaced before anything else opens (V6.4.1);
        # the password page says why.
        return redirect(url_for("auth.password"))
    return redirect(next_url or url_for(HOME_BY_ROLE[user.role]))


@bp.post("/logout")
@login_required
def logout():
    # CSRFProtect has checked the token before we get here (every POST, app-wide).
    user = current_user._get_current_object()
    # Every session of this user ends, a copy of this cookie included (server-side epoch).
    end_sessions(get_session(), user)
    security_event("logout", user=account(user))
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    response = redirect(url_for("auth.login"))
    # Cached pages of the session go (ASVS V14.3.1). Not "storage" (a judge tablet's unsent
    # marks, if the same browser), not "cookies" (every cookie of the registrable domain).
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        was_temporary = user.must_change_password
        this_session = current_session_record(user)
        try:
            change_password(
                get_session(),
                user,
                form.current_password.data,
                form.new_password.data,
                keep_session=this_session.id if this_session else None,
            )
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            # Re-issue the cookie under the new login id (the proxy itself would recurse).
            login_user(user)
            security_event("password_changed", user=account(user))
            flash(_("密码已修改。"), "success")
            if was_temporary:
                return redirect(url_for(HOME_BY_ROLE[user.role]))
            return redirect(url_for("auth.password"))
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form), status


@bp.post("/account/language")
def language():
    chosen = request.form.get("lang")
    if chosen not in LANGUAGES:
        abort(400, description=_("不支持的语言：%(lang)s", lang=(chosen or "")[:16]))
    session["lang"] = chosen
    if current_user.is_authenticated:
        current_user.locale = chosen
        db = get_session()
        db.add(current_user)
        db.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("public.index"))
