"""Public pages: what the public may read without logging in."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlmodel import select

from evaluation.db import get_session
from evaluation.models import Campaign, CampaignStatus, Organization
from evaluation.services.campaigns import stages_of

bp = Blueprint("public", __name__)
PUBLIC_STATUSES = (CampaignStatus.ACTIVE, CampaignStatus.CLOSED, CampaignStatus.PUBLISHED)


@bp.get("/")
def index():
    rows = (
        get_session()
        .exec(
            select(Campaign, Organization)
            .join(Organization)
            .where(Campaign.status.in_(PUBLIC_STATUSES))
            .order_by(Campaign.year.desc(), Campaign.id)
        )
        .all()
    )
    return render_template("public/index.html", rows=rows)


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    db = get_session()
    found = db.get(Campaign, campaign_id)
    if found is None or found.status not in PUBLIC_STATUSES:
        abort(404)
    organization = db.get(Organization, found.organization_id)
    return render_template(
        "public/campaign.html",
        campaign=found,
        organization=organization,
        stages=stages_of(db, found.id),
    )


from evaluation.views import public_results  # noqa: E402,F401  (routes register on bp)
