"""The field inspector's pages: only the visits assigned to them."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.models import Agency, Campaign, InspectionAssignment, Role, Stage

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
    visits = get_session().exec(_visits_query().order_by(Campaign.year.desc(), Agency.id)).all()
    return render_template(
        "inspector/home.html", visits=visits, campaigns=inspector_conflicts.open_campaigns()
    )


@bp.get("/visits/<int:assignment_id>")
@roles_required(Role.INSPECTOR)
def visit(assignment_id: int):
    row = (
        get_session().exec(_visits_query().where(InspectionAssignment.id == assignment_id)).first()
    )
    if row is None:
        abort(404)  # not assigned to this inspector (or no such visit)
    assignment, agency, campaign = row
    return render_template(
        "inspector/visit.html", assignment=assignment, agency=agency, campaign=campaign
    )


from evaluation.views import inspector_conflicts  # noqa: E402  (routes register on bp)
