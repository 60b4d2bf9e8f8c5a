"""实地考察 for the organizers: inspection teams per agency and the state of every sheet."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import SheetStatus
from evaluation.services.agencies import campaign_agencies
from evaluation.services.conflicts import campaign_inspectors, recusals
from evaluation.services.errors import ValidationFailed
from evaluation.services.inspection_teams import (
    MIN_TEAM,
    assign_team,
    inspection_stage,
    remove_member,
    teams,
)
from evaluation.views.admin import bp


def _page(campaign, errors=None, status=200):
    db = get_session()
    stage = inspection_stage(db, campaign.id)
    by_agency = teams(db, stage) if stage else {}
    sheets = [m.sheet for members in by_agency.values() for m in members]
    counts = {s: sum(sheet.status == s for sheet in sheets) for s in SheetStatus}
    recused = {}
    for r in recusals(db, campaign):
        if r.person_kind == "inspector":
            recused.setdefault(r.person_id, []).append(r.agency_name)
    return render_template(
        "admin/inspection.html",
        campaign=campaign,
        stage=stage,
        agencies=campaign_agencies(db, campaign.id),
        teams=by_agency,
        inspectors=campaign_inspectors(db, campaign),
        recused=recused,
        counts=counts,
        statuses=list(SheetStatus),
        min_team=MIN_TEAM,
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        form=CsrfOnlyForm(),
    ), status


@bp.get("/campaigns/<int:campaign_id>/inspection")
@organizer_required
def inspection(campaign_id: int):
    return _page(get_campaign(campaign_id))


@bp.post("/campaigns/<int:campaign_id>/inspection")
@organizer_required
def inspection_assign(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    stage = inspection_stage(db, campaign.id)
    try:
        if stage is None:
            raise ValidationFailed({"form": _("本次评议没有实地考察阶段。")})
        made = assign_team(
            db,
            campaign,
            stage,
            request.form.get("agency_id", type=int) or 0,
            [int(v) for v in request.form.getlist("inspector_ids") if v.isdigit()],
        )
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, failure.errors, 400)
    flash(_("已分配 %(n)d 名考察员。", n=len(made)), "success")
    return redirect(url_for("admin.inspection", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/inspection/<int:assignment_id>/delete")
@organizer_required
def inspection_unassign(campaign_id: int, assignment_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    stage = inspection_stage(db, campaign.id)
    if stage is None:
        abort(404)
    try:
        remove_member(db, stage, assignment_id)
    except LookupError:
        abort(404)
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, failure.errors, 409)
    flash(_("已将考察员移出考察组。"), "success")
    return redirect(url_for("admin.inspection", campaign_id=campaign.id))
