"""Judges and review representatives (评委、评议代表) of a campaign.

所属单位 names the agency a judge belongs to (the judge is recused when it is on stage);
whether it names one of the organization's agencies is checked against the database by
`evaluation.services.imports`, which names the cell when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.imports.cells import chinese_name, name_key
from evaluation.imports.header import Column
from evaluation.imports.model import N_, ParsedImport
from evaluation.imports.rows import merge_duplicates, one_of, text_cell
from evaluation.services.judges import JUDGE_GROUPS

COLUMNS = (
    Column("name", ("姓名", "评委姓名", "名字", "name"), required=True),
    Column("group", ("类别", "评委类别", "身份类别", "category"), required=True),
    Column("title", ("职务/身份", "职务", "身份", "职务职称", "title")),
    Column("affiliation", ("所属单位", "回避单位", "affiliation")),
)
# 人大代表 may be written 人大, 政协委员 政协: unambiguous short forms are accepted.
GROUPS = {
    **{group: group for group in JUDGE_GROUPS},
    **{group.removesuffix("代表").removesuffix("委员"): group for group in JUDGE_GROUPS},
}


@dataclass(frozen=True)
class JudgeRow:
    row: int
    name: str
    group_name: str
    title: str = ""
    affiliation: str = ""


def judge_row(parsed: ParsedImport, number: int, cells: dict) -> JudgeRow | None:
    name = text_cell(parsed, number, cells, "name", 50, required=True)
    group = one_of(parsed, number, "group", cells.get("group"), GROUPS, JUDGE_GROUPS)
    title = text_cell(parsed, number, cells, "title", 100)
    affiliation = text_cell(parsed, number, cells, "affiliation", 100, chinese_name)
    if None in (name, group, title, affiliation):
        return None
    return JudgeRow(number, name, group, title, affiliation)


def finish_judges(parsed: ParsedImport, rows: list[JudgeRow], _raw_rows: list) -> list[JudgeRow]:
    conflict = N_(
        "评委“%(name)s”在第 %(first)s 行和第 %(second)s 行各出现一次，内容不同，"
        "无法确定以哪一行为准；同名的两位评委请在姓名后加以区分。"
    )
    return merge_duplicates(
        parsed, rows, lambda r: name_key(r.name), lambda r: r.name, "name", conflict
    )
