"""From workbook bytes to data rows keyed by column, with the limits and the progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from evaluation.imports.cells import is_blank
from evaluation.imports.header import Column, Header, find_header, missing_header_problem
from evaluation.imports.model import N_, ImportProblem
from evaluation.imports.workbook import open_workbook, sheet_rows

MAX_ROWS = 5000  # data rows; far more than any agency list or indicator system
PROGRESS_EVERY = 200  # rows between two progress reports

Progress = Callable[[int, int], None]  # (rows read, rows expected)


@dataclass
class Table:
    header: Header | None = None
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


def read_table(data: bytes, columns: tuple[Column, ...], progress: Progress | None) -> Table:
    """The data rows under the header; blank rows skipped. Raises on unreadable files."""
    workbook = open_workbook(data)
    try:
        header = find_header(workbook, columns)
        if header is None:
            names = [sheet.title for sheet in workbook.worksheets]
            return Table(problems=[missing_header_problem(columns, names)])
        table = Table(header, problems=list(header.problems))
        _read_rows(workbook[header.sheet], header, table, progress or _ignore)
        return table
    finally:
        workbook.close()


def _read_rows(worksheet, header: Header, table: Table, progress: Progress) -> None:
    expected = max((worksheet.max_row or 0) - header.row, 1)
    for count, (number, values) in enumerate(sheet_rows(worksheet, header.row + 1), start=1):
        if count % PROGRESS_EVERY == 0:
            progress(count, max(expected, count))
        cells = {
            key: values[found.index] if found.index < len(values) else None
            for key, found in header.columns.items()
        }
        # A row with nothing under our headings (a footnote off to the side) is blank too.
        if is_blank(tuple(cells.values())):
            continue
        if len(table.rows) == MAX_ROWS:
            table.problems.append(
                ImportProblem(
                    header.sheet,
                    number,
                    "",
                    "",
                    N_("数据超过 %(limit)s 行的上限，请分成几个文件导入。"),
                    {"limit": str(MAX_ROWS)},
                )
            )
            return
        table.rows.append((number, cells))
    progress(expected, expected)


def _ignore(_done: int, _total: int) -> None:
    pass
