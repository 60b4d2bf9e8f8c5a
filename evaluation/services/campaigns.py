"""Campaigns and their stage plan (weights and windows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Campaign, CampaignStatus, Stage, StageKind
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail, is_taken, save_fields

# The order in which a campaign runs its stages (DESIGN.md §2).
STAGE_ORDER = list(StageKind)
# A sensible starting plan; every organizer adjusts it. Totals 100.
DEFAULT_WEIGHTS = {
    StageKind.DEPLOYMENT: Decimal("0"),
    StageKind.SELF_ASSESSMENT: Decimal("20"),
    StageKind.MEDIA_PUBLICITY: Decimal("10"),
    StageKind.PUBLIC_REVIEW: Decimal("20"),
    StageKind.FIELD_INSPECTION: Decimal("15"),
    StageKind.ONSITE_REVIEW: Decimal("25"),
    StageKind.PEER_REVIEW: Decimal("10"),
}
# (later, earlier): `later` may open only once `earlier` has closed. Publicity shows the
# submitted reports, and the on-site and peer reviews judge them.
MUST_FOLLOW = [
    (StageKind.MEDIA_PUBLICITY, StageKind.SELF_ASSESSMENT),
    (StageKind.ONSITE_REVIEW, StageKind.SELF_ASSESSMENT),
    (StageKind.PEER_REVIEW, StageKind.SELF_ASSESSMENT),
]
WEIGHT_TOTAL = Decimal("100.00")


@dataclass(frozen=True)
class CampaignFields:
    title: str
    year: int
    lookback_years: int
    status: CampaignStatus = CampaignStatus.DRAFT


def _check_title_free(
    session: Session, organization_id: int, title: str, exclude_id: int | None = None
) -> None:
    if is_taken(session, Campaign, exclude_id, organization_id=organization_id, title=title):
        raise ValidationFailed({"title": _("本单位已有同名的评议活动。")})


def create_campaign(session: Session, organization_id: int, fields: CampaignFields) -> Campaign:
    _check_title_free(session, organization_id, fields.title)
    campaign = Campaign(organization_id=organization_id, **fields.__dict__)
    session.add(campaign)
    session.flush()
    for kind in STAGE_ORDER:
        session.add(Stage(campaign_id=campaign.id, kind=kind, weight=DEFAULT_WEIGHTS[kind]))
    commit_or_fail(session)
    return campaign


def update_campaign(session: Session, campaign: Campaign, fields: CampaignFields) -> Campaign:
    _check_title_free(session, campaign.organization_id, fields.title, exclude_id=campaign.id)
    return save_fields(session, campaign, fields)


def stages_of(session: Session, campaign_id: int) -> list[Stage]:
    stages = session.exec(select(Stage).where(Stage.campaign_id == campaign_id)).all()
    return sorted(stages, key=lambda s: STAGE_ORDER.index(s.kind))


@dataclass(frozen=True)
class StagePlan:
    kind: StageKind
    weight: Decimal
    opens_at: datetime | None
    closes_at: datetime | None


def stage_plan_problems(plan: list[StagePlan]) -> dict[str, str]:
    """Field-keyed messages (`weight-<kind>`, `closes-<kind>`, `total`); empty when valid."""
    problems: dict[str, str] = {}
    by_kind = {row.kind: row for row in plan}
    for row in plan:
        _row_problems(row, problems)
    # A total over weights that break their own rule says nothing useful (1e400 gave a
    # 400-digit figure): the field errors speak first, the total once every weight is valid.
    weights_valid = not any(key.startswith("weight-") for key in problems)
    total = sum((row.weight for row in plan), Decimal("0"))
    if weights_valid and total != WEIGHT_TOTAL:
        problems["total"] = _(
            "各阶段权重合计为 %(total)s，必须正好等于 100.00。", total=f"{total:.2f}"
        )
    for later, earlier in MUST_FOLLOW:
        _order_problem(by_kind.get(later), by_kind.get(earlier), problems)
    return problems


def _row_problems(row: StagePlan, problems: dict[str, str]) -> None:
    key = row.kind.value
    if row.weight < 0 or row.weight > 100:
        problems[f"weight-{key}"] = _("权重必须在 0 到 100 之间。")
    elif row.weight != row.weight.quantize(Decimal("0.01")):
        problems[f"weight-{key}"] = _("权重最多保留两位小数。")
    elif row.kind == StageKind.DEPLOYMENT and row.weight != 0:
        problems[f"weight-{key}"] = _("部署安排阶段不计分，权重必须为 0。")
    if row.opens_at and row.closes_at and row.opens_at >= row.closes_at:
        problems[f"closes-{key}"] = _("结束时间必须晚于开始时间。")


def _order_problem(
    later: StagePlan | None, earlier: StagePlan | None, problems: dict[str, str]
) -> None:
    if not (later and earlier and later.opens_at and earlier.closes_at):
        return
    if later.opens_at < earlier.closes_at:
        problems.setdefault(
            f"opens-{later.kind.value}",
            _(
                "“%(later)s”须在“%(earlier)s”结束后开始。",
                later=_(later.kind.label),
                earlier=_(earlier.kind.label),
            ),
        )


def save_stage_plan(session: Session, campaign: Campaign, plan: list[StagePlan]) -> None:
    problems = stage_plan_problems(plan)
    if problems:
        raise ValidationFailed(problems)
    stages = {stage.kind: stage for stage in stages_of(session, campaign.id)}
    for row in plan:
        stage = stages[row.kind]
        stage.weight, stage.opens_at, stage.closes_at = row.weight, row.opens_at, row.closes_at
        session.add(stage)
    commit_or_fail(session)
