"""Integrity rules live in the database: these inserts bypass the services on purpose."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factories as f
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from evaluation.models import (
    Agency,
    AgencyLevel,
    Campaign,
    Indicator,
    Judge,
    Organization,
    OrganizationKind,
    Role,
    Score,
    ScoreStatus,
    Stage,
    StageKind,
    User,
)


def _rejected(db, *objects) -> None:
    db.add_all(objects)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


@pytest.fixture
def world(db):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agency = f.agency(db, organization)
    judge = f.judge(db, campaign)
    onsite = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    indicator = Indicator(
        campaign_id=campaign.id, code="A", name="组织领导", max_points=Decimal("10")
    )
    db.add(indicator)
    db.commit()
    return organization, campaign, agency, judge, onsite, indicator


def _score(stage, agency, judge, indicator, request_id, value="8.50", **extra) -> Score:
    return Score(
        stage_id=stage.id,
        agency_id=agency.id,
        judge_id=judge.id,
        indicator_id=indicator.id if indicator else None,
        value=Decimal(value),
        client_request_id=request_id,
        **extra,
    )


def test_agency_names_are_unique_within_an_organization_only(db):
    a, b = f.org(db), f.org(db)
    f.agency(db, a, "市司法局")
    f.agency(db, b, "市司法局")  # another city's 司法局 is fine
    _rejected(db, Agency(organization_id=a.id, name="市司法局", level=AgencyLevel.CITY))


def test_campaign_titles_are_unique_per_organization(db):
    organization = f.org(db)
    f.campaign(db, organization, "2024年度评议")
    _rejected(db, Campaign(organization_id=organization.id, title="2024年度评议", year=2024))


def test_names_are_unique_within_their_scope(db, world):
    organization, campaign, _a, judge, onsite, _i = world
    _rejected(db, Organization(name=organization.name, kind=OrganizationKind.COUNTY))
    _rejected(db, Judge(campaign_id=campaign.id, name=judge.name, group_name="专家"))
    other = f.campaign(db, organization)
    db.add(Judge(campaign_id=other.id, name=judge.name, group_name="专家"))  # another campaign
    db.commit()
    _rejected(db, Stage(campaign_id=campaign.id, kind=StageKind.ONSITE_REVIEW))  # one per kind
    f.user(db, Role.ADMIN, username="root")
    _rejected(db, User(username="root", display_name="x", password_hash="x", role=Role.ADMIN))


def test_a_stage_window_cannot_close_before_it_opens(db, world):
    _o, _c, _a, _j, onsite, _i = world
    onsite.opens_at = datetime(2025, 5, 2, 9, tzinfo=UTC)
    onsite.closes_at = datetime(2025, 5, 1, 9, tzinfo=UTC)
    _rejected(db, onsite)


@pytest.mark.parametrize(
    "column, value", [("year", 1999), ("lookback_years", 0), ("lookback_years", 11)]
)
def test_campaign_checks(db, column, value):
    organization = f.org(db)
    fields = {"organization_id": organization.id, "title": "x", "year": 2024, column: value}
    _rejected(db, Campaign(**fields))


@pytest.mark.parametrize("weight", [Decimal("-1"), Decimal("100.01")])
def test_stage_weight_is_checked_by_the_database(db, world, weight):
    _o, _c, _a, _j, onsite, _i = world
    onsite.weight = weight
    _rejected(db, onsite)


def test_deployment_stage_cannot_carry_weight(db, world):
    _o, campaign, *_ = world
    deployment = f.stage(db, campaign, StageKind.DEPLOYMENT)
    deployment.weight = Decimal("5")
    _rejected(db, deployment)


def test_indicator_points_must_be_positive_and_codes_unique(db, world):
    _o, campaign, *_rest = world
    _rejected(
        db, Indicator(campaign_id=campaign.id, code="Z", name="零分", max_points=Decimal("0"))
    )
    _rejected(
        db, Indicator(campaign_id=campaign.id, code="A", name="重复", max_points=Decimal("5"))
    )


def test_one_valid_score_per_scorer_agency_stage_indicator(db, world):
    _o, _c, agency, judge, onsite, indicator = world
    db.add(_score(onsite, agency, judge, indicator, "r1"))
    db.commit()
    _rejected(db, _score(onsite, agency, judge, indicator, "r2", "9.00"))


def test_one_valid_total_score_even_though_indicator_is_null(db, world):
    # NULL indicator means "the total": NULLs are distinct in plain unique indexes.
    _o, _c, agency, judge, onsite, _i = world
    db.add(_score(onsite, agency, judge, None, "t1"))
    db.commit()
    _rejected(db, _score(onsite, agency, judge, None, "t2"))


def test_a_voided_score_can_be_replaced_by_a_valid_one(db, world):
    organization, _c, agency, judge, onsite, indicator = world
    chief = f.user(db, Role.ORGANIZER, organization)
    first = _score(onsite, agency, judge, indicator, "v1")
    db.add(first)
    db.commit()
    first.status, first.void_reason = ScoreStatus.VOIDED, "录入错误"
    first.voided_by = f"user:{chief.id}:{chief.username}"
    db.add(_score(onsite, agency, judge, indicator, "v2", "9.00"))
    db.commit()
    assert {s.client_request_id for s in db.exec(select(Score)).all()} == {"v1", "v2"}


def test_client_request_id_is_unique(db, world):
    _o, campaign, agency, judge, onsite, indicator = world
    other_judge = f.judge(db, campaign)
    db.add(_score(onsite, agency, judge, indicator, "same"))
    db.commit()
    _rejected(db, _score(onsite, agency, other_judge, indicator, "same"))


def test_void_needs_reason_and_approver(db, world):
    _o, _c, agency, judge, onsite, indicator = world
    _rejected(db, _score(onsite, agency, judge, indicator, "x", status=ScoreStatus.VOIDED))


def test_a_score_has_exactly_one_scorer(db, world):
    organization, _c, agency, judge, onsite, indicator = world
    reviewer = f.user(db, Role.INSPECTOR, organization)
    both = _score(onsite, agency, judge, indicator, "both")
    both.reviewer_id = reviewer.id
    _rejected(db, both)
    neither = _score(onsite, agency, judge, indicator, "neither")
    neither.judge_id = None
    _rejected(db, neither)


def test_scores_keep_their_decimal_value(db, world):
    _o, _c, agency, judge, onsite, indicator = world
    db.add(_score(onsite, agency, judge, indicator, "dec", "52.20"))
    db.commit()
    db.expire_all()
    stored = db.exec(select(Score)).one().value
    assert stored == Decimal("52.20") and isinstance(stored, Decimal)


def test_users_belong_where_their_role_says(db):
    _rejected(db, User(username="o", display_name="o", password_hash="x", role=Role.ORGANIZER))
    organization = f.org(db)
    _rejected(
        db,
        User(
            username="c",
            display_name="c",
            password_hash="x",
            role=Role.AGENCY_CONTACT,
            organization_id=organization.id,
        ),
    )


def test_enum_columns_refuse_unknown_values(db, world):
    _o, campaign, *_ = world
    with pytest.raises(IntegrityError):
        db.connection().exec_driver_sql(
            f"UPDATE campaign SET status = 'bogus' WHERE id = {campaign.id}"
        )
    db.rollback()


def test_one_valid_score_per_reviewer_too(db, world):
    """Inspectors' marks (reviewer, no judge) have their own partial unique indexes."""
    organization, _c, agency, judge, onsite, indicator = world
    reviewer = f.user(db, Role.INSPECTOR, organization)

    def by_reviewer(request_id: str, on_indicator) -> Score:
        mark = _score(onsite, agency, judge, on_indicator, request_id)
        mark.judge_id, mark.reviewer_id = None, reviewer.id
        return mark

    db.add_all([by_reviewer("i1", indicator), by_reviewer("t1", None)])
    db.commit()
    _rejected(db, by_reviewer("i2", indicator))
    _rejected(db, by_reviewer("t2", None))
