"""Outlier replacement, the bid-evaluation (评标) rule.

A mark further than `tolerance` points from the mean of the *other* present marks is replaced
by that mean, rounded half up to `places`. Every mark is judged against the original marks of
the others (simultaneously, not iteratively), so the outcome does not depend on judge order.
Replacement happens before trimming: the replaced value is what gets kept or dropped.
It needs at least three present marks: of two judges each is exactly as far from the other,
so neither can be called the outlier (replacing both would only swap their marks).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import PolicyError
from .marks import JudgeId
from .numbers import divide, to_decimal


@dataclass(frozen=True)
class Replacement:
    judge: JudgeId
    original: Decimal
    replacement: Decimal
    others_mean: Decimal


@dataclass(frozen=True)
class OutlierReplacement:
    """Replace marks more than `tolerance` points from the others' mean by that mean."""

    tolerance: Decimal
    places: int | None = 2
    policy: str = "outlier_replacement"

    def __post_init__(self) -> None:
        tolerance = to_decimal(self.tolerance, what="离群容差 tolerance")
        if tolerance < 0:
            raise PolicyError(f"离群容差 tolerance={tolerance} 不能为负")
        object.__setattr__(self, "tolerance", tolerance)

    def replace(self, values: list, present: list[int], judges: tuple) -> list[Replacement]:
        """Rewrite `values` in place for outliers among `present`; return what was replaced."""
        if len(present) < 3:
            return []
        total = sum(values[i] for i in present)
        others = len(present) - 1
        found: list[tuple[int, Decimal, Decimal]] = []
        for i in present:
            others_total = total - values[i]
            # |v - others_total/others| > tol  <=>  |v*others - others_total| > tol*others
            if abs(values[i] * others - others_total) > self.tolerance * others:
                mean = divide(others_total, others, self.places, what="其他评委平均分")
                found.append((i, values[i], mean))
        replaced = []
        for i, original, mean in found:
            values[i] = mean
            replaced.append(Replacement(judges[i], original, mean, mean))
        return replaced
