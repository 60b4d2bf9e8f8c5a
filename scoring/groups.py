"""Weighted judge groups: aggregate within each group, then weight the groups.

Example: 专家 40% / 人大代表 30% / 群众代表 30%. Rounding points, in order: each group's panel
value (the group's PanelRule.places), each weighted product (`product_places`), the sum
(`places`). A group with no valid mark is an error unless missing="renormalize", which
divides by the weights of the groups present and marks the result `renormalized`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from .errors import InsufficientMarksError, MissingStageError, PolicyError
from .marks import JudgeId, Marks
from .numbers import exact_arithmetic, round_half_up
from .panel import PanelResult, PanelRule
from .policy import policy_fingerprint
from .weights import HUNDRED, Weights, read_weights, weighted_product

MISSING_POLICIES = ("error", "renormalize")


@dataclass(frozen=True)
class GroupPart:
    group: str
    weight: Decimal
    result: PanelResult
    product: Decimal          # result.value × weight / (100 or present weights), rounded


@dataclass(frozen=True)
class GroupResult:
    value: Decimal
    parts: tuple[GroupPart, ...]
    weighting: GroupWeighting
    missing: tuple[str, ...] = ()
    renormalized: bool = False

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the rule that produced this result (see policy.py)."""
        return policy_fingerprint(self.weighting)


@dataclass(frozen=True)
class GroupWeighting:
    weights: Weights
    rule: PanelRule = field(default_factory=PanelRule)
    group_rules: tuple[tuple[str, PanelRule], ...] = ()
    product_places: int | None = 2
    places: int | None = 2
    missing: str = "error"
    policy: str = "group_weighting"

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", read_weights(self.weights, what="评委组权重"))
        overrides = self.group_rules
        if isinstance(overrides, Mapping):
            overrides = tuple(overrides.items())
        object.__setattr__(self, "group_rules", tuple(overrides))
        unknown = {g for g, _ in self.group_rules} - {g for g, _ in self.weights}
        if unknown:
            raise PolicyError(f"评委组规则引用了未设权重的组：{sorted(unknown)}")
        if self.missing not in MISSING_POLICIES:
            raise PolicyError(f"missing={self.missing!r} 无效，应为 error/renormalize")

    def rule_for(self, group: str) -> PanelRule:
        return dict(self.group_rules).get(group, self.rule)

    @exact_arithmetic
    def apply(self, marks_by_group: Mapping[str, Marks], *,
              recused: Iterable[JudgeId] = ()) -> GroupResult:
        unknown = set(marks_by_group) - {g for g, _ in self.weights}
        if unknown:
            raise PolicyError(f"未设权重的评委组：{sorted(unknown)}")
        recused = tuple(recused)
        results, missing = {}, []
        for group, _ in self.weights:
            result = self._group_result(group, marks_by_group.get(group), recused)
            if result is None:
                missing.append(group)
            else:
                results[group] = result
        return self._combine(results, tuple(missing))

    def _group_result(self, group: str, marks: Marks | None, recused: tuple):
        try:
            if marks is None:
                raise InsufficientMarksError(f"评委组 {group} 没有任何评分")
            return self.rule_for(group).apply(marks, recused=recused)
        except InsufficientMarksError as error:
            if self.missing == "error":
                raise MissingStageError(f"评委组 {group}：{error}") from error
            return None

    def _combine(self, results: dict[str, PanelResult], missing: tuple[str, ...]) -> GroupResult:
        if not results:
            raise MissingStageError("所有评委组均无有效评分")
        present_total = sum((w for g, w in self.weights if g in results), Decimal(0))
        divisor = HUNDRED if not missing else present_total
        parts = tuple(
            GroupPart(group, weight, results[group], weighted_product(
                results[group].value, weight, divisor, self.product_places,
                what=f"评委组 {group} 加权分"))
            for group, weight in self.weights if group in results
        )
        value = round_half_up(sum((p.product for p in parts), Decimal(0)), self.places)
        return GroupResult(value, parts, self, missing, renormalized=bool(missing))


def split_by_group(marks: Mapping[JudgeId, object],
                   group_of: Mapping[JudgeId, str]) -> dict[str, dict[JudgeId, object]]:
    """{judge: mark} + {judge: group} -> {group: {judge: mark}}; a judge without a group fails."""
    grouped: dict[str, dict[JudgeId, object]] = {}
    for judge, mark in marks.items():
        if judge not in group_of:
            raise PolicyError(f"评委 {judge} 未分配评委组")
        grouped.setdefault(group_of[judge], {})[judge] = mark
    return grouped
