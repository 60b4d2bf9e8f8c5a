"""Live write operations. Each commits (with its audit events and a new revision) before
anyone is told: callers broadcast only what is already stored."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import and_, exists, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import (
    ConflictDeclaration,
    Judge,
    LiveSeat,
    LiveSession,
    LiveSheetLine,
    LiveSlot,
    LiveSubmission,
    Score,
    ScoreStatus,
    Segment,
)
from evaluation.services.conflicts import judge_recused
from live import increments
from live.errors import LiveRefusal
from live.identity import Identity
from live.payloads import MarkSubmission
from live.sheets import checked_marks, load_sheet
from live.writes import seat_lock, writer_lock
from scoring import Indicator, ScoringError, check_mark


def bump_revision(db: Session, session_id: int) -> int:
    """Atomically take the next revision (no read-modify-write race between workers)."""
    return db.execute(
        text("UPDATE live_session SET revision = revision + 1 WHERE id = :id RETURNING revision"),
        {"id": session_id},
    ).scalar_one()


def current_slot(db: Session, live: LiveSession) -> LiveSlot | None:
    if live.current_position is None:
        return None
    return db.exec(
        select(LiveSlot).where(
            LiveSlot.session_id == live.id, LiveSlot.position == live.current_position
        )
    ).first()


def submit_mark(db: Session, who: Identity, payload: MarkSubmission) -> dict:
    """Store a judge's mark, or return the acknowledgement it already got."""
    with seat_lock(who.seat_id):
        earlier = _earlier_ack(db, who, payload.client_id)
        if earlier:
            return earlier
        with writer_lock(db):
            try:
                return _store_mark(db, who, payload)
            except IntegrityError:
                # Another worker stored the same sheet a moment ago: answer with its ack.
                db.rollback()
                return _earlier_ack(db, who, payload.client_id) or _already_submitted(
                    db, who, payload
                )


def valid_submission(db: Session, slot_id: int, seat_id: int) -> LiveSubmission | None:
    return db.exec(select(LiveSubmission).where(
        LiveSubmission.slot_id == slot_id, LiveSubmission.seat_id == seat_id,
        LiveSubmission.status == ScoreStatus.VALID)).first()


def _earlier_ack(db: Session, who: Identity, client_id: str) -> dict | None:
    found = db.exec(select(LiveSubmission).where(LiveSubmission.client_id == client_id)).first()
    if found is None:
        return None
    if found.seat_id != who.seat_id:
        raise LiveRefusal("client_id_taken", _("提交编号已被使用，请刷新页面。"), "client_id")
    return _ack(found, db.get(LiveSession, who.session_id).revision, duplicate=True)


def _ack(submission: LiveSubmission, revision: int, duplicate: bool = False) -> dict:
    return {
        "ok": True,
        "submission_id": submission.id,
        "score_id": submission.score_id,
        "slot_id": submission.slot_id,
        "revision": revision,
        "duplicate": duplicate,
    }


def _already_submitted(db: Session, who: Identity, payload: MarkSubmission) -> dict:
    existing = valid_submission(db, payload.slot_id, who.seat_id)
    raise LiveRefusal(
        "already_submitted",
        _("您已提交过本单位的评分。"),
        submission_id=existing.id if existing else None,
    )


def _store_mark(db: Session, who: Identity, payload: MarkSubmission) -> dict:
    live, slot, seat_taken = _open_slot_for(db, who, payload.slot_id)
    values = _checked_sheet(db, live, payload)
    if seat_taken:
        _already_submitted(db, who, payload)
    submission = LiveSubmission(
        client_id=payload.client_id, session_id=live.id, slot_id=slot.id, seat_id=who.seat_id
    )
    # Each flush costs an audit append (the chain's head read and an insert), on the judge's
    # ack path: rows are added so that as few flushes as possible give every row its id.
    if payload.total is not None:
        if live.rehearsal:
            submission.rehearsal_value = values[None]  # practice only: never a `Score`
        else:
            score = _score(live, slot, who, None, values[None], payload.client_id)
            db.add(score)
            db.flush()
            submission.score_id = score.id
        db.add(submission)
    else:
        db.add(submission)
        db.flush()  # its id names the sheet's scores
        lines = [LiveSheetLine(submission_id=submission.id, indicator_id=indicator_id)
                 for indicator_id in values]
        if live.rehearsal:
            for line in lines:
                line.rehearsal_value = values[line.indicator_id]
        else:
            scores = [_score(live, slot, who, line.indicator_id, values[line.indicator_id],
                             f"live-{submission.id}-{line.indicator_id}") for line in lines]
            db.add_all(scores)
            db.flush()
            for line, score in zip(lines, scores, strict=True):
                line.score_id = score.id
        db.add_all(lines)
    db.flush()
    revision = bump_revision(db, live.id)
    db.commit()  # durable before acknowledged
    if None in values:  # one total: the next publish may patch its facts with it
        increments.marked(live.id, revision, increments.Mark(
            slot.id, who.seat_id, submission.id, values[None]))
    return _ack(submission, revision)


