"""The demo campaign: realistic, complete, deterministic and idempotent."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from evaluation.audit import install, verify_chain
from evaluation.audit_rows import row_problems
from evaluation.db import make_engine
from evaluation.demo import load_demo
from evaluation.demo_data import CITY_CAMPAIGN, COUNTIES, COUNTY_CAMPAIGN
from evaluation.models import (
    Agency,
    AgencyLevel,
    Ballot,
    Campaign,
    CampaignAgency,
    Indicator,
    IndicatorKind,
    Judge,
    Score,
    SelfScore,
    Stage,
    User,
)
from evaluation.services.indicators import tree_problems


@pytest.fixture(scope="module")
def db(backend, tmp_path_factory):
    """The demo, loaded once for this module's tests (each reads it; loading takes seconds)."""
    install()
    engine = make_engine(backend.fresh_url(tmp_path_factory.mktemp("demo")))
    with Session(engine, expire_on_commit=False) as session:
        assert load_demo(session) is True
        yield session
    engine.dispose()


def _campaign(db, title) -> Campaign:
    return db.exec(select(Campaign).where(Campaign.title == title)).one()


def _groups(db, campaign) -> Counter:
    rows = db.exec(select(CampaignAgency).where(CampaignAgency.campaign_id == campaign.id)).all()
    return Counter(row.group_name for row in rows)


def test_demo_city_campaign_is_complete(db):
    campaign = _campaign(db, CITY_CAMPAIGN)
    groups = _groups(db, campaign)
    assert groups["市直组"] >= 40 and groups["县区组"] == 10
    names = {a.name for a in db.exec(select(Agency)).all()}
    assert {
        "市公安局",
        "市司法局",
        "市市场监督管理局",
        "市税务局",
        "市中级人民法院",
        "市人民检察院",
    } <= names
    assert {f"{county}人民政府" for county in COUNTIES} <= names
    by_group = {
        group: set(db.exec(
            select(Agency.name).join(CampaignAgency).where(
                CampaignAgency.campaign_id == campaign.id, CampaignAgency.group_name == group)))
        for group in ("市直组", "县区组")
    }
    assert by_group["县区组"] == {f"{county}人民政府" for county in COUNTIES}
    # 中省驻地 units are ranked with the city departments, in 市直组.
    assert {"市税务局", "市中级人民法院", "市人民检察院", "市公安局"} <= by_group["市直组"]
    levels = Counter(a.level for a in db.exec(select(Agency)).all())
    assert levels[AgencyLevel.CENTRAL_PROVINCIAL] >= 3

    stages = db.exec(select(Stage).where(Stage.campaign_id == campaign.id)).all()
    assert len(stages) == 7 and sum(s.weight for s in stages) == Decimal("100")

    indicators = db.exec(select(Indicator).where(Indicator.campaign_id == campaign.id)).all()
    top = [i for i in indicators if i.parent_id is None and i.kind == IndicatorKind.NORMAL]
    second = [i for i in indicators if i.parent_id is not None]
    assert len(top) >= 5 and len(second) >= 15
    assert sum(i.max_points for i in top) == Decimal("100")
    assert any(i.kind == IndicatorKind.BONUS for i in indicators)
    assert tree_problems(list(indicators)) == {}

    judges = db.exec(select(Judge).where(Judge.campaign_id == campaign.id)).all()
    assert len(judges) == 15
    assert set(Counter(j.group_name for j in judges)) == {
        "人大代表",
        "政协委员",
        "专家",
        "群众代表",
        "媒体代表",
    }
    assert any(j.affiliation_agency_id for j in judges)  # a conflict to recuse


def test_demo_county_has_its_own_small_campaign(db):
    county = _campaign(db, COUNTY_CAMPAIGN)
    city = _campaign(db, CITY_CAMPAIGN)
    assert county.organization_id != city.organization_id
    assert sum(_groups(db, county).values()) >= 5


def test_demo_is_idempotent_and_audited(db):
    counts = [len(db.exec(select(m)).all()) for m in (Agency, Campaign, Judge, User)]
    assert load_demo(db) is False
    assert [len(db.exec(select(m)).all()) for m in (Agency, Campaign, Judge, User)] == counts
    report = verify_chain(db)
    assert report.ok and report.count > 150
    assert row_problems(db) == []  # every demo mark is what its audit events say


