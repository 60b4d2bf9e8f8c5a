"""Decimal coercion and the only two rounding primitives the engine uses.

Every published figure passes through `round_half_up` or `divide`; both round half away from
zero (ROUND_HALF_UP) and both work on the exact value, so a figure is never rounded twice by
accident. Binary floats are refused: 52.2 as a float is 52.2000000000000028421709...

The engine's entry points compute in `EXACT_CONTEXT` (`@exact_arithmetic`), never in the
caller's thread context: with a caller's precision of 5 digits, 1234.75 + 1000.25 + 999.50
would be summed as 3234.5 and the mean silently lose its last digit.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    getcontext,
    localcontext,
)
from functools import wraps
from typing import TypeVar

from .errors import FloatMarkError, InexactResultError, InvalidMarkError

Number = Decimal | int | str

_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(0, 13)}

# 1,000 significant digits: every sum and product of real marks and weights is exact in it,
# and (unlike MAX_PREC) a stray inexact division stays cheap instead of exhausting memory.
EXACT_CONTEXT = Context(prec=1000, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN,
                        traps=[InvalidOperation, DivisionByZero, Overflow])
F = TypeVar("F", bound=Callable)


def exact_arithmetic(function: F) -> F:
    """Run `function` in EXACT_CONTEXT, whatever decimal context the caller's thread has."""
    @wraps(function)
    def in_exact_context(*args, **kwargs):
        if getcontext().prec == EXACT_CONTEXT.prec:   # called from another entry point
            return function(*args, **kwargs)
        with localcontext(EXACT_CONTEXT):
            return function(*args, **kwargs)
    return in_exact_context  # type: ignore[return-value]


def quantum(places: int) -> Decimal:
    """Decimal('0.01') for places=2."""
    return _QUANTA.get(places) or Decimal(1).scaleb(-places)


def to_decimal(value: object, *, what: str = "分数") -> Decimal:
    """Coerce a Decimal, int or str to a finite Decimal; refuse floats, bools and junk."""
    if type(value) is Decimal or isinstance(value, Decimal):
        if value.is_finite():
            return value
        raise InvalidMarkError(f"{what} {value} 不是有限数 (NaN/Infinity is not a score)")
    if isinstance(value, bool):
        raise InvalidMarkError(f"{what} {value!r} 是布尔值，不是分数")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        raise FloatMarkError(
            f"{what} {value!r} 是二进制浮点数，已拒绝：请传 Decimal 或字符串，如 '{value}' "
            "(binary floats are refused: 52.2 would become 52.199999999999996)"
        )
    if isinstance(value, str):
        return _parse_decimal(value, what)
    raise InvalidMarkError(f"{what} {value!r} 的类型 {type(value).__name__} 不能作为分数")


def _parse_decimal(text: str, what: str) -> Decimal:
    try:
        parsed = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidMarkError(f"{what} {text!r} 不是数字") from None
    if not parsed.is_finite():
        raise InvalidMarkError(f"{what} {text!r} 不是有限数")
    return parsed


def round_half_up(value: Decimal, places: int | None) -> Decimal:
    """Round to `places` decimals, half away from zero; None means keep the value as is."""
    if places is None:
        return value
    return value.quantize(quantum(places), rounding=ROUND_HALF_UP, context=EXACT_CONTEXT)


def divide(numerator: Decimal | int, denominator: Decimal | int, places: int | None,
           *, what: str = "商") -> Decimal:
    """numerator / denominator rounded half up from the *exact* quotient.

    Rounding the 28-digit context quotient would round twice; integer arithmetic does not.
    With places=None the quotient must terminate, otherwise InexactResultError asks the
    policy to declare a rounding point.
    """
    num_p, num_q = Decimal(numerator).as_integer_ratio()
    den_p, den_q = Decimal(denominator).as_integer_ratio()
    if den_p == 0:
        raise InexactResultError(f"{what}：除数为 0 (division by zero)")
    p, q = num_p * den_q, num_q * den_p
    if q < 0:
        p, q = -p, -q
    if places is None:
        return _exact_quotient(p, q, what)
    return _round_ratio(p, q, places)


def _round_ratio(p: int, q: int, places: int) -> Decimal:
    scaled = abs(p) * 10**places
    whole, remainder = divmod(scaled, q)
    if 2 * remainder >= q:
        whole += 1
    return Decimal(-whole if p < 0 else whole).scaleb(-places)


def _exact_quotient(p: int, q: int, what: str) -> Decimal:
    # A fraction terminates in base 10 iff its reduced denominator is 2^a * 5^b.
    reduced = q
    for prime in (2, 5):
        while reduced % prime == 0:
            reduced //= prime
    if reduced != 1 and p % q != 0:
        raise InexactResultError(
            f"{what} {p}/{q} 不能精确表示为小数，请在规则中声明保留位数 places "
            "(declare a rounding point)"
        )
    places = 0
    while (p * 10**places) % q:
        places += 1
    return Decimal(p * 10**places // q).scaleb(-places)


def format_score(value: Decimal | None, places: int | None = 2) -> str:
    """Fixed-point text for explanations: 88.2 -> '88.20' at 2 places; never exponent form."""
    if value is None:
        return "—"
    shown = round_half_up(value, places) if places is not None else value
    return f"{shown:f}"
