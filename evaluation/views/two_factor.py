"""The second factor: the code after the password, enrolment, recovery codes.

Routes on the auth blueprint. Between a right password and a right code the session holds
only `PENDING_2FA` (the login id, when, how many wrong codes): nobody is logged in, and a
password change or reset in between voids it (the login id embeds the password stamp).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from evaluation.db import get_session
from evaluation.extensions import limiter
from evaluation.forms import SecondFactorForm
from evaluation.models import User
from evaluation.models.base import utcnow
from evaluation.security_log import account, security_event
from evaluation.services import two_factor
from evaluation.views.auth import HOME_BY_ROLE, PENDING_2FA, bp, finish_login

PENDING_SECONDS = 300  # five minutes to fetch the phone and type the code
MAX_WRONG_CODES = 5  # then the password is asked again
SETUP_SECRET = "totp_setup_secret"


def _totp_limit() -> str:
    return current_app.config["TOTP_RATE_LIMIT"]


def _too_many() -> str:
    return _("验证码尝试过于频繁，请一分钟后再试。")


def _pending_user() -> User | None:
    pending = session.get(PENDING_2FA)
    if not isinstance(pending, dict):
        return None
    if int(utcnow().timestamp()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_2FA, None)
        return None
    user_id = str(pending.get("login_id", "")).partition(":")[0]
    user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or user.get_id() != pending.get("login_id"):
        return None
    return user


def _start_over():
    session.pop(PENDING_2FA, None)
    session.pop(SETUP_SECRET, None)
    flash(_("请重新输入用户名和密码。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit(_totp_limit, methods=["POST"], error_message=_too_many)
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    user = _pending_user()
    if user is None:
        return _start_over()
    if not user.has_totp:  # the policy asks for enrolment first
        return redirect(url_for("auth.second_factor_setup"))
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return render_template("auth/second_factor.html", form=form), 400 if form.errors else 200
    method = two_factor.verify(get_session(), user, form.code.data)
    if method is not None:
        next_url = session.get(PENDING_2FA, {}).get("next")
        left = two_factor.recovery_codes_left(get_session(), user)
        if method == "recovery":
            security_event("recovery_code_used", user=account(user), left=left)
        response = finish_login(user, next_url, method=method)
        if method == "recovery":  # after finish_login, which starts a fresh session
            flash(_("您用了一个恢复码，还剩 %(n)d 个。可在“两步验证”页面重新生成。", n=left),
                  "info")
        return response
    pending = dict(session[PENDING_2FA], tries=int(session[PENDING_2FA].get("tries", 0)) + 1)
    security_event("second_factor_failed", user=account(user), tries=pending["tries"])
    if pending["tries"] >= MAX_WRONG_CODES:
        security_event("second_factor_lockout", user=account(user))
        return _start_over()
    session[PENDING_2FA] = pending
    form.code.errors = [
        _("验证码不正确或已用过，请输入验证器上当前显示的 6 位数字，或一个恢复码。")
    ]
    return render_template("auth/second_factor.html", form=form), 401


def _setup_secret() -> str:
    """The secret being enrolled: the same across the page and its form's POST."""
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[SETUP_SECRET] = two_factor.new_secret()
    return secret


def _setup_page(user: User, form: SecondFactorForm, status: int = 200):
    secret = _setup_secret()
    uri = two_factor.provisioning_uri(user, secret)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=two_factor.qr_svg(uri),
        required=not current_user.is_authenticated,
    ), status


def _enrol(user: User, form: SecondFactorForm) -> list[str] | None:
    codes = two_factor.enrol(get_session(), user, _setup_secret(), form.code.data)
    if codes is None:
        security_event("second_factor_enrolment_failed", user=account(user))
        form.code.errors = [_("验证码不正确：请确认手机时间准确，再输入验证器上当前的 6 位数字。")]
        return None
    session.pop(SETUP_SECRET, None)
    security_event("second_factor_enrolled", user=account(user))
    return codes


@bp.route("/login/2fa/setup", methods=["GET", "POST"])
@limiter.limit(_totp_limit, methods=["POST"], error_message=_too_many)
def second_factor_setup():
    """Enrolment the policy demands before an admin or organizer may log in."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    user = _pending_user()
    if user is None:
        return _start_over()
    if user.has_totp:
        return redirect(url_for("auth.second_factor"))
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return _setup_page(user, form, 400 if form.errors else 200)
    codes = _enrol(user, form)
    if codes is None:
        return _setup_page(user, form, 400)
    finish_login(user, None, method="totp_enrolment")
    return _recovery_codes_page(codes)


def _recovery_codes_page(codes: list[str]):
    response = current_app.make_response(render_template("auth/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/2fa", methods=["GET", "POST"])
@login_required
@limiter.limit(_totp_limit, methods=["POST"], error_message=_too_many)
def two_factor_page():
    """Enrol (when not yet), or renew the recovery codes with a current code."""
    user = current_user._get_current_object()
    form = SecondFactorForm()
    if not user.has_totp:
        if not form.validate_on_submit():
            return _setup_page(user, form, 400 if form.errors else 200)
        codes = _enrol(user, form)
        return _setup_page(user, form, 400) if codes is None else _recovery_codes_page(codes)
    db = get_session()
    if form.validate_on_submit():
        if two_factor.verify(db, user, form.code.data) is not None:
            security_event("recovery_codes_renewed", user=account(user))
            return _recovery_codes_page(two_factor.renew_recovery_codes(db, user))
        security_event("second_factor_failed", user=account(user))
        form.code.errors = [_("验证码不正确或已用过。")]
    return render_template(
        "auth/two_factor_status.html",
        form=form,
        left=two_factor.recovery_codes_left(db, user),
    ), 400 if form.errors else 200
