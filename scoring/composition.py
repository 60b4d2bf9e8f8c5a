"""Composition: stage scores -> one total, with bonus and deduction items and caps.

Rounding points, in order and only these:
  1. each stage score normalized to 0-100 (score × 100 / max_points), rounded to `stage_places`;
  2. each weighted product (normalized × weight / 100), rounded to `product_places`;
  3. the total (sum of products + capped bonus - capped deduction), rounded to `places`.
The ISU reading is the same: round each component, then each factored component, then sum.
A missing stage (no score, or a result whose value is None such as a survey with no answers)
raises MissingStageError unless missing="renormalize": products are then divided by the
weights of the stages present (not 100) and the result says `renormalized`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from .errors import MissingStageError, PolicyError, ScoringError
from .numbers import divide, exact_arithmetic, round_half_up, to_decimal
from .policy import policy_fingerprint
from .stages import stage_name
from .weights import HUNDRED, read_weights, weighted_product

ZERO = Decimal(0)


@dataclass(frozen=True)
class StageSpec:
    code: str
    weight: Decimal
    max_points: Decimal = HUNDRED

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", to_decimal(self.weight, what=f"阶段 {self.code} 权重"))
        max_points = to_decimal(self.max_points, what=f"阶段 {self.code} 满分")
        if max_points <= 0:
            raise PolicyError(f"阶段 {self.code} 的满分 {max_points} 必须为正")
        object.__setattr__(self, "max_points", max_points)


@dataclass(frozen=True)
class AdjustmentRule:
    """A bonus (加分) or deduction (扣分) item; `cap` limits the points this item can move."""

    code: str
    kind: str
    cap: Decimal | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("bonus", "deduction"):
            raise PolicyError(f"加减分项 {self.code} 的类型 {self.kind!r} 应为 bonus/deduction")
        if self.cap is not None:
            object.__setattr__(self, "cap", to_decimal(self.cap, what=f"加减分项 {self.code} 上限"))


@dataclass(frozen=True)
class StagePart:
    code: str
    raw: Decimal
    normalized: Decimal
    weight: Decimal
    product: Decimal


@dataclass(frozen=True)
class AdjustmentPart:
    code: str
    kind: str
    claimed: Decimal
    applied: Decimal          # after the item's own cap


@dataclass(frozen=True)
class CompositionResult:
    value: Decimal
    weighted_sum: Decimal
    parts: tuple[StagePart, ...]
    adjustments: tuple[AdjustmentPart, ...]
    bonus: Decimal            # after the overall bonus cap
    deduction: Decimal        # after the overall deduction cap
    missing: tuple[str, ...]
    renormalized: bool
    composition: Composition

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the rule that produced this result (see policy.py)."""
        return policy_fingerprint(self.composition)


@dataclass(frozen=True)
class Composition:
    stages: tuple[StageSpec, ...]
    adjustments: tuple[AdjustmentRule, ...] = ()
    bonus_cap: Decimal | None = None
    deduction_cap: Decimal | None = None
    stage_places: int | None = 2
    product_places: int | None = 2
    places: int | None = 2
    missing: str = "error"
    policy: str = "weighted_sum"

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "adjustments", tuple(self.adjustments))
        read_weights([(s.code, s.weight) for s in self.stages], what="阶段权重")
        for name in ("bonus_cap", "deduction_cap"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, to_decimal(getattr(self, name), what=name))
        if self.missing not in ("error", "renormalize"):
            raise PolicyError(f"missing={self.missing!r} 无效，应为 error/renormalize")

    @exact_arithmetic
    def compose(self, stage_scores: Mapping[str, object],
                adjustments: Mapping[str, object] | None = None) -> CompositionResult:
        unknown = set(stage_scores) - {s.code for s in self.stages}
        if unknown:
            raise ScoringError(f"未定义的阶段：{sorted(unknown)}")
        present = [s for s in self.stages if _score_of(stage_scores.get(s.code)) is not None]
        missing = tuple(s.code for s in self.stages if s not in present)
        if missing and (self.missing == "error" or not present):
            names = "、".join(f"{stage_name(c)}({c})" for c in missing)
            raise MissingStageError(f"缺少阶段得分：{names}")
        divisor = sum((s.weight for s in present), ZERO) if missing else HUNDRED
        parts = tuple(self._stage_part(s, stage_scores[s.code], divisor) for s in present)
        weighted_sum = sum((p.product for p in parts), ZERO)
        items = self._adjustment_parts(adjustments or {})
        bonus = _capped(sum((a.applied for a in items if a.kind == "bonus"), ZERO), self.bonus_cap)
        deduction = _capped(
            sum((a.applied for a in items if a.kind == "deduction"), ZERO), self.deduction_cap)
        value = round_half_up(weighted_sum + bonus - deduction, self.places)
        return CompositionResult(value, weighted_sum, parts, items, bonus, deduction,
                                 missing, bool(missing), self)

    def _stage_part(self, spec: StageSpec, score: object, divisor: Decimal) -> StagePart:
        what = f"阶段 {stage_name(spec.code)}({spec.code}) 得分"
        raw = to_decimal(_score_of(score), what=what)
        if not ZERO <= raw <= spec.max_points:
            raise ScoringError(f"{what} {raw} 超出 0–{spec.max_points} 的范围")
        normalized = divide(raw * HUNDRED, spec.max_points, self.stage_places, what=what)
        product = weighted_product(normalized, spec.weight, divisor, self.product_places,
                                   what=f"{what}加权")
        return StagePart(spec.code, raw, normalized, spec.weight, product)

    def _adjustment_parts(self, claimed: Mapping[str, object]) -> tuple[AdjustmentPart, ...]:
        rules = {rule.code: rule for rule in self.adjustments}
        unknown = set(claimed) - set(rules)
        if unknown:
            raise ScoringError(f"未定义的加减分项：{sorted(unknown)}")
        parts = []
        for code, rule in rules.items():
            if claimed.get(code) is None:
                continue
            points = to_decimal(claimed[code], what=f"加减分项 {code}")
            if points < 0:
                raise ScoringError(f"加减分项 {code} 的分值 {points} 不能为负（扣分填正数）")
            parts.append(AdjustmentPart(code, rule.kind, points, _capped(points, rule.cap)))
        return tuple(parts)


def _score_of(score: object) -> object:
    """A stage score, or the value of a stage result; a result without a value (a survey
    with no answers) counts as a missing stage, not as a bad number."""
    return getattr(score, "value", score)


def _capped(points: Decimal, cap: Decimal | None) -> Decimal:
    return points if cap is None else min(points, cap)
