"""社会评议 public review: how the ballot is run, vote codes, SMS challenges and ballots.

One ballot per verified identity per agency is a UNIQUE constraint (stage, agency, voter_key),
so no race between two requests can store a second ballot: the database refuses it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column, foreign_key, utcnow
from evaluation.models.live import Satisfaction


class IdentityMode(LabelledEnum):
    VOTE_CODE = ("vote_code", N_("投票码（组织方发放）"))
    SMS = ("sms", N_("手机号码 + 短信验证码"))


class BallotKind(LabelledEnum):
    SATISFACTION = ("satisfaction", N_("满意度（满意 / 基本满意 / 不满意）"))
    POINTS = ("points", N_("按一级指标打分"))


class BallotStatus(LabelledEnum):
    VALID = ("valid", N_("有效"))
    QUARANTINED = ("quarantined", N_("待审核"))
    REJECTED = ("rejected", N_("已作废"))


class BallotSettings(SQLModel, table=True):
    """How the public review of one stage is run; the screening thresholds are per stage."""

    __tablename__ = "ballot_settings"
    __table_args__ = (
        UniqueConstraint("stage_id"),
        CheckConstraint("burst_limit >= 2", name="burst_limit_min"),
        CheckConstraint("burst_window_seconds BETWEEN 1 AND 3600", name="burst_window_range"),
        CheckConstraint("min_fill_seconds BETWEEN 0 AND 600", name="min_fill_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    identity_mode: IdentityMode = Field(
        default=IdentityMode.VOTE_CODE,
        sa_column=enum_column(IdentityMode, name="identity_mode"),
    )
    ballot_kind: BallotKind = Field(
        default=BallotKind.SATISFACTION, sa_column=enum_column(BallotKind, name="ballot_kind")
    )
    # More ballots than this from one network within the window go to quarantine.
    burst_limit: int = Field(default=20)
    burst_window_seconds: int = Field(default=60)
    # A ballot filled faster than this is not a person reading the page.
    min_fill_seconds: int = Field(default=3)


class VoteCode(SQLModel, table=True):
    """A one-time vote code: one voter, one ballot per agency. Only its digest is kept."""

    __tablename__ = "vote_code"
    __table_args__ = (
        UniqueConstraint("stage_id", "batch", "serial"),
        CheckConstraint("batch > 0 AND serial > 0", name="numbers_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    batch: int
    serial: int
    # SHA-256 of the normalized code: the code itself is printed once and never stored.
    code_digest: str = Field(max_length=64, unique=True)
    imported: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class SmsChallenge(SQLModel, table=True):
    """A code sent by SMS to a phone number (kept as a keyed digest), valid for minutes."""

    __tablename__ = "sms_challenge"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    phone_digest: str = Field(max_length=64, index=True)
    code_digest: str = Field(max_length=64)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Ballot(SQLModel, table=True):
    """One verified identity's ballot on one agency in the public review."""

    __tablename__ = "public_ballot"
    __table_args__ = (
        UniqueConstraint("stage_id", "agency_id", "voter_key"),
        CheckConstraint("status != 'rejected' OR decision_reason != ''", name="rejection_reasoned"),
        # The burst screening's window query (one network's recent ballots in this stage):
        # without it every ballot scanned every earlier ballot of the stage.
        Index("ix_public_ballot_burst", "stage_id", "network", "cast_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    # "code:<vote_code.id>" or "phone:<keyed digest>": who, without who.
    voter_key: str = Field(max_length=80)
    vote_code_id: int | None = Field(
        default=None, sa_column=foreign_key("vote_code.id", nullable=True)
    )
    # Satisfaction ballots only; a points ballot has its points in public_ballot_point.
    level: Satisfaction | None = Field(
        default=None,
        sa_column=enum_column(Satisfaction, name="ballot_level", nullable=True),
    )
    status: BallotStatus = Field(
        default=BallotStatus.VALID, sa_column=enum_column(BallotStatus, name="ballot_status")
    )
    network: str = Field(default="", max_length=64)  # e.g. 203.0.113.0/24
    device: str = Field(default="", max_length=64)  # digest of the device cookie
    fill_ms: int | None = None  # from the form being shown to the ballot arriving
    cast_at: datetime = Field(default_factory=utcnow)
    quarantine_reason: str = Field(default="", max_length=1000)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = None
    decision_reason: str = Field(default="", max_length=300)


class BallotPoint(SQLModel, table=True):
    """Points given to one first-level indicator on a points ballot."""

    __tablename__ = "public_ballot_point"
    __table_args__ = (
        UniqueConstraint("ballot_id", "indicator_id"),
        CheckConstraint("points >= 0", name="points_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(sa_column=foreign_key("public_ballot.id", ondelete="CASCADE"))
    indicator_id: int = Field(sa_column=foreign_key("indicator.id"))
    points: Decimal = Field(max_digits=6, decimal_places=2)
