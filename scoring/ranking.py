"""Competition ranking (1, 2, 2, 4) within groups, with a named tie-break chain.

Agencies are ordered by total, then by each tie-breaker in turn (higher is better); agencies
still equal on every key share a rank and the next rank is skipped. A tie-breaker value may be
missing (None, e.g. a stage re-normalized away) unless it is needed: an agency still tied with
another of its group when that tie-breaker's turn comes must have it, or ranking fails naming
the agency and the tie-breaker. Output order: groups in
order of first appearance, then rank, then input order (so equal ranks list stably).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import ScoringError
from .numbers import exact_arithmetic, to_decimal

AgencyId = Any
TieBreakers = Sequence[tuple[str, Mapping[AgencyId, object]]]


@dataclass(frozen=True)
class Ranked:
    agency: AgencyId
    group: str | None
    rank: int
    total: Decimal
    keys: tuple[Decimal | None, ...]  # the tie-breaker values, in chain order (None: not needed)
    decided_by: str | None = None    # the tie-breaker that separated it from equal totals
    shared: bool = False             # still tied after the whole chain


@exact_arithmetic
def rank(totals: Mapping[AgencyId, object], *, tie_breakers: TieBreakers = (),
         groups: Mapping[AgencyId, str] | None = None) -> tuple[Ranked, ...]:
    """Rank `totals` (higher is better) within `groups`; see the module docstring."""
    keys = {agency: _keys(agency, total, tie_breakers) for agency, total in totals.items()}
    by_group: dict[str | None, list[AgencyId]] = {}
    for agency in totals:
        by_group.setdefault(_group_of(agency, groups), []).append(agency)
    names = [name for name, _ in tie_breakers]
    ranked: list[Ranked] = []
    for group, members in by_group.items():
        _check_needed_keys(members, keys, names)
        ranked.extend(_rank_group(group, members, keys, names))
    return tuple(ranked)


def _group_of(agency: AgencyId, groups: Mapping[AgencyId, str] | None) -> str | None:
    if groups is None:
        return None
    if agency not in groups:
        raise ScoringError(f"单位 {agency} 未分组")
    return groups[agency]


def _keys(agency: AgencyId, total: object, tie_breakers: TieBreakers) -> tuple:
    values = [to_decimal(total, what=f"单位 {agency} 总分")]
    for name, mapping in tie_breakers:
        value = mapping.get(agency)
        values.append(None if value is None else to_decimal(value, what=f"单位 {agency} 的 {name}"))
    return tuple(values)


def _check_needed_keys(members: list, keys: dict, names: list[str]) -> None:
    """Refuse a missing tie-breaker value where it would decide a tie (never compare None)."""
    for level, name in enumerate(names, start=1):
        tied = Counter(keys[agency][:level] for agency in members)
        for agency in members:
            if keys[agency][level] is None and tied[keys[agency][:level]] > 1:
                raise ScoringError(f"单位 {agency} 缺少并列决胜项 {name} 的得分（与同组单位同分，"
                                   "需要此项决出名次）")


def _rank_group(group, members, keys, names) -> list[Ranked]:
    # sorted() is stable, so agencies with equal keys stay in input order.
    ordered = sorted(members, key=keys.__getitem__, reverse=True)
    by_total: dict[Decimal, list[AgencyId]] = {}
    for agency in ordered:
        by_total.setdefault(keys[agency][0], []).append(agency)
    ranked, previous = [], None
    for position, agency in enumerate(ordered):
        same = previous is not None and keys[previous.agency] == keys[agency]
        equals = by_total[keys[agency][0]]
        ranked.append(previous := Ranked(
            agency, group, previous.rank if same else position + 1, keys[agency][0],
            keys[agency][1:], _decided_by(agency, equals, keys, names),
            sum(keys[other] == keys[agency] for other in equals) > 1))
    return ranked


def _decided_by(agency, equal_totals, keys, names) -> str | None:
    """Name of the deepest tie-breaker needed to order this agency among equal totals."""
    mine, depth = keys[agency], 0
    for other in equal_totals:
        theirs = keys[other]
        if theirs != mine:
            depth = max(depth, next(i for i in range(1, len(mine)) if theirs[i] != mine[i]))
    return names[depth - 1] if depth else None
