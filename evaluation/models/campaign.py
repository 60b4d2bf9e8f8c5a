"""Agencies, campaigns, the agencies taking part, and the campaign's stages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column, foreign_key, utcnow


class AgencyLevel(LabelledEnum):
    CITY = ("city", N_("市直"))
    CENTRAL_PROVINCIAL = ("central_provincial", N_("中省驻地"))
    COUNTY_GOVERNMENT = ("county_government", N_("县区政府"))
    COUNTY_DEPARTMENT = ("county_department", N_("县区部门"))


class CampaignStatus(LabelledEnum):
    DRAFT = ("draft", N_("筹备中"))
    ACTIVE = ("active", N_("进行中"))
    CLOSED = ("closed", N_("已结束"))
    PUBLISHED = ("published", N_("已公布"))


class StageKind(LabelledEnum):
    DEPLOYMENT = ("deployment", N_("部署安排"))
    SELF_ASSESSMENT = ("self_assessment", N_("自查自评"))
    MEDIA_PUBLICITY = ("media_publicity", N_("媒体公示"))
    PUBLIC_REVIEW = ("public_review", N_("社会评议"))
    FIELD_INSPECTION = ("field_inspection", N_("实地考察"))
    ONSITE_REVIEW = ("onsite_review", N_("现场评议"))
    PEER_REVIEW = ("peer_review", N_("互评"))


class StageStatus(LabelledEnum):
    PENDING = ("pending", N_("未开始"))
    OPEN = ("open", N_("进行中"))
    CLOSED = ("closed", N_("已结束"))


class Agency(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(sa_column=foreign_key("organization.id"))
    name: str = Field(max_length=100)
    level: AgencyLevel = Field(sa_column=enum_column(AgencyLevel, name="agency_level"))
    region: str = Field(default="", max_length=50)
    created_at: datetime = Field(default_factory=utcnow)


class Campaign(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("organization_id", "title"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("lookback_years BETWEEN 1 AND 10", name="lookback_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(sa_column=foreign_key("organization.id"))
    title: str = Field(max_length=200)
    year: int
    lookback_years: int = Field(default=3)
    status: CampaignStatus = Field(
        default=CampaignStatus.DRAFT,
        sa_column=enum_column(CampaignStatus, name="campaign_status"),
    )
    created_at: datetime = Field(default_factory=utcnow)


class CampaignAgency(SQLModel, table=True):
    """An agency taking part in a campaign, in a ranking group, at a position."""

    __tablename__ = "campaign_agency"
    __table_args__ = (
        UniqueConstraint("campaign_id", "agency_id"),
        CheckConstraint("position >= 0", name="position_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    group_name: str = Field(max_length=50)
    position: int = Field(default=0)


class Stage(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind"),
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight_range"),
        # 部署安排 is not scored: it cannot carry weight.
        CheckConstraint("kind != 'deployment' OR weight = 0", name="deployment_unweighted"),
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at", name="window_order"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    kind: StageKind = Field(sa_column=enum_column(StageKind, name="stage_kind"))
    weight: Decimal = Field(default=Decimal("0"), max_digits=5, decimal_places=2)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    status: StageStatus = Field(
        default=StageStatus.PENDING, sa_column=enum_column(StageStatus, name="stage_status")
    )
