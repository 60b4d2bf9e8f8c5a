"""Results: the campaign's scoring policy, the results versions and the appeals.

A results version freezes everything the public reads (the policy as canonical JSON, its
fingerprint and the composed results as JSON): publishing never recomputes, and a published
version is only ever superseded by a newer certified one, never edited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import (
    N_,
    LabelledEnum,
    enum_column,
    foreign_key,
    partial_unique,
    utcnow,
)


class CampaignPolicy(SQLModel, table=True):
    """The organizer's scoring policy for a campaign, as scoring's plain JSON."""

    __tablename__ = "campaign_policy"
    __table_args__ = (UniqueConstraint("campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    policy_json: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))


class VersionStatus(LabelledEnum):
    DRAFT = ("draft", N_("草稿"))
    CERTIFIED = ("certified", N_("已复核"))
    PUBLISHED = ("published", N_("已公布"))
    SUPERSEDED = ("superseded", N_("已被更正"))


class ResultsVersion(SQLModel, table=True):
    __tablename__ = "results_version"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        # The two-person rule, in the database: whoever certifies did not compose.
        CheckConstraint(
            "certified_by IS NULL OR certified_by != composed_by", name="two_person_rule"
        ),
        CheckConstraint(
            "status = 'draft' OR (certified_by IS NOT NULL AND certified_at IS NOT NULL)",
            name="certified_before_release",
        ),
        CheckConstraint(
            "status NOT IN ('published', 'superseded') OR published_at IS NOT NULL",
            name="published_has_time",
        ),
        CheckConstraint(
            "supersedes_id IS NULL OR supersede_reason IS NOT NULL", name="supersede_has_reason"
        ),
        # At most one version is the public one.
        partial_unique("uq_results_version_published", "campaign_id", where="status = 'published'"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    number: int
    status: VersionStatus = Field(
        default=VersionStatus.DRAFT, sa_column=enum_column(VersionStatus, name="results_status")
    )
    policy_json: str = Field(sa_column=Column(Text, nullable=False))
    policy_fingerprint: str = Field(max_length=64)
    # The frozen results (see services/results_freeze.py): what every later page reads.
    results_json: str = Field(sa_column=Column(Text, nullable=False))
    # The raw marks the results were computed from (the re-tally bundle's CSV), so a later
    # change to a mark can never silently alter what this version says.
    raw_marks_csv: str = Field(sa_column=Column(Text, nullable=False))
    # The audit chain's head when composed: the raw marks as they stood then.
    audit_head: str = Field(max_length=64)
    composed_by: int = Field(sa_column=foreign_key("user.id"))
    composed_at: datetime = Field(default_factory=utcnow)
    certified_by: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))
    certified_at: datetime | None = None
    published_at: datetime | None = None
    appeal_until: datetime | None = None
    supersedes_id: int | None = Field(
        default=None, sa_column=foreign_key("results_version.id", nullable=True)
    )
    supersede_reason: str | None = Field(default=None, max_length=500)
    announcement: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AppealStatus(LabelledEnum):
    PENDING = ("pending", N_("待处理"))
    UPHELD = ("upheld", N_("申诉成立"))
    REJECTED = ("rejected", N_("维持原结果"))


class Appeal(SQLModel, table=True):
    """An agency's appeal against a published version, and the organizer's decision."""

    __table_args__ = (
        UniqueConstraint("version_id", "agency_id"),
        CheckConstraint(
            "status = 'pending' OR (decision IS NOT NULL AND decided_by IS NOT NULL "
            "AND decided_at IS NOT NULL)",
            name="decision_recorded",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(sa_column=foreign_key("results_version.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    filed_by: int = Field(sa_column=foreign_key("user.id"))
    filed_at: datetime = Field(default_factory=utcnow)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: AppealStatus = Field(
        default=AppealStatus.PENDING, sa_column=enum_column(AppealStatus, name="appeal_status")
    )
    decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))
    decided_at: datetime | None = None
