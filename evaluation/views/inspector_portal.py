"""The field inspector's pages: only the visits assigned to them."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.models import Agency, Campaign, InspectionAssignment, Role, SheetStatus, Stage
from evaluation.services.inspection_sheets import ensure_sheet
from evaluation.services.inspection_teams import team_of

bp = Blueprint("inspector", __name__, url_prefix="/inspector")


def _visits_query():
    return (
        select(InspectionAssignment, Agency, Campaign)
        .join(Agency, Agency.id == InspectionAssignment.agency_id)
        .join(Stage, Stage.id == InspectionAssignment.stage_id)
        .join(Campaign, Campaign.id == Stage.campaign_id)
        .where(InspectionAssignment.inspector_id == current_user.id)
    )


@bp.get("/")
@roles_required(Role.INSPECTOR)
def home():
    db = get_session()
    visits = []
    for assignment, agency, campaign in db.exec(
        _visits_query().order_by(Campaign.year.desc(), Agency.id)
    ).all():
        team = team_of(db, assignment.stage_id, assignment.agency_id)
        mine = next((m.sheet for m in team if m.inspector.id == current_user.id), None)
        to_confirm = [
            m for m in team
            if m.inspector.id != current_user.id and m.sheet.status == SheetStatus.SUBMITTED
        ]  # fmt: skip
        visits.append((assignment, agency, campaign, mine, to_confirm))
    return render_template(
        "inspector/home.html", visits=visits, campaigns=inspector_conflicts.open_campaigns()
    )


@bp.get("/visits/<int:assignment_id>")
@roles_required(Role.INSPECTOR)
def visit(assignment_id: int):
    """The visit's own sheet (an assignment is the inspector's sheet for that agency)."""
    db = get_session()
    row = db.exec(_visits_query().where(InspectionAssignment.id == assignment_id)).first()
    if row is None:
        abort(404)  # not assigned to this inspector (or no such visit)
    sheet = ensure_sheet(db, row[0])
    return redirect(url_for("inspector.sheet", sheet_id=sheet.id))


from evaluation.views import (  # noqa: E402  (routes register on bp)
    inspector_conflicts,
    inspector_sheets,  # noqa: F401
)
