"""Vote codes (投票码) printed elsewhere (a print shop, another system), brought in from Excel.

The codes never leave this parse in clear: each row carries the code's SHA-256 digest and a
masked form for the preview (ABCD-****-**MN), so the job file the worker writes holds no code
that could vote. A code must be long and varied enough that guessing it is hopeless.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.imports.cells import clean_text, to_whole_number
from evaluation.imports.header import Column
from evaluation.imports.model import N_, ParsedImport
from evaluation.services.tokens import digest
from evaluation.services.vote_code_format import (
    MAX_CODE_LENGTH,
    MIN_DISTINCT,
    MIN_IMPORTED_LENGTH,
    masked,
    normalize,
)
from evaluation.url_converters import MAX_ID

# The column is a database INTEGER (32-bit on PostgreSQL): a larger serial passed the
# preview and failed the commit with an overflow.
MAX_SERIAL = MAX_ID

COLUMNS = (
    Column("code", ("投票码", "验证码", "评议码", "code"), required=True),
    Column("serial", ("序号", "编号", "serial")),
)


@dataclass(frozen=True)
class VoteCodeRow:
    row: int
    code_digest: str
    masked: str
    serial: int | None = None


def vote_code_row(parsed: ParsedImport, number: int, cells: dict) -> VoteCodeRow | None:
    code = normalize(clean_text(cells.get("code")))
    problem = _code_problem(code)
    if problem:
        rule, params = problem
        parsed.problems.append(parsed.cell("code", number, rule, **params))
        return None
    serial = None
    if clean_text(cells.get("serial")):
        serial = to_whole_number(cells.get("serial"))
        if serial is None or not 1 <= serial <= MAX_SERIAL:
            parsed.problems.append(
                parsed.cell(
                    "serial",
                    number,
                    N_("序号应为 1 到 %(max)s 之间的整数，此处为“%(value)s”。"),
                    max=MAX_SERIAL,
                    value=clean_text(cells.get("serial")),
                )
            )
            return None
    return VoteCodeRow(number, digest(code), masked(code), serial)


def _code_problem(code: str) -> tuple[str, dict] | None:
    if not code:
        return N_("此项为必填项。"), {}
    if not (code.isascii() and code.isalnum()):
        return N_("投票码只能由字母和数字组成（空格和横线会被忽略）。"), {}
    if not MIN_IMPORTED_LENGTH <= len(code) <= MAX_CODE_LENGTH:
        return (
            N_("投票码有 %(length)s 位，应为 %(min)s 到 %(max)s 位：太短的码容易被猜中。"),
            {"length": len(code), "min": MIN_IMPORTED_LENGTH, "max": MAX_CODE_LENGTH},
        )
    if len(set(code)) < MIN_DISTINCT:
        return (
            N_("投票码只用了 %(distinct)s 种字符，过于简单，容易被猜中（至少 %(min)s 种）。"),
            {"distinct": len(set(code)), "min": MIN_DISTINCT},
        )
    return None


def finish_vote_codes(parsed: ParsedImport, rows: list[VoteCodeRow], _raw) -> list[VoteCodeRow]:
    """A code twice is one voter printed twice; a serial twice is two cards with one number."""
    by_code: dict[str, int] = {}
    by_serial: dict[int, int] = {}
    kept = []
    for row in rows:
        first = by_code.setdefault(row.code_digest, row.row)
        if first != row.row:
            parsed.problems.append(
                parsed.cell(
                    "code",
                    row.row,
                    N_("与第 %(first)s 行的投票码相同：每个投票码只能有一张。"),
                    first=first,
                )
            )
            continue
        if row.serial is not None:
            earlier = by_serial.setdefault(row.serial, row.row)
            if earlier != row.row:
                parsed.problems.append(
                    parsed.cell(
                        "serial",
                        row.row,
                        N_("序号 %(serial)s 与第 %(first)s 行重复。"),
                        serial=row.serial,
                        first=earlier,
                    )
                )
                continue
        kept.append(row)
    return kept
