"""First-level indicator scores of every agency (the radar chart, the result sheet).

The figures come from `scoring.first_level_scores` (its module states the definition: the
mean over sheets of each sheet's sum of the leaves under a first-level indicator). Here the
raw marks are cut into sheets, and the indicator tree is read from the database when
composing or from a results version's frozen JSON afterwards, so a version's radar never
changes when the tree is edited later. Pure but for `first_level_tree`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from evaluation.services.results_inputs import scorer_key
from evaluation.services.results_marks import JUDGE, PEER, REVIEWER, RawMark
from scoring import FirstLevelIndex, Indicator, IndicatorScore, policy_from_plain, to_plain

SHEET_SOURCES = (JUDGE, REVIEWER, PEER)


def first_level_tree(db: Session, campaign_id: int) -> tuple[Indicator, ...]:
    """The campaign's first-level indicators (those without a parent), as scoring's nodes."""
    from evaluation.services.indicators import campaign_indicators, children_by_parent

    tree = children_by_parent(campaign_indicators(db, campaign_id))

    def node(row) -> Indicator:
        return Indicator(row.code, row.name, row.max_points, row.kind.value, row.step,
                         tuple(node(child) for child in tree.get(row.id, [])))

    return tuple(node(row) for row in tree.get(None, []))


def tree_to_plain(first_level: Iterable[Indicator]) -> list:
    return [to_plain(node) for node in first_level]


def tree_from_plain(plain: Iterable[Any]) -> tuple[Indicator, ...]:
    return tuple(policy_from_plain(node) for node in plain)


def indicator_sheets(rows: Iterable[RawMark]) -> dict[int, list[dict[str, Decimal]]]:
    """agency -> its sheets: one {leaf code: mark} per (stage, scorer) with per-indicator marks.

    A scorer who is recused from the agency, or whose total mark was given directly (a total
    wins over per-indicator marks, as in `scorer_totals`), has no sheet; nor does an agency's
    own peer mark (互评 never counts a self-mark).
    """
    sheets: dict[tuple[int, str, Any], dict[str, Decimal]] = {}
    no_sheet: set[tuple[int, str, Any]] = set()
    for row in rows:
        if row.source not in SHEET_SOURCES:
            continue
        key = (row.agency_id, row.stage, scorer_key(row))
        if row.value is None or not row.indicator or (
                row.source == PEER and row.scorer_id == row.agency_id):
            no_sheet.add(key)
            continue
        sheets.setdefault(key, {})[row.indicator] = row.value
    by_agency: dict[int, list[dict[str, Decimal]]] = {}
    for key in sorted(sheets, key=str):
        if key not in no_sheet:
            by_agency.setdefault(key[0], []).append(sheets[key])
    return by_agency


def indicator_scores(first_level: Iterable[Indicator], rows: Iterable[RawMark],
                     agency_ids: Iterable[int]) -> dict[int, tuple[IndicatorScore, ...]]:
    """agency -> its first-level indicator scores; agencies without sheets are left out."""
    index = FirstLevelIndex(tuple(first_level))
    sheets = indicator_sheets(rows)
    found = {agency: index.scores(sheets.get(agency, ())) for agency in agency_ids}
    return {agency: scores for agency, scores in found.items() if scores}


def scores_to_plain(scores: Iterable[IndicatorScore]) -> list[dict]:
    return [{"code": s.code, "name": s.name, "score": f"{s.score:f}",
             "max_points": f"{s.max_points:f}", "sheets": s.sheets} for s in scores]


def plain_differences(label: str, claimed: list | None,
                      recomputed: tuple[IndicatorScore, ...]) -> list[str]:
    """Differences between frozen indicator figures and recomputed ones (the bundle check)."""
    published: Mapping[str, str] = {e["code"]: e["score"] for e in claimed or ()}
    found = {s.code: f"{s.score:f}" for s in recomputed}
    return [f"{label}: indicator {code} published {published.get(code)}, "
            f"recomputed {found.get(code)}"
            for code in sorted(set(published) | set(found))
            if published.get(code) != found.get(code)]
