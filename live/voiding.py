"""Voiding a mark takes two people: the director asks (with a reason), the chief judge
approves or rejects on their tablet. The mark is kept, marked voided; the seat may then
send a new one. Every step is audited (the rows' own changes, through the audit hook)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.audit import current_actor
from evaluation.models import (
    LiveSeat,
    LiveSession,
    LiveSheetLine,
    LiveSubmission,
    Score,
    ScoreStatus,
    Segment,
    VoidDecision,
    VoidRequest,
)
from evaluation.models.base import utcnow
from live.errors import LiveRefusal
from live.identity import Identity
from live.operations import bump_revision, current_slot, valid_submission
from live.payloads import DirectorCommand, VoidDecisionPayload
from live.writes import writer_lock

# Once the marks were on air, the result stands: a correction is a matter for the record.
VOIDABLE_IN = {Segment.SCORING, Segment.CLOSED}


def request_void(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    """Director: ask to void the mark of `seat_no` for the agency on stage."""
    reason = (command.reason or "").strip()
    if not reason:
        raise LiveRefusal("reason_required", _("作废评分须填写原因。"), "reason")
    slot = current_slot(db, live)
    if slot is None or slot.segment not in VOIDABLE_IN:
        raise LiveRefusal("not_voidable", _("只能在亮分之前作废评分。"))
    seat = db.exec(select(LiveSeat).where(LiveSeat.session_id == live.id,
                                          LiveSeat.seat_no == command.seat_no)).first()
    submission = valid_submission(db, slot.id, seat.id) if seat else None
    if submission is None:
        raise LiveRefusal("no_mark", _("该席位没有可作废的评分。"), "seat_no")
    if _pending_for(db, submission.id):
        raise LiveRefusal("void_pending", _("该评分已有待审批的作废申请。"), "seat_no")
    db.add(VoidRequest(session_id=live.id, submission_id=submission.id, reason=reason,
                       requested_by=current_actor()))


def _pending_for(db: Session, submission_id: int) -> VoidRequest | None:
    return db.exec(select(VoidRequest).where(VoidRequest.submission_id == submission_id,
                                             VoidRequest.decision == VoidDecision.PENDING)).first()


def decide_void(db: Session, who: Identity, payload: VoidDecisionPayload) -> dict:
    """Chief judge: approve (the mark is voided) or reject a pending request."""
    if not who.is_chief:
        raise LiveRefusal("forbidden", _("只有评委会主任可以审批作废申请。"))
    with writer_lock(db):
        request = db.get(VoidRequest, payload.request_id)
        if request is None or request.session_id != who.session_id:
            raise LiveRefusal("unknown_request", _("没有这个作废申请。"), "request_id")
        if request.decision != VoidDecision.PENDING:
            raise LiveRefusal("already_decided", _("该申请已经处理。"), "request_id")
        request.decision = VoidDecision.APPROVED if payload.approve else VoidDecision.REJECTED
        request.decided_by, request.decided_at = who.actor, utcnow()
        db.add(request)
        if payload.approve:
            _void(db, request, who.actor)
        revision = bump_revision(db, who.session_id)
        db.commit()
    return {"ok": True, "revision": revision, "decision": request.decision.value}


def _void(db: Session, request: VoidRequest, approver: str) -> None:
    submission = db.get(LiveSubmission, request.submission_id)
    submission.status = ScoreStatus.VOIDED
    db.add(submission)
    # The sheet's scores: its total, or one per indicator line (a rehearsal's: none).
    line_scores = db.exec(select(LiveSheetLine.score_id).where(
        LiveSheetLine.submission_id == submission.id, LiveSheetLine.score_id.is_not(None)))
    for score_id in [submission.score_id, *line_scores]:
        if score_id is None:
            continue
        score = db.get(Score, score_id)
        score.status, score.void_reason = ScoreStatus.VOIDED, request.reason
        score.voided_by, score.voided_at = approver, utcnow()
        db.add(score)


def pending_requests(db: Session, session_id: int) -> list[dict]:
    """For the chief's tablet and the console: what waits for a decision."""
    rows = db.exec(select(VoidRequest, LiveSubmission, LiveSeat)
                   .join(LiveSubmission, LiveSubmission.id == VoidRequest.submission_id)
                   .join(LiveSeat, LiveSeat.id == LiveSubmission.seat_id)
                   .where(VoidRequest.session_id == session_id,
                          VoidRequest.decision == VoidDecision.PENDING)
                   .order_by(VoidRequest.id)).all()
    return [{"id": request.id, "seat_no": seat.seat_no, "slot_id": submission.slot_id,
             "reason": request.reason} for request, submission, seat in rows]
