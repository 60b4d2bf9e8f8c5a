"""互评 for the organizer: setup and draw, completion, the who-scored-whom matrix, flags."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_campaign, organizer_required
from evaluation.clock import LOCAL_TZ
from evaluation.db import get_session
from evaluation.models import PeerMarking, PeerMode
from evaluation.services.errors import ValidationFailed
from evaluation.services.peer_review import (
    draw_locked,
    parse_setup,
    peer_stage,
    reopen,
    set_up,
    setup_of,
)
from evaluation.services.peer_review_overview import overview
from evaluation.views.admin import bp
from evaluation.views.admin_stages import DATETIME_INPUT


def _stage_or_404(campaign):
    stage = peer_stage(get_session(), campaign.id)
    if stage is None:
        abort(404, description=_("本次评议没有互评阶段。"))
    return stage


def _page(campaign, stage, errors=None, values=None, status=200):
    db = get_session()
    setup = setup_of(db, stage)
    if values is None:
        values = {
            "mode": setup.mode.value if setup else PeerMode.ALL.value,
            "sample_size": str(setup.sample_size or "") if setup else "",
            "marking": setup.marking.value if setup else PeerMarking.TOTAL.value,
            "max_total": f"{setup.max_total.normalize():f}" if setup else "100",
            "step": f"{setup.step.normalize():f}" if setup and setup.step else "",
            "seed": "",
        }
    return render_template(
        "admin/peer_review.html",
        campaign=campaign,
        stage=stage,
        setup=setup,
        locked=draw_locked(db, stage),
        view=overview(db, campaign, stage),
        modes=list(PeerMode),
        markings=list(PeerMarking),
        values=values,
        errors=errors or {},
    ), status


@bp.get("/campaigns/<int:campaign_id>/peer-review")
@organizer_required
def peer_review(campaign_id: int):
    campaign = get_campaign(campaign_id)
    return _page(campaign, _stage_or_404(campaign))


@bp.post("/campaigns/<int:campaign_id>/peer-review/setup")
@organizer_required
def peer_review_setup(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage_or_404(campaign)
    db = get_session()
    try:
        setup = set_up(db, stage, parse_setup(request.form), current_user)
    except ValidationFailed as failure:
        db.rollback()
        status = 409 if "form" in failure.errors else 400
        return _page(campaign, stage, failure.errors, dict(request.form), status)
    flash(_("互评已分配（随机种子 %(seed)s，已记入审计日志）。", seed=setup.seed), "success")
    return redirect(url_for("admin.peer_review", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/peer-review/reopen")
@organizer_required
def peer_review_reopen(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage_or_404(campaign)
    db = get_session()
    errors = {}
    agency_id = request.form.get("agency", type=int)
    if agency_id is None:
        errors["agency"] = _("请选择单位。")
    try:
        until = datetime.strptime(request.form.get("until", "").strip(), DATETIME_INPUT)
    except ValueError:
        errors["until"] = _("时间格式应为 年-月-日 时:分。")
    if errors:
        return _page(campaign, stage, errors, status=400)
    try:
        count = reopen(db, stage, agency_id, until.replace(tzinfo=LOCAL_TZ), current_user)
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, stage, failure.errors, status=400)
    flash(_("已重新开放该单位的 %(n)d 份互评。", n=count), "success")
    return redirect(url_for("admin.peer_review", campaign_id=campaign.id))
