"""Satisfaction surveys: counts per level -> index on 0-100 and satisfaction rate.

index = Σ(count × level points) / Σ count, rounded half up to `places` from the exact value;
rate  = (count at levels listed in `satisfied`) / Σ count × 100, rounded the same way.
Samples smaller than `min_sample` still get an index but carry `below_minimum=True`, which the
web app must show next to the figure; a sample of 0 has no index (None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from .errors import PolicyError, ScoringError
from .numbers import divide, exact_arithmetic, to_decimal
from .policy import policy_fingerprint

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class SatisfactionResult:
    value: Decimal | None          # the index, 0-100
    rate: Decimal | None           # percent of satisfied answers
    sample: int
    below_minimum: bool
    counts: tuple[tuple[str, int], ...]
    scale: SatisfactionScale

    @property
    def index(self) -> Decimal | None:
        return self.value

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the rule that produced this result (see policy.py)."""
        return policy_fingerprint(self.scale)


@dataclass(frozen=True)
class SatisfactionScale:
    levels: tuple[tuple[str, Decimal], ...]
    satisfied: tuple[str, ...]
    min_sample: int = 30
    places: int | None = 2
    policy: str = "satisfaction_index"

    def __post_init__(self) -> None:
        levels = self.levels.items() if isinstance(self.levels, Mapping) else self.levels
        levels = tuple((name, to_decimal(p, what=f"满意度等级 {name} 分值")) for name, p in levels)
        for name, points in levels:
            if not 0 <= points <= HUNDRED:
                raise PolicyError(f"满意度等级 {name} 的分值 {points} 应在 0–100 之间")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "satisfied", tuple(self.satisfied))
        unknown = set(self.satisfied) - {name for name, _ in levels}
        if unknown:
            raise PolicyError(f"“满意”口径包含未定义的等级：{sorted(unknown)}")

    @exact_arithmetic
    def apply(self, counts: Mapping[str, int]) -> SatisfactionResult:
        points = dict(self.levels)
        unknown = set(counts) - set(points)
        if unknown:
            raise ScoringError(f"未定义的满意度等级：{sorted(unknown)}（应为 {list(points)}）")
        for name, count in counts.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ScoringError(f"满意度等级 {name} 的票数 {count!r} 应为非负整数")
        sample = sum(counts.values())
        frozen = tuple((name, counts.get(name, 0)) for name in points)
        if sample == 0:
            return SatisfactionResult(None, None, 0, True, frozen, self)
        weighted = sum((points[name] * count for name, count in frozen), Decimal(0))
        satisfied = sum(counts.get(name, 0) for name in self.satisfied)
        return SatisfactionResult(
            value=divide(weighted, sample, self.places, what="满意度指数"),
            rate=divide(satisfied * HUNDRED, sample, self.places, what="满意率"),
            sample=sample, below_minimum=sample < self.min_sample, counts=frozen, scale=self)


THREE_LEVEL = SatisfactionScale(
    levels=(("满意", Decimal(100)), ("基本满意", Decimal(80)), ("不满意", Decimal(0))),
    satisfied=("满意", "基本满意"),
)
FIVE_LEVEL = SatisfactionScale(
    levels=(("非常满意", Decimal(100)), ("满意", Decimal(80)), ("基本满意", Decimal(60)),
            ("不太满意", Decimal(40)), ("不满意", Decimal(0))),
    satisfied=("非常满意", "满意", "基本满意"),
)
