"""First-level indicator scores (一级指标得分) of one agency: what the radar chart shows.

Definition (the published one, also in scoring/README.md):
  * a *sheet* is one scorer's per-indicator marks for the agency in one stage
    ({leaf code: mark}); marks given as a single total are not sheets and do not count here;
  * a sheet's score on a first-level indicator is the exact sum of its marks on the leaves
    under that indicator, a deduction leaf (one under a deduction node) subtracted, as
    `RubricSheet` totals a sheet;
  * the agency's score on the indicator is the mean of those sums over every sheet with at
    least one mark under it, rounded ROUND_HALF_UP to `places` (2) from the exact quotient
    (0 with `sheets` 0 when no sheet marked it; no scores at all when the agency has no
    sheet).
No mark is dropped here: dropping the highest and lowest applies to a panel's totals, and
this figure describes where the points came from, it does not enter the total. Only
first-level indicators of kind "normal" are scored (a bonus or deduction branch has no
"share of its maximum"); a sheet's marks on unknown codes are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .numbers import divide, to_decimal
from .rubric import Indicator


@dataclass(frozen=True)
class IndicatorScore:
    """An agency's score on one first-level indicator, and how many sheets made it."""

    code: str
    name: str
    score: Decimal
    max_points: Decimal
    sheets: int = 0


class FirstLevelIndex:
    """The first-level indicators compiled once: leaf code -> (first-level code, sign)."""

    def __init__(self, first_level: Sequence[Indicator]):
        self.nodes = tuple(node for node in first_level if node.kind == "normal")
        self._leaf: dict[str, tuple[str, int]] = {}
        for node in self.nodes:
            self._collect(node, node.code, "normal")

    def _collect(self, node: Indicator, top: str, inherited: str) -> None:
        kind = node.kind if node.kind != "normal" else inherited
        if not node.children:
            self._leaf[node.code] = (top, -1 if kind == "deduction" else 1)
        for child in node.children:
            self._collect(child, top, kind)

    def scores(self, sheets: Iterable[Mapping[str, object]],
               places: int = 2) -> tuple[IndicatorScore, ...]:
        """The agency's score on each first-level indicator, from its sheets."""
        sums = {node.code: Decimal(0) for node in self.nodes}
        counts = {node.code: 0 for node in self.nodes}
        for sheet in sheets:
            touched: set[str] = set()
            for code, mark in sheet.items():
                found = self._leaf.get(code)
                if found is None:
                    continue
                top, sign = found
                sums[top] += sign * to_decimal(mark, what=f"指标 {code} 的得分")
                touched.add(top)
            for top in touched:
                counts[top] += 1
        if not any(counts.values()):   # no per-indicator marks at all: nothing to show
            return ()
        return tuple(
            IndicatorScore(node.code, node.name,
                           divide(sums[node.code], counts[node.code], places)
                           if counts[node.code] else Decimal(0),
                           node.max_points, counts[node.code])
            for node in self.nodes)


def first_level_scores(first_level: Sequence[Indicator], sheets: Iterable[Mapping[str, object]],
                       places: int = 2) -> tuple[IndicatorScore, ...]:
    """One agency's first-level indicator scores (see the module's definition)."""
    return FirstLevelIndex(first_level).scores(sheets, places)
