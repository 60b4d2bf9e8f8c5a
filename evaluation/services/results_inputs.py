"""Raw marks (flat rows) → `scoring.evaluate`'s input shapes, per the policy's stage rules.

Pure: no database, no Flask. Composing from the database and verifying a re-tally bundle both
go through `build_inputs`, so they read the marks identically. Per-indicator marks of one
scorer add up to that scorer's total through scoring (an exact sum, no rounding).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from evaluation.services.results_marks import (
    JUDGE,
    PEER,
    REVIEWER,
    SATISFACTION,
    SELF,
    RawMark,
)
from scoring import GroupWeighting, PanelRule, PeerReview, SatisfactionScale, ScoringPolicy

# A sheet's total is the exact sum of its indicator marks, deductions subtracted (the way
# scoring's RubricSheet totals a judge's sheet; each mark was checked against its indicator
# when it was given).
SHEET_SUM = PanelRule(combine="sum", places=None)
DEDUCTION = "deduction"


def scorer_key(row: RawMark) -> Any:
    """Judges are keyed by their id (as the reports expect), peer raters by their agency's id;
    reviewers and self-assessing contacts by "U<user id>".
    """
    if row.source == JUDGE:
        return row.scorer_id
    if row.source == PEER:
        return row.scorer_id
    return f"U{row.scorer_id}"


def scorer_totals(rows: Iterable[RawMark]) -> dict[Any, tuple[str, Decimal | None]]:
    """One (group, total) per scorer; a total mark wins over per-indicator marks.

    A scorer whose marks are all set aside (recused) has the total None.
    """
    totals: dict[Any, Decimal | None] = {}
    sheets: dict[Any, list[Decimal]] = {}
    groups: dict[Any, str] = {}
    for row in rows:
        key = scorer_key(row)
        groups[key] = row.scorer_group
        if row.value is None:
            totals[key] = None  # recused
        elif row.indicator:
            signed = -row.value if row.indicator_kind == DEDUCTION else row.value
            sheets.setdefault(key, []).append(signed)
        else:
            totals.setdefault(key, row.value)
    for key, marks in sheets.items():
        totals.setdefault(key, SHEET_SUM.apply(marks).value)
    return {key: (groups[key], totals[key]) for key in sorted(totals, key=_in_order)}


def _in_order(key: Any) -> tuple[bool, str]:
    # Numeric order for ids, whatever their width: input order decides ties when dropping.
    return isinstance(key, str), str(key).rjust(12, "0")


def stage_input(rule: Any, rows: list[RawMark]) -> Any:
    """The data of one agency for one stage, shaped for `rule`; None when there is none."""
    if isinstance(rule, SatisfactionScale):
        counts: dict[str, int] = {}
        for row in rows:
            if row.source == SATISFACTION:
                counts[row.scorer_group] = counts.get(row.scorer_group, 0) + int(row.value)
        return counts or None
    marks = [row for row in rows if row.source in (JUDGE, REVIEWER, PEER, SELF)]
    totals = scorer_totals(marks)
    if not any(total is not None for _group, total in totals.values()):
        return None
    if isinstance(rule, GroupWeighting):
        grouped: dict[str, dict] = {}
        for key, (group, total) in totals.items():
            grouped.setdefault(group, {})[key] = total
        return grouped
    if isinstance(rule, PanelRule | PeerReview):
        return {key: total for key, (_group, total) in totals.items()}
    # A direct stage takes its one mark; several marks are the policy's error to name.
    values = [total for _group, total in totals.values() if total is not None]
    return values[0] if len(values) == 1 else {key: t for key, (_g, t) in totals.items()}


def build_inputs(rows: Iterable[RawMark], policy: ScoringPolicy,
                 agency_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{agency: {stage: data}} for every agency; a stage without marks is left out."""
    rules = dict(policy.stage_rules)
    scored = [spec.code for spec in policy.composition.stages]
    by_cell: dict[tuple[int, str], list[RawMark]] = {}
    for row in rows:
        by_cell.setdefault((row.agency_id, row.stage), []).append(row)
    inputs: dict[int, dict[str, Any]] = {}
    for agency in agency_ids:
        stages = {}
        for code in scored:
            data = stage_input(rules.get(code), by_cell.get((agency, code), []))
            if data is not None:
                stages[code] = data
        inputs[agency] = stages
    return inputs
