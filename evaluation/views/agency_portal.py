"""The agency contact's pages: only their own agency."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.models import Agency, Campaign, CampaignAgency, Role

bp = Blueprint("agency", __name__, url_prefix="/agency")


@bp.get("/")
@roles_required(Role.AGENCY_CONTACT)
def home():
    db = get_session()
    agency = db.get(Agency, current_user.agency_id)
    campaigns = db.exec(
        select(Campaign, CampaignAgency)
        .join(CampaignAgency)
        .where(CampaignAgency.agency_id == agency.id)
        .order_by(Campaign.year.desc())
    ).all()
    return render_template("agency/home.html", agency=agency, campaigns=campaigns)


from evaluation.views import agency_results  # noqa: E402,F401  (routes register on bp)
