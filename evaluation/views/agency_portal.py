"""The agency contact's pages: only their own agency."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.models import Agency, Campaign, CampaignAgency, Role, StoredFile
from evaluation.services.campaigns import stages_of
from evaluation.services.deployment import (
    attachments_of,
    mark_read,
    notice_of,
    published_notice_for_agency,
)
from evaluation.services.indicators import campaign_indicators, walk
from evaluation.services.markdown_text import render_markdown
from evaluation.services.peer_review import peer_stage, setup_of
from evaluation.services.self_assessment import self_assessment_stage
from evaluation.views.downloads import send_stored

bp = Blueprint("agency", __name__, url_prefix="/agency")
contact_required = roles_required(Role.AGENCY_CONTACT)


def enrolled_campaign(campaign_id: int) -> tuple[Campaign, CampaignAgency]:
    """The campaign when the contact's agency takes part in it; 404 otherwise."""
    row = (
        get_session()
        .exec(
            select(Campaign, CampaignAgency)
            .join(CampaignAgency)
            .where(Campaign.id == campaign_id, CampaignAgency.agency_id == current_user.agency_id)
        )
        .first()
    )
    if row is None:
        abort(404)
    return row


@bp.get("/")
@contact_required
def home():
    db = get_session()
    agency = db.get(Agency, current_user.agency_id)
    campaigns = db.exec(
        select(Campaign, CampaignAgency)
        .join(CampaignAgency)
        .where(CampaignAgency.agency_id == agency.id)
        .order_by(Campaign.year.desc())
    ).all()
    notices = {c.id: notice_of(db, c.id) for c, _entry in campaigns}
    peer = {c.id: setup_of(db, peer_stage(db, c.id)) is not None for c, _entry in campaigns}
    return render_template("agency/home.html", agency=agency, campaigns=campaigns,
                           notices=notices, peer=peer)


@bp.get("/campaigns/<int:campaign_id>/notice")
@contact_required
def notice(campaign_id: int):
    campaign, _entry = enrolled_campaign(campaign_id)
    db = get_session()
    found = published_notice_for_agency(db, campaign.id, current_user.agency_id)
    if found is None:
        abort(404)
    mark_read(db, found, current_user)
    return render_template(
        "agency/notice.html",
        campaign=campaign,
        notice=found,
        body=render_markdown(found.body_md),
        attachments=attachments_of(db, found.id),
        stages=stages_of(db, campaign.id),
        indicators=walk(campaign_indicators(db, campaign.id)),
        self_stage=self_assessment_stage(db, campaign.id),
    )


@bp.get("/campaigns/<int:campaign_id>/notice/files/<int:file_id>")
@contact_required
def notice_file(campaign_id: int, file_id: int):
    campaign, _entry = enrolled_campaign(campaign_id)
    db = get_session()
    found = published_notice_for_agency(db, campaign.id, current_user.agency_id)
    attached = {f.id: f for _row, f in attachments_of(db, found.id)} if found else {}
    stored: StoredFile | None = attached.get(file_id)
    if stored is None:
        abort(404)
    return send_stored(stored)


from evaluation.views import (  # noqa: E402,F401  (routes register on bp)
    agency_peer_review,
    agency_results,
    agency_self_assessment,
)
