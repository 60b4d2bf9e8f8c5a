"""Public results pages: read from the frozen version, never recomputed."""

from __future__ import annotations

from flask import abort, render_template
from sqlmodel import select

from evaluation.db import get_session
from evaluation.models import Agency, Campaign, Organization, ResultsVersion, VersionStatus
from evaluation.services.embargo import embargoed_until
from evaluation.services.results_freeze import FrozenView
from evaluation.services.results_history import history_rows
from evaluation.views.public import bp

PUBLIC_VERSIONS = (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED)


def _public_versions(db, campaign_id: int) -> list[ResultsVersion]:
    return list(db.exec(
        select(ResultsVersion).where(ResultsVersion.campaign_id == campaign_id,
                                     ResultsVersion.status.in_(PUBLIC_VERSIONS))
        .order_by(ResultsVersion.number.desc())
    ).all())


def _render(campaign_id: int, number: int | None):
    db = get_session()
    campaign = db.get(Campaign, campaign_id)
    until = embargoed_until(db, campaign_id) if campaign else None
    if until is not None:  # a recorded show not yet on air: its results wait with it
        return render_template("public/results_embargoed.html", campaign=campaign, until=until)
    versions = _public_versions(db, campaign_id) if campaign else []
    if number is None:
        shown = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
    else:
        shown = next((v for v in versions if v.number == number), None)
    if shown is None:
        abort(404)
    superseded_by = next((v for v in versions if v.supersedes_id == shown.id), None)
    # The version this one corrected (not number - 1: a correction drafted twice skips one).
    corrects = next((v for v in versions if v.id == shown.supersedes_id), None)
    return render_template(
        "public/results.html", campaign=campaign, version=shown, corrects=corrects,
        organization=db.get(Organization, campaign.organization_id),
        view=FrozenView.load(shown.results_json), versions=versions,
        superseded_by=superseded_by,
    )


@bp.get("/campaigns/<int:campaign_id>/results")
def results(campaign_id: int):
    return _render(campaign_id, None)


@bp.get("/campaigns/<int:campaign_id>/results/v<int:number>")
def results_version(campaign_id: int, number: int):
    return _render(campaign_id, number)


@bp.get("/agencies/<int:agency_id>/history")
def agency_history(agency_id: int):
    db = get_session()
    agency = db.get(Agency, agency_id)
    rows = [row for row in (history_rows(db, agency_id) if agency else [])
            if embargoed_until(db, row.campaign_id) is None]
    if not rows:  # only agencies with published results have a public page
        abort(404)
    return render_template("public/agency_history.html", agency=agency, rows=rows)
