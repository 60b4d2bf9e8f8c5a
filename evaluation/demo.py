"""Loads the demo campaign: deterministic (a fixed seed) and idempotent."""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlmodel import Session, select

from evaluation import demo_data as data
from evaluation.clock import LOCAL_TZ
from evaluation.demo_ballots import load_public_review
from evaluation.demo_inspection import load_inspections
from evaluation.demo_peer_review import compose_2024_results, load_peer_review
from evaluation.demo_publicity import load_publicity
from evaluation.demo_self_assessment import load_self_assessment_demo
from evaluation.models import (
    Agency,
    AgencyLevel,
    Campaign,
    CampaignAgency,
    CampaignStatus,
    Indicator,
    IndicatorKind,
    Judge,
    LiveSession,
    Organization,
    OrganizationKind,
    Role,
    Stage,
    StageKind,
    StageStatus,
)
from evaluation.services.accounts import create_user
from evaluation.services.campaigns import DEFAULT_WEIGHTS, STAGE_ORDER
from evaluation.services.live_sessions import create_session
from evaluation.services.passwords import DEFAULT_DEMO_PASSWORD

SEED = 2024
DEMO_ACCOUNTS = [  # (username, display name, role, organization, agency)
    ("admin", "系统管理员", Role.ADMIN, None, None),
    ("organizer", "韶关市普法办", Role.ORGANIZER, data.CITY_ORGANIZATION, None),
    # A second organizer: results are certified by someone other than their composer.
    ("reviewer", "韶关市普法办（复核）", Role.ORGANIZER, data.CITY_ORGANIZATION, None),
    ("ruyuan", "乳源县普法办", Role.ORGANIZER, data.COUNTY_ORGANIZATION, None),
    ("sifaju", "市司法局联络员", Role.AGENCY_CONTACT, data.CITY_ORGANIZATION, "市司法局"),
    ("inspector", "实地考察组成员", Role.INSPECTOR, data.CITY_ORGANIZATION, None),
]


