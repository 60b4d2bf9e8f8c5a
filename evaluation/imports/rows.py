"""What every kind of import does with its rows: text limits and duplicate rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from evaluation.imports.cells import clean_text, written_text
from evaluation.imports.model import N_, ParsedImport


def text_cell(
    parsed: ParsedImport,
    number: int,
    cells: dict,
    key: str,
    limit: int,
    clean: Callable = written_text,
    required: bool = False,
) -> str | None:
    """The cleaned text, or None (with a problem) when missing but required, or too long."""
    text = clean(cells.get(key))
    if required and text == "":
        parsed.problems.append(parsed.cell(key, number, N_("此项为必填项。")))
        return None
    if len(text) > limit:
        parsed.problems.append(
            parsed.cell(
                key,
                number,
                N_("内容有 %(length)s 个字，最多 %(limit)s 个字。"),
                length=len(text),
                limit=limit,
            )
        )
        return None
    return text


def one_of(
    parsed: ParsedImport, number: int, key: str, raw: object, choices: dict[str, str], listed
) -> str | None:
    """The value `choices` maps the cleaned text to, or None with a problem naming `listed`."""
    text = clean_text(raw).replace(" ", "")
    if text in choices:
        return choices[text]
    parsed.problems.append(
        parsed.cell(
            key,
            number,
            N_("“%(value)s”不是可选的值，应为：%(choices)s。"),
            value=text,
            choices="、".join(listed),
        )
    )
    return None


def merge_duplicates(
    parsed: ParsedImport, rows: list, key_of: Callable, shown: Callable, column: str, conflict: str
) -> list:
    """Identical repeated rows are merged (a note); the same name with other data is an error.

    `conflict` names the clash (%(name)s, %(first)s, %(second)s: the two Excel rows).
    `row` is each dataclass's Excel row number, so it is left out of the comparison.
    """
    first_seen: dict[str, object] = {}
    kept = []
    for row in rows:
        earlier = first_seen.setdefault(key_of(row), row)
        if earlier is row:
            kept.append(row)
        elif _same(earlier, row):
            parsed.notes.append(
                parsed.cell(
                    column,
                    row.row,
                    N_("与第 %(first)s 行完全相同，已合并为一条。"),
                    first=earlier.row,
                )
            )
        else:
            parsed.problems.append(
                parsed.cell(
                    column, row.row, conflict, name=shown(row), first=earlier.row, second=row.row
                )
            )
    return kept


def _same(first, second) -> bool:
    return dataclasses.replace(first, row=0) == dataclasses.replace(second, row=0)
