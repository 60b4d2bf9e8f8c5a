"""PanelRule: recusal, outlier replacement, trimming, combining and rounding of one panel.

Order of operations (each step is recorded on the result):
  1. recused judges (value None, or listed in `recused=`) are set aside: they are not marks;
  2. the optional outlier policy replaces far-off marks by the mean of the others;
  3. if fewer valid marks remain than `min_marks`, the declared `fallback` applies
     ("error" raises InsufficientMarksError, "use_all" keeps every mark, untrimmed);
  4. the `drop_high` highest and `drop_low` lowest marks are dropped;
  5. the kept marks are combined ("mean", "sum" or "median") and rounded half up to `places`
     from the exact value (places=None: exact, or InexactResultError if it does not terminate);
  6. with a `factor` (ISU component factor, diving DD), the *rounded* value is multiplied by
     it and rounded half up to `places` again: the ISU rounds a program component before its
     factor is applied. `round_before_factor=False` instead multiplies the *exact* combined
     value and rounds once, which is how the ISU turns a GOE panel into points (trimmed mean
     of the grades × 10% of the base value: 8/3 × 0.95 = 2.5333 -> 2.53, not 2.67 × 0.95 -> 2.54).
Ties: marks are ordered by a stable descending sort, so among equal marks the highest dropped
is the first judge in input order and the lowest dropped is the last judge in input order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from .errors import InsufficientMarksError, PolicyError
from .marks import JudgeId, Mark, Marks, MarkSet, MarkTuple, read_marks
from .numbers import divide, exact_arithmetic, round_half_up, to_decimal
from .outliers import OutlierReplacement, Replacement
from .policy import OMIT_AT_DEFAULT, policy_fingerprint

COMBINES = ("mean", "sum", "median")
FALLBACKS = ("error", "use_all")


@dataclass(frozen=True)
class PanelRule:
    drop_high: int = 0
    drop_low: int = 0
    combine: str = "mean"
    places: int | None = 2
    min_marks: int | None = None
    fallback: str = "error"
    outliers: OutlierReplacement | None = None
    factor: Decimal | None = None
    # Added after policies were stored: left out of the canonical JSON while True.
    round_before_factor: bool = field(default=True, metadata=OMIT_AT_DEFAULT)

    def __post_init__(self) -> None:
        if self.factor is not None:
            object.__setattr__(self, "factor", to_decimal(self.factor, what="系数 factor"))
        if self.combine not in COMBINES:
            raise PolicyError(f"combine={self.combine!r} 无效，应为 {'/'.join(COMBINES)}")
        if self.fallback not in FALLBACKS:
            raise PolicyError(f"fallback={self.fallback!r} 无效，应为 {'/'.join(FALLBACKS)}")
        for name in ("drop_high", "drop_low"):
            count = getattr(self, name)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise PolicyError(f"{name}={count!r} 应为非负整数")
        if not isinstance(self.round_before_factor, bool):
            raise PolicyError(f"round_before_factor={self.round_before_factor!r} 应为 True/False")
        if self.places is not None and (not isinstance(self.places, int) or self.places < 0):
            raise PolicyError(f"places={self.places!r} 应为非负整数或 None")
        if self.min_marks is not None and self.min_marks < self.trimmed_needs:
            raise PolicyError(
                f"min_marks={self.min_marks} 小于去掉最高/最低分后至少保留一个分数所需的 "
                f"{self.trimmed_needs} 个"
            )

    @property
    def trimmed_needs(self) -> int:
        """Marks needed to trim and still keep one."""
        return self.drop_high + self.drop_low + 1

    @property
    def needs(self) -> int:
        return self.min_marks if self.min_marks is not None else self.trimmed_needs

    @exact_arithmetic
    def apply(self, marks: Marks, *, recused: Iterable[JudgeId] = ()) -> PanelResult:
        mark_set = read_marks(marks)
        recused_idx, extra_recused = _split_recused(mark_set, tuple(recused))
        present = [i for i in range(len(mark_set.values)) if i not in recused_idx]
        values = mark_set.values
        replaced: list[Replacement] = []
        if self.outliers is not None:
            values = list(values)
            replaced = self.outliers.replace(values, present, mark_set.judges)
        fallback = self._check_count(len(present), len(recused_idx) + len(extra_recused))
        drop_high, drop_low = (0, 0) if fallback else (self.drop_high, self.drop_low)
        order = sorted(present, key=values.__getitem__, reverse=True)
        kept_idx = sorted(order[drop_high:len(order) - drop_low])
        kept_values = [values[i] for i in kept_idx]
        total = sum(kept_values)
        base = self._combine(total, kept_values)
        return PanelResult(
            value=base if self.factor is None else self._factored(base, total, kept_values),
            base=base, rule=self, total=total,
            count=len(kept_idx), fallback=fallback, replaced=tuple(replaced),
            _marks=MarkSet(mark_set.judges, values), _given=mark_set.values,
            _kept=tuple(kept_idx),
            _high=tuple(order[:drop_high]), _low=tuple(order[len(order) - drop_low:]),
            _recused=recused_idx, _extra_recused=extra_recused,
        )

    def _check_count(self, present: int, recused: int) -> str | None:
        if present >= self.needs:
            return None
        if present and self.fallback == "use_all":
            return "use_all"
        raise InsufficientMarksError(
            f"有效评分 {present} 个（回避 {recused} 人），少于规则要求的 {self.needs} 个，"
            "且规则未声明回退办法 (fallback)"
        )

    def _factored(self, base: Decimal, total: Decimal, kept: list[Decimal]) -> Decimal:
        if self.round_before_factor:
            return round_half_up(base * self.factor, self.places)
        numerator, denominator = exact_ratio(self.combine, total, kept)
        return divide(numerator * self.factor, denominator, self.places, what="乘以系数后的得分")

    def _combine(self, total: Decimal, kept: list[Decimal]) -> Decimal:
        if self.combine == "mean":
            return divide(total, len(kept), self.places, what="平均分")
        if self.combine == "sum":
            return round_half_up(total, self.places)
        ordered = sorted(kept)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return round_half_up(ordered[middle], self.places)
        return divide(ordered[middle - 1] + ordered[middle], 2, self.places, what="中位数")


@exact_arithmetic
def exact_ratio(combine: str, total: Decimal, kept: list[Decimal]) -> tuple[Decimal, int]:
    """The unrounded combined value as numerator / denominator."""
    if combine == "mean":
        return total, len(kept)
    if combine == "sum":
        return total, 1
    ordered, middle = sorted(kept), len(kept) // 2
    if len(ordered) % 2:
        return ordered[middle], 1
    return ordered[middle - 1] + ordered[middle], 2


def _split_recused(mark_set: MarkSet, recused: tuple) -> tuple[frozenset, tuple]:
    """Indices of judges set aside (None or declared), and declared judges with no entry."""
    if not recused and None not in mark_set.values:
        return frozenset(), ()
    declared = set(recused)
    indices = frozenset(
        i for i, (judge, value) in enumerate(zip(mark_set.judges, mark_set.values, strict=True))
        if value is None or judge in declared
    )
    known = set(mark_set.judges)
    return indices, tuple(judge for judge in recused if judge not in known)


@dataclass(frozen=True)
class PanelResult:
    """What a panel produced and why: the value plus every mark's fate."""

    value: Decimal            # the published figure (× factor, rounded again, if declared)
    base: Decimal             # the combined kept marks, rounded, before any factor
    rule: PanelRule
    total: Decimal            # exact sum of the kept marks, before combining
    count: int                # number of kept marks
    fallback: str | None      # "use_all" when the panel shrank below the rule's minimum
    replaced: tuple[Replacement, ...]
    _marks: MarkSet = field(repr=False, compare=False)   # after outlier replacement
    _given: list = field(repr=False, compare=False)      # as given (None = recused)
    _kept: tuple[int, ...] = field(repr=False)
    _high: tuple[int, ...] = field(repr=False)
    _low: tuple[int, ...] = field(repr=False)
    _recused: frozenset[int] = field(repr=False)
    _extra_recused: tuple = field(repr=False, default=())

    @cached_property
    def kept(self) -> tuple[Mark, ...]:
        """The marks that counted, in input order."""
        return MarkTuple(map(self._marks.mark, self._kept))

    @cached_property
    def dropped_high(self) -> tuple[Mark, ...]:
        return MarkTuple(map(self._marks.mark, self._high))

    @cached_property
    def dropped_low(self) -> tuple[Mark, ...]:
        return MarkTuple(map(self._marks.mark, self._low))

    @property
    def dropped(self) -> tuple[Mark, ...]:
        """Highest dropped first, then lowest dropped."""
        return self.dropped_high + self.dropped_low

    @property
    def recused(self) -> tuple[JudgeId, ...]:
        """Judges set aside: no mark (None) or declared recused, in input order."""
        judges = self._marks.judges
        return MarkTuple(tuple(judges[i] for i in sorted(self._recused)) + self._extra_recused)

    @property
    def exact(self) -> tuple[Decimal, int]:
        """The unrounded combined value as (numerator, denominator), e.g. (8, 3): what the
        factor multiplies when the rule says round_before_factor=False."""
        kept = [self._marks.values[i] for i in self._kept]
        return exact_ratio(self.rule.combine, self.total, kept)

    @property
    def judges(self) -> tuple[JudgeId, ...]:
        return self._marks.judges

    def given(self) -> list[tuple[JudgeId, Decimal | None]]:
        """Every judge with the mark as given (before replacement; None if no mark)."""
        return list(zip(self._marks.judges, self._given, strict=True))

    def fate(self) -> dict[JudgeId, str]:
        """judge -> "kept" / "dropped_high" / "dropped_low" / "recused"."""
        judges = self._marks.judges
        fates = {judges[i]: "recused" for i in self._recused}
        fates.update({judges[i]: "kept" for i in self._kept})
        fates.update({judges[i]: "dropped_high" for i in self._high})
        fates.update({judges[i]: "dropped_low" for i in self._low})
        return fates

    @cached_property
    def fingerprint(self) -> str:
        return policy_fingerprint(self.rule)
