"""实地考察 teams: which inspectors visit which agency, with the conflict check of item 7.

An inspector recused from an agency (their account's 所属单位 is that agency, or they declared
a conflict with it: see services/conflicts.py) is never put on its team; the refusal names the
inspector and the agency. Each assignment gets its (empty) sheet at once, so the inspector's
device can save to a known sheet from its first keystroke.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    Campaign,
    InspectionAssignment,
    InspectionSheet,
    Role,
    SheetStatus,
    Stage,
    StageKind,
    User,
)
from evaluation.services.agencies import campaign_agencies
from evaluation.services.conflicts import AFFILIATION, recusals
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail

MIN_TEAM = 2  # a sheet counts only when a second member of the team confirms it


@dataclass(frozen=True)
class TeamMember:
    assignment: InspectionAssignment
    inspector: User
    sheet: InspectionSheet


def inspection_stage(db: Session, campaign_id: int) -> Stage | None:
    return db.exec(
        select(Stage).where(
            Stage.campaign_id == campaign_id, Stage.kind == StageKind.FIELD_INSPECTION
        )
    ).first()


def teams(db: Session, stage: Stage) -> dict[int, list[TeamMember]]:
    """{agency id: members in the order they were assigned} for the stage."""
    rows = db.exec(
        select(InspectionAssignment, User, InspectionSheet)
        .join(User, User.id == InspectionAssignment.inspector_id)
        .join(InspectionSheet, InspectionSheet.assignment_id == InspectionAssignment.id)
        .where(InspectionAssignment.stage_id == stage.id)
        .order_by(InspectionAssignment.id)
    ).all()
    found: dict[int, list[TeamMember]] = {}
    for assignment, inspector, sheet in rows:
        found.setdefault(assignment.agency_id, []).append(TeamMember(assignment, inspector, sheet))
    return found


def team_of(db: Session, stage_id: int, agency_id: int) -> list[TeamMember]:
    rows = db.exec(
        select(InspectionAssignment, User, InspectionSheet)
        .join(User, User.id == InspectionAssignment.inspector_id)
        .join(InspectionSheet, InspectionSheet.assignment_id == InspectionAssignment.id)
        .where(
            InspectionAssignment.stage_id == stage_id, InspectionAssignment.agency_id == agency_id
        )
        .order_by(InspectionAssignment.id)
    ).all()
    return [TeamMember(*row) for row in rows]


def _refusal(recusal) -> str:
    if recusal.basis == AFFILIATION:
        return _(
            "%(person)s 的所属单位是%(agency)s，须回避，不能考察该单位。",
            person=recusal.person_name,
            agency=recusal.agency_name,
        )
    return _(
        "%(person)s 已申报与%(agency)s存在利益冲突（%(reason)s），须回避，不能考察该单位。",
        person=recusal.person_name,
        agency=recusal.agency_name,
        reason=recusal.reason,
    )


def assign_team(
    db: Session, campaign: Campaign, stage: Stage, agency_id: int, inspector_ids: list[int]
) -> list[InspectionAssignment]:
    """Add inspectors to the agency's team (all of them, or none: every refusal is named).

    The team must reach two members, counting those already on it.
    """
    errors: dict[str, str] = {}
    enrolled = {a.id: a for _entry, a in campaign_agencies(db, campaign.id)}
    agency: Agency | None = enrolled.get(agency_id)
    if agency is None:
        errors["agency_id"] = _("请选择本次评议的参评单位。")
    wanted = list(dict.fromkeys(inspector_ids))
    people = {
        u.id: u
        for u in db.exec(
            select(User).where(
                User.id.in_(wanted),
                User.role == Role.INSPECTOR,
                User.organization_id == campaign.organization_id,
                User.active,
            )
        )
    }
    if not wanted:
        errors["inspector_ids"] = _("请至少选择一名实地考察员。")
    elif len(people) != len(wanted):
        errors["inspector_ids"] = _("所选人员中有人不是本评议办的实地考察员。")
    if errors:
        raise ValidationFailed(errors)
    current = {m.inspector.id for m in team_of(db, stage.id, agency_id)}
    refused = [
        _refusal(r)
        for r in recusals(db, campaign)
        if r.person_kind == "inspector" and r.agency_id == agency_id and r.person_id in people
    ]
    if refused:
        errors["inspector_ids"] = " ".join(refused)
    already = "、".join(people[i].display_name for i in wanted if i in current)
    if already:
        message = _("%(names)s 已在%(agency)s的考察组中。", names=already, agency=agency.name)
        errors["inspector_ids"] = f"{errors.get('inspector_ids', '')} {message}".strip()
    if not errors and len(current) + len(wanted) < MIN_TEAM:
        errors["inspector_ids"] = _(
            "考察组至少需要 %(n)d 名考察员（考察表须由另一名组员确认），请再选择。", n=MIN_TEAM
        )
    if errors:
        raise ValidationFailed(errors)
    made = []
    for inspector_id in wanted:
        assignment = InspectionAssignment(
            stage_id=stage.id, agency_id=agency_id, inspector_id=inspector_id
        )
        db.add(assignment)
        db.flush()
        db.add(InspectionSheet(assignment_id=assignment.id, inspector_id=inspector_id))
        made.append(assignment)
    commit_or_fail(db)
    return made


def remove_member(db: Session, stage: Stage, assignment_id: int) -> None:
    """Take an inspector off a team; refused once their sheet has been submitted.

    LookupError when the stage has no such assignment."""
    assignment = db.get(InspectionAssignment, assignment_id)
    if assignment is None or assignment.stage_id != stage.id:
        raise LookupError(assignment_id)
    sheet = db.exec(
        select(InspectionSheet).where(InspectionSheet.assignment_id == assignment.id)
    ).first()
    if sheet is not None and sheet.status != SheetStatus.DRAFT:
        raise ValidationFailed(
            {"form": _("该考察员的考察表已提交（%(status)s），不能移出考察组。",
                       status=_(sheet.status.label))}
        )  # fmt: skip
    if sheet is not None:
        db.delete(sheet)
        db.flush()
    db.delete(assignment)
    commit_or_fail(db)
