"""Agencies (被评议单位) and their place in a campaign."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Agency, AgencyLevel, Campaign, CampaignAgency
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail, is_taken, save_fields


@dataclass(frozen=True)
class AgencyFields:
    name: str
    level: AgencyLevel
    region: str = ""


def _check_name_free(
    session: Session, organization_id: int, name: str, exclude_id: int | None = None
) -> None:
    if is_taken(session, Agency, exclude_id, organization_id=organization_id, name=name):
        raise ValidationFailed({"name": _("已有同名单位。")})


def create_agency(session: Session, organization_id: int, fields: AgencyFields) -> Agency:
    _check_name_free(session, organization_id, fields.name)
    agency = Agency(organization_id=organization_id, **fields.__dict__)
    session.add(agency)
    commit_or_fail(session)
    return agency


def update_agency(session: Session, agency: Agency, fields: AgencyFields) -> Agency:
    _check_name_free(session, agency.organization_id, fields.name, exclude_id=agency.id)
    return save_fields(session, agency, fields)


def organization_agencies(session: Session, organization_id: int) -> list[Agency]:
    return list(
        session.exec(
            select(Agency)
            .where(Agency.organization_id == organization_id)
            .order_by(Agency.level, Agency.id)
        ).all()
    )


def campaign_agencies(session: Session, campaign_id: int) -> list[tuple[CampaignAgency, Agency]]:
    rows = session.exec(
        select(CampaignAgency, Agency)
        .join(Agency, Agency.id == CampaignAgency.agency_id)
        .where(CampaignAgency.campaign_id == campaign_id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position, Agency.id)
    ).all()
    return list(rows)


def enroll_agency(
    session: Session, campaign: Campaign, agency_id: int, group_name: str, position: int = 0
) -> CampaignAgency:
    agency = session.get(Agency, agency_id)
    if agency is None or agency.organization_id != campaign.organization_id:
        raise ValidationFailed({"agency_id": _("请选择本单位管理的被评议单位。")})
    if not group_name.strip():
        raise ValidationFailed({"group_name": _("请填写分组，例如“市直组”。")})
    taken = session.exec(
        select(CampaignAgency).where(
            CampaignAgency.campaign_id == campaign.id, CampaignAgency.agency_id == agency_id
        )
    ).first()
    if taken:
        raise ValidationFailed({"agency_id": _("该单位已参加本次评议。")})
    entry = CampaignAgency(
        campaign_id=campaign.id,
        agency_id=agency_id,
        group_name=group_name.strip(),
        position=position,
    )
    session.add(entry)
    commit_or_fail(session)
    return entry
