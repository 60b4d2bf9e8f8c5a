"""The live pages people open: the judge's tablet and the director's console.

They are shells: no data is rendered on the server. Everything shown comes over the
socket, which checks the token; so a page link without a valid token shows nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from evaluation.db import get_session
from evaluation.extensions import limiter
from evaluation.forms import REQUIRED
from evaluation.models import LiveSession
from evaluation.security_log import security_event
from evaluation.services.live_sessions import find_panel_member
from evaluation.services.tokens import find_short_code, seat_token

bp = Blueprint("live_pages", __name__, url_prefix="/live")


class JoinForm(FlaskForm):
    code = StringField(_l("评委短码"), validators=[DataRequired(REQUIRED), Length(max=32)])


def _session_or_404(session_id: int) -> LiveSession:
    live = get_session().get(LiveSession, session_id)
    if live is None:
        abort(404)
    return live


@bp.get("/<int:session_id>/tablet")
def tablet(session_id: int):
    return render_template("live/tablet.html", live=_session_or_404(session_id))  # shell only


@bp.get("/<int:session_id>/audience")
def audience(session_id: int):
    return render_template("live/audience.html", live=_session_or_404(session_id))  # shell only


@bp.get("/<int:session_id>/console")
def console(session_id: int):
    return render_template("live/console.html", live=_session_or_404(session_id))


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def join():
    """A judge (or audience panel member) types the code from the paper slip."""
    form = JoinForm()
    if form.validate_on_submit():
        target = _page_for_code(form.code.data)
        if target is not None:
            # The credential travels on in the fragment: never sent to the server, never
            # logged. For a judge it is the seat's 256-bit token, not the typed code: a short
            # code is accepted here only, under this page's rate limit (ASVS V7.2.3).
            page, credential = target
            return redirect(f"{page}#token={credential}")
        security_event("live_join_refused")  # the code itself is never logged
        form.code.errors = [_("短码无效或已过期，请核对后重新输入。")]
    status = 400 if request.method == "POST" else 200
    return render_template("live/join.html", form=form), status


def _page_for_code(code: str) -> tuple[str, str] | None:
    """A judge's short code opens the tablet (with the seat token); an audience panel code
    opens the voting page (with the code, which is what the panel member holds)."""
    db = get_session()
    record = find_short_code(db, code)
    if record is not None:
        page = url_for("live_pages.tablet", session_id=int(record.scope.removeprefix("live:")))
        return page, seat_token(record)
    member = find_panel_member(db, code)
    if member is not None:
        return url_for("live_pages.audience", session_id=member.session_id), code.strip()
    return None