def test_demo_is_deterministic(db, tmp_path):
    """Two fresh databases get the same on-stage order (the seeded draw)."""
    from evaluation.migrate import upgrade

    other = make_engine(f"sqlite:///{tmp_path / 'second.sqlite3'}")
    upgrade(other)
    with Session(other) as second:
        load_demo(second)
        orders = []
        for session in (db, second):
            rows = session.exec(  # the 2024 campaigns' draw (earlier years list by name)
                select(Agency.name, CampaignAgency.position)
                .join(CampaignAgency)
                .join(Campaign, Campaign.id == CampaignAgency.campaign_id)
                .where(Campaign.year == 2024)
                .order_by(Agency.name, Campaign.title)
            ).all()
            orders.append([tuple(r) for r in rows])
            # Every seeded figure too: marks, ballots, self-assessment points.
            orders.append(sorted(str(v) for v in session.exec(select(Score.value))))
            orders.append(sorted((b.status.value, str(b.agency_id))
                                 for b in session.exec(select(Ballot))))
            orders.append(sorted(str(p) for p in session.exec(select(SelfScore.points))))
    other.dispose()
    assert orders[:4] == orders[4:]
    assert len(orders[1]) > 100 and len(orders[2]) > 1000


def test_demo_public_review_has_ballots_and_a_quarantine(db):
    from evaluation.models import Ballot, BallotStatus, StageKind
    from evaluation.services.ballot_results import counts_by_agency, satisfaction_by_agency

    campaign = _campaign(db, CITY_CAMPAIGN)
    stage = db.exec(
        select(Stage).where(Stage.campaign_id == campaign.id, Stage.kind == StageKind.PUBLIC_REVIEW)
    ).one()
    statuses = Counter(b.status for b in db.exec(select(Ballot).where(Ballot.stage_id == stage.id)))
    assert statuses[BallotStatus.VALID] > 1000  # about 23 per agency
    assert statuses[BallotStatus.QUARANTINED] == 3 and statuses[BallotStatus.REJECTED] == 1
    counts = counts_by_agency(db, stage)
    assert len(counts) == sum(_groups(db, campaign).values())
    indices = satisfaction_by_agency(db, stage)
    assert all(0 < result.value <= 100 for result in indices.values())


def test_demo_publicity_has_moderated_comments_replies_and_outlets(db):
    from evaluation.models import CommentStatus, PublicityComment, PublicityOutlet, PublicityReply

    statuses = Counter(c.status for c in db.exec(select(PublicityComment)))
    assert statuses[CommentStatus.APPROVED] >= 3 and statuses[CommentStatus.HIDDEN] >= 1
    assert statuses[CommentStatus.PENDING] >= 1
    assert all(c.moderation_reason for c in db.exec(select(PublicityComment))
               if c.status == CommentStatus.HIDDEN)
    assert len(db.exec(select(PublicityReply)).all()) >= 1
    assert len(db.exec(select(PublicityOutlet)).all()) >= 2
def test_demo_has_published_results_since_2018(db, tmp_path):
    """Earlier campaigns' results, published through the two-person workflow, re-tally."""
    from evaluation.models import Appeal, ResultsVersion, VersionStatus
    from evaluation.services.results_bundle import export_bundle, verify_bundle
    from evaluation.services.results_history import history_rows

    versions = [v for v in db.exec(select(ResultsVersion)).all()
                if db.get(Campaign, v.campaign_id).year < 2024]
    years = sorted(db.get(Campaign, v.campaign_id).year for v in versions)
    assert years == list(range(2018, 2024))
    assert all(v.status == VersionStatus.PUBLISHED and v.certified_by != v.composed_by
               for v in versions)
    justice = db.exec(select(Agency).where(Agency.name == "市司法局")).one()
    rows = history_rows(db, justice.id)
    assert [r.year for r in rows] == list(range(2018, 2024))
    assert all(r.grade in {"优秀", "良好", "合格", "不合格"} and r.group == "市直组" for r in rows)
    assert db.exec(select(Appeal)).one().decision
    latest = max(versions, key=lambda v: v.campaign_id)
    export_bundle(db, db.get(Campaign, latest.campaign_id), tmp_path / "bundle")
    assert verify_bundle(tmp_path / "bundle") == []


