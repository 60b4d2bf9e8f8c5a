"""Conflicts of interest and the recusal register (回避登记).

A person is recused from scoring an agency when
  * a judge's or an inspector's affiliation (an inspector's account's 所属单位) is that agency
    (automatic: nobody has to remember to declare it), or
  * a judge or inspector has declared a conflict with it (with a reason).
`recusals(db, campaign)` is the one list other stages (results, inspection, live) consult.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    ConflictDeclaration,
    Judge,
    Role,
    User,
)
from evaluation.models.base import N_
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail
from evaluation.spreadsheet_text import typed_text

MAX_REASON_CHARS = 500
AFFILIATION = "affiliation"
DECLARED = "declared"
BASIS_LABELS = {AFFILIATION: N_("所属单位（自动回避）"), DECLARED: N_("本人申报")}
PERSON_LABELS = {"judge": N_("评委"), "inspector": N_("实地考察员")}


@dataclass(frozen=True)
class Recusal:
    person_kind: str  # "judge" | "inspector"
    person_id: int
    person_name: str
    agency_id: int
    agency_name: str
    basis: str  # AFFILIATION | DECLARED
    reason: str

    def as_row(self) -> list[str]:
        return [
            _(PERSON_LABELS[self.person_kind]),
            self.person_name,
            self.agency_name,
            _(BASIS_LABELS[self.basis]),
            self.reason,
        ]


def export_header() -> list[str]:
    return [_("类别"), _("姓名"), _("回避单位"), _("回避依据"), _("理由")]


def _enrolled(session: Session, campaign_id: int) -> dict[int, Agency]:
    rows = session.exec(
        select(Agency)
        .join(CampaignAgency, CampaignAgency.agency_id == Agency.id)
        .where(CampaignAgency.campaign_id == campaign_id)
    ).all()
    return {agency.id: agency for agency in rows}


def recusals(db: Session, campaign: Campaign) -> list[Recusal]:
    """Everyone who must not score an agency of this campaign, and why (sorted by person)."""
    agencies = _enrolled(db, campaign.id)
    found: list[Recusal] = []
    judges = db.exec(select(Judge).where(Judge.campaign_id == campaign.id)).all()
    for judge in judges:
        if judge.affiliation_agency_id in agencies:
            agency = agencies[judge.affiliation_agency_id]
            found.append(
                Recusal("judge", judge.id, judge.name, agency.id, agency.name, AFFILIATION,
                        _("评委所属单位为被评议单位"))
            )  # fmt: skip
    inspectors = db.exec(
        select(User).where(
            User.role == Role.INSPECTOR,
            User.organization_id == campaign.organization_id,
            User.agency_id.in_(list(agencies)),
        )
    ).all()
    for inspector in inspectors:
        agency = agencies[inspector.agency_id]
        found.append(
            Recusal("inspector", inspector.id, inspector.display_name, agency.id, agency.name,
                    AFFILIATION, _("考察员所属单位为被评议单位"))
        )  # fmt: skip
    names = {j.id: j.name for j in judges}
    declarations = db.exec(
        select(ConflictDeclaration, User)
        .join(User, User.id == ConflictDeclaration.inspector_id, isouter=True)
        .where(ConflictDeclaration.campaign_id == campaign.id)
        .order_by(ConflictDeclaration.id)
    ).all()
    for declaration, inspector in declarations:
        agency = agencies.get(declaration.agency_id)
        if agency is None:
            continue  # the agency was withdrawn from the campaign
        if declaration.judge_id is not None:
            kind, pid, name = "judge", declaration.judge_id, names[declaration.judge_id]
        else:
            kind, pid, name = "inspector", inspector.id, inspector.display_name
        if any(
            r.person_kind == kind and r.person_id == pid and r.agency_id == agency.id for r in found
        ):
            continue  # already recused by affiliation: one line per person and agency
        found.append(Recusal(kind, pid, name, agency.id, agency.name, DECLARED, declaration.reason))
    return sorted(found, key=lambda r: (r.person_kind, r.person_name, r.agency_name))


def declared_judge_conflicts(
    db: Session, campaign_id: int, agency_ids: list[int] | None = None
) -> set[tuple[int, int]]:
    """(judge id, agency id) of every conflict a judge of the campaign declared.

    One small query, for the paths that decide a recusal often (live scoring, composing):
    a judge is recused where `judge_recused` says so.
    """
    query = select(ConflictDeclaration.judge_id, ConflictDeclaration.agency_id).where(
        ConflictDeclaration.campaign_id == campaign_id, ConflictDeclaration.judge_id.is_not(None)
    )
    if agency_ids is not None:
        query = query.where(ConflictDeclaration.agency_id.in_(agency_ids))
    return {(judge_id, agency_id) for judge_id, agency_id in db.exec(query).all()}


def judge_recused(judge: Judge, agency_id: int, declared: set[tuple[int, int]]) -> bool:
    """By affiliation (automatic) or by the judge's own declaration."""
    return judge.affiliation_agency_id == agency_id or (judge.id, agency_id) in declared


