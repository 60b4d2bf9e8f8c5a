"""Grades by thresholds, with optional quotas per group.

Thresholds are checked from the top: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else `below` (不合格).
A quota caps a grade at floor(group size × percent / 100) agencies. Agencies holding that grade
are admitted in rank order, one block of equal rank at a time; the first block that would
overflow the quota, and every block ranked after it, moves down one grade (where the next
grade's quota applies in turn). So a quota is never exceeded, a tie is never split, and a
better-ranked agency never gets a worse grade than a worse-ranked one in its group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .errors import PolicyError
from .numbers import exact_arithmetic, to_decimal
from .ranking import AgencyId, Ranked

Pairs = tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Graded:
    agency: AgencyId
    group: str | None
    rank: int
    total: Decimal
    grade: str
    threshold_grade: str      # the grade the total alone would earn
    quota_moved: bool         # True when a quota moved it below threshold_grade


@dataclass(frozen=True)
class GradeScale:
    thresholds: Pairs
    below: str = "不合格"
    quotas: Pairs = ()
    policy: str = "thresholds_with_quotas"

    def __post_init__(self) -> None:
        object.__setattr__(self, "thresholds", _pairs(self.thresholds, "等次分数线"))
        object.__setattr__(self, "quotas", _pairs(self.quotas, "等次比例"))
        minimums = [minimum for _, minimum in self.thresholds]
        if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
            raise PolicyError(f"等次分数线应从高到低严格递减：{self.thresholds}")
        grades = [grade for grade, _ in self.thresholds]
        for grade, percent in self.quotas:
            if grade not in grades:
                raise PolicyError(f"等次比例中的 {grade} 不是有分数线的等次（{grades}）")
            if not 0 <= percent <= 100:
                raise PolicyError(f"等次 {grade} 的比例 {percent}% 应在 0–100 之间")

    @property
    def levels(self) -> list[str]:
        return [grade for grade, _ in self.thresholds] + [self.below]

    def grade_of(self, total: Decimal) -> str:
        for grade, minimum in self.thresholds:
            if total >= minimum:
                return grade
        return self.below

    def quota_count(self, grade: str, group_size: int) -> int | None:
        percent = dict(self.quotas).get(grade)
        if percent is None:
            return None
        return int((group_size * percent / 100).to_integral_value(rounding=ROUND_DOWN))

    @exact_arithmetic
    def grade(self, ranked: Iterable[Ranked]) -> tuple[Graded, ...]:
        """Grade ranked agencies (from `rank`), applying quotas within each group."""
        ranked = tuple(ranked)
        by_group: dict[str | None, list[Ranked]] = {}
        for entry in ranked:
            by_group.setdefault(entry.group, []).append(entry)
        final: dict[AgencyId, str] = {}
        for members in by_group.values():
            final.update(self._grade_group(members))
        return tuple(
            Graded(r.agency, r.group, r.rank, r.total, final[r.agency],
                   self.grade_of(r.total), final[r.agency] != self.grade_of(r.total))
            for r in ranked
        )

    def _grade_group(self, members: list[Ranked]) -> dict[AgencyId, str]:
        current = {r.agency: self.grade_of(r.total) for r in members}
        in_rank_order = sorted(members, key=lambda r: r.rank)
        levels = self.levels
        for level, grade in enumerate(levels[:-1]):
            cap = self.quota_count(grade, len(members))
            if cap is None:
                continue
            holders = [r for r in in_rank_order if current[r.agency] == grade]
            admitted = 0
            for block_rank in sorted({r.rank for r in holders}):
                block = [r for r in holders if r.rank == block_rank]
                if admitted is None or admitted + len(block) > cap:
                    admitted = None  # overflow: this block and all after it move down
                    current.update({r.agency: levels[level + 1] for r in block})
                else:
                    admitted += len(block)
        return current


def _pairs(items: Mapping[str, object] | Iterable[tuple[str, object]], what: str) -> Pairs:
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple((name, to_decimal(value, what=f"{what} {name}")) for name, value in pairs)