def demo_password() -> str:
    return os.environ.get("PINGYI_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def load_demo(session: Session) -> bool:
    """Create the demo data unless it is there; True when something was created."""
    if session.exec(
        select(Organization).where(Organization.name == data.CITY_ORGANIZATION)
    ).first():
        return False
    with _bulk_load(session):
        _load(session)
    return True


@contextmanager
def _bulk_load(session: Session):
    """SQLite: no fsync per commit while the demo loads (hundreds of commits, nothing a
    judge is waiting for; a crash mid-load just means loading again). Then FULL again."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        session.connection().exec_driver_sql("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        if sqlite:
            session.connection().exec_driver_sql("PRAGMA synchronous=FULL")


def _load(session: Session) -> None:
    rng = random.Random(SEED)
    city = _organization(session, data.CITY_ORGANIZATION, OrganizationKind.CITY)
    county = _organization(session, data.COUNTY_ORGANIZATION, OrganizationKind.COUNTY)
    city_agencies = _city_agencies(session, city)
    county_agencies = _agencies(
        session, county, data.COUNTY_DEPARTMENTS, AgencyLevel.COUNTY_DEPARTMENT, "乳源瑶族自治县"
    )
    city_campaign = _campaign(
        session,
        city,
        data.CITY_CAMPAIGN,
        city_agencies,
        data.CITY_INDICATORS,
        data.CITY_JUDGES,
        rng,
    )
    county_campaign = _campaign(
        session,
        county,
        data.COUNTY_CAMPAIGN,
        {"县直组": county_agencies},
        data.COUNTY_INDICATORS,
        data.COUNTY_JUDGES,
        rng,
    )
    _accounts(session, {city.name: city, county.name: county}, city_agencies)
    load_public_review(session, city_campaign)
    load_publicity(session, city_campaign)
    session.commit()
    _live_session(session, city_campaign)
    _sheet_session(session, county_campaign)
    load_self_assessment_demo(session, city_campaign, _files_root())
    load_peer_review(session, city_campaign)
    load_inspections(session, city_campaign)  # after the declared conflicts
    _past_results(session, city, city_agencies)
    compose_2024_results(session, city_campaign)


def _sheet_session(session: Session, campaign: Campaign) -> None:
    """A live session whose judges mark each indicator under one of the rubric's nodes."""
    stage = session.exec(
        select(Stage).where(Stage.campaign_id == campaign.id, Stage.kind == StageKind.ONSITE_REVIEW)
    ).one()
    indicators = session.exec(select(Indicator).where(Indicator.campaign_id == campaign.id)).all()
    root = next(i for i in indicators if i.code == data.SHEET_INDICATOR)
    for line in (i for i in indicators if i.parent_id == root.id):
        line.step = data.SHEET_STEP
        session.add(line)
    agencies = session.exec(
        select(CampaignAgency).where(CampaignAgency.campaign_id == campaign.id)
        .order_by(CampaignAgency.position).limit(data.LIVE_SLOTS)
    ).all()
    judges = session.exec(
        select(Judge).where(Judge.campaign_id == campaign.id).order_by(Judge.id)
    ).all()
    create_session(
        session, stage, data.SHEET_SESSION, [row.agency_id for row in agencies],
        [judge.id for judge in judges], venue=data.LIVE_VENUE, sheet_indicator_id=root.id,
        chief_judge_id=judges[0].id,
    )


def _files_root():
    """Where uploaded files live, when an app is there to say (the CLI always has one)."""
    from flask import current_app, has_app_context

    from evaluation.services.file_store import files_root

    return files_root(current_app) if has_app_context() else None


def _past_results(session: Session, city: Organization, city_agencies) -> None:
    from evaluation.demo_results import demo_users, load_past_results

    composer, certifier, inspector, contact = demo_users(
        session, "organizer", "reviewer", "inspector", "sifaju")
    load_past_results(session, city, city_agencies, composer=composer, certifier=certifier,
                      inspector=inspector, contact=contact)


def _live_session(session: Session, campaign: Campaign) -> None:
    stage = session.exec(
        select(Stage).where(Stage.campaign_id == campaign.id, Stage.kind == StageKind.ONSITE_REVIEW)
    ).one()
    on_stage = session.exec(
        select(CampaignAgency)
        .where(CampaignAgency.campaign_id == campaign.id, CampaignAgency.group_name == "市直组")
        .order_by(CampaignAgency.position)
        .limit(data.LIVE_SLOTS)
    ).all()
    judges = session.exec(
        select(Judge).where(Judge.campaign_id == campaign.id).order_by(Judge.id)
    ).all()
    create_session(
        session,
        stage,
        data.LIVE_SESSION,
        [row.agency_id for row in on_stage],
        [judge.id for judge in judges],
        venue=data.LIVE_VENUE,
        chief_judge_id=next(j.id for j in judges if j.name == data.LIVE_CHIEF_JUDGE),
    )


def demo_live_session(session: Session) -> LiveSession | None:
    return session.exec(select(LiveSession).where(LiveSession.title == data.LIVE_SESSION)).first()


def _organization(session: Session, name: str, kind: OrganizationKind) -> Organization:
    org = Organization(name=name, kind=kind)
    session.add(org)
    session.flush()
    return org


def _agencies(session, org, names, level, region) -> list[Agency]:
    agencies = [Agency(organization_id=org.id, name=n, level=level, region=region) for n in names]
    session.add_all(agencies)
    session.flush()
    return agencies


def _city_agencies(session: Session, city: Organization) -> dict[str, list[Agency]]:
    departments = _agencies(session, city, data.CITY_DEPARTMENTS, AgencyLevel.CITY, "韶关市")
    stationed = _agencies(
        session, city, data.CENTRAL_PROVINCIAL_UNITS, AgencyLevel.CENTRAL_PROVINCIAL, "韶关市"
    )
    counties = [
        Agency(
            organization_id=city.id,
            name=f"{n}人民政府" if not n.endswith("政府") else n,
            level=AgencyLevel.COUNTY_GOVERNMENT,
            region=n,
        )
        for n in data.COUNTIES
    ]
    session.add_all(counties)
    session.flush()
    return {"市直组": departments + stationed, "县区组": counties}


def _campaign(session, org, title, groups, indicators, judges, rng) -> Campaign:
    campaign = Campaign(
        organization_id=org.id,
        title=title,
        year=2024,
        lookback_years=3,
        status=CampaignStatus.ACTIVE,
    )
    session.add(campaign)
    session.flush()
    _stages(session, campaign)
    for group_name, agencies in groups.items():
        order = list(range(len(agencies)))
        rng.shuffle(order)  # the on-stage order, as if drawn by lot
        session.add_all(
            CampaignAgency(
                campaign_id=campaign.id, agency_id=a.id, group_name=group_name, position=p
            )
            for a, p in zip(agencies, order, strict=True)
        )
    add_indicator_tree(session, campaign, indicators)
    by_name = {a.name: a.id for agencies in groups.values() for a in agencies}
    session.add_all(
        Judge(
            campaign_id=campaign.id,
            name=n,
            group_name=g,
            title=t,
            affiliation_agency_id=by_name.get(aff) if aff else None,
        )
        for n, g, t, aff in judges
    )
    session.flush()
    return campaign


def _stages(session: Session, campaign: Campaign) -> None:
    start = datetime(2025, 1, 6, 9, 0, tzinfo=LOCAL_TZ)
    spans = [10, 30, 15, 20, 20, 2, 10]  # days per stage, in order
    # The demo stands after 媒体公示 and 社会评议 (closed by their own loaders): the stages
    # before them are over too, the ones after them still to come.
    finished = {StageKind.DEPLOYMENT, StageKind.SELF_ASSESSMENT}
    for kind, days in zip(STAGE_ORDER, spans, strict=True):
        end = start + timedelta(days=days)
        session.add(
            Stage(
                campaign_id=campaign.id,
                kind=kind,
                weight=DEFAULT_WEIGHTS[kind],
                opens_at=start,
                closes_at=end,
                status=StageStatus.CLOSED if kind in finished else StageStatus.PENDING,
            )
        )
        # Publicity and public review run side by side; every other stage follows on.
        if kind != StageKind.MEDIA_PUBLICITY:
            start = end
    session.flush()


def add_indicator_tree(session: Session, campaign: Campaign, tree) -> None:
    for position, (code, name, points, kind, children) in enumerate(tree):
        parent = Indicator(
            campaign_id=campaign.id,
            code=code,
            name=name,
            max_points=points,
            kind=IndicatorKind(kind),
            position=position,
        )
        session.add(parent)
        session.flush()
        session.add_all(
            Indicator(
                campaign_id=campaign.id,
                parent_id=parent.id,
                code=c,
                name=n,
                max_points=p,
                position=i,
            )
            for i, (c, n, p) in enumerate(children)
        )
    session.flush()


def _accounts(session, orgs: dict[str, Organization], city_agencies) -> None:
    agency_ids = {a.name: a.id for agencies in city_agencies.values() for a in agencies}
    for username, display, role, org_name, agency_name in DEMO_ACCOUNTS:
        create_user(
            session,
            username=username,
            display_name=display,
            password=demo_password(),
            role=role,
            organization_id=orgs[org_name].id if org_name else None,
            agency_id=agency_ids.get(agency_name),
            enforce_policy=False,
        )
