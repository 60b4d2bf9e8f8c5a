"""A campaign ready for 互评: N agencies of one group with contacts, an organizer, two leaf
indicators (A1 on a 0.5 step), the peer-review stage open for a week."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import factories as f
from webclient import Browserless, logged_in

from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    Indicator,
    PeerMarking,
    PeerMode,
    Role,
    Stage,
    StageKind,
    User,
)
from evaluation.services.peer_review import SetupFields, set_up

NAMES = ["市司法局", "市税务局", "市公安局", "市教育局", "市水务局", "市审计局", "市商务局"]


@dataclass
class World:
    campaign: Campaign
    agencies: list[Agency]
    contacts: list[User]
    organizer: User
    a1: Indicator
    a2: Indicator
    stage: Stage

    def web(self, app, user: User) -> Browserless:
        return logged_in(app, user.username)

    def sheet_url(self, target: Agency) -> str:
        return f"/agency/campaigns/{self.campaign.id}/peer-review/{target.id}"

    def draw(self, db, *, mode=PeerMode.ALL, k=None, marking=PeerMarking.INDICATORS,
             seed="test-seed"):
        return set_up(db, self.stage, SetupFields(mode, k, marking, Decimal(100), None, seed),
                      self.organizer)


def build(db, size: int = 4) -> World:
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agencies = [f.agency(db, organization, name) for name in NAMES[:size]]
    db.add_all(CampaignAgency(campaign_id=campaign.id, agency_id=a.id, group_name="市直组",
                              position=i) for i, a in enumerate(agencies))
    db.commit()
    contacts = [f.user(db, Role.AGENCY_CONTACT, organization, a) for a in agencies]
    a1, a2 = f.two_leaf_rubric(db, campaign)
    stage = f.open_stage(db, campaign, StageKind.PEER_REVIEW)
    organizer = f.user(db, Role.ORGANIZER, organization)
    return World(campaign, agencies, contacts, organizer, a1, a2, stage)
