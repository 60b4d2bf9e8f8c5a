"""The live on-site review (现场评议): sessions, their run-of-show slots, judges' seats and
submitted sheets. The marks themselves are `Score` rows (the one source of truth)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import (
    N_,
    LabelledEnum,
    enum_column,
    foreign_key,
    partial_unique,
    utcnow,
)
from evaluation.models.judging import ScoreStatus


class BroadcastMode(LabelledEnum):
    LIVE = ("live", N_("直播"))
    RECORDED = ("recorded", N_("录播"))


class Graphic(LabelledEnum):
    """A full-screen graphic the director takes to air (the scoreboard follows the reveal)."""

    LEADERBOARD = ("leaderboard", N_("排行榜"))
    AUDIENCE = ("audience", N_("大众评审团结果"))


class Segment(LabelledEnum):
    """A slot's run-of-show, in order. Scoring is only open in SCORING."""

    WAITING = ("waiting", N_("等待上场"))
    REPORT = ("report", N_("履职汇报"))
    SHOWCASE = ("showcase", N_("现场展示"))
    SCORING = ("scoring", N_("现场评议"))
    CLOSED = ("closed", N_("评分结束"))
    REVEALED = ("revealed", N_("亮分"))
    SUMMARY = ("summary", N_("总结点评"))
    DONE = ("done", N_("已完成"))


