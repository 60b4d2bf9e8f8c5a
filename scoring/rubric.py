"""Rubrics: the indicator tree (指标体系) and the validation of marks against it.

Rules checked, each reported with the offending node's code and name:
  * codes are unique; max points are positive; a step (e.g. 0.5) divides the max points;
  * a node's children add up to the node's max points, except bonus / deduction children
    of a normal node, which sit outside its total and are capped by their own max;
  * a mark lies in [0, max] and is a multiple of the node's step.
`Indicator.kind`: "normal" adds points, "bonus" (加分项) adds, "deduction" (扣分项) subtracts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .errors import RubricError, ScoringError
from .numbers import exact_arithmetic, to_decimal

KINDS = ("normal", "bonus", "deduction")


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    max_points: Decimal
    kind: str = "normal"
    step: Decimal | None = None
    children: tuple[Indicator, ...] = ()

    def __post_init__(self) -> None:
        label = f"指标 {self.code}「{self.name}」"
        object.__setattr__(self, "max_points", to_decimal(self.max_points, what=f"{label}满分"))
        if self.step is not None:
            object.__setattr__(self, "step", to_decimal(self.step, what=f"{label}步长"))
        object.__setattr__(self, "children", tuple(self.children))

    @property
    def label(self) -> str:
        return f"指标 {self.code}「{self.name}」"

    def walk(self) -> Iterator[Indicator]:
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> list[Indicator]:
        return [node for node in self.walk() if not node.children]


@exact_arithmetic
def rubric_problems(root: Indicator) -> list[str]:
    """Every problem in the tree, each naming its node; an empty list means valid."""
    problems: list[str] = []
    seen: set[str] = set()
    for node in root.walk():
        if node.code in seen:
            problems.append(f"{node.label}：编号重复")
        seen.add(node.code)
        problems.extend(_node_problems(node))
    return problems


def _node_problems(node: Indicator) -> list[str]:
    problems = []
    if node.kind not in KINDS:
        problems.append(f"{node.label}：类型 {node.kind!r} 应为 normal/bonus/deduction")
    if node.max_points <= 0:
        problems.append(f"{node.label}：满分 {node.max_points} 必须为正")
    if node.step is not None and (node.step <= 0 or node.max_points % node.step):
        problems.append(f"{node.label}：步长 {node.step} 不能整除满分 {node.max_points}")
    # Bonus/deduction children of a normal node sit outside its total; all others count.
    same_kind = [c for c in node.children if c.kind in ("normal", node.kind)]
    if same_kind:
        total = sum((c.max_points for c in same_kind), Decimal(0))
        if total != node.max_points:
            parts = " + ".join(f"{c.code} {c.max_points}" for c in same_kind)
            problems.append(f"{node.label}：下级指标满分合计 {parts} = {total}，"
                            f"不等于本级满分 {node.max_points}")
    return problems


def validate_rubric(root: Indicator) -> Indicator:
    """Raise RubricError listing every problem; return the tree when valid."""
    problems = rubric_problems(root)
    if problems:
        raise RubricError("；".join(problems))
    return root


@exact_arithmetic
def check_mark(node: Indicator, value: object) -> Decimal:
    """A mark for `node`, validated against its max and step."""
    mark = to_decimal(value, what=f"{node.label}的得分")
    if not 0 <= mark <= node.max_points:
        raise ScoringError(f"{node.label}的得分 {mark} 超出 0–{node.max_points}")
    if node.step is not None and mark % node.step:
        raise ScoringError(f"{node.label}的得分 {mark} 不是步长 {node.step} 的整数倍")
    return mark


class RubricSheet:
    """A validated rubric compiled for scoring many sheets quickly.

    A judge's sheet is {leaf code: mark}; its total is the normal and bonus marks minus the
    deduction marks (a leaf inherits bonus/deduction from its nearest non-normal ancestor).
    Every normal leaf must be marked; bonus and deduction leaves are optional.
    Speed: required leaves are grouped by (max, step) and each distinct mark value is checked
    once and remembered, so a 20-indicator sheet costs a few C-level calls, not 20 checks.
    Any doubt (a non-Decimal, a new invalid value) falls back to checking mark by mark, which
    raises with the node named.
    """

    def __init__(self, root: Indicator):
        self.root = validate_rubric(root)
        self._leaves: dict[str, tuple[Indicator, int]] = {}   # code -> (node, +1 / -1)
        self._kind: dict[str, str] = {}
        self._collect(root, "normal")
        self._required = {c for c, (node, sign) in self._leaves.items()
                          if sign > 0 and self._kind[c] == "normal"}
        by_spec: dict[tuple, list[str]] = {}
        for code in self._required:
            node = self._leaves[code][0]
            by_spec.setdefault((node.max_points, node.step), []).append(code)
        self._groups = [(codes, limit, step, set()) for (limit, step), codes in by_spec.items()]

    def _collect(self, node: Indicator, inherited: str) -> None:
        kind = node.kind if node.kind != "normal" else inherited
        if not node.children:
            self._kind[node.code] = kind
            self._leaves[node.code] = (node, -1 if kind == "deduction" else 1)
        for child in node.children:
            self._collect(child, kind)

    @exact_arithmetic
    def total(self, marks: Mapping[str, object]) -> Decimal:
        if marks.keys() != self._required:       # optional leaves, or missing / unknown codes
            return self._total_with_optional(marks)
        if set(map(type, marks.values())) != _DECIMAL_ONLY:
            return self._checked_total(marks)
        if len(self._groups) == 1:               # one (max, step) for all: no regrouping
            return self._group_sum(marks.values(), *self._groups[0][1:], marks)
        return sum((self._group_sum([marks[c] for c in codes], limit, step, known, marks)
                    for codes, limit, step, known in self._groups), Decimal(0))

    def _group_sum(self, values, limit, step, known_valid: set, marks) -> Decimal:
        distinct = set(values)
        if not distinct <= known_valid:
            if not all(_valid(v, limit, step) for v in distinct - known_valid):
                return self._checked_total(marks)  # raises, naming the node
            known_valid |= distinct
        return sum(values, Decimal(0))

    def _total_with_optional(self, marks: Mapping[str, object]) -> Decimal:
        missing = self._required - marks.keys()
        unknown = marks.keys() - self._leaves.keys()
        if missing or unknown:
            raise ScoringError(f"评分表缺少末级指标 {sorted(missing)}，或含未定义的指标 "
                               f"{sorted(unknown)}")
        required = {code: marks[code] for code in self._required}
        total = self.total(required)
        for code in marks.keys() - self._required:   # bonus / deduction leaves
            node, sign = self._leaves[code]
            total += sign * check_mark(node, marks[code])
        return total

    def _checked_total(self, marks: Mapping[str, object]) -> Decimal:
        """Mark by mark: coerces str/int marks, raises naming the node of a bad one."""
        total = Decimal(0)
        for code, value in marks.items():
            node, sign = self._leaves[code]
            total += sign * check_mark(node, value)
        return total


_DECIMAL_ONLY = {Decimal}


def _valid(value: Decimal, limit: Decimal, step: Decimal | None) -> bool:
    return value.is_finite() and 0 <= value <= limit and (step is None or not value % step)


def score_sheet(root: Indicator, marks: Mapping[str, object]) -> Decimal:
    """One judge's sheet: leaf marks keyed by code -> normal + bonus - deduction."""
    return RubricSheet(root).total(marks)