def is_recused(
    db: Session,
    campaign: Campaign,
    agency_id: int,
    *,
    judge_id: int | None = None,
    inspector_id: int | None = None,
) -> bool:
    kind, pid = ("judge", judge_id) if judge_id is not None else ("inspector", inspector_id)
    return any(
        r.person_kind == kind and r.person_id == pid and r.agency_id == agency_id
        for r in recusals(db, campaign)
    )


def declare_conflict(
    db: Session,
    campaign: Campaign,
    *,
    agency_id: int,
    reason: str,
    recorded_by: User,
    judge_id: int | None = None,
    inspector_id: int | None = None,
) -> ConflictDeclaration:
    errors = {}
    reason = typed_text(reason)
    if agency_id not in _enrolled(db, campaign.id):
        errors["agency_id"] = _("请选择本次评议的参评单位。")
    if not reason:
        errors["reason"] = _("请填写回避理由。")
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = _("回避理由不能超过 %(n)d 字。", n=MAX_REASON_CHARS)
    if (judge_id is None) == (inspector_id is None):
        errors["person"] = _("请选择一位评委或实地考察员。")
    elif judge_id is not None:
        judge = db.get(Judge, judge_id)
        if judge is None or judge.campaign_id != campaign.id:
            errors["person"] = _("评委不属于本次评议。")
    else:
        inspector = db.get(User, inspector_id)
        if (
            inspector is None
            or inspector.role != Role.INSPECTOR
            or inspector.organization_id != campaign.organization_id
        ):
            errors["person"] = _("实地考察员不属于本评议办。")
    if not errors:
        duplicate = db.exec(
            select(ConflictDeclaration).where(
                ConflictDeclaration.campaign_id == campaign.id,
                ConflictDeclaration.agency_id == agency_id,
                ConflictDeclaration.judge_id == judge_id
                if judge_id is not None
                else ConflictDeclaration.inspector_id == inspector_id,
            )
        ).first()
        if duplicate:
            errors["agency_id"] = _("已申报过与该单位的利益冲突。")
    if errors:
        raise ValidationFailed(errors)
    declaration = ConflictDeclaration(
        campaign_id=campaign.id,
        agency_id=agency_id,
        judge_id=judge_id,
        inspector_id=inspector_id,
        reason=reason,
        recorded_by=recorded_by.id,
    )
    db.add(declaration)
    commit_or_fail(db)
    return declaration


def withdraw_conflict(db: Session, campaign: Campaign, declaration_id: int) -> None:
    declaration = db.get(ConflictDeclaration, declaration_id)
    if declaration is None or declaration.campaign_id != campaign.id:
        raise ValidationFailed({"form": _("没有这条申报。")})
    db.delete(declaration)
    commit_or_fail(db)


def declarations_of(db: Session, campaign_id: int) -> list[ConflictDeclaration]:
    return list(
        db.exec(
            select(ConflictDeclaration)
            .where(ConflictDeclaration.campaign_id == campaign_id)
            .order_by(ConflictDeclaration.id)
        ).all()
    )


def campaign_inspectors(db: Session, campaign: Campaign) -> list[User]:
    return list(
        db.exec(
            select(User)
            .where(User.role == Role.INSPECTOR, User.organization_id == campaign.organization_id)
            .order_by(User.id)
        ).all()
    )
