"""Conflict declarations and the recusal register of a campaign (with CSV/XLSX export)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.services.agencies import campaign_agencies
from evaluation.services.conflicts import (
    BASIS_LABELS,
    PERSON_LABELS,
    campaign_inspectors,
    declarations_of,
    declare_conflict,
    recusals,
    withdraw_conflict,
)
from evaluation.services.errors import ValidationFailed
from evaluation.services.judges import campaign_judges
from evaluation.services.recusal_export import recusals_csv, recusals_xlsx
from evaluation.views.admin import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _person(raw: str) -> tuple[int | None, int | None]:
    """'judge:3' / 'inspector:7' → (judge_id, inspector_id)."""
    kind, _sep, number = raw.partition(":")
    if not number.isdigit():
        return None, None
    return (int(number), None) if kind == "judge" else (None, int(number))


def _page(campaign, errors=None, status=200):
    db = get_session()
    judges = campaign_judges(db, campaign.id)
    inspectors = campaign_inspectors(db, campaign)
    agencies = campaign_agencies(db, campaign.id)
    return render_template(
        "admin/recusals.html",
        campaign=campaign,
        recusals=recusals(db, campaign),
        declarations=declarations_of(db, campaign.id),
        judges=judges,
        inspectors=inspectors,
        agencies=agencies,
        judge_names={j.id: j.name for j in judges},
        inspector_names={u.id: u.display_name for u in inspectors},
        agency_names={a.id: a.name for _entry, a in agencies},
        basis_labels=BASIS_LABELS,
        person_labels=PERSON_LABELS,
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        form=CsrfOnlyForm(),
    ), status


@bp.get("/campaigns/<int:campaign_id>/recusals")
@organizer_required
def recusal_register(campaign_id: int):
    return _page(get_campaign(campaign_id))


@bp.post("/campaigns/<int:campaign_id>/recusals")
@organizer_required
def conflict_declare(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    judge_id, inspector_id = _person(request.form.get("person", ""))
    try:
        declare_conflict(
            db,
            campaign,
            agency_id=request.form.get("agency_id", type=int) or 0,
            reason=request.form.get("reason", ""),
            recorded_by=current_user,
            judge_id=judge_id,
            inspector_id=inspector_id,
        )
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, failure.errors, 400)
    flash(_("利益冲突申报已登记。"), "success")
    return redirect(url_for("admin.recusal_register", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/recusals/<int:declaration_id>/delete")
@organizer_required
def conflict_withdraw(campaign_id: int, declaration_id: int):
    campaign = get_campaign(campaign_id)
    try:
        withdraw_conflict(get_session(), campaign, declaration_id)
    except ValidationFailed as failure:
        return _page(campaign, failure.errors, 404)
    flash(_("申报已撤销。"), "success")
    return redirect(url_for("admin.recusal_register", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/recusals.<fmt>")
@organizer_required
def recusal_export(campaign_id: int, fmt: str):
    campaign = get_campaign(campaign_id)
    rows = recusals(get_session(), campaign)
    if fmt == "csv":
        body, mimetype = recusals_csv(rows), "text/csv"  # Werkzeug adds the charset
    elif fmt == "xlsx":
        body, mimetype = recusals_xlsx(rows, f"{campaign.title} 回避登记表"), XLSX
    else:
        return Response(status=404)
    filename = f"recusals-{campaign.id}.{fmt}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
