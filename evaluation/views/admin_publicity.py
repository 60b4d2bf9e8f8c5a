"""The organizer's media publicity (媒体公示): the moderation queue and the outlets."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import attach_errors
from evaluation.forms_ballots import ModerationForm, OutletForm
from evaluation.models import Agency, CommentStatus
from evaluation.services import publicity
from evaluation.services.errors import ValidationFailed
from evaluation.views.admin import bp

BASE = "/campaigns/<int:campaign_id>/publicity"


def _stage(campaign):
    stage = publicity.publicity_stage(get_session(), campaign.id)
    if stage is None:
        abort(404, description=_("本次评议没有设置媒体公示阶段。"))
    return stage


def _page(campaign, stage, forms=None, outlet_form=None, status=200):
    db = get_session()
    names = dict(db.exec(select(Agency.id, Agency.name)).all())
    moderated = [c for c in publicity.comments(db, stage) if c.status != CommentStatus.PENDING][
        -50:
    ]
    return render_template(
        "admin/publicity.html",
        campaign=campaign,
        stage=stage,
        queue=publicity.comments(db, stage, status=CommentStatus.PENDING),
        moderated=list(reversed(moderated)),
        names=names,
        forms=forms or {},
        blank_form=ModerationForm(formdata=None),
        outlet_form=outlet_form or OutletForm(formdata=None),
        outlets=publicity.outlets(db, stage),
    ), status


@bp.get(BASE)
@organizer_required
def publicity_queue(campaign_id: int):
    campaign = get_campaign(campaign_id)
    return _page(campaign, _stage(campaign))


@bp.post(BASE + "/comments/<int:comment_id>")
@organizer_required
def publicity_moderate(campaign_id: int, comment_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    form = ModerationForm()
    if not form.validate_on_submit():
        return _page(campaign, stage, {comment_id: form}, status=400)
    try:
        publicity.moderate(
            get_session(),
            stage,
            comment_id,
            form.decision.data == "approve",
            form.reason.data,
            current_user.username,
        )
    except ValidationFailed as failure:
        for message in attach_errors(form, failure).values():
            form.reason.errors = [*form.reason.errors, message]
        return _page(campaign, stage, {comment_id: form}, status=400)
    flash(_("留言 #%(id)s 已处理。", id=comment_id), "success")
    return redirect(url_for("admin.publicity_queue", campaign_id=campaign.id), 303)


@bp.post(BASE + "/outlets")
@organizer_required
def publicity_outlet(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    form = OutletForm()
    if not form.validate_on_submit():
        return _page(campaign, stage, outlet_form=form, status=400)
    try:
        publicity.add_outlet(
            get_session(), stage, form.outlet.data, form.published_on.data, form.link.data
        )
    except ValidationFailed as failure:
        for message in attach_errors(form, failure).values():
            flash(message, "error")
        return _page(campaign, stage, outlet_form=form, status=400)
    flash(_("已记录发布媒体。"), "success")
    return redirect(url_for("admin.publicity_queue", campaign_id=campaign.id), 303)
