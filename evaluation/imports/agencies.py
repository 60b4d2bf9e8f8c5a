"""Agencies (被评议单位): name, category, region and, optionally, group and order of play.

With a 分组 the agency is also enrolled in the campaign the import is made into; 顺序
orders the agencies within their group (blank: the order of the rows).
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.imports.cells import chinese_name, name_key, to_whole_number
from evaluation.imports.header import Column
from evaluation.imports.model import N_, ParsedImport
from evaluation.imports.rows import merge_duplicates, one_of, text_cell
from evaluation.models.campaign import AgencyLevel

COLUMNS = (
    Column("name", ("单位名称", "名称", "单位", "被评议单位", "name"), required=True),
    Column("level", ("类别", "单位类别", "类型", "category"), required=True),
    Column("region", ("地区", "所在地区", "区域", "region")),
    Column("group", ("分组", "组别", "group")),
    Column("position", ("顺序", "排序", "出场顺序", "order")),
)
LEVEL_NAMES = [level.label for level in AgencyLevel]
LEVELS = {
    **{level.label: level.value for level in AgencyLevel},
    **{level.label + "单位": level.value for level in AgencyLevel},
    **{level.value: level.value for level in AgencyLevel},
}


@dataclass(frozen=True)
class AgencyRow:
    row: int
    name: str
    level: str  # an AgencyLevel value
    region: str = ""
    group: str = ""
    position: int | None = None


def agency_row(parsed: ParsedImport, number: int, cells: dict) -> AgencyRow | None:
    name = text_cell(parsed, number, cells, "name", 100, chinese_name, required=True)
    level = one_of(parsed, number, "level", cells.get("level"), LEVELS, LEVEL_NAMES)
    region = text_cell(parsed, number, cells, "region", 50)
    group = text_cell(parsed, number, cells, "group", 50)
    position = _position(parsed, number, cells.get("position"), group)
    if None in (name, level, region, group) or position is False:
        return None
    return AgencyRow(number, name, level, region, group, position)


def _position(parsed: ParsedImport, number: int, raw: object, group: str | None):
    """The order within the group: None when blank, False (with a problem) when unusable."""
    if raw is None or str(raw).strip() == "":
        return None
    position = to_whole_number(raw)
    if position is None or position < 1:
        parsed.problems.append(
            parsed.cell("position", number, N_("顺序须是正整数，例如 1、2、3。"))
        )
        return False
    if group == "":
        parsed.problems.append(parsed.cell("position", number, N_("填写了顺序，但没有填写分组。")))
        return False
    return position


def finish_agencies(
    parsed: ParsedImport, rows: list[AgencyRow], _raw_rows: list
) -> list[AgencyRow]:
    conflict = N_(
        "单位“%(name)s”在第 %(first)s 行和第 %(second)s 行各出现一次，内容不同，"
        "无法确定以哪一行为准。"
    )
    kept = merge_duplicates(
        parsed, rows, lambda r: name_key(r.name), lambda r: r.name, "name", conflict
    )
    _check_positions(parsed, kept)
    return kept


def _check_positions(parsed: ParsedImport, rows: list[AgencyRow]) -> None:
    """Two agencies at the same place in one group: which goes first is a guess."""
    taken: dict[tuple[str, int], AgencyRow] = {}
    for row in rows:
        if row.position is None:
            continue
        earlier = taken.setdefault((row.group, row.position), row)
        if earlier is not row:
            parsed.problems.append(
                parsed.cell(
                    "position",
                    row.row,
                    N_(
                        "分组“%(group)s”中第 %(first)s 行和第 %(second)s 行的顺序"
                        "都是 %(position)s。"
                    ),
                    group=row.group,
                    first=earlier.row,
                    second=row.row,
                    position=row.position,
                )
            )