def _score(live: LiveSession, slot: LiveSlot, who: Identity, indicator_id: int | None,
           value: Decimal, request_id: str) -> Score:
    return Score(stage_id=live.stage_id, agency_id=slot.agency_id, judge_id=who.judge_id,
                 indicator_id=indicator_id, value=value, client_request_id=request_id)


def _checked_sheet(db: Session, live: LiveSession,
                   payload: MarkSubmission) -> dict[int | None, Decimal]:
    """{indicator id: mark} of a per-indicator sheet, or {None: total}."""
    sheet = load_sheet(db, live)
    if sheet is None:
        if payload.total is None:
            raise LiveRefusal("total_expected", _("本场按总分评分，请填写总分。"), "total")
        return {None: _checked_value(live, payload.total)}
    if payload.marks is None:
        raise LiveRefusal("marks_expected", _("本场按指标评分，请逐项打分。"), "marks")
    return checked_marks(sheet, payload.marks)


def _open_slot_for(db: Session, who: Identity,
                   slot_id: int) -> tuple[LiveSession, LiveSlot, bool]:
    """(session, the slot on stage, whether this seat already has a valid sheet on it), or a
    refusal: not on stage, scoring closed, recused.

    One query for all of it (it was five: session, slot, judge, declared conflicts, existing
    sheet): each statement on the ack path is ORM and driver work the judge waits for, with
    the writer lock held. tests/live/test_ack_path.py counts them."""
    declared = exists().where(
        ConflictDeclaration.campaign_id == Judge.campaign_id,
        ConflictDeclaration.judge_id == Judge.id,
        ConflictDeclaration.agency_id == LiveSlot.agency_id,
    )
    taken = exists().where(
        LiveSubmission.slot_id == LiveSlot.id,
        LiveSubmission.seat_id == who.seat_id,
        LiveSubmission.status == ScoreStatus.VALID,
    )
    live, slot, judge, has_declared, seat_taken = db.exec(
        select(LiveSession, LiveSlot, Judge, declared, taken)
        .outerjoin(LiveSlot, and_(LiveSlot.session_id == LiveSession.id,
                                  LiveSlot.position == LiveSession.current_position))
        .join(Judge, Judge.id == who.judge_id)
        .where(LiveSession.id == who.session_id)
    ).one()
    if slot is None or slot.id != slot_id:
        raise LiveRefusal("not_on_stage", _("该单位当前不在评分环节。"), "slot_id")
    if slot.segment != Segment.SCORING:
        raise LiveRefusal("scoring_closed", _("评分尚未开始或已经结束。"))
    if judge_recused(judge, slot.agency_id,
                     {(judge.id, slot.agency_id)} if has_declared else set()):
        raise LiveRefusal("recused", _("您与该单位有关联，需回避，不能评分。"))
    return live, slot, bool(seat_taken)


@lru_cache(maxsize=16)
def _total_scale(score_max: Decimal, score_step: Decimal) -> Indicator:
    # Built once per scale, not per mark (on the ack path); its name is never shown: a bad
    # mark is refused with the message below, not check_mark's.
    return Indicator(code="total", name="total", max_points=score_max, step=score_step)


def _checked_value(live: LiveSession, total: str) -> Decimal:
    try:
        return check_mark(_total_scale(live.score_max, live.score_step), total)
    except ScoringError:
        raise LiveRefusal(
            "invalid_mark",
            _(
                "分数须在 0 到 %(max)s 之间，且为 %(step)s 的整数倍。",
                max=live.score_max,
                step=live.score_step,
            ),
            "total",
        ) from None


def bind_device(db: Session, who: Identity, device_id: str) -> None:
    """One device per seat: the first device holds it until the director releases it."""
    with writer_lock(db):
        seat = db.get(LiveSeat, who.seat_id)
        if seat.device_id == device_id:
            return
        if seat.device_id is not None:
            raise LiveRefusal("seat_taken", _("该席位已在另一台设备上登录，请联系导播释放席位。"))
        seat.device_id = device_id
        db.add(seat)
        db.commit()


def audit_note(db: Session, action: str, live: LiveSession, payload: dict) -> None:
    record(db, action, "live_session", live.id, payload)
