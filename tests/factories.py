"""Factories: each test builds the data it needs, through the same services the app uses."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session

from evaluation.models import (
    Agency,
    AgencyLevel,
    Campaign,
    CampaignStatus,
    Indicator,
    Judge,
    Organization,
    OrganizationKind,
    Role,
    Stage,
    StageKind,
    StageStatus,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.accounts import create_user
from evaluation.services.campaigns import CampaignFields, create_campaign
from evaluation.services.indicators import IndicatorFields, create_indicator

PASSWORD = "correct horse 42"
_counter = itertools.count(1)


def org(db: Session, name: str | None = None) -> Organization:
    organization = Organization(
        name=name or f"测试普法办{next(_counter)}", kind=OrganizationKind.CITY
    )
    db.add(organization)
    db.commit()
    return organization


def user(
    db: Session,
    role: Role,
    organization: Organization | None = None,
    agency: Agency | None = None,
    username: str | None = None,
) -> User:
    created = create_user(
        db,
        username=username or f"{role.value}{next(_counter)}",
        display_name="测试用户",
        password=PASSWORD,
        role=role,
        organization_id=organization.id if organization else None,
        agency_id=agency.id if agency else None,
    )
    db.commit()
    return created


def agency(db: Session, organization: Organization, name: str | None = None) -> Agency:
    created = Agency(
        organization_id=organization.id,
        name=name or f"市测试局{next(_counter)}",
        level=AgencyLevel.CITY,
        region="测试市",
    )
    db.add(created)
    db.commit()
    return created


def campaign(db: Session, organization: Organization, title: str | None = None) -> Campaign:
    return create_campaign(
        db,
        organization.id,
        CampaignFields(
            title=title or f"测试评议{next(_counter)}",
            year=2024,
            lookback_years=3,
            status=CampaignStatus.ACTIVE,
        ),
    )


def stage(db: Session, campaign_: Campaign, kind: StageKind) -> Stage:
    from sqlmodel import select

    return db.exec(select(Stage).where(Stage.campaign_id == campaign_.id, Stage.kind == kind)).one()


def open_stage(db: Session, campaign_: Campaign, kind: StageKind) -> Stage:
    """The campaign's stage of `kind`, opened yesterday and closing in a week."""
    opened = stage(db, campaign_, kind)
    opened.opens_at = utcnow() - timedelta(days=1)
    opened.closes_at = utcnow() + timedelta(days=7)
    opened.status = StageStatus.OPEN
    db.add(opened)
    db.commit()
    return opened


def two_leaf_rubric(db: Session, campaign_: Campaign) -> tuple[Indicator, Indicator]:
    """A 组织领导 (20) node with two leaves: A1 责任清单 (10, step 0.5), A2 普法台账 (10)."""
    root = create_indicator(db, campaign_, IndicatorFields("A", "组织领导", Decimal("20")))
    a1 = create_indicator(
        db, campaign_, IndicatorFields("A1", "责任清单", Decimal("10"), step=Decimal("0.5")), root
    )
    a2 = create_indicator(db, campaign_, IndicatorFields("A2", "普法台账", Decimal("10")), root)
    return a1, a2


def judge(db: Session, campaign_: Campaign, name: str | None = None) -> Judge:
    created = Judge(
        campaign_id=campaign_.id, name=name or f"评委{next(_counter)}", group_name="专家"
    )
    db.add(created)
    db.commit()
    return created


D = Decimal
