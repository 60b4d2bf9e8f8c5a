"""Weights as percentages that must total exactly 100, kept as an ordered tuple of pairs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from .errors import WeightError
from .numbers import divide, exact_arithmetic, to_decimal

Weights = tuple[tuple[str, Decimal], ...]
HUNDRED = Decimal(100)


@exact_arithmetic
def read_weights(weights: Mapping[str, object] | Iterable[tuple[str, object]],
                 *, what: str = "权重") -> Weights:
    """Validate and freeze weights; the message names the item or the wrong total."""
    pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
    frozen = tuple((code, to_decimal(value, what=f"{what} {code}")) for code, value in pairs)
    codes = [code for code, _ in frozen]
    if len(set(codes)) != len(codes):
        raise WeightError(f"{what}中有重复项：{codes}")
    for code, value in frozen:
        if value < 0:
            raise WeightError(f"{what} {code} = {value} 不能为负")
    total = sum((value for _, value in frozen), Decimal(0))
    if total != HUNDRED:
        listing = "、".join(f"{code} {value}" for code, value in frozen)
        raise WeightError(f"{what}合计应为 100，实为 {total}（{listing}）")
    return frozen


def weighted_product(value: Decimal, weight: Decimal, weight_total: Decimal,
                     places: int | None, *, what: str) -> Decimal:
    """value × weight / weight_total, rounded once from the exact product."""
    return divide(value * weight, weight_total, places, what=what)
