"""Marks with identity: which judge gave which number.

Input to every panel rule may be
  * a sequence of plain values            [Decimal("9.25"), "9.75", 9]  -> judges 1, 2, 3
  * a mapping judge_id -> value           {"J01": "9.25", "J02": "9.75"}
  * a sequence of (judge_id, value) pairs [("J01", "9.25"), ("J02", "9.75")]
  * a sequence of `Mark` objects (e.g. the `kept` of an earlier result)
A value of None means the judge is recused / gave no mark: it is recorded, never counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .errors import InvalidMarkError
from .numbers import to_decimal

JudgeId = Any  # str or int in practice; anything hashable and printable
Marks = Mapping[JudgeId, Any] | Iterable[Any]


class Mark(Decimal):
    """A Decimal that remembers its judge: compares, sums and hashes as its value."""

    __slots__ = ("judge",)

    def __new__(cls, value: Decimal | int | str, judge: JudgeId = None) -> Mark:
        mark = super().__new__(cls, value)
        mark.judge = judge
        return mark

    def __repr__(self) -> str:
        return f"Mark({str(self)!r}, judge={self.judge!r})"

    def __reduce__(self):  # keep identity through copy/pickle
        return (Mark, (str(self), self.judge))


class MarkTuple(tuple):
    """An immutable tuple of marks that also compares equal to a list of the same values."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            other = tuple(other)
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def __add__(self, other: tuple) -> MarkTuple:
        return MarkTuple(tuple.__add__(self, tuple(other)))


class MarkSet:
    """Parallel tuples of judges and values (None = recused), validated once."""

    __slots__ = ("judges", "values")

    def __init__(self, judges: tuple, values: list[Decimal | None]):
        self.judges = judges
        self.values = values

    def mark(self, index: int) -> Mark:
        return Mark(self.values[index], self.judges[index])


def read_marks(marks: Marks) -> MarkSet:
    """Normalize any accepted input shape into a MarkSet; refuse floats and duplicate judges."""
    if isinstance(marks, Mapping):
        judges, raw = tuple(marks.keys()), list(marks.values())
    else:
        judges, raw = _split_sequence(marks)
    values = [
        value if type(value) is Decimal and value.is_finite()
        else None if value is None
        else to_decimal(value, what=f"评委 {judges[i]} 的分数")
        for i, value in enumerate(raw)
    ]
    if len(set(judges)) != len(judges):
        duplicates = sorted({str(j) for j in judges if judges.count(j) > 1})
        raise InvalidMarkError(f"评委编号重复：{', '.join(duplicates)}")
    return MarkSet(judges, values)


def _split_sequence(marks: Iterable[Any]) -> tuple[tuple, list]:
    items = list(marks)
    if not any(type(item) is not Decimal for item in items):
        return tuple(range(1, len(items) + 1)), items  # fast path: plain Decimal list
    judges, raw = [], []
    for position, item in enumerate(items, start=1):
        if isinstance(item, Mark):
            judges.append(item.judge if item.judge is not None else position)
            raw.append(Decimal(item))
        elif isinstance(item, tuple | list) and len(item) == 2:
            judges.append(item[0])
            raw.append(item[1])
        else:
            judges.append(position)
            raw.append(item)
    return tuple(judges), raw
