"""The shapes a parse produces: problems that name their cell, and the parse result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown (the web page)."""
    return message


@dataclass(frozen=True)
class ImportProblem:
    """A rule broken (or, as a note, a decision taken) at a place in the workbook.

    `rule` is a Chinese msgid with %(name)s placeholders filled from `params`, so that the
    page can show it in the reader's language; `row` is the Excel row number (None: the
    sheet or the workbook as a whole); `column` the column letter, `header` its heading.
    """

    sheet: str
    row: int | None
    column: str
    header: str
    rule: str
    params: dict = field(default_factory=dict, hash=False)

    def text(self) -> str:
        """The rule in the source language, e.g. for logs and tests."""
        return self.rule % self.params if self.params else self.rule

    def to_plain(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_plain(cls, plain: dict) -> ImportProblem:
        return cls(**plain)


def sort_by_place(found: list[ImportProblem]) -> None:
    """Workbook order, whichever check found each: the whole sheet first (row None), then
    by row, then by column (B before AA). The sort is stable, so one cell's problems keep
    the order they were found in. Every list shown to a user goes through here."""
    found.sort(key=lambda item: (item.row or 0, len(item.column), item.column))


@dataclass
class ParsedImport:
    kind: str
    sheet: str = ""
    header_row: int | None = None
    # key -> {"letter": "B", "header": "类别"}: lets later checks name a cell.
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    rows: list = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def cell(self, key: str, row: int | None, rule: str, **params) -> ImportProblem:
        """A problem at the cell of column `key` in Excel row `row`."""
        found = self.columns.get(key, {"letter": "", "header": ""})
        texts = {name: str(value) for name, value in params.items()}
        return ImportProblem(self.sheet, row, found["letter"], found["header"], rule, texts)

    def to_plain(self) -> dict:
        return {
            "kind": self.kind,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "columns": self.columns,
            "rows": [rows_to_plain(row) for row in self.rows],
            "problems": [p.to_plain() for p in self.problems],
            "notes": [n.to_plain() for n in self.notes],
        }


def rows_to_plain(row) -> dict:
    """A row dataclass as JSON-ready values: Decimals as exact strings, never floats."""
    return {
        key: str(value) if isinstance(value, Decimal) else value
        for key, value in dataclasses.asdict(row).items()
    }


def row_from_plain(row_type, plain: dict):
    values = {}
    for item in dataclasses.fields(row_type):
        value = plain.get(item.name)
        if value is not None and "Decimal" in str(item.type):
            value = Decimal(value)
        values[item.name] = value
    return row_type(**values)
