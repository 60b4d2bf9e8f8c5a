"""The audience panel (大众评审团): members vote 满意 / 基本满意 / 不满意 on their phones
during an agency's scoring window; the satisfaction index comes from scoring/ and is
revealed with the judges' result."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from evaluation.models import AudienceVote, LiveSession, LiveSlot, Satisfaction
from evaluation.services.live_sessions import find_panel_member
from live.errors import LiveRefusal
from live.identity import AUDIENCE, Identity
from live.operations import bump_revision, current_slot
from live.payloads import AudienceBallot
from live.writes import writer_lock
from scoring import THREE_LEVEL

# scoring/'s three-level scale names its levels in Chinese; the database stores codes.
SCALE_NAMES = {Satisfaction.SATISFIED: "满意", Satisfaction.BASIC: "基本满意",
               Satisfaction.DISSATISFIED: "不满意"}


def identify_member(db: Session, live: LiveSession, code: str | None) -> Identity | None:
    member = find_panel_member(db, code) if code else None
    if member is None or member.session_id != live.id:
        return None
    return Identity(AUDIENCE, live.id, f"panel:{member.number}", member_id=member.id)


def cast_vote(db: Session, who: Identity, ballot: AudienceBallot) -> dict:
    """Store one member's vote for the agency being scored; a resend gets the same ack."""
    with writer_lock(db):
        earlier = _earlier(db, who, ballot.client_id)
        if earlier:
            return earlier
        live = db.get(LiveSession, who.session_id)
        slot = current_slot(db, live)
        if slot is None or slot.id != ballot.slot_id or slot.segment.value != "scoring":
            raise LiveRefusal("voting_closed", _("现在不是投票时间。"), "slot_id")
        vote = AudienceVote(client_id=ballot.client_id, slot_id=slot.id, member_id=who.member_id,
                            level=Satisfaction(ballot.level))
        db.add(vote)
        try:
            db.flush()
        except IntegrityError:
            db.rollback()
            return _earlier(db, who, ballot.client_id) or _refuse_second(db, who, slot)
        revision = bump_revision(db, live.id)
        db.commit()
    return {"ok": True, "vote_id": vote.id, "revision": revision, "duplicate": False}


def _earlier(db: Session, who: Identity, client_id: str) -> dict | None:
    vote = db.exec(select(AudienceVote).where(AudienceVote.client_id == client_id)).first()
    if vote is None:
        return None
    if vote.member_id != who.member_id:
        raise LiveRefusal("client_id_taken", _("提交编号已被使用，请刷新页面。"), "client_id")
    revision = db.get(LiveSession, who.session_id).revision
    return {"ok": True, "vote_id": vote.id, "revision": revision, "duplicate": True}


def _refuse_second(db: Session, who: Identity, slot: LiveSlot):
    raise LiveRefusal("already_voted", _("您已对该单位投过票。"))


def vote_counts(db: Session, slot_id: int) -> dict[Satisfaction, int]:
    rows = db.exec(select(AudienceVote.level, func.count()).where(AudienceVote.slot_id == slot_id)
                   .group_by(AudienceVote.level)).all()
    return {level: count for level, count in rows}


def audience_result(db: Session, slot_id: int, revealed: bool) -> dict:
    """Before the reveal: how many voted. After: the index, the rate and the counts."""
    counts = vote_counts(db, slot_id)
    block = {"votes": sum(counts.values())}
    if revealed and block["votes"]:
        result = THREE_LEVEL.apply({SCALE_NAMES[level]: n for level, n in counts.items()})
        block.update(index=f"{result.value:.2f}", rate=f"{result.rate:.2f}",
                     below_minimum=result.below_minimum,
                     counts={level.value: counts.get(level, 0) for level in Satisfaction})
    return block


def my_votes(db: Session, who: Identity) -> list[int]:
    """Slots this member already voted on (their phone shows 已投票 after a reload)."""
    return list(db.exec(select(AudienceVote.slot_id)
                        .where(AudienceVote.member_id == who.member_id)).all())
