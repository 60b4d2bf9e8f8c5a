"""The indicator system (指标体系): a tree of indicators per campaign."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column


class IndicatorKind(LabelledEnum):
    NORMAL = ("normal", N_("常规"))
    BONUS = ("bonus", N_("加分项"))
    DEDUCTION = ("deduction", N_("扣分项"))


class Indicator(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        CheckConstraint("max_points > 0", name="max_points_positive"),
        CheckConstraint("step IS NULL OR (step > 0 AND step <= max_points)", name="step_range"),
        CheckConstraint("position >= 0", name="position_positive"),
        CheckConstraint("parent_id IS NULL OR parent_id != id", name="not_own_parent"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("indicator.id", ondelete="RESTRICT"), index=True),
    )
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    max_points: Decimal = Field(max_digits=6, decimal_places=2)
    # The smallest increment a judge may give (e.g. 0.5); None: any 0.01.
    step: Decimal | None = Field(default=None, max_digits=4, decimal_places=2)
    kind: IndicatorKind = Field(
        default=IndicatorKind.NORMAL, sa_column=enum_column(IndicatorKind, name="indicator_kind")
    )
    position: int = Field(default=0)
