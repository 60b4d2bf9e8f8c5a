"""Conflict-of-interest declarations (利益冲突申报) by judges and inspectors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import foreign_key, partial_unique, utcnow


class ConflictDeclaration(SQLModel, table=True):
    """A judge or an inspector declares they must not score an agency, and why."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (
        CheckConstraint("(judge_id IS NULL) != (inspector_id IS NULL)", name="exactly_one_person"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
        partial_unique(
            "uq_conflict_judge_agency",
            "campaign_id",
            "judge_id",
            "agency_id",
            where="judge_id IS NOT NULL",
        ),
        partial_unique(
            "uq_conflict_inspector_agency",
            "campaign_id",
            "inspector_id",
            "agency_id",
            where="inspector_id IS NOT NULL",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    judge_id: int | None = Field(
        default=None, sa_column=foreign_key("judge.id", nullable=True, ondelete="CASCADE")
    )
    inspector_id: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))
    reason: str = Field(max_length=500)
    # Who entered it: the inspector themself, or an organizer on a judge's behalf.
    recorded_by: int = Field(sa_column=foreign_key("user.id"))
    declared_at: datetime = Field(default_factory=utcnow)
