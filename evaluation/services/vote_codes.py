"""One-time vote codes (投票码) for the public review: issued in batches, stored as digests.

A code is 12 characters from a 31-letter alphabet without look-alikes (no 0/O, 1/I/L):
31^12 ≈ 2^59.4, so 59 bits of entropy. With a million codes issued, one guess has a
chance of about 1 in 8·10^11 of hitting any; under the per-IP, per-device and per-code rate
limits (tens of tries a minute) guessing is hopeless. The code is printed as XXXX-XXXX-XXXX.

Only a keyed digest is stored (tokens.code_digest), so codes are shown once, in the
response that issues them (a printable page, an XLSX or a CSV download): what the organizer
does not save then cannot be shown again, and a lost batch is revoked and replaced.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, cast, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import Stage, VoteCode
from evaluation.models.base import utcnow
from evaluation.raw_sql import Prepared
from evaluation.services.errors import ValidationFailed
from evaluation.services.tokens import SHORT_CODE_ALPHABET, code_digest
from evaluation.services.vote_code_format import (  # noqa: F401  (part of this module's API)
    MAX_CODE_LENGTH,
    MIN_IMPORTED_LENGTH,
    is_well_formed,
    normalize,
    printed,
)
from evaluation.spreadsheet_text import xlsx_cell

CODE_LENGTH = 12
ENTROPY_BITS = CODE_LENGTH * math.log2(len(SHORT_CODE_ALPHABET))  # ≈ 59.4
MAX_BATCH = 5000


@dataclass(frozen=True)
class IssuedCode:
    batch: int
    serial: int
    code: str  # printed form, XXXX-XXXX-XXXX


def new_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def next_batch(db: Session, stage: Stage) -> int:
    found = db.exec(select(func.max(VoteCode.batch)).where(VoteCode.stage_id == stage.id)).one()
    return (found or 0) + 1


def issue_batch(db: Session, stage: Stage, count: int, issued_by: str) -> list[IssuedCode]:
    """`count` new codes in a new batch, committed; the only time the codes exist in clear."""
    if not 1 <= count <= MAX_BATCH:
        raise ValidationFailed({"count": _("每批可生成 1 到 %(max)s 个投票码。", max=MAX_BATCH)})
    batch = next_batch(db, stage)
    issued = [IssuedCode(batch, serial, new_code()) for serial in range(1, count + 1)]
    db.add_all(
        VoteCode(
            stage_id=stage.id, batch=batch, serial=code.serial, code_digest=code_digest(code.code)
        )
        for code in issued
    )
    record(
        db,
        "vote_codes_issued",
        "stage",
        stage.id,
        {"batch": batch, "count": count, "by": issued_by},
    )
    db.commit()
    return [IssuedCode(c.batch, c.serial, printed(c.code)) for c in issued]


def find_code(db: Session, stage: Stage, typed: str) -> VoteCode | None:
    """The live code of this stage that `typed` is, or None (unknown, revoked, other stage)."""
    normalized = normalize(typed)
    if not is_well_formed(normalized):
        return None
    found = db.exec(select(VoteCode).where(VoteCode.code_digest == code_digest(normalized))).first()
    if found is None or found.stage_id != stage.id or found.revoked_at is not None:
        return None
    return found


def live_code_id(connection, stage_id: int, normalized: str) -> int | None:
    """The id of the live code of this stage `normalized` is, or None: `find_code` in one
    Core query of three columns (the public ballot's hot path loads no ORM object).
    `connection`: a Core connection or `raw_sql.reads`'s."""
    row = _CODE_BY_DIGEST.first(connection, {"digest": code_digest(normalized)})
    if row is None or row.stage_id != stage_id or row.revoked_at is not None:
        return None
    return row.id


# On the driver on SQLite, compiled once (evaluation/raw_sql.py): the ballot's hot path.
_CODE_BY_DIGEST = Prepared(
    sa_select(VoteCode.id, VoteCode.stage_id, VoteCode.revoked_at).where(
        VoteCode.code_digest == bindparam("digest")
    )
)


def revoke_batch(db: Session, stage: Stage, batch: int, revoked_by: str) -> int:
    """Revoke a batch (lost, misprinted): its codes stop working; ballots cast stay."""
    result = db.exec(
        update(VoteCode)
        .where(
            VoteCode.stage_id == stage.id, VoteCode.batch == batch, VoteCode.revoked_at.is_(None)
        )
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:
        raise ValidationFailed({"batch": _("第 %(batch)s 批没有可作废的投票码。", batch=batch)})
    record(
        db,
        "vote_codes_revoked",
        "stage",
        stage.id,
        {"batch": batch, "count": result.rowcount, "by": revoked_by},
    )
    db.commit()
    return result.rowcount


@dataclass(frozen=True)
class BatchSummary:
    batch: int
    count: int
    revoked: int
    imported: bool
    created_at: object


def batches(db: Session, stage: Stage) -> list[BatchSummary]:
    rows = db.exec(
        select(
            VoteCode.batch,
            func.count(),
            func.count(VoteCode.revoked_at),
            func.max(cast(VoteCode.imported, Integer)),
            func.min(VoteCode.created_at),
        )
        .where(VoteCode.stage_id == stage.id)
        .group_by(VoteCode.batch)
        .order_by(VoteCode.batch)
    ).all()
    return [BatchSummary(b, n, r, bool(i), at) for b, n, r, i, at in rows]


# --- the printable forms: what the organizer downloads right after issuing -------------

HEADINGS = ("批次", "序号", "投票码")


def codes_csv(codes: list[IssuedCode]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows((c.batch, c.serial, c.code) for c in codes)
    # UTF-8 with BOM: Excel on Windows opens it as UTF-8 instead of guessing GBK.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def codes_xlsx(codes: list[IssuedCode], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # 5,000 rows stay fast
    sheet = book.create_sheet("投票码")
    sheet.column_dimensions["A"].width = 8
    sheet.column_dimensions["B"].width = 8
    sheet.column_dimensions["C"].width = 20
    sheet.append([xlsx_cell(sheet, title)])
    sheet.append(list(HEADINGS))
    for code in codes:
        sheet.append([code.batch, code.serial, code.code])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
