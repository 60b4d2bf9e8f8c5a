"""自查自评 self-assessment: the agency's working draft and every submitted version.

The draft (Submission + SelfScore + EvidenceFile) is what the agency edits; each submit
freezes a SubmissionVersion with a snapshot of report, scores and files, so returned and
resubmitted versions can be compared later and none is ever overwritten.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column, foreign_key, utcnow


class SubmissionStatus(LabelledEnum):
    DRAFT = ("draft", N_("草稿"))
    SUBMITTED = ("submitted", N_("已提交，待审核"))
    RETURNED = ("returned", N_("已退回修改"))
    ACCEPTED = ("accepted", N_("已通过"))


class ReviewDecision(LabelledEnum):
    ACCEPTED = ("accepted", N_("通过"))
    RETURNED = ("returned", N_("退回修改"))


class Submission(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("campaign_id", "agency_id"),
        CheckConstraint("version_count >= 0", name="version_count_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    status: SubmissionStatus = Field(
        default=SubmissionStatus.DRAFT,
        sa_column=enum_column(SubmissionStatus, name="submission_status"),
    )
    report_md: str = Field(default="", sa_column=Column(Text, nullable=False))
    version_count: int = Field(default=0)
    # Set by the organizer (a return, or a reopening after the deadline): the agency may
    # edit and submit until then even when the stage's own deadline has passed.
    reopened_until: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class SelfScore(SQLModel, table=True):
    __tablename__ = "self_score"
    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=foreign_key("submission.id", ondelete="CASCADE"))
    indicator_id: int = Field(sa_column=foreign_key("indicator.id", ondelete="CASCADE"))
    points: Decimal = Field(max_digits=6, decimal_places=2)
    explanation: str = Field(default="", max_length=500)


class EvidenceFile(SQLModel, table=True):
    __tablename__ = "evidence_file"
    __table_args__ = (UniqueConstraint("submission_id", "file_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=foreign_key("submission.id", ondelete="CASCADE"))
    file_id: int = Field(sa_column=foreign_key("stored_file.id"))


class SubmissionVersion(SQLModel, table=True):
    """A submitted version, frozen: report text, scores and file list as JSON snapshots."""

    __tablename__ = "submission_version"
    __table_args__ = (
        UniqueConstraint("submission_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("(decision IS NULL) = (reviewed_at IS NULL)", name="decision_has_time"),
    )

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=foreign_key("submission.id", ondelete="CASCADE"))
    number: int
    report_md: str = Field(sa_column=Column(Text, nullable=False))
    # [{"indicator_id", "code", "name", "max_points", "points", "explanation"}, ...]
    scores_json: str = Field(sa_column=Column(Text, nullable=False))
    # [{"file_id", "name", "size_bytes", "sha256"}, ...]
    files_json: str = Field(sa_column=Column(Text, nullable=False))
    submitted_by: int = Field(sa_column=foreign_key("user.id"))
    submitted_at: datetime = Field(default_factory=utcnow)
    decision: ReviewDecision | None = Field(
        default=None,
        sa_column=enum_column(ReviewDecision, name="review_decision", nullable=True),
    )
    review_note: str = Field(default="", max_length=2000)
    reviewed_by: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))
    reviewed_at: datetime | None = None


class ReviewComment(SQLModel, table=True):
    """The organizer's comment on one indicator of a returned version."""

    __tablename__ = "review_comment"
    __table_args__ = (UniqueConstraint("version_id", "indicator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(sa_column=foreign_key("submission_version.id", ondelete="CASCADE"))
    indicator_id: int = Field(sa_column=foreign_key("indicator.id", ondelete="CASCADE"))
    comment: str = Field(max_length=1000)
