"""The indicator tree of an import: parents, cycles, and points that must add up.

The points rule is scoring.rubric's (children add up to their parent; bonus and deduction
children of a normal node sit outside its total); this module only says which row is off.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from evaluation.imports.indicators import FULL_MARKS, IndicatorRow
from evaluation.imports.model import N_, ImportProblem, ParsedImport
from scoring.rubric import Indicator, rubric_problems

SEPARATORS = ".-_/、"


def arrange_tree(
    parsed: ParsedImport, rows: list[IndicatorRow], written: set[str]
) -> list[IndicatorRow]:
    """Rows with their parent codes resolved, parents first, in depth-first order."""
    before = len(parsed.problems)
    if "parent_code" in parsed.columns:
        _check_parents(parsed, rows, written)
    else:
        rows = _derive_parents(parsed, rows)
    ordered = _depth_first(parsed, rows)
    # Sums are only meaningful over a whole tree: with rows missing they would mislead.
    if len(parsed.problems) == before:
        _check_points(parsed, ordered)
    return ordered


def _check_parents(parsed: ParsedImport, rows: list[IndicatorRow], written: set[str]) -> None:
    for row in rows:
        if row.parent_code == row.code:
            own = N_("上级编号不能是本指标自己的编号。")
            parsed.problems.append(parsed.cell("parent_code", row.row, own))
        elif row.parent_code and row.parent_code not in written:
            parsed.problems.append(
                parsed.cell(
                    "parent_code",
                    row.row,
                    N_("上级编号“%(code)s”在本表中找不到。"),
                    code=row.parent_code,
                )
            )


def _derive_parents(parsed: ParsedImport, rows: list[IndicatorRow]) -> list[IndicatorRow]:
    codes = {row.code for row in rows}
    derived = [dataclasses.replace(row, parent_code=_code_parent(row.code, codes)) for row in rows]
    if any(row.parent_code for row in derived):
        derived_note = N_(
            "表中没有“上级编号”列：上级指标按编号层级推定（如 A1 的上级是 A，A1.1 的上级是 A1）。"
        )
        parsed.notes.append(ImportProblem(parsed.sheet, None, "", "", derived_note))
    return derived


def _code_parent(code: str, codes: set[str]) -> str:
    """The longest other code that `code` extends at a boundary: A1 -> A, A1.2 -> A1, A12 -> A."""
    for end in range(len(code) - 1, 0, -1):
        prefix, following = code[:end], code[end]
        at_boundary = following in SEPARATORS or prefix[-1].isdigit() != following.isdigit()
        if prefix in codes and at_boundary:
            return prefix
    return ""


def _depth_first(parsed: ParsedImport, rows: list[IndicatorRow]) -> list[IndicatorRow]:
    children: dict[str, list[IndicatorRow]] = {}
    codes = {row.code for row in rows}
    for row in rows:
        parent = row.parent_code if row.parent_code in codes else ""
        children.setdefault(parent, []).append(row)
    ordered: list[IndicatorRow] = []

    def visit(parent: str, depth: int) -> None:
        for row in children.get(parent, []):
            ordered.append(dataclasses.replace(row, depth=depth))
            visit(row.code, depth + 1)

    visit("", 0)
    placed = {row.code for row in ordered}
    for row in rows:
        # Unreachable from the top: its parents form a loop (a self-parent is reported already).
        if row.code not in placed and row.parent_code != row.code:
            parsed.problems.append(
                parsed.cell(
                    "parent_code",
                    row.row,
                    N_("上级编号形成循环，%(code)s 连不到一级指标。"),
                    code=row.code,
                )
            )
    return ordered


def _check_points(parsed: ParsedImport, rows: list[IndicatorRow]) -> None:
    kids: dict[str, list[IndicatorRow]] = {}
    for row in rows:
        kids.setdefault(row.parent_code, []).append(row)
    if rows and _off(Indicator("", "", FULL_MARKS), kids.get("", [])):
        parsed.problems.append(
            parsed.cell(
                "max_points",
                None,
                N_("一级常规指标合计 %(total)s 分，应为 100.00 分。"),
                total=_counted_total(IndicatorRow(0, "", "", FULL_MARKS), kids.get("", [])),
            )
        )
    for row in rows:
        node = Indicator(row.code, row.name, row.max_points, row.kind)
        if row.code in kids and _off(node, kids[row.code]):
            parsed.problems.append(
                parsed.cell(
                    "max_points",
                    row.row,
                    N_("%(code)s %(name)s：下级指标合计 %(total)s 分，应为 %(max)s 分。"),
                    code=row.code,
                    name=row.name,
                    max=row.max_points,
                    total=_counted_total(row, kids[row.code]),
                )
            )


def _off(node: Indicator, children: list[IndicatorRow]) -> bool:
    """scoring.rubric's verdict on one node and its direct children."""
    leaves = tuple(Indicator(c.code, c.name, c.max_points, c.kind) for c in children)
    return bool(rubric_problems(dataclasses.replace(node, children=leaves)))


def _counted_total(node: IndicatorRow, children: list[IndicatorRow]) -> str:
    # For the message only (the verdict is the rubric's): the children that count toward it.
    counted = [c.max_points for c in children if c.kind in ("normal", node.kind)]
    return f"{sum(counted, Decimal(0)):.2f}"
