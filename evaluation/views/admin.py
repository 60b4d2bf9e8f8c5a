"""Organizer admin: dashboard and campaigns. The other admin pages live beside this module
and register on the same blueprint (admin_stages, admin_agencies, admin_judges, ...)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from evaluation.access import get_campaign, organizer_required, visible_campaigns_query
from evaluation.db import get_session
from evaluation.forms import CampaignForm, attach_errors
from evaluation.models import CampaignStatus, Organization, Role
from evaluation.services.agencies import campaign_agencies
from evaluation.services.campaigns import (
    CampaignFields,
    create_campaign,
    stages_of,
    update_campaign,
)
from evaluation.services.errors import ValidationFailed
from evaluation.services.indicators import campaign_indicators, tree_problems
from evaluation.services.judges import campaign_judges

bp = Blueprint("admin", __name__, url_prefix="/admin")


def render_form(template: str, form, status_if_invalid: int = 400, **context):
    """Render a form page: 200 on first show, 4xx when it comes back with errors."""
    status = status_if_invalid if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def organizations_for_user() -> list[Organization]:
    query = select(Organization).order_by(Organization.id)
    if current_user.role != Role.ADMIN:
        query = query.where(Organization.id == current_user.organization_id)
    return list(get_session().exec(query).all())


@bp.get("/")
@organizer_required
def dashboard():
    db = get_session()
    campaigns = db.exec(visible_campaigns_query(current_user)).all()
    names = {o.id: o.name for o in organizations_for_user()}
    return render_template("admin/dashboard.html", campaigns=campaigns, org_names=names)


def _campaign_fields(form: CampaignForm) -> CampaignFields:
    return CampaignFields(
        title=form.title.data,
        year=form.year.data,
        lookback_years=form.lookback_years.data,
        status=CampaignStatus(form.status.data),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@organizer_required
def campaign_new():
    form = CampaignForm()
    organizations = organizations_for_user()
    chosen_org = request.form.get("organization_id", type=int) or organizations[0].id
    if chosen_org not in {o.id for o in organizations}:
        chosen_org = None
    if form.validate_on_submit() and chosen_org:
        try:
            campaign = create_campaign(get_session(), chosen_org, _campaign_fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("评议活动已创建。请设置各阶段权重。"), "success")
            return redirect(url_for("admin.stages", campaign_id=campaign.id))
    return render_form(
        "admin/campaign_form.html",
        form,
        organizations=organizations,
        chosen_org=chosen_org,
        campaign=None,
    )


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@organizer_required
def campaign_edit(campaign_id: int):
    campaign = get_campaign(campaign_id)
    form = CampaignForm(obj=campaign)
    if request.method == "GET":
        form.status.data = campaign.status.value
    if form.validate_on_submit():
        try:
            update_campaign(get_session(), campaign, _campaign_fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.campaign", campaign_id=campaign.id))
    return render_form(
        "admin/campaign_form.html",
        form,
        campaign=campaign,
        organizations=[],
        chosen_org=campaign.organization_id,
    )


@bp.get("/campaigns/<int:campaign_id>")
@organizer_required
def campaign(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    indicators = campaign_indicators(db, campaign.id)
    return render_template(
        "admin/campaign.html",
        campaign=campaign,
        stages=stages_of(db, campaign.id),
        enrolled=campaign_agencies(db, campaign.id),
        judges=campaign_judges(db, campaign.id),
        indicator_count=len(indicators),
        indicator_problems=tree_problems(indicators),
    )


from evaluation.views import (  # noqa: E402,F401  (routes register on bp)
    admin_agencies,
    admin_ballots,
    admin_conflicts,
    admin_deployment,
    admin_imports,
    admin_indicators,
    admin_inspection,
    admin_judges,
    admin_live,
    admin_peer_review,
    admin_publicity,
    admin_reports,
    admin_results,
    admin_self_assessment,
    admin_stages,
    admin_users,
)
