"""互评 for the agency contact: the agencies to review, one sheet per agency.

The reviewer is always the contact's own agency (never an id from the URL or the form);
the target in the URL is checked against the draw on every request, so a forged POST for
one's own agency or an unassigned one is refused (403) and stores nothing.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.db import get_session
from evaluation.models import Agency
from evaluation.services.errors import ValidationFailed
from evaluation.services.peer_review import (
    PeerRefused,
    closed_reason,
    deadline_of,
    draft_values,
    has_draft,
    peer_stage,
    save_draft,
    setup_of,
    sheet_for,
    sheet_lines,
    sheets_of_reviewer,
    submit,
)
from evaluation.views.agency_portal import bp, contact_required, enrolled_campaign


def _stage(campaign):
    db = get_session()
    stage = peer_stage(db, campaign.id)
    setup = setup_of(db, stage)
    if stage is None or setup is None:
        abort(404, description=_("评议办尚未安排互评。"))
    return stage, setup


@bp.get("/campaigns/<int:campaign_id>/peer-review")
@contact_required
def peer_review(campaign_id: int):
    campaign, _entry = enrolled_campaign(campaign_id)
    stage, setup = _stage(campaign)
    db = get_session()
    sheets = sheets_of_reviewer(db, stage, current_user.agency_id)
    rows = [(sheet, db.get(Agency, sheet.target_agency_id), deadline_of(stage, sheet),
             closed_reason(stage, sheet), has_draft(sheet)) for sheet in sheets]
    # This reviewer's own deadline: later than the stage's when the organizer reopened it.
    deadline = max((row[2] for row in rows if row[2]), default=stage.closes_at)
    return render_template("agency/peer_review.html", campaign=campaign, stage=stage,
                           setup=setup, rows=rows, deadline=deadline)


def _sheet_page(campaign, stage, setup, sheet, errors=None, values=None, status=200):
    db = get_session()
    return render_template(
        "agency/peer_sheet.html",
        campaign=campaign,
        stage=stage,
        setup=setup,
        sheet=sheet,
        target=db.get(Agency, sheet.target_agency_id),
        lines=sheet_lines(db, setup, campaign.id),
        values=draft_values(sheet) if values is None else values,
        errors=errors or {},
        closed=closed_reason(stage, sheet),
        deadline=deadline_of(stage, sheet),
    ), status


def _refused(campaign, failure: PeerRefused):
    return render_template("agency/peer_refused.html", campaign=campaign,
                           message=failure.errors["form"]), 403


@bp.get("/campaigns/<int:campaign_id>/peer-review/<int:agency_id>")
@contact_required
def peer_sheet(campaign_id: int, agency_id: int):
    campaign, _entry = enrolled_campaign(campaign_id)
    stage, setup = _stage(campaign)
    try:
        sheet = sheet_for(get_session(), stage, current_user.agency_id, agency_id)
    except PeerRefused as failure:
        return _refused(campaign, failure)
    return _sheet_page(campaign, stage, setup, sheet)


@bp.post("/campaigns/<int:campaign_id>/peer-review/<int:agency_id>")
@contact_required
def peer_sheet_save(campaign_id: int, agency_id: int):
    campaign, _entry = enrolled_campaign(campaign_id)
    stage, setup = _stage(campaign)
    db = get_session()
    try:
        sheet = sheet_for(db, stage, current_user.agency_id, agency_id)
    except PeerRefused as failure:
        return _refused(campaign, failure)
    lines = sheet_lines(db, setup, campaign.id)
    values = {line.key: request.form.get(f"mark-{line.key}", "") for line in lines}
    try:
        if request.form.get("action") == "submit":
            stored = submit(db, stage, sheet, lines, values, current_user)
            flash(_("已提交对%(name)s的互评。", name=db.get(Agency, agency_id).name)
                  if stored else _("该互评此前已提交，本次未作改动。"), "success")
            return redirect(url_for("agency.peer_review", campaign_id=campaign.id))
        save_draft(db, stage, sheet, lines, values)
    except ValidationFailed as failure:
        db.rollback()
        status = 409 if "form" in failure.errors else 400
        return _sheet_page(campaign, stage, setup, sheet, failure.errors, values, status)
    flash(_("草稿已保存。"), "success")
    return redirect(url_for("agency.peer_sheet", campaign_id=campaign.id, agency_id=agency_id))