class LiveSession(SQLModel, table=True):
    """A 场次 of the on-site stage. `revision` grows with every change clients must see."""

    __tablename__ = "live_session"
    __table_args__ = (
        UniqueConstraint("stage_id", "title"),
        CheckConstraint("score_max > 0", name="score_max_positive"),
        CheckConstraint("score_step > 0 AND score_step <= score_max", name="score_step_range"),
        CheckConstraint("drop_high >= 0 AND drop_low >= 0", name="drops_non_negative"),
        CheckConstraint("revision >= 0", name="revision_non_negative"),
        UniqueConstraint("rehearsal_of_id"),  # one rehearsal per session
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    title: str = Field(max_length=100)
    venue: str = Field(default="", max_length=100)
    starts_at: datetime | None = None
    broadcast_mode: BroadcastMode = Field(
        default=BroadcastMode.LIVE, sa_column=enum_column(BroadcastMode, name="broadcast_mode")
    )
    # Recorded shows: results stay off public pages until this moment.
    embargo_until: datetime | None = None
    # Each judge gives one total mark on this scale (e.g. 0–100 in steps of 0.5).
    score_max: Decimal = Field(default=Decimal("100"), max_digits=6, decimal_places=2)
    score_step: Decimal = Field(default=Decimal("0.5"), max_digits=4, decimal_places=2)
    drop_high: int = Field(default=1)
    drop_low: int = Field(default=1)
    # Per-indicator sheets: judges mark each child of this indicator (its max and step); the
    # sheet's total is their sum. None: one total mark on score_max / score_step.
    sheet_indicator_id: int | None = Field(
        default=None, sa_column=foreign_key("indicator.id", nullable=True)
    )
    # The slot on stage, by position (no foreign key: slots also point at their session).
    current_position: int | None = None
    # The graphic on air, if any: its overlay shows only while it is.
    on_air: Graphic | None = Field(
        default=None, sa_column=enum_column(Graphic, name="live_graphic", nullable=True)
    )
    # Set on a rehearsal (彩排) of that session: its own slots, seats, tokens and channel;
    # its marks are never scores.
    rehearsal_of_id: int | None = Field(
        default=None,
        sa_column=foreign_key("live_session.id", nullable=True, ondelete="CASCADE"),
    )
    revision: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def rehearsal(self) -> bool:
        return self.rehearsal_of_id is not None


class LiveSlot(SQLModel, table=True):
    """One agency's turn on stage."""

    __tablename__ = "live_slot"
    __table_args__ = (
        UniqueConstraint("session_id", "agency_id"),
        UniqueConstraint("session_id", "position"),
        CheckConstraint("position >= 0", name="position_positive"),
        CheckConstraint(
            "report_seconds > 0 AND showcase_seconds > 0 AND scoring_seconds > 0 "
            "AND summary_seconds > 0",
            name="durations_positive",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=foreign_key("live_session.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    position: int
    segment: Segment = Field(
        default=Segment.WAITING, sa_column=enum_column(Segment, name="live_segment")
    )
    report_seconds: int = Field(default=480)
    showcase_seconds: int = Field(default=300)
    scoring_seconds: int = Field(default=120)
    summary_seconds: int = Field(default=180)
    # Server-time timer: running when started_at is set; remaining is what was left at start.
    timer_started_at: datetime | None = None
    timer_remaining_ms: int = Field(default=0)


class LiveSeat(SQLModel, table=True):
    """A judge's seat in a session; one device at a time holds it."""

    __tablename__ = "live_seat"
    __table_args__ = (
        UniqueConstraint("session_id", "judge_id"),
        UniqueConstraint("session_id", "seat_no"),
        CheckConstraint("seat_no > 0", name="seat_no_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=foreign_key("live_session.id", ondelete="CASCADE"))
    judge_id: int = Field(sa_column=foreign_key("judge.id"))
    seat_no: int
    device_id: str | None = Field(default=None, max_length=64)
    # The chief judge (评委会主任) gives the second approval when a mark is voided.
    is_chief: bool = Field(default=False)


class LiveSubmission(SQLModel, table=True):
    """One judge's sheet for one slot, as the tablet sent it.

    `client_id` is generated by the tablet: a resend of the same sheet finds this row and
    gets the original acknowledgement instead of a second mark.
    """

    __tablename__ = "live_submission"
    __table_args__ = (
        # A real total is a `Score` row; a rehearsal's stays here and never becomes one.
        # Per-indicator sheets keep neither here: their marks are `LiveSheetLine`s.
        CheckConstraint(
            "score_id IS NULL OR rehearsal_value IS NULL", name="score_or_rehearsal"
        ),
        # One valid sheet per seat and slot; a voided one stays, and a new one may follow.
        partial_unique(
            "uq_live_submission_valid_seat", "slot_id", "seat_id", where="status = 'valid'"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    session_id: int = Field(sa_column=foreign_key("live_session.id", ondelete="CASCADE"))
    slot_id: int = Field(sa_column=foreign_key("live_slot.id", ondelete="CASCADE"))
    seat_id: int = Field(sa_column=foreign_key("live_seat.id", ondelete="CASCADE"))
    score_id: int | None = Field(default=None, sa_column=foreign_key("score.id", nullable=True))
    rehearsal_value: Decimal | None = Field(default=None, max_digits=7, decimal_places=2)
    status: ScoreStatus = Field(
        default=ScoreStatus.VALID,
        sa_column=enum_column(ScoreStatus, name="live_submission_status"),
    )
    created_at: datetime = Field(default_factory=utcnow)


class LiveSheetLine(SQLModel, table=True):
    """One indicator's mark on a per-indicator sheet: a `Score` row, or in a rehearsal only
    the value here."""

    __tablename__ = "live_sheet_line"
    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id"),
        CheckConstraint("score_id IS NULL OR rehearsal_value IS NULL", name="score_or_rehearsal"),
        CheckConstraint("score_id IS NOT NULL OR rehearsal_value IS NOT NULL", name="has_value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(
        sa_column=foreign_key("live_submission.id", ondelete="CASCADE")
    )
    indicator_id: int = Field(sa_column=foreign_key("indicator.id"))
    score_id: int | None = Field(default=None, sa_column=foreign_key("score.id", nullable=True))
    rehearsal_value: Decimal | None = Field(default=None, max_digits=7, decimal_places=2)


class VoidDecision(LabelledEnum):
    PENDING = ("pending", N_("待审批"))
    APPROVED = ("approved", N_("已同意"))
    REJECTED = ("rejected", N_("已驳回"))


class VoidRequest(SQLModel, table=True):
    """The director asks to void a mark; the chief judge approves or rejects (two people)."""

    __tablename__ = "void_request"
    __table_args__ = (
        partial_unique("uq_void_request_pending", "submission_id", where="decision = 'pending'"),
        CheckConstraint("decision = 'pending' OR decided_by IS NOT NULL", name="decided_by_whom"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=foreign_key("live_session.id", ondelete="CASCADE"))
    submission_id: int = Field(sa_column=foreign_key("live_submission.id", ondelete="CASCADE"))
    reason: str = Field(max_length=200)
    requested_by: str = Field(max_length=100)
    requested_at: datetime = Field(default_factory=utcnow)
    decision: VoidDecision = Field(
        default=VoidDecision.PENDING, sa_column=enum_column(VoidDecision, name="void_decision")
    )
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = None


class PanelMember(SQLModel, table=True):
    """A member of the audience panel (大众评审团), admitted by a one-time panel code."""

    __tablename__ = "panel_member"
    __table_args__ = (
        UniqueConstraint("session_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=foreign_key("live_session.id", ondelete="CASCADE"))
    number: int
    # SHA-256 of the printed code; the code itself is shown once, when issued.
    code_digest: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Satisfaction(LabelledEnum):
    SATISFIED = ("satisfied", N_("满意"))
    BASIC = ("basic", N_("基本满意"))
    DISSATISFIED = ("dissatisfied", N_("不满意"))


class AudienceVote(SQLModel, table=True):
    """One panel member's verdict on one agency: once, during its scoring window."""

    __tablename__ = "audience_vote"
    __table_args__ = (UniqueConstraint("slot_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    slot_id: int = Field(sa_column=foreign_key("live_slot.id", ondelete="CASCADE"))
    member_id: int = Field(sa_column=foreign_key("panel_member.id", ondelete="CASCADE"))
    level: Satisfaction = Field(sa_column=enum_column(Satisfaction, name="satisfaction_level"))
    created_at: datetime = Field(default_factory=utcnow)
