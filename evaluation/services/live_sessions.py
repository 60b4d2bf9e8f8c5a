"""Preparing a live session (场次): its slots (run-of-show order), seats and access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from evaluation.models import (
    AccessToken,
    Indicator,
    Judge,
    LiveSeat,
    LiveSession,
    LiveSlot,
    PanelMember,
    Stage,
    StageKind,
    TokenKind,
)
from evaluation.models.base import utcnow
from evaluation.security_log import security_event
from evaluation.services.errors import ValidationFailed
from evaluation.services.tokens import (
    IssuedToken,
    code_digest,
    issue_token,
    new_short_code,
    normalize_code,
)


def token_scope(session_id: int) -> str:
    """Tokens of one session admit to that session only."""
    return f"live:{session_id}"


def create_session(
    db: Session,
    stage: Stage,
    title: str,
    agency_ids: list[int],
    judge_ids: list[int],
    chief_judge_id: int | None = None,
    **settings,
) -> LiveSession:
    """A session with one slot per agency (in the given order) and one seat per judge; the
    chief judge's seat gives the second approval when a mark is voided."""
    if stage.kind != StageKind.ONSITE_REVIEW:
        raise ValidationFailed({"stage_id": _("场次只能属于现场评议阶段。")})
    live = LiveSession(stage_id=stage.id, title=title, **settings)
    _check_sheet(db, stage, live)
    db.add(live)
    db.flush()
    db.add_all(
        LiveSlot(session_id=live.id, agency_id=agency_id, position=position)
        for position, agency_id in enumerate(agency_ids)
    )
    db.add_all(
        LiveSeat(
            session_id=live.id,
            judge_id=judge_id,
            seat_no=number,
            is_chief=judge_id == chief_judge_id,
        )
        for number, judge_id in enumerate(judge_ids, start=1)
    )
    db.commit()
    return live


def _check_sheet(db: Session, stage: Stage, live: LiveSession) -> None:
    """A per-indicator sheet must be an indicator of this campaign with a consistent subtree."""
    if live.sheet_indicator_id is None:
        return
    from live.sheets import sheet_problem

    indicator = db.get(Indicator, live.sheet_indicator_id)
    if indicator is None or indicator.campaign_id != stage.campaign_id:
        raise ValidationFailed({"sheet_indicator_id": _("评分指标不属于本次评议活动。")})
    problem = sheet_problem(db, live)
    if problem:
        raise ValidationFailed({"sheet_indicator_id": problem})


def rehearsal_for(db: Session, live: LiveSession, reset: bool = False) -> LiveSession:
    """The session's rehearsal (彩排): the same run-of-show and panel on a channel of its own,
    created on first use. Its marks are never scores. `reset` starts the rehearsal over:
    its marks are removed and every slot waits again."""
    if live.rehearsal:
        raise ValidationFailed({"session": _("彩排场次不能再建彩排。")})
    rehearsal = db.exec(select(LiveSession).where(LiveSession.rehearsal_of_id == live.id)).first()
    if rehearsal is not None and reset:
        db.delete(rehearsal)  # slots, seats, submissions and votes go with it (CASCADE)
        db.flush()
        rehearsal = None
    if rehearsal is not None:
        return rehearsal
    slots = db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id)
                    .order_by(LiveSlot.position)).all()
    seats = db.exec(select(LiveSeat).where(LiveSeat.session_id == live.id)
                    .order_by(LiveSeat.seat_no)).all()
    rehearsal = LiveSession(
        stage_id=live.stage_id, title=_("%(title)s（彩排）", title=live.title)[:100],
        venue=live.venue, starts_at=live.starts_at, broadcast_mode=live.broadcast_mode,
        score_max=live.score_max, score_step=live.score_step, drop_high=live.drop_high,
        drop_low=live.drop_low, sheet_indicator_id=live.sheet_indicator_id,
        rehearsal_of_id=live.id,
    )
    db.add(rehearsal)
    db.flush()
    durations = ("report_seconds", "showcase_seconds", "scoring_seconds", "summary_seconds")
    db.add_all(
        LiveSlot(session_id=rehearsal.id, agency_id=slot.agency_id, position=slot.position,
                 **{name: getattr(slot, name) for name in durations})
        for slot in slots
    )
    db.add_all(
        LiveSeat(session_id=rehearsal.id, judge_id=seat.judge_id, seat_no=seat.seat_no,
                 is_chief=seat.is_chief)
        for seat in seats
    )
    db.commit()
    return rehearsal


