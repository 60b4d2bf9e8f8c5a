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

from evaluation.audit import record
from evaluation.db import get_session
from evaluation.extensions import limiter
from evaluation.forms import LoginForm, PasswordChangeForm, attach_errors
from evaluation.i18n import LANGUAGES
from evaluation.models import Role
from evaluation.services.accounts import authenticate, change_password
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
        record(db, "login_failed", "user", None, {"username": form.username.data[:64]})
        db.commit()
        form.password.errors = [_("用户名或密码不正确。")]
        return render_template("auth/login.html", form=form), 401
    session.clear()  # a fresh session on login: no fixation
    login_user(user)
    return redirect(_safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[user.role]))


@bp.post("/logout")
@login_required
def logout():
    # CSRFProtect has checked the token before we get here (every POST, app-wide).
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password(
                get_session(), current_user, form.current_password.data, form.new_password.data
            )
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            # Re-issue the cookie under the new login id (the proxy itself would recurse).
            login_user(current_user._get_current_object())
            flash(_("密码已修改。"), "success")
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
