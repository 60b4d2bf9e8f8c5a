"""A whole campaign: the ScoringPolicy (plain data) applied to every agency's raw inputs.

Input shape, per agency, keyed by stage kind code (see stages.STAGE_NAMES):
  PanelRule stage        {judge_id: mark or None}          e.g. "field_inspection"
  GroupWeighting stage   {group: {judge_id: mark or None}} e.g. "onsite_review"
  SatisfactionScale      {level: count}                    e.g. "public_review"
  PeerReview stage       {rater_agency_id: mark}           "peer_review" (self-mark ignored)
  None (direct score)    mark                              e.g. "self_assessment"
Every AgencyResult carries the policy fingerprint; ranking, grading and peer flags are
computed over the same results, so any figure can be explained from its raw marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .composition import Composition, CompositionResult
from .errors import PolicyError, ScoringError
from .grading import Graded, GradeScale
from .groups import GroupWeighting
from .numbers import exact_arithmetic, to_decimal
from .panel import PanelRule
from .peer import PeerResult, PeerReview
from .policy import policy_fingerprint
from .ranking import AgencyId, Ranked, rank
from .satisfaction import SatisfactionScale
from .stages import stage_name

StageRule = PanelRule | GroupWeighting | SatisfactionScale | PeerReview | None


@dataclass(frozen=True)
class ScoringPolicy:
    stage_rules: tuple[tuple[str, StageRule], ...]
    composition: Composition
    tie_breakers: tuple[str, ...] = ()     # stage codes, compared on normalized stage score
    grading: GradeScale | None = None
    name: str = ""
    policy: str = "scoring_policy"

    def __post_init__(self) -> None:
        rules = self.stage_rules
        object.__setattr__(self, "stage_rules", tuple(
            rules.items() if isinstance(rules, Mapping) else rules))
        object.__setattr__(self, "tie_breakers", tuple(self.tie_breakers))
        stages = {spec.code for spec in self.composition.stages}
        for code in [c for c, _ in self.stage_rules] + list(self.tie_breakers):
            if code not in stages:
                raise PolicyError(f"阶段 {stage_name(code)}({code}) 不在合成权重中")

    @property
    def fingerprint(self) -> str:
        return policy_fingerprint(self)


@dataclass(frozen=True)
class AgencyResult:
    agency: AgencyId
    group: str | None
    stages: dict[str, Any]           # stage code -> PanelResult / GroupResult / ... / Decimal
    composition: CompositionResult
    ranked: Ranked | None = None
    graded: Graded | None = None
    fingerprint: str = ""

    @property
    def total(self):
        return self.composition.value


@dataclass(frozen=True)
class CampaignResult:
    agencies: tuple[AgencyResult, ...]      # in ranking order, group by group
    fingerprint: str
    policy: ScoringPolicy
    peer: PeerResult | None = None
    by_agency: dict[AgencyId, AgencyResult] = field(default_factory=dict, repr=False)


@exact_arithmetic
def evaluate(policy: ScoringPolicy, inputs: Mapping[AgencyId, Mapping[str, Any]], *,
             groups: Mapping[AgencyId, str] | None = None,
             adjustments: Mapping[AgencyId, Mapping[str, Any]] | None = None) -> CampaignResult:
    """Score, compose, rank and grade every agency in `inputs` under `policy`."""
    fingerprint = policy.fingerprint
    rules = dict(policy.stage_rules)
    peer = _peer_result(rules, inputs)
    scored = {}
    for agency, stage_inputs in inputs.items():
        stages = {code: _stage_result(code, rules.get(code), data, agency, peer)
                  for code, data in stage_inputs.items()}
        try:
            composition = policy.composition.compose(stages, (adjustments or {}).get(agency))
        except ScoringError as error:
            raise type(error)(f"单位 {agency}：{error}") from error
        group = groups.get(agency) if groups else None
        scored[agency] = AgencyResult(agency, group, stages, composition, fingerprint=fingerprint)
    ranked = _rank(policy, scored, groups)
    graded = {g.agency: g for g in policy.grading.grade(ranked)} if policy.grading else {}
    final = tuple(
        AgencyResult(r.agency, r.group, scored[r.agency].stages, scored[r.agency].composition,
                     r, graded.get(r.agency), fingerprint)
        for r in ranked
    )
    return CampaignResult(final, fingerprint, policy, peer, {a.agency: a for a in final})


def _stage_result(code: str, rule: StageRule, data: Any, agency: AgencyId,
                  peer: PeerResult | None) -> Any:
    try:
        if data is None:
            return None
        if isinstance(rule, PeerReview):
            return peer.results.get(agency)
        if isinstance(rule, PanelRule | GroupWeighting | SatisfactionScale):
            return rule.apply(data)
        return to_decimal(data, what="得分")
    except ScoringError as error:
        raise type(error)(f"单位 {agency} 的{stage_name(code)}({code})：{error}") from error


def _peer_result(rules: dict, inputs: Mapping) -> PeerResult | None:
    codes = [code for code, rule in rules.items() if isinstance(rule, PeerReview)]
    if not codes:
        return None
    code = codes[0]
    matrix: dict = {}
    for target, stage_inputs in inputs.items():
        for rater, mark in (stage_inputs.get(code) or {}).items():
            matrix.setdefault(rater, {})[target] = mark
    return rules[code].apply(matrix)


def _rank(policy: ScoringPolicy, scored: dict, groups) -> tuple[Ranked, ...]:
    def stage_score(result: AgencyResult, code: str):
        part = next((p for p in result.composition.parts if p.code == code), None)
        return None if part is None else part.normalized
    tie_breakers = [
        (stage_name(code), {a: stage_score(r, code) for a, r in scored.items()})
        for code in policy.tie_breakers
    ]
    totals = {agency: result.composition.value for agency, result in scored.items()}
    return rank(totals, tie_breakers=tie_breakers, groups=groups)