def issue_seat_tokens(
    db: Session, live: LiveSession, valid_for: timedelta = timedelta(days=2)
) -> dict[int, IssuedToken]:
    """A token per judge (QR code + short code), keyed by seat number."""
    stage = db.get(Stage, live.stage_id)
    issued = {}
    seats = db.exec(
        select(LiveSeat).where(LiveSeat.session_id == live.id).order_by(LiveSeat.seat_no)
    )
    for seat in seats:
        judge = db.get(Judge, seat.judge_id)
        issued[seat.seat_no] = issue_token(
            db,
            kind=TokenKind.JUDGE,
            campaign_id=stage.campaign_id,
            scope=token_scope(live.id),
            judge_id=judge.id,
            valid_for=valid_for,
        )
    db.commit()
    return issued


def issue_device_token(
    db: Session, live: LiveSession, kind: TokenKind, valid_for: timedelta = timedelta(days=2)
) -> IssuedToken:
    """A control (director console) or overlay (graphics) token for this session."""
    stage = db.get(Stage, live.stage_id)
    issued = issue_token(
        db,
        kind=kind,
        campaign_id=stage.campaign_id,
        scope=token_scope(live.id),
        valid_for=valid_for,
    )
    db.commit()
    return issued


def revoke_session_tokens(db: Session, live: LiveSession) -> int:
    """End every token of this session (lost tablet, new show day); returns how many."""
    tokens = db.exec(
        select(AccessToken).where(
            AccessToken.scope == token_scope(live.id), AccessToken.revoked_at.is_(None)
        )
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
        db.add(token)
    db.commit()
    security_event("tokens_revoked", scope=token_scope(live.id), count=len(tokens))
    return len(tokens)


@dataclass(frozen=True)
class SessionLinks:
    """What the organizer hands out: one console, one overlay and one tablet link per seat."""

    control: IssuedToken
    overlay: IssuedToken
    seats: dict[int, IssuedToken]


def issue_session_links(db: Session, live: LiveSession) -> SessionLinks:
    """Fresh tokens for everyone (earlier ones are revoked), e.g. for the show day."""
    revoke_session_tokens(db, live)
    return SessionLinks(
        control=issue_device_token(db, live, TokenKind.CONTROL),
        overlay=issue_device_token(db, live, TokenKind.OVERLAY),
        seats=issue_seat_tokens(db, live),
    )


def issue_panel_codes(db: Session, live: LiveSession, count: int) -> list[tuple[int, str]]:
    """`count` more audience-panel members, each with a one-time code: (number, code).

    Only digests are stored: print or hand out the codes now; they cannot be shown again.
    """
    if not 1 <= count <= 1000:
        raise ValidationFailed({"count": _("每次可生成 1 到 1000 个评审团码。")})
    start = (
        db.exec(select(func.max(PanelMember.number)).where(PanelMember.session_id == live.id)).one()
        or 0
    )
    issued = []
    for number in range(start + 1, start + count + 1):
        code = new_short_code()
        db.add(PanelMember(session_id=live.id, number=number, code_digest=code_digest(code)))
        issued.append((number, code))
    db.commit()
    return issued


def find_panel_member(db: Session, code: str) -> PanelMember | None:
    return db.exec(
        select(PanelMember).where(PanelMember.code_digest == code_digest(normalize_code(code)))
    ).first()
