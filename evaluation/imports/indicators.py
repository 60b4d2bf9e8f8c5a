"""The indicator system (指标体系): code, name, points, kind and the parent's code.

Without a 上级编号 column the tree comes from hierarchical codes (A1 under A, A1.1 under
A1); `evaluation.imports.tree` builds and checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from evaluation.imports.cells import clean_text, code_text, to_decimal
from evaluation.imports.header import Column
from evaluation.imports.model import N_, ParsedImport
from evaluation.imports.rows import merge_duplicates, one_of, text_cell
from evaluation.models.rubric import IndicatorKind
from evaluation.services.indicators import step_is_usable

COLUMNS = (
    Column("code", ("编号", "指标编号", "代码", "code"), required=True),
    Column("name", ("名称", "指标名称", "指标", "name"), required=True),
    Column("max_points", ("分值", "满分", "分数", "标准分", "points"), required=True),
    Column("kind", ("类型", "指标类型", "kind")),
    Column("parent_code", ("上级编号", "上级指标编号", "父级编号", "parent")),
    Column("step", ("评分步长", "步长", "step")),
)
KIND_NAMES = [kind.label for kind in IndicatorKind]
KINDS = {
    **{kind.label: kind.value for kind in IndicatorKind},
    "加分": IndicatorKind.BONUS.value,
    "扣分": IndicatorKind.DEDUCTION.value,
    **{kind.value: kind.value for kind in IndicatorKind},
}
FULL_MARKS = Decimal("100")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IndicatorRow:
    row: int
    code: str
    name: str
    max_points: Decimal
    kind: str = IndicatorKind.NORMAL.value  # an IndicatorKind value
    parent_code: str = ""
    step: Decimal | None = None
    depth: int = 0  # set once the tree is known; for the preview's indentation


def indicator_row(parsed: ParsedImport, number: int, cells: dict) -> IndicatorRow | None:
    code = text_cell(parsed, number, cells, "code", 20, code_text, required=True)
    name = text_cell(parsed, number, cells, "name", 200, required=True)
    points = _points(parsed, number, "max_points", cells.get("max_points"))
    kind = IndicatorKind.NORMAL.value
    if clean_text(cells.get("kind")):
        kind = one_of(parsed, number, "kind", cells.get("kind"), KINDS, KIND_NAMES)
    parent = text_cell(parsed, number, cells, "parent_code", 20, code_text)
    step = _step(parsed, number, cells.get("step"), points)
    if None in (code, name, points, kind, parent) or step is False:
        return None
    return IndicatorRow(number, code, name, points, kind, parent, step)


def _points(parsed: ParsedImport, number: int, key: str, raw: object) -> Decimal | None:
    if clean_text(raw) == "":
        parsed.problems.append(parsed.cell(key, number, N_("此项为必填项。")))
        return None
    points = to_decimal(raw)
    if points is None:
        parsed.problems.append(
            parsed.cell(key, number, N_("“%(value)s”不是数字。"), value=clean_text(raw))
        )
    elif points <= 0 or points > FULL_MARKS:
        parsed.problems.append(parsed.cell(key, number, N_("分值须大于 0 且不超过 100。")))
    elif points != points.quantize(CENT):
        parsed.problems.append(parsed.cell(key, number, N_("分值最多保留两位小数。")))
    else:
        return points.quantize(CENT)
    return None


def _step(parsed: ParsedImport, number: int, raw: object, points: Decimal | None):
    """The scoring step: None when blank, False (with a problem) when unusable."""
    if clean_text(raw) == "":
        return None
    step = to_decimal(raw)
    if step is None:
        parsed.problems.append(
            parsed.cell("step", number, N_("“%(value)s”不是数字。"), value=clean_text(raw))
        )
        return False
    # The step's own rule, in the indicator form's words (not the points' rule).
    if not step_is_usable(step):
        rule = N_("评分步长须大于 0 且不超过分值，最多两位小数，例如 0.5。")
        parsed.problems.append(parsed.cell("step", number, rule))
        return False
    if points is not None and points % step:
        parsed.problems.append(
            parsed.cell(
                "step",
                number,
                N_("分值 %(max)s 须是评分步长 %(step)s 的整数倍。"),
                max=points,
                step=step,
            )
        )
        return False
    return step


def finish_indicators(
    parsed: ParsedImport, rows: list[IndicatorRow], raw_rows: list
) -> list[IndicatorRow]:
    from evaluation.imports.tree import arrange_tree

    # Codes of rows refused for another reason still exist: their children are not orphans.
    written = {code_text(cells.get("code")) for _number, cells in raw_rows} - {""}
    conflict = N_("指标编号“%(name)s”在第 %(first)s 行和第 %(second)s 行各出现一次，内容不同。")
    kept = merge_duplicates(parsed, rows, lambda r: r.code, lambda r: r.code, "code", conflict)
    return arrange_tree(parsed, kept, written)
