"""The composed results of a campaign as plain data: what every report is drawn from.

The results service builds a `ComposedResults` from the database (raw marks → `scoring`);
the workbook, the charts, the result sheets and the re-tally bundle only read it. Nothing here
touches the database or Flask, so reports can be built in a worker process from this alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from scoring import CampaignResult, Indicator, IndicatorScore, ScoringPolicy

__all__ = ["AgencyInfo", "ComposedResults", "IndicatorScore", "JudgeInfo", "PastResult",
           "Recusal"]


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    name: str
    group: str


@dataclass(frozen=True)
class JudgeInfo:
    id: int
    name: str
    group: str
    affiliation_agency_id: int | None = None


@dataclass(frozen=True)
class Recusal:
    """A judge (or inspector) who did not mark an agency, and why."""

    stage_code: str
    agency_id: int
    judge_id: int
    reason: str


@dataclass(frozen=True)
class PastResult:
    """One earlier campaign's published figure for an agency (multi-year trend)."""

    year: int
    total: Decimal
    rank: int | None
    grade: str | None


@dataclass(frozen=True)
class ComposedResults:
    campaign_id: int
    title: str
    year: int
    organization: str
    policy: ScoringPolicy
    # agency id -> stage code -> raw input, exactly as `scoring.evaluate` takes it
    # (judge ids are the keys of panel marks).
    inputs: Mapping[int, Mapping[str, Any]]
    result: CampaignResult
    agencies: Mapping[int, AgencyInfo]
    judges: Mapping[int, JudgeInfo]
    recusals: tuple[Recusal, ...]
    generated_at: datetime          # aware, UTC
    audit_head: str                 # hash at the head of the audit chain when composed
    revision: int                   # results version: caches of workbooks and charts key on it
    status: str                     # "preview", "certified" or "published"
    history: Mapping[int, tuple[PastResult, ...]] = field(default_factory=dict)
    # Panel keys of reviewer marks ("U<user id>": organizers, inspectors) -> display name;
    # judges are in `judges`, peer raters are agencies.
    reviewers: Mapping[str, str] = field(default_factory=dict)
    # agency id -> its first-level indicator scores (scoring.first_level_scores), in
    # indicator order; an agency without per-indicator marks has none.
    indicator_scores: Mapping[int, tuple[IndicatorScore, ...]] = field(default_factory=dict)
    # the first-level indicators (with their subtrees) the scores above were cut by
    first_level: tuple[Indicator, ...] = ()
