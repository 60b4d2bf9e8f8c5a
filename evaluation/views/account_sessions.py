"""The account's sessions: where am I logged in, and end one (ASVS V7.5.2).

Routes on the auth blueprint (account pages stay open while an admin-set password waits to
be replaced). Ending a session takes effect at that browser's next request
(`evaluation.auth.load_user` finds its row ended).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from evaluation.auth import current_session_record, session_idle_limit, session_lifetime
from evaluation.db import get_session
from evaluation.security_log import account, security_event
from evaluation.services import user_sessions
from evaluation.views.auth import bp


@bp.get("/account/sessions")
@login_required
def sessions():
    user = current_user._get_current_object()
    rows = user_sessions.open_sessions(
        get_session(), user, session_idle_limit(), session_lifetime()
    )
    this = current_session_record(user)
    return render_template(
        "auth/sessions.html",
        rows=rows,
        this_id=this.id if this else None,
        describe=user_sessions.describe_agent,
    )


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    # CSRFProtect has checked the token before we get here (every POST, app-wide).
    user = current_user._get_current_object()
    this = current_session_record(user)
    ended = user_sessions.end_one(get_session(), user, session_id)
    if ended is None:
        abort(404, description=_("没有这个登录会话，或它已经结束。"))
    security_event("session_ended_by_user", user=account(user), session=ended.id)
    if this is not None and ended.id == this.id:
        logout_user()
        session.clear()
        flash(_("您已退出登录。"), "info")
        return redirect(url_for("auth.login"))
    flash(_("该登录已结束。"), "success")
    return redirect(url_for("auth.sessions"))
