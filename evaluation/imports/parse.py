"""One entry point: `parse_workbook(kind, data)`. Any bytes in, a ParsedImport out.

A malformed upload yields a problem, never an exception (the importers are fuzzed):
openpyxl raises many kinds of errors on broken files, so the reading is wrapped whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from defusedxml import DefusedXmlException

from evaluation.imports import agencies, indicators, judges, vote_codes
from evaluation.imports.header import Column
from evaluation.imports.model import (
    N_,
    ImportProblem,
    ParsedImport,
    row_from_plain,
    sort_by_place,
)
from evaluation.imports.table import Progress, read_table
from evaluation.imports.workbook import UnreadableWorkbook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportKind:
    columns: tuple[Column, ...]
    row_type: type
    make_row: Callable  # (parsed, excel row, cells) -> row or None, appending problems
    finish: Callable  # (parsed, rows, raw rows) -> rows: duplicates, tree, cross-row rules


KINDS: dict[str, ImportKind] = {
    "agencies": ImportKind(
        agencies.COLUMNS, agencies.AgencyRow, agencies.agency_row, agencies.finish_agencies
    ),
    "judges": ImportKind(judges.COLUMNS, judges.JudgeRow, judges.judge_row, judges.finish_judges),
    "indicators": ImportKind(
        indicators.COLUMNS,
        indicators.IndicatorRow,
        indicators.indicator_row,
        indicators.finish_indicators,
    ),
    "vote_codes": ImportKind(
        vote_codes.COLUMNS,
        vote_codes.VoteCodeRow,
        vote_codes.vote_code_row,
        vote_codes.finish_vote_codes,
    ),
}


XML_ENTITIES_REFUSED = N_(
    "工作簿含有 XML 实体声明，出于安全原因不予读取。请在 Excel 或 WPS 中另存为 .xlsx 后再上传。"
)


def parse_workbook(kind: str, data: bytes, progress: Progress | None = None) -> ParsedImport:
    spec = KINDS[kind]
    parsed = ParsedImport(kind)
    try:
        table = read_table(data, spec.columns, progress)
    except UnreadableWorkbook as refused:
        parsed.problems.append(ImportProblem("", None, "", "", refused.rule, refused.params))
        return parsed
    except Exception as error:  # noqa: BLE001 - see the module docstring
        log.info("unreadable workbook", exc_info=True)
        unreadable = N_("无法读取该工作簿：文件已损坏，或不是有效的 Excel 文件。")
        if _entities_refused(error):
            unreadable = XML_ENTITIES_REFUSED
        parsed.problems.append(ImportProblem("", None, "", "", unreadable))
        return parsed
    parsed.problems.extend(table.problems)
    if table.header is None:
        return parsed
    parsed.sheet, parsed.header_row = table.header.sheet, table.header.row
    parsed.columns = {
        key: {"letter": found.letter, "header": found.header}
        for key, found in table.header.columns.items()
    }
    rows = [spec.make_row(parsed, number, cells) for number, cells in table.rows]
    parsed.rows = spec.finish(parsed, [row for row in rows if row is not None], table.rows)
    if not table.rows:
        parsed.problems.append(
            ImportProblem(parsed.sheet, None, "", "", N_("表头下面没有数据行。"))
        )
    sort_by_place(parsed.problems)
    sort_by_place(parsed.notes)
    return parsed


def _entities_refused(error: BaseException | None) -> bool:
    """Whether defusedxml refused an entity declaration somewhere down the chain.

    openpyxl parses sheets through defusedxml (a declared dependency): a DOCTYPE with
    entities (XXE, billion laughs) is refused, never expanded (ASVS V1.5.1); openpyxl wraps
    the refusal in a ValueError of its own. Excel and WPS never write entities."""
    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def parsed_from_plain(plain: dict) -> ParsedImport:
    row_type = KINDS[plain["kind"]].row_type
    return ParsedImport(
        kind=plain["kind"],
        sheet=plain["sheet"],
        header_row=plain["header_row"],
        columns=plain["columns"],
        rows=[row_from_plain(row_type, row) for row in plain["rows"]],
        problems=[ImportProblem.from_plain(p) for p in plain["problems"]],
        notes=[ImportProblem.from_plain(n) for n in plain["notes"]],
    )
