"""An inspector declares their own conflicts of interest (利益冲突申报) for a campaign."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import Campaign, CampaignStatus, ConflictDeclaration, Role
from evaluation.services.agencies import campaign_agencies
from evaluation.services.conflicts import declare_conflict
from evaluation.services.errors import ValidationFailed
from evaluation.views.inspector_portal import bp


def _own_campaign(campaign_id: int) -> Campaign:
    campaign = get_session().get(Campaign, campaign_id)
    if campaign is None or campaign.organization_id != current_user.organization_id:
        abort(404)
    return campaign


def _page(campaign: Campaign, errors=None, status=200):
    db = get_session()
    agencies = campaign_agencies(db, campaign.id)
    names = {a.id: a.name for _entry, a in agencies}
    mine = db.exec(
        select(ConflictDeclaration).where(
            ConflictDeclaration.campaign_id == campaign.id,
            ConflictDeclaration.inspector_id == current_user.id,
        )
    ).all()
    return render_template(
        "inspector/conflicts.html",
        campaign=campaign,
        agencies=agencies,
        declarations=[(d, names.get(d.agency_id, "")) for d in mine],
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        form=CsrfOnlyForm(),
    ), status


@bp.get("/campaigns/<int:campaign_id>/conflicts")
@roles_required(Role.INSPECTOR)
def conflicts(campaign_id: int):
    return _page(_own_campaign(campaign_id))


@bp.post("/campaigns/<int:campaign_id>/conflicts")
@roles_required(Role.INSPECTOR)
def conflict_declare(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    db = get_session()
    try:
        declare_conflict(
            db,
            campaign,
            agency_id=request.form.get("agency_id", type=int) or 0,
            reason=request.form.get("reason", ""),
            recorded_by=current_user,
            inspector_id=current_user.id,
        )
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, failure.errors, 400)
    flash(_("利益冲突申报已登记。"), "success")
    return redirect(url_for("inspector.conflicts", campaign_id=campaign.id))


def open_campaigns() -> list[Campaign]:
    """Campaigns of the inspector's organization that are still running."""
    return list(
        get_session().exec(
            select(Campaign).where(
                Campaign.organization_id == current_user.organization_id,
                Campaign.status.in_([CampaignStatus.DRAFT, CampaignStatus.ACTIVE]),
            )
        )
    )
