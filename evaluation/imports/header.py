"""Finding the header row: under merged title rows and blank rows, on whichever sheet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import islice

from evaluation.imports.cells import clean_text, column_letter
from evaluation.imports.model import N_, ImportProblem
from evaluation.imports.workbook import sheet_rows

# A header is looked for in the first rows only: title, subtitle, notes, then the header.
SCAN_ROWS = 30
# "单位名称（必填）", "分值(分)", "*姓名": the notes around a heading are not its name.
_NOTES = re.compile(r"\(.*?\)|\[.*?\]|[*:：]")


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]  # the first is the template's heading; the others are synonyms
    required: bool = False


@dataclass(frozen=True)
class FoundColumn:
    index: int
    letter: str
    header: str


@dataclass
class Header:
    sheet: str
    row: int
    columns: dict[str, FoundColumn] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)


def heading_key(value: object) -> str:
    return _NOTES.sub("", clean_text(value)).replace(" ", "").casefold()


def _match(values: tuple, columns: tuple[Column, ...]) -> dict[str, list[FoundColumn]]:
    by_name = {heading_key(name): column.key for column in columns for name in column.names}
    found: dict[str, list[FoundColumn]] = {}
    for index, value in enumerate(values):
        key = by_name.get(heading_key(value))
        if key:
            found.setdefault(key, []).append(
                FoundColumn(index, column_letter(index), clean_text(value))
            )
    return found


def find_header(workbook, columns: tuple[Column, ...]) -> Header | None:
    """The first row, on the first sheet that has one, holding every required heading."""
    required = {column.key for column in columns if column.required}
    for worksheet in workbook.worksheets:
        for number, values in islice(sheet_rows(worksheet), SCAN_ROWS):
            found = _match(values, columns)
            if required <= found.keys():
                return _header(worksheet.title, number, found, columns)
    return None


def _header(sheet: str, number: int, found: dict, columns: tuple[Column, ...]) -> Header:
    header = Header(sheet, number)
    for column in columns:
        matches = found.get(column.key, [])
        if len(matches) > 1:
            # Two columns that both say 名称: which one holds the names is a guess.
            header.problems.append(
                ImportProblem(
                    sheet,
                    number,
                    matches[1].letter,
                    matches[1].header,
                    N_(
                        "列 %(first)s「%(first_header)s」和列 %(second)s「%(second_header)s」"
                        "都可作为“%(name)s”，无法确定使用哪一列。"
                    ),
                    {
                        "first": matches[0].letter,
                        "first_header": matches[0].header,
                        "second": matches[1].letter,
                        "second_header": matches[1].header,
                        "name": column.names[0],
                    },
                )
            )
        if matches:
            header.columns[column.key] = matches[0]
    return header


def missing_header_problem(columns: tuple[Column, ...], sheet_names: list[str]) -> ImportProblem:
    required = "、".join(column.names[0] for column in columns if column.required)
    return ImportProblem(
        "",
        None,
        "",
        "",
        N_("在工作表 %(sheets)s 的前 %(rows)s 行中都没有找到表头：表头行须包含列 %(required)s。"),
        {"sheets": "、".join(sheet_names) or "-", "rows": str(SCAN_ROWS), "required": required},
    )
