"""媒体公示 public pages: what was published, approved comments with the agencies' replies,
and the comment form (POST, CSRF, rate limited, length limited; no captcha)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import select

from evaluation.db import get_session
from evaluation.extensions import limiter
from evaluation.models import Agency, Campaign, CampaignAgency, CommentStatus
from evaluation.services import publicity
from evaluation.services.ballot_screening import network_of
from evaluation.services.errors import ValidationFailed
from evaluation.views.public import PUBLIC_STATUSES

bp = Blueprint("publicity", __name__, url_prefix="/publicity")


def _campaign_and_stage(campaign_id: int):
    db = get_session()
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in PUBLIC_STATUSES:
        abort(404)
    stage = publicity.publicity_stage(db, campaign.id)
    if stage is None:
        abort(404)
    return campaign, stage


def _agencies(campaign):
    return (
        get_session()
        .exec(
            select(CampaignAgency, Agency)
            .join(Agency, Agency.id == CampaignAgency.agency_id)
            .where(CampaignAgency.campaign_id == campaign.id)
            .order_by(CampaignAgency.group_name, CampaignAgency.position, Agency.name)
        )
        .all()
    )


def _agency(campaign, agency_id: int) -> Agency:
    for _enrolled, agency in _agencies(campaign):
        if agency.id == agency_id:
            return agency
    abort(404, description=_("该单位不在本次评议之列。"))


@bp.get("/<int:campaign_id>")
def overview(campaign_id: int):
    campaign, stage = _campaign_and_stage(campaign_id)
    return render_template(
        "public/publicity.html",
        campaign=campaign,
        stage=stage,
        agencies=_agencies(campaign),
        outlets=publicity.outlets(get_session(), stage),
        open=publicity.accepting_comments(stage),
    )


def _agency_page(campaign, stage, agency, errors=None, values=None, status=200):
    db = get_session()
    shown = publicity.comments(db, stage, agency.id, CommentStatus.APPROVED)
    return render_template(
        "public/publicity_agency.html",
        campaign=campaign,
        stage=stage,
        agency=agency,
        comments=shown,
        replies=publicity.replies_to(db, [c.id for c in shown]),
        open=publicity.accepting_comments(stage),
        errors=errors or {},
        values=values or {},
    ), status


@bp.get("/<int:campaign_id>/agencies/<int:agency_id>")
def agency_page(campaign_id: int, agency_id: int):
    campaign, stage = _campaign_and_stage(campaign_id)
    return _agency_page(campaign, stage, _agency(campaign, agency_id))


@bp.post("/<int:campaign_id>/agencies/<int:agency_id>")
@limiter.limit(
    lambda: current_app.config["PUBLICITY_COMMENT_LIMIT"],
    error_message=lambda: _("留言过于频繁，请稍后再试。"),
)
def comment(campaign_id: int, agency_id: int):
    campaign, stage = _campaign_and_stage(campaign_id)
    agency = _agency(campaign, agency_id)
    fields = publicity.CommentFields(
        body=request.form.get("body", ""),
        author_name=request.form.get("author_name", ""),
        contact=request.form.get("contact", ""),
    )
    try:
        publicity.submit_comment(
            get_session(), stage, agency.id, fields, network_of(request.remote_addr)
        )
    except ValidationFailed as refused:
        status = 409 if "form" in refused.errors else 400
        return _agency_page(campaign, stage, agency, refused.errors, fields.__dict__, status)
    flash(_("留言已提交，经审核后公开。"), "success")
    return redirect(
        url_for("publicity.agency_page", campaign_id=campaign.id, agency_id=agency.id), 303
    )
