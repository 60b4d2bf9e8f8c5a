"""Peer review (互评): agencies mark each other, never themselves; favoritism is flagged.

A rater *favors* a target when its mark exceeds the mean of the other raters' marks for that
target by more than `tolerance` (the excess is rounded half up to 2 places before comparing).
Two agencies that favor each other are a *reciprocity* pair;
`min_bloc` or more agencies that all favor each other pairwise are a *bloc* (maximal cliques
of the reciprocity graph). Flags are for organizers to look at; they never change a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from .numbers import divide, exact_arithmetic, to_decimal
from .panel import PanelResult, PanelRule
from .policy import policy_fingerprint
from .ranking import AgencyId

PeerMarks = Mapping[AgencyId, Mapping[AgencyId, object]]  # rater -> target -> mark


@dataclass(frozen=True)
class ReciprocityFlag:
    first: AgencyId
    second: AgencyId
    first_excess: Decimal     # first's mark for second minus the others' mean for second
    second_excess: Decimal


@dataclass(frozen=True)
class PeerResult:
    results: dict[AgencyId, PanelResult]
    self_marks: tuple[AgencyId, ...]        # raters whose self-mark was excluded
    reciprocity: tuple[ReciprocityFlag, ...]
    blocs: tuple[tuple[AgencyId, ...], ...]
    review: PeerReview | None = field(default=None, repr=False)   # the rule that produced it

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the PeerReview rule (see policy.py), like every other result."""
        return policy_fingerprint(self.review) if self.review is not None else ""


@dataclass(frozen=True)
class PeerReview:
    rule: PanelRule = field(default_factory=PanelRule)
    tolerance: Decimal = Decimal(10)
    min_bloc: int = 3
    policy: str = "peer_review"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tolerance", to_decimal(self.tolerance, what="互评容差"))

    @exact_arithmetic
    def apply(self, marks: PeerMarks) -> PeerResult:
        received = _received(marks)
        self_marks = tuple(r for r, row in marks.items() if row.get(r) is not None)
        results = {target: self.rule.apply(row) for target, row in received.items()}
        excess = self._excess(received)
        favors = {pair for pair, over in excess.items() if over > self.tolerance}
        flags = tuple(
            ReciprocityFlag(a, b, excess[(a, b)], excess[(b, a)])
            for a, b in _ordered_pairs(favors, list(marks) + list(received))
        )
        return PeerResult(results, self_marks, flags, self._blocs(flags), self)

    def _excess(self, received: dict) -> dict[tuple, Decimal]:
        """(rater, target) -> rater's mark minus the mean of the other raters' marks."""
        excess = {}
        for target, row in received.items():
            valid = {r: to_decimal(v, what=f"{r} 对 {target} 的互评分")
                     for r, v in row.items() if v is not None}
            total, others = sum(valid.values(), Decimal(0)), len(valid) - 1
            for rater, mark in valid.items():
                if others:
                    excess[(rater, target)] = divide(
                        mark * others - (total - mark), others, 2, what="互评偏高幅度")
        return excess

    def _blocs(self, flags: tuple[ReciprocityFlag, ...]) -> tuple[tuple, ...]:
        neighbours: dict = {}
        for flag in flags:
            neighbours.setdefault(flag.first, set()).add(flag.second)
            neighbours.setdefault(flag.second, set()).add(flag.first)
        order = list(neighbours)
        cliques: list[tuple] = []
        _bron_kerbosch([], list(order), [], neighbours, cliques)
        found = [tuple(sorted(c, key=order.index)) for c in cliques if len(c) >= self.min_bloc]
        return tuple(sorted(found, key=lambda c: [order.index(a) for a in c]))


def _received(marks: PeerMarks) -> dict[AgencyId, dict[AgencyId, object]]:
    """target -> {rater: mark}, self-marks removed."""
    received: dict[AgencyId, dict[AgencyId, object]] = {}
    for rater, row in marks.items():
        for target, mark in row.items():
            if target != rater:
                received.setdefault(target, {})[rater] = mark
    return received


def _ordered_pairs(favors: set, appearance: list) -> list[tuple]:
    position = {a: i for i, a in reversed(list(enumerate(appearance)))}
    agencies = sorted({a for pair in favors for a in pair}, key=position.__getitem__)
    return [(a, b) for a, b in combinations(agencies, 2) if (a, b) in favors and (b, a) in favors]


def _bron_kerbosch(clique: list, candidates: list, excluded: list, neighbours: dict,
                   found: list) -> None:
    if not candidates and not excluded:
        found.append(tuple(clique))
        return
    for vertex in list(candidates):
        near = neighbours[vertex]
        _bron_kerbosch(clique + [vertex], [c for c in candidates if c in near],
                       [x for x in excluded if x in near], neighbours, found)
        candidates.remove(vertex)
        excluded.append(vertex)
