"""Judge and panel diagnostics: leniency/severity, drop counts, far-off marks, Kendall's W.

All figures are derived from the PanelResults that produced the published numbers, so they
describe exactly the panels the public saw. The consensus a judge is compared with is the
panel's rounded value before any factor (`PanelResult.base`); a positive mean deviation means
lenient (above consensus), negative means severe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .marks import JudgeId
from .numbers import divide, exact_arithmetic, to_decimal
from .panel import PanelResult


@dataclass(frozen=True)
class JudgeDiagnostics:
    judge: JudgeId
    marks: int
    mean_deviation: Decimal | None    # + lenient, - severe
    dropped_high: int
    dropped_low: int
    beyond_tolerance: int             # marks further than tolerance from the others' mean


@dataclass(frozen=True)
class Concordance:
    w: Decimal | None                 # Kendall's W, 0 (no agreement) .. 1 (same order)
    judges: tuple[JudgeId, ...]       # judges who marked every agency (the ones used)
    agencies: int
    excluded_judges: tuple[JudgeId, ...]


@exact_arithmetic
def judge_diagnostics(results: Mapping[object, PanelResult], *, tolerance: object = 10,
                      places: int = 2) -> tuple[JudgeDiagnostics, ...]:
    """Per judge across `results` (e.g. one panel result per agency); judges in first-seen order."""
    tolerance = to_decimal(tolerance, what="容差 tolerance")
    tallies: dict[JudgeId, list] = {}  # judge -> [marks, deviation sum, high, low, beyond]
    for result in results.values():
        _tally_panel(result, tolerance, tallies)
    return tuple(
        JudgeDiagnostics(judge, count, divide(deviation, count, places) if count else None,
                         high, low, beyond)
        for judge, (count, deviation, high, low, beyond) in tallies.items()
    )


def _tally_panel(result: PanelResult, tolerance: Decimal, tallies: dict) -> None:
    given = [(judge, mark) for judge, mark in result.given() if mark is not None]
    total, others = sum(mark for _, mark in given), len(given) - 1
    fate = result.fate()
    for judge, mark in given:
        tally = tallies.setdefault(judge, [0, Decimal(0), 0, 0, 0])
        tally[0] += 1
        tally[1] += mark - result.base
        tally[2] += fate.get(judge) == "dropped_high"
        tally[3] += fate.get(judge) == "dropped_low"
        if others and abs(mark * others - (total - mark)) > tolerance * others:
            tally[4] += 1
    for judge in result.recused:
        tallies.setdefault(judge, [0, Decimal(0), 0, 0, 0])


@exact_arithmetic
def kendalls_w(marks_by_judge: Mapping[JudgeId, Mapping[object, object]],
               places: int = 4) -> Concordance:
    """Kendall's coefficient of concordance over agencies, with the correction for ties.

    W = 12·S / (m²(n³ − n) − m·ΣT), S = Σ(Rᵢ − R̄)², T = Σ(t³ − t) per judge over tie groups.
    Only judges who marked every agency count (W needs a complete table).
    """
    agencies = list(dict.fromkeys(a for row in marks_by_judge.values() for a in row))
    used = [j for j, row in marks_by_judge.items()
            if all(row.get(a) is not None for a in agencies)]
    excluded = tuple(j for j in marks_by_judge if j not in used)
    m, n = len(used), len(agencies)
    if m < 2 or n < 2:
        return Concordance(None, tuple(used), n, excluded)
    # ranks are kept doubled (2·rank) so ties' average ranks stay integers until the end
    doubled_sums = [0] * n
    ties = 0
    for judge in used:
        row = marks_by_judge[judge]
        values = [to_decimal(row[a], what=f"评委 {judge} 的分数") for a in agencies]
        doubled, judge_ties = _doubled_ranks(values)
        doubled_sums = [total + rank for total, rank in zip(doubled_sums, doubled, strict=True)]
        ties += judge_ties
    mean_sum = Fraction(m * (n + 1), 2)
    s = sum((Fraction(r, 2) - mean_sum) ** 2 for r in doubled_sums)
    denominator = m * m * (n**3 - n) - m * ties
    if denominator == 0:
        return Concordance(None, tuple(used), n, excluded)
    w = 12 * s / denominator
    return Concordance(divide(Decimal(w.numerator), Decimal(w.denominator), places),
                       tuple(used), n, excluded)


def panel_concordance(results: Mapping[object, PanelResult], places: int = 4) -> Concordance:
    """Kendall's W of one panel over agencies, read from its per-agency PanelResults."""
    table: dict[JudgeId, dict[object, Decimal]] = {}
    for agency, result in results.items():
        for judge, mark in result.given():
            table.setdefault(judge, {})[agency] = mark
    return kendalls_w(table, places)


def _doubled_ranks(values: list[Decimal]) -> tuple[list[int], int]:
    """2 × rank (highest mark = rank 1, ties share their average); and Σ(t³ − t)."""
    order = sorted(range(len(values)), key=values.__getitem__, reverse=True)
    doubled = [0] * len(values)
    ties, start = 0, 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            doubled[order[position]] = start + end + 2
        size = end - start + 1
        ties += size**3 - size
        start = end + 1
    return doubled, ties
