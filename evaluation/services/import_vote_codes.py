"""Vote codes from a workbook: new codes of the campaign's public review, as one new batch.

A code already known (in this or any campaign) is refused at its row: two voters with one
code would be one voter. Only digests ever reach this module (see evaluation.imports.vote_codes).
"""

from __future__ import annotations

from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.imports.model import N_, ParsedImport
from evaluation.models import Campaign, IdentityMode, VoteCode
from evaluation.services.ballots import public_review_stage, settings_of
from evaluation.services.import_actions import CREATE
from evaluation.services.tokens import rekey
from evaluation.services.vote_codes import next_batch

CHUNK = 500  # digests per look-up: well under every database's parameter limit


def review_vote_codes(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    stage = public_review_stage(session, campaign.id)
    if stage is None:
        review.problems.append(parsed.cell("code", None, N_("本次评议没有设置社会评议阶段。")))
        return
    if settings_of(session, stage).identity_mode != IdentityMode.VOTE_CODE:
        review.problems.append(
            parsed.cell(
                "code",
                None,
                N_("社会评议当前使用手机短信验证，不使用投票码；请先在社会评议设置中改为投票码。"),
            )
        )
        return
    # The worker sends SHA-256 only; the key that makes it the stored form stays here.
    keyed = {row.row: rekey(row.code_digest) for row in parsed.rows}
    digests = list(keyed.values())
    known: set[str] = set()
    for start in range(0, len(digests), CHUNK):
        known.update(
            session.exec(
                select(VoteCode.code_digest).where(
                    VoteCode.code_digest.in_(digests[start : start + CHUNK])
                )
            ).all()
        )
    for row in parsed.rows:
        if keyed[row.row] in known:
            review.problems.append(
                parsed.cell(
                    "code",
                    row.row,
                    N_("投票码 %(masked)s 已经在系统中，不能重复导入。"),
                    masked=row.masked,
                )
            )
        else:
            review.actions[row.row] = CREATE


def write_vote_codes(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    stage = public_review_stage(session, campaign.id)
    batch = next_batch(session, stage)
    serials = {row.serial for row in parsed.rows if row.serial is not None}
    free = (n for n in range(1, len(parsed.rows) + len(serials) + 1) if n not in serials)
    for row in parsed.rows:
        session.add(
            VoteCode(
                stage_id=stage.id,
                batch=batch,
                serial=row.serial or next(free),
                code_digest=rekey(row.code_digest),
                imported=True,
            )
        )
    record(
        session,
        "vote_codes_imported",
        "stage",
        stage.id,
        {"batch": batch, "count": len(parsed.rows), "sheet": parsed.sheet},
    )
    session.flush()
