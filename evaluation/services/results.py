"""Compose a campaign's results: raw marks from the database → `scoring.evaluate`.

`compose` writes nothing: the preview and the what-if panel call it with other policies as
often as they like. Results versions (services/results_versions.py) freeze what it returns.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, select

from evaluation.audit import GENESIS_HASH
from evaluation.models import (
    Agency,
    AuditEvent,
    Campaign,
    CampaignAgency,
    Judge,
    Organization,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.results_data import (
    AgencyInfo,
    ComposedResults,
    JudgeInfo,
    Recusal,
)
from evaluation.services.results_history import past_results
from evaluation.services.results_indicators import first_level_tree, indicator_scores
from evaluation.services.results_inputs import build_inputs
from evaluation.services.results_marks import JUDGE, REVIEWER, SELF, RawMark, gather_marks
from evaluation.services.results_policy import load_policy
from scoring import Indicator, ScoringError, ScoringPolicy, evaluate


class ResultsUnavailable(ValueError):
    """The marks cannot be composed under the policy yet (e.g. a stage has no marks)."""


def unavailable_reason(problem: ResultsUnavailable | ValidationFailed) -> str:
    """Why the results cannot be composed, in one line for the organizer's pages."""
    if isinstance(problem, ValidationFailed):  # e.g. weights that do not add up
        return "；".join(problem.errors.values())
    return str(problem)


def campaign_agencies(db: Session, campaign: Campaign) -> dict[int, AgencyInfo]:
    rows = db.exec(
        select(Agency, CampaignAgency)
        .join(CampaignAgency, CampaignAgency.agency_id == Agency.id)
        .where(CampaignAgency.campaign_id == campaign.id)
        .order_by(CampaignAgency.id)  # groups in the order they were enrolled
    ).all()
    return {agency.id: AgencyInfo(agency.id, agency.name, entry.group_name)
            for agency, entry in rows}


def audit_head(db: Session) -> str:
    head = db.exec(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return head or GENESIS_HASH


def evaluate_marks(policy: ScoringPolicy, marks: list[RawMark],
                   agencies: dict[int, AgencyInfo]):
    """scoring.evaluate over the raw marks; errors name agencies by name, not by id."""
    inputs = build_inputs(marks, policy, agencies)
    try:
        result = evaluate(policy, inputs, groups={a: info.group for a, info in agencies.items()})
    except ScoringError as error:
        raise ResultsUnavailable(_name_agencies(str(error), agencies)) from error
    return inputs, result


def _name_agencies(message: str, agencies: dict[int, AgencyInfo]) -> str:
    def named(match: re.Match) -> str:
        info = agencies.get(int(match.group(1)))
        return f"单位 {info.name}" if info else match.group(0)

    return re.sub(r"单位 (\d+)", named, message)


def recusals_of(marks: list[RawMark], judges: dict[int, JudgeInfo]) -> tuple[Recusal, ...]:
    """Each recused judge's recusal with its basis, as the recusal register
    (services/conflicts.py) has it: their own agency, or else a conflict they declared.
    The declared reason stays in the register: the result sheets go to the agencies."""
    def reason(row: RawMark) -> str:
        judge = judges.get(row.scorer_id)
        if judge is not None and judge.affiliation_agency_id == row.agency_id:
            return "所属单位回避"
        return "本人申报回避"

    return tuple(
        Recusal(row.stage, row.agency_id, row.scorer_id, reason(row))
        for row in marks if row.source == JUDGE and row.value is None
    )


def compose(db: Session, campaign: Campaign, policy: ScoringPolicy | None = None, *,
            marks: list[RawMark] | None = None, revision: int = 0, status: str = "preview",
            generated_at: datetime | None = None, head: str | None = None,
            first_level: tuple[Indicator, ...] | None = None,
            agencies: dict[int, AgencyInfo] | None = None) -> ComposedResults:
    """The campaign's results under `policy` (default: its stored policy). Writes nothing.

    `first_level`: the indicator tree the first-level scores are cut by (default: the
    campaign's tree now; a results version passes the one it froze). `agencies`: the same
    for the agencies, their names and groups (default: the campaign's enrolment now).
    """
    policy = policy or load_policy(db, campaign)
    if agencies is None:
        agencies = campaign_agencies(db, campaign)
    if not agencies:
        raise ResultsUnavailable("本活动还没有参评单位。")
    if marks is None:
        marks = gather_marks(db, campaign, [spec.code for spec in policy.composition.stages])
    inputs, result = evaluate_marks(policy, marks, agencies)
    if first_level is None:
        first_level = first_level_tree(db, campaign.id)
    judges = {j.id: JudgeInfo(j.id, j.name, j.group_name, j.affiliation_agency_id)
              for j in db.exec(select(Judge).where(Judge.campaign_id == campaign.id)).all()}
    organization = db.get(Organization, campaign.organization_id)
    return ComposedResults(
        campaign_id=campaign.id,
        title=campaign.title,
        year=campaign.year,
        organization=organization.name,
        policy=policy,
        inputs=inputs,
        result=result,
        agencies=agencies,
        judges=judges,
        recusals=recusals_of(marks, judges),
        generated_at=generated_at or utcnow(),
        audit_head=head or audit_head(db),
        revision=revision,
        status=status,
        history=past_results(db, list(agencies), before_year=campaign.year),
        reviewers=reviewer_names(db, marks),
        first_level=first_level,
        indicator_scores=indicator_scores(first_level, marks, agencies),
    )


def reviewer_names(db: Session, marks: list[RawMark]) -> dict[str, str]:
    """Panel keys of reviewer and self-score marks ("U<user id>") → the person's name."""
    ids = {row.scorer_id for row in marks if row.source in (REVIEWER, SELF)}
    if not ids:
        return {}
    users = db.exec(select(User).where(User.id.in_(ids))).all()
    return {f"U{user.id}": user.display_name for user in users}


# ComposedResults.status of a stored version (the reports key their wording on it).
VERSION_STATUS = {"draft": "preview", "certified": "certified", "published": "published",
                  "superseded": "superseded"}


def composed_for_version(db: Session, version) -> ComposedResults:
    """A stored version's results, recomputed from *its* frozen policy and raw marks (not the
    marks in the database now), for the workbook, charts and result sheets."""
    from evaluation.services.results_freeze import frozen_agencies, frozen_tree
    from evaluation.services.results_marks import marks_from_csv
    from evaluation.services.results_policy import policy_from_json

    campaign = db.get(Campaign, version.campaign_id)
    return compose(db, campaign, policy_from_json(version.policy_json),
                   marks=marks_from_csv(version.raw_marks_csv), revision=version.number,
                   status=VERSION_STATUS[version.status.value],
                   generated_at=version.composed_at, head=version.audit_head,
                   first_level=frozen_tree(version.results_json),
                   agencies=frozen_agencies(version.results_json))
