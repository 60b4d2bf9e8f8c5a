"""互评 peer review: who reviews whom (drawn by the platform), and each reviewer's sheet.

The submitted marks themselves are `Score` rows (reviewer_id = the agency's contact), the
one source of truth the results read; a `PeerAssignment` holds only the draft until then.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column, foreign_key, utcnow


class PeerMode(LabelledEnum):
    ALL = ("all", N_("评议组内全部其他单位"))
    SAMPLE = ("sample", N_("随机分配若干单位"))


class PeerMarking(LabelledEnum):
    TOTAL = ("total", N_("打总分"))
    INDICATORS = ("indicators", N_("按指标打分"))


class PeerSheetStatus(LabelledEnum):
    DRAFT = ("draft", N_("未提交"))
    SUBMITTED = ("submitted", N_("已提交"))


class PeerReviewSetup(SQLModel, table=True):
    """How a peer-review stage is marked and how its assignments were drawn."""

    __tablename__ = "peer_review_setup"
    __table_args__ = (
        UniqueConstraint("stage_id"),
        CheckConstraint("mode != 'sample' OR sample_size >= 1", name="sample_has_size"),
        CheckConstraint("max_total > 0", name="max_total_positive"),
        CheckConstraint("step IS NULL OR (step > 0 AND step <= max_total)", name="step_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    mode: PeerMode = Field(sa_column=enum_column(PeerMode, name="peer_mode"))
    sample_size: int | None = None
    marking: PeerMarking = Field(sa_column=enum_column(PeerMarking, name="peer_marking"))
    # A total mark's range and increment (per-indicator marks use each indicator's own).
    max_total: Decimal = Field(default=Decimal(100), max_digits=6, decimal_places=2)
    step: Decimal | None = Field(default=None, max_digits=4, decimal_places=2)
    # The draw is reproducible: the same seed and groups give the same assignments.
    seed: str = Field(max_length=64)
    drawn_at: datetime = Field(default_factory=utcnow)
    drawn_by: int = Field(sa_column=foreign_key("user.id"))


class PeerAssignment(SQLModel, table=True):
    """One reviewer agency's sheet for one target agency; never its own."""

    __tablename__ = "peer_assignment"
    __table_args__ = (
        UniqueConstraint("stage_id", "reviewer_agency_id", "target_agency_id"),
        CheckConstraint("reviewer_agency_id != target_agency_id", name="not_self"),
        CheckConstraint(
            "status != 'submitted' OR (submitted_at IS NOT NULL AND submitted_by IS NOT NULL)",
            name="submitted_has_who_and_when",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    reviewer_agency_id: int = Field(sa_column=foreign_key("agency.id"))
    target_agency_id: int = Field(sa_column=foreign_key("agency.id"))
    status: PeerSheetStatus = Field(
        default=PeerSheetStatus.DRAFT,
        sa_column=enum_column(PeerSheetStatus, name="peer_sheet_status"),
    )
    # {"total": "86.5"} or {"<indicator id>": "8", ...}: the form's text, checked on save.
    draft_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    # Set by the organizer: the reviewer may still mark this agency until then.
    reopened_until: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    submitted_by: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))
