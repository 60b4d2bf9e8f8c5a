"""A small campaign with marks in every scored stage, for the results tests.

Stages: 自查自评 20 (an organizer's per-indicator assessment), 社会评议 20 (audience-panel
votes), 实地考察 20 (two inspectors), 现场评议 40 (five judges, one recused from 甲局).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import factories as f
from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    AudienceVote,
    Campaign,
    CampaignAgency,
    Indicator,
    Judge,
    LiveSlot,
    Organization,
    PanelMember,
    Role,
    Satisfaction,
    Score,
    Stage,
    StageKind,
    User,
)
from evaluation.services.live_sessions import create_session

D = Decimal
_ids = itertools.count(1)
WEIGHTS = {
    StageKind.SELF_ASSESSMENT: D(20),
    StageKind.PUBLIC_REVIEW: D(20),
    StageKind.FIELD_INSPECTION: D(20),
    StageKind.ONSITE_REVIEW: D(40),
}
# agency name -> (self-assessment per indicator A1, A2; inspectors; judges 1..5; votes s/b/d)
MARKS = {
    "甲局": ((D(45), D("46.5")), (D(90), D(86)), (D(90), D(92), D(88), D(95), D(70)), (8, 2, 0)),
    "乙局": ((D(40), D(41)), (D(80), D(84)), (D(85), D(86), D(84), D(99), D(60)), (5, 4, 1)),
    "丙局": ((D(30), D(28)), (D(60), D(62)), (D(70), D(72), D(75), D(74), D(71)), (2, 5, 3)),
}
GROUP = {"甲局": "市直组", "乙局": "市直组", "丙局": "县区组"}


@dataclass
class World:
    org: Organization
    campaign: Campaign
    agencies: dict[str, Agency]
    judges: list[Judge]
    composer: User
    certifier: User
    contacts: dict[str, User]
    stages: dict[StageKind, Stage]


def _score(db, stage, agency, value, *, judge=None, reviewer=None, indicator=None):
    db.add(Score(stage_id=stage.id, agency_id=agency.id, value=value,
                 judge_id=judge.id if judge else None,
                 reviewer_id=reviewer.id if reviewer else None,
                 indicator_id=indicator.id if indicator else None,
                 client_request_id=f"test-{next(_ids)}"))


def build(db: Session, org: Organization | None = None) -> World:
    org = org or f.org(db)
    campaign = f.campaign(db, org)
    stages = {kind: f.stage(db, campaign, kind) for kind in StageKind}
    for kind, stage in stages.items():
        stage.weight = WEIGHTS.get(kind, D(0))
        db.add(stage)
    agencies = {name: f.agency(db, org, f"{name}{next(_ids)}") for name in MARKS}
    for position, (name, agency) in enumerate(agencies.items()):
        db.add(CampaignAgency(campaign_id=campaign.id, agency_id=agency.id,
                              group_name=GROUP[name], position=position))
    parent = Indicator(campaign_id=campaign.id, code="A", name="组织领导", max_points=D(100))
    db.add(parent)
    db.flush()
    a1 = Indicator(campaign_id=campaign.id, parent_id=parent.id, code="A1", name="责任",
                   max_points=D(50))
    a2 = Indicator(campaign_id=campaign.id, parent_id=parent.id, code="A2", name="制度",
                   max_points=D(50))
    db.add_all([a1, a2])
    judges = [Judge(campaign_id=campaign.id, name=f"评委{i}", group_name="专家") for i in range(5)]
    judges[4].affiliation_agency_id = agencies["甲局"].id  # recused when 甲局 is on stage
    db.add_all(judges)
    db.commit()
    composer = f.user(db, Role.ORGANIZER, org)
    certifier = f.user(db, Role.ORGANIZER, org)
    inspectors = [f.user(db, Role.INSPECTOR, org), f.user(db, Role.INSPECTOR, org)]
    contacts = {name: f.user(db, Role.AGENCY_CONTACT, org, agency)
                for name, agency in agencies.items()}
    live = create_session(db, stages[StageKind.ONSITE_REVIEW], "第一场",
                          [a.id for a in agencies.values()], [j.id for j in judges])
    slots = {s.agency_id: s
             for s in db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id))}
    members = itertools.count(1)
    for name, (own, inspected, judged, votes) in MARKS.items():
        agency = agencies[name]
        _score(db, stages[StageKind.SELF_ASSESSMENT], agency, own[0], reviewer=composer,
               indicator=a1)
        _score(db, stages[StageKind.SELF_ASSESSMENT], agency, own[1], reviewer=composer,
               indicator=a2)
        for inspector, value in zip(inspectors, inspected, strict=True):
            _score(db, stages[StageKind.FIELD_INSPECTION], agency, value, reviewer=inspector)
        for judge, value in zip(judges, judged, strict=True):
            if judge.affiliation_agency_id != agency.id:
                _score(db, stages[StageKind.ONSITE_REVIEW], agency, value, judge=judge)
        levels = [Satisfaction.SATISFIED] * votes[0] + [Satisfaction.BASIC] * votes[1] \
            + [Satisfaction.DISSATISFIED] * votes[2]
        for level in levels:
            member = PanelMember(session_id=live.id, number=next(members),
                                 code_digest=f"{next(_ids):064d}")
            db.add(member)
            db.flush()
            db.add(AudienceVote(client_id=f"vote-{next(_ids)}", slot_id=slots[agency.id].id,
                                member_id=member.id, level=level))
    db.commit()
    return World(org, campaign, agencies, judges, composer, certifier, contacts, stages)
