"""Demo: the city's earlier campaigns (the programme runs since 2018), each with raw marks and
a published results version composed, certified and published through the results services,
so the history pages and trends have real data behind them. The field inspectors marked each
indicator of the city's tree, so every agency's radar and result sheet has first-level
indicator scores."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from evaluation import demo_data as data
from evaluation.clock import LOCAL_TZ
from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    CampaignStatus,
    Indicator,
    IndicatorKind,
    Judge,
    Organization,
    Score,
    Stage,
    StageKind,
    User,
)
from evaluation.services.appeals import decide_appeal, file_appeal
from evaluation.services.campaigns import STAGE_ORDER
from evaluation.services.results_policy import build_policy, default_settings, save_policy
from evaluation.services.results_versions import certify, compose_version, publish

FIRST_YEAR, LAST_PAST_YEAR = 2018, 2023
# Earlier campaigns had three scored stages.
PAST_WEIGHTS = {
    StageKind.SELF_ASSESSMENT: Decimal(30),
    StageKind.FIELD_INSPECTION: Decimal(30),
    StageKind.ONSITE_REVIEW: Decimal(40),
}
# A smaller panel then, whose marks were averaged without dropping any.
PAST_JUDGES = [("吴海涛", "专家"), ("陈建国", "人大代表"), ("赵磊", "群众代表")]
HALF = Decimal("0.5")


def past_title(year: int) -> str:
    return f"{year}年度国家机关“谁执法谁普法”履职评议"


def _mark(value: float) -> Decimal:
    # Marks come in half points, within 0-100.
    clamped = min(max(value, 40.0), 100.0)
    return (Decimal(str(round(clamped * 2) / 2))).quantize(Decimal("0.01"))


def load_past_results(session: Session, city: Organization, groups: dict[str, list[Agency]],
                      *, composer: User, certifier: User, inspector: User,
                      contact: User) -> None:
    rng = random.Random(2018)
    # Each agency's standing drifts a little from year to year.
    quality = {a.id: rng.uniform(72, 93) for members in groups.values() for a in members}
    # 司法局 leads the city's law-popularization work (the demo's contact account is theirs).
    quality.update({a.id: 88.0 for members in groups.values() for a in members
                    if a.name == "市司法局"})
    for year in range(FIRST_YEAR, LAST_PAST_YEAR + 1):
        campaign = _campaign(session, city, year, groups)
        stages = {s.kind: s for s in session.exec(
            select(Stage).where(Stage.campaign_id == campaign.id))}
        judges = _judges(session, campaign)
        leaves = _leaves(session, campaign)
        for agency_id in list(quality):
            quality[agency_id] = min(max(quality[agency_id] + rng.uniform(-2, 3.5), 65), 97)
            _marks(session, stages, agency_id, quality[agency_id], judges, composer, inspector,
                   rng, year, leaves)
        session.commit()
        _past_policy(session, campaign, composer)
        _publish(session, campaign, year, composer, certifier, contact)


def _campaign(session, city, year, groups) -> Campaign:
    campaign = Campaign(organization_id=city.id, title=past_title(year), year=year,
                        lookback_years=3, status=CampaignStatus.CLOSED)
    session.add(campaign)
    session.flush()
    start = datetime(year + 1, 1, 8, 9, 0, tzinfo=LOCAL_TZ)
    for kind in STAGE_ORDER:
        session.add(Stage(campaign_id=campaign.id, kind=kind,
                          weight=PAST_WEIGHTS.get(kind, Decimal(0)),
                          opens_at=start, closes_at=start + timedelta(days=10)))
        start += timedelta(days=10)
    for group, members in groups.items():
        session.add_all(CampaignAgency(campaign_id=campaign.id, agency_id=a.id, group_name=group,
                                       position=i) for i, a in enumerate(members))
    from evaluation.demo import add_indicator_tree

    add_indicator_tree(session, campaign, data.CITY_INDICATORS)
    return campaign


def _leaves(session, campaign) -> list[Indicator]:
    """The leaves an inspector marks: every indicator under a normal first-level one."""
    indicators = session.exec(select(Indicator).where(Indicator.campaign_id == campaign.id)
                              .order_by(Indicator.id)).all()
    normal = {i.id for i in indicators if i.parent_id is None and i.kind == IndicatorKind.NORMAL}
    return [i for i in indicators if i.parent_id in normal]


def _judges(session, campaign) -> list[Judge]:
    judges = [Judge(campaign_id=campaign.id, name=n, group_name=g) for n, g in PAST_JUDGES]
    session.add_all(judges)
    session.flush()
    return judges


def _marks(session, stages, agency_id, level, judges, composer, inspector, rng, year, leaves):
    def score(kind, value, *, judge=None, reviewer=None, n=0, indicator=None):
        session.add(Score(
            stage_id=stages[kind].id, agency_id=agency_id, value=value,
            judge_id=judge.id if judge else None, reviewer_id=reviewer.id if reviewer else None,
            indicator_id=indicator.id if indicator else None,
            client_request_id=f"demo-{year}-{agency_id}-{kind.value}-{n}",
        ))

    # Self-assessments run high; field visits and the stage are stricter.
    score(StageKind.SELF_ASSESSMENT, _mark(level + rng.uniform(0, 5)), reviewer=composer)
    inspection = _mark(level + rng.uniform(-4, 3))
    # The inspector's sheet adds up to that mark (so the published figures are those of a
    # single total), spread over the indicators as unevenly as an agency's work is.
    sheet = _sheet(inspection, leaves, random.Random(f"{year}:{agency_id}"))
    for leaf, value in zip(leaves, sheet, strict=True):
        score(StageKind.FIELD_INSPECTION, value, reviewer=inspector, n=leaf.code,
              indicator=leaf)
    for n, judge in enumerate(judges):
        score(StageKind.ONSITE_REVIEW, _mark(level + rng.gauss(0, 3.5)), judge=judge, n=n)


def _sheet(total: Decimal, leaves: list[Indicator], rng: random.Random) -> list[Decimal]:
    """Half-point marks, each within its indicator's maximum, adding up to `total` (at most
    the leaves' maximum): the share `total` is of that maximum, moved up or down per
    first-level indicator and a little per leaf, then the remainder given back half a point
    at a time."""
    ceiling = sum(leaf.max_points for leaf in leaves)
    share = total / ceiling
    lean = {leaf.parent_id: Decimal(str(round(rng.uniform(-0.12, 0.12), 3))) for leaf in leaves}
    marks = []
    for leaf in leaves:
        wobble = lean[leaf.parent_id] + Decimal(str(round(rng.uniform(-0.04, 0.04), 3)))
        value = leaf.max_points * min(max(share + wobble, Decimal(0)), Decimal(1))
        marks.append((value * 2).to_integral_value() / 2)
    step = HALF if sum(marks) < total else -HALF
    while sum(marks) != total:
        for i, leaf in enumerate(leaves):
            if sum(marks) != total and Decimal(0) <= marks[i] + step <= leaf.max_points:
                marks[i] += step
    return [mark.quantize(Decimal("0.01")) for mark in marks]


def _past_policy(session, campaign, composer) -> None:
    settings = default_settings(session, campaign)
    settings.drops[StageKind.ONSITE_REVIEW.value] = (0, 0)
    save_policy(session, campaign, build_policy(settings), composer.id)


def _publish(session, campaign, year, composer, certifier, contact) -> None:
    composed_at = datetime(year + 1, 3, 10, 10, 0, tzinfo=LOCAL_TZ)
    version = compose_version(session, campaign, composer, now=composed_at)
    certify(session, version, certifier, now=composed_at + timedelta(hours=3))
    published = composed_at + timedelta(days=2)
    publish(session, version, composer, appeal_days=7, now=published)
    if year == LAST_PAST_YEAR:
        appeal = file_appeal(session, version, contact,
                             "我局实地考察得分与考察组现场反馈不一致，请予以复核。",
                             now=published + timedelta(days=2))
        decide_appeal(session, appeal, certifier, "rejected",
                      "经调阅考察评分表及现场记录，评分录入无误，维持原结果。",
                      now=published + timedelta(days=5))


def demo_users(session: Session, *usernames: str) -> list[User]:
    return [session.exec(select(User).where(User.username == name)).one() for name in usernames]
