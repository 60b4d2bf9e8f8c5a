"""The agency contact answers the public's approved comments on their own agency (媒体公示)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.forms_ballots import ReplyForm
from evaluation.models import Agency, CommentStatus, PublicityComment, Role
from evaluation.services import publicity
from evaluation.services.errors import ValidationFailed
from evaluation.views.agency_portal import bp


def _page(forms=None, status=200):
    db = get_session()
    agency = db.get(Agency, current_user.agency_id)
    shown = db.exec(
        select(PublicityComment)
        .where(
            PublicityComment.agency_id == agency.id,
            PublicityComment.status == CommentStatus.APPROVED,
        )
        .order_by(PublicityComment.created_at.desc())
    ).all()
    return render_template(
        "agency/publicity.html",
        agency=agency,
        comments=shown,
        replies=publicity.replies_to(db, [c.id for c in shown]),
        forms=forms or {},
        blank_form=ReplyForm(formdata=None),
    ), status


@bp.get("/publicity")
@roles_required(Role.AGENCY_CONTACT)
def publicity_comments():
    return _page()


@bp.post("/publicity/<int:comment_id>/reply")
@roles_required(Role.AGENCY_CONTACT)
def publicity_reply(comment_id: int):
    db = get_session()
    comment = db.get(PublicityComment, comment_id)
    # Another agency's comment is not this contact's to see: 404, as for other scopes.
    if comment is None or comment.agency_id != current_user.agency_id:
        abort(404)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _page({comment_id: form}, 400)
    try:
        publicity.reply(db, comment, current_user.agency_id, form.body.data, current_user.username)
    except ValidationFailed as failure:
        if "body" in failure.errors:
            form.body.errors = [*form.body.errors, failure.errors["body"]]
        if "comment" in failure.errors:  # about the comment, not the text: said at the top
            flash(failure.errors["comment"], "error")
        return _page({comment_id: form}, 400)
    flash(_("答复已公开。"), "success")
    return redirect(url_for("agency.publicity_comments"), 303)
