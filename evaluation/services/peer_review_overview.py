"""The organizer's view of 互评: completion per reviewer, who scored whom, and the flags.

Figures come from the submitted raw marks read exactly as composing reads them
(`results_marks.peer_marks` → `results_inputs.scorer_totals`), and the reciprocity and bloc
flags from `scoring.PeerReview` under the campaign's policy: nothing is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    PeerSheetStatus,
    Stage,
    StageKind,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.peer_review import assignments_of, deadline_of, has_draft
from evaluation.services.results_inputs import scorer_totals
from evaluation.services.results_marks import peer_marks
from evaluation.services.results_policy import load_policy
from scoring import PeerResult, PeerReview, ScoringError


@dataclass(frozen=True)
class ReviewerProgress:
    agency_id: int
    name: str
    group: str
    assigned: int
    submitted: int
    drafts: int          # started, not submitted
    deadline: datetime | None
    late: bool           # the deadline has passed with sheets unsubmitted

    @property
    def complete(self) -> bool:
        return self.assigned > 0 and self.submitted == self.assigned


@dataclass(frozen=True)
class GroupMatrix:
    group: str
    members: list[tuple[int, str]]          # (agency id, name), in enrolment order
    # (reviewer, target) -> total mark (Decimal) when submitted, "draft", or "assigned"
    cells: dict[tuple[int, int], object]


@dataclass(frozen=True)
class PeerOverview:
    progress: list[ReviewerProgress]
    matrices: list[GroupMatrix]
    flags: PeerResult
    names: dict[int, str]
    rule: PeerReview

    @property
    def flagged_pairs(self) -> set[tuple[int, int]]:
        """(rater, target) cells of a reciprocity flag, both directions."""
        pairs = set()
        for flag in self.flags.reciprocity:
            pairs |= {(flag.first, flag.second), (flag.second, flag.first)}
        return pairs


def _enrolled(db: Session, campaign_id: int) -> list[tuple[CampaignAgency, Agency]]:
    return list(db.exec(
        select(CampaignAgency, Agency).join(Agency, Agency.id == CampaignAgency.agency_id)
        .where(CampaignAgency.campaign_id == campaign_id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position, Agency.id)
    ).all())


def submitted_totals(db: Session, stage: Stage) -> dict[int, dict[int, Decimal]]:
    """rater agency -> target agency -> the rater's total for it (submitted marks only)."""
    by_target: dict[int, list] = {}
    for row in peer_marks(db, stage):
        by_target.setdefault(row.agency_id, []).append(row)
    matrix: dict[int, dict[int, Decimal]] = {}
    for target, rows in by_target.items():
        for rater, (_group, total) in scorer_totals(rows).items():
            if total is not None:
                matrix.setdefault(rater, {})[target] = total
    return matrix


def peer_rule(db: Session, campaign: Campaign) -> PeerReview:
    """The campaign policy's peer rule (its tolerance and bloc size), else the defaults."""
    try:
        policy = load_policy(db, campaign)
    except (ValidationFailed, ScoringError):
        return PeerReview()
    rule = dict(policy.stage_rules).get(StageKind.PEER_REVIEW.value)
    return rule if isinstance(rule, PeerReview) else PeerReview()


def overview(db: Session, campaign: Campaign, stage: Stage,
             now: datetime | None = None) -> PeerOverview:
    now = now or utcnow()
    enrolled = _enrolled(db, campaign.id)
    names = {agency.id: agency.name for _entry, agency in enrolled}
    sheets = assignments_of(db, stage)
    totals = submitted_totals(db, stage)
    progress = []
    for entry, agency in enrolled:
        mine = [s for s in sheets if s.reviewer_agency_id == agency.id]
        if not mine:
            continue
        done = sum(s.status == PeerSheetStatus.SUBMITTED for s in mine)
        open_deadlines = [deadline_of(stage, s) for s in mine
                          if s.status != PeerSheetStatus.SUBMITTED]
        deadline = max((d for d in open_deadlines if d), default=stage.closes_at)
        progress.append(ReviewerProgress(
            agency.id, agency.name, entry.group_name, len(mine), done,
            sum(has_draft(s) for s in mine),
            deadline, bool(open_deadlines) and deadline is not None and deadline <= now,
        ))
    matrices: dict[str, GroupMatrix] = {}
    for entry, agency in enrolled:
        matrices.setdefault(entry.group_name, GroupMatrix(entry.group_name, [], {}))
        matrices[entry.group_name].members.append((agency.id, agency.name))
    group_of = {agency.id: entry.group_name for entry, agency in enrolled}
    for sheet in sheets:
        group = matrices.get(group_of.get(sheet.reviewer_agency_id))
        if group is None:
            continue
        key = (sheet.reviewer_agency_id, sheet.target_agency_id)
        if sheet.status == PeerSheetStatus.SUBMITTED:
            group.cells[key] = totals.get(key[0], {}).get(key[1])
        else:
            group.cells[key] = "draft" if has_draft(sheet) else "assigned"
    rule = peer_rule(db, campaign)
    return PeerOverview(progress, list(matrices.values()), rule.apply(totals), names, rule)
