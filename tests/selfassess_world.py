"""A campaign ready for self-assessment: two enrolled agencies with contacts, an organizer,
two scored indicators (A1 on a 0.5 step), the self-assessment stage open for a week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import factories as f
from webclient import Browserless, logged_in

from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    Indicator,
    Role,
    Stage,
    StageKind,
    User,
)
from evaluation.models.base import utcnow


@dataclass
class World:
    campaign: Campaign
    agency_a: Agency
    agency_b: Agency
    contact_a: User
    contact_b: User
    organizer: User
    a1: Indicator
    a2: Indicator
    stage: Stage

    def web(self, app, user: User) -> Browserless:
        return logged_in(app, user.username)

    def form_url(self) -> str:
        return f"/agency/campaigns/{self.campaign.id}/self-assessment"

    def filled_form(
        self, report: str = "# 履职报告\n\n本年度开展普法活动 36 场。", a1="9.5", a2="8"
    ):
        return {
            "report_md": report,
            f"points-{self.a1.id}": a1,
            f"explanation-{self.a1.id}": "责任清单已公开",
            f"points-{self.a2.id}": a2,
            f"explanation-{self.a2.id}": "建立普法台账",
        }


def build(db) -> World:
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agency_a = f.agency(db, organization, "市司法局")
    agency_b = f.agency(db, organization, "市税务局")
    for position, agency in enumerate((agency_a, agency_b)):
        db.add(
            CampaignAgency(
                campaign_id=campaign.id, agency_id=agency.id, group_name="市直组", position=position
            )
        )
    db.commit()
    a1, a2 = f.two_leaf_rubric(db, campaign)
    stage = f.open_stage(db, campaign, StageKind.SELF_ASSESSMENT)
    return World(
        campaign=campaign,
        agency_a=agency_a,
        agency_b=agency_b,
        contact_a=f.user(db, Role.AGENCY_CONTACT, organization, agency_a),
        contact_b=f.user(db, Role.AGENCY_CONTACT, organization, agency_b),
        organizer=f.user(db, Role.ORGANIZER, organization),
        a1=a1,
        a2=a2,
        stage=stage,
    )


def close_stage(db, world: World) -> None:
    world.stage.opens_at = utcnow() - timedelta(days=10)
    world.stage.closes_at = utcnow() - timedelta(minutes=1)
    db.add(world.stage)
    db.commit()