def test_demo_published_results_have_every_agencys_indicator_scores_and_scorers(db):
    """The organizer's reports of the last published campaign: every radar has its
    first-level indicators (from the inspector's per-indicator sheet, adding up to the
    inspection mark), and a reviewer's mark carries the reviewer's name, not a user key."""
    from evaluation.reports.panels import agency_panels
    from evaluation.reports.texts import judge_name
    from evaluation.services.report_jobs import composed_results

    campaign = max((c for c in db.exec(select(Campaign)).all() if c.year < 2024),
                   key=lambda c: c.year)
    composed = composed_results(db, campaign)
    assert composed.status == "published" and set(composed.indicator_scores) == set(
        composed.agencies)
    for agency in composed.result.agencies:
        scores = composed.indicator_scores[agency.agency]
        assert [s.name for s in scores] == ["组织领导", "制度建设", "普法实效", "法治文化建设",
                                            "社会评价"]
        assert sum(s.score for s in scores) == agency.stages["field_inspection"].value
    names = {judge_name(composed, panel.stage, judge)
             for agency in composed.result.agencies for panel in agency_panels(agency)
             for judge, _mark in panel.result.given()}
    inspector = db.exec(select(User).where(User.username == "inspector")).one()
    assert inspector.display_name in names
    assert not [name for name in names if name.startswith("U")]


def test_demo_peer_review_has_complete_late_and_flagged_reviewers(db):
    from evaluation.demo_peer_review import LATE, REOPENED
    from evaluation.services.peer_review import peer_stage
    from evaluation.services.peer_review_overview import overview

    campaign = _campaign(db, CITY_CAMPAIGN)
    view = overview(db, campaign, peer_stage(db, campaign.id))
    complete = [row.name for row in view.progress if row.complete]
    assert len(complete) == sum(_groups(db, campaign).values()) - 2
    assert [row.name for row in view.progress if row.late] == [LATE]
    reopened = next(row for row in view.progress if row.name == REOPENED)
    assert reopened.drafts == 1 and not reopened.late  # the demo contact can finish it
    assert len(view.flags.blocs) == 1 and len(view.flags.reciprocity) == 3


def test_demo_2024_results_are_composed_from_the_stages_in_so_far(db):
    from evaluation.models import ResultsVersion, VersionStatus
    from evaluation.services.results_freeze import FrozenView

    campaign = _campaign(db, CITY_CAMPAIGN)
    [version] = db.exec(select(ResultsVersion).where(ResultsVersion.campaign_id == campaign.id))
    assert version.status == VersionStatus.CERTIFIED
    entries = FrozenView.load(version.results_json).data["agencies"]
    assert len(entries) == sum(_groups(db, campaign).values())
    assert all(Decimal(entry["total"]) > 0 for entry in entries)
    stages = {code for entry in entries for code in entry["stages"]}
    assert {"self_assessment", "public_review", "peer_review"} <= stages


def test_demo_inspections_are_assigned_confirmed_returned_and_drafted(db):
    from evaluation.models import InspectionSheet, Score, SheetStatus, StageKind
    from evaluation.services.conflicts import recusals

    campaign = _campaign(db, CITY_CAMPAIGN)
    stage = db.exec(select(Stage).where(Stage.campaign_id == campaign.id,
                                        Stage.kind == StageKind.FIELD_INSPECTION)).one()
    statuses = Counter(s.status for s in db.exec(select(InspectionSheet)))
    assert statuses[SheetStatus.CONFIRMED] >= 4 and statuses[SheetStatus.RETURNED] == 1
    assert statuses[SheetStatus.DRAFT] == 1 and statuses[SheetStatus.SUBMITTED] >= 1
    confirmed = [s for s in db.exec(select(InspectionSheet))
                 if s.status == SheetStatus.CONFIRMED]
    assert all(s.confirmed_by != s.inspector_id for s in confirmed)
    marks = db.exec(select(Score).where(Score.stage_id == stage.id)).all()
    assert {m.reviewer_id for m in marks} == {s.inspector_id for s in confirmed}
    register = {(r.person_name, r.agency_name) for r in recusals(db, campaign)
                if r.person_kind == "inspector"}
    assert ("周晓红", "市税务局") in register
