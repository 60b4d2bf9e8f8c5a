"""The page an invitation link opens: the agency contact sets a password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from evaluation.db import get_session
from evaluation.extensions import limiter
from evaluation.forms import CsrfOnlyForm
from evaluation.models import User
from evaluation.services.errors import ValidationFailed
from evaluation.services.invitations import accept_invitation, live_invitation

bp = Blueprint("invite", __name__)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def accept(token: str):
    db = get_session()
    invitation = live_invitation(db, token)
    if invitation is None:
        abort(404, description=_("邀请链接无效、已使用或已过期，请联系评议办重新发送。"))
    user = db.get(User, invitation.user_id)
    form = CsrfOnlyForm()
    errors: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        try:
            accept_invitation(
                db, token, request.form.get("password", ""), request.form.get("confirm", "")
            )
        except ValidationFailed as failure:
            errors = failure.errors
        else:
            flash(_("密码已设置，请用新密码登录。"), "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        errors = {"form": _("表单已失效，请刷新页面后重新提交。")}
    status = 400 if errors else 200
    response = render_template("auth/invitation.html", user=user, errors=errors, form=form)
    # The token is in the URL: keep it out of Referer headers sent to other sites.
    return response, status, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
