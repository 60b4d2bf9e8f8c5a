"""Agencies of the organization, and their enrollment in a campaign."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_agency, get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import AgencyForm, EnrollForm, attach_errors, options
from evaluation.models import AgencyLevel
from evaluation.services.agencies import (
    AgencyFields,
    campaign_agencies,
    create_agency,
    enroll_agency,
    organization_agencies,
    update_agency,
)
from evaluation.services.errors import ValidationFailed
from evaluation.views.admin import bp, organizations_for_user, render_form


def _fields(form: AgencyForm) -> AgencyFields:
    return AgencyFields(
        name=form.name.data, level=AgencyLevel(form.level.data), region=form.region.data or ""
    )


def _organization_id() -> int:
    """The organization whose agencies are listed: the user's own, or (admin) ?org=."""
    allowed = [o.id for o in organizations_for_user()]
    asked = request.values.get("org", type=int)
    return asked if asked in allowed else allowed[0]


@bp.get("/agencies")
@organizer_required
def agencies():
    org_id = _organization_id()
    return render_template(
        "admin/agencies.html",
        org_id=org_id,
        organizations=organizations_for_user(),
        agencies=organization_agencies(get_session(), org_id),
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
@organizer_required
def agency_new():
    form, org_id = AgencyForm(), _organization_id()
    if form.validate_on_submit():
        try:
            create_agency(get_session(), org_id, _fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("单位已添加。"), "success")
            return redirect(url_for("admin.agencies", org=org_id))
    return render_form("admin/agency_form.html", form, agency=None, org_id=org_id)


@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
@organizer_required
def agency_edit(agency_id: int):
    agency = get_agency(agency_id)
    form = AgencyForm(obj=agency)
    if request.method == "GET":
        form.level.data = agency.level.value
    if form.validate_on_submit():
        try:
            update_agency(get_session(), agency, _fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.agencies", org=agency.organization_id))
    return render_form("admin/agency_form.html", form, agency=agency, org_id=agency.organization_id)


@bp.route("/campaigns/<int:campaign_id>/agencies", methods=["GET", "POST"])
@organizer_required
def campaign_agencies_page(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    enrolled = campaign_agencies(db, campaign.id)
    taken = {agency.id for _entry, agency in enrolled}
    form = EnrollForm()
    form.agency_id.choices = options(
        [
            (a.id, a.name)
            for a in organization_agencies(db, campaign.organization_id)
            if a.id not in taken
        ]
    )
    if form.validate_on_submit():
        try:
            enroll_agency(db, campaign, form.agency_id.data, form.group_name.data, len(enrolled))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("已加入本次评议。"), "success")
            return redirect(url_for("admin.campaign_agencies_page", campaign_id=campaign.id))
    return render_form(
        "admin/campaign_agencies.html",
        form,
        campaign=campaign,
        enrolled=enrolled,
        user=current_user,
    )
