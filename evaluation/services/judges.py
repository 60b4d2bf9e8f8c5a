"""Judges and review representatives (评委、评议代表) of a campaign."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case
from sqlmodel import Session, select

from evaluation.models import Agency, Campaign, Judge
from evaluation.models.base import N_
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail, is_taken, save_fields

JUDGE_GROUPS = [N_("人大代表"), N_("政协委员"), N_("专家"), N_("群众代表"), N_("媒体代表")]
_GROUP_ORDER = case(
    {group: index for index, group in enumerate(JUDGE_GROUPS)},
    value=Judge.group_name,
    else_=len(JUDGE_GROUPS),
)


@dataclass(frozen=True)
class JudgeFields:
    name: str
    group_name: str
    title: str = ""
    affiliation_agency_id: int | None = None
    contact: str = ""


def _validate(
    session: Session, campaign: Campaign, fields: JudgeFields, exclude_id: int | None = None
) -> None:
    problems = {}
    if is_taken(session, Judge, exclude_id, campaign_id=campaign.id, name=fields.name):
        problems["name"] = _("本次评议已有同名评委。")
    if fields.affiliation_agency_id is not None:
        agency = session.get(Agency, fields.affiliation_agency_id)
        if agency is None or agency.organization_id != campaign.organization_id:
            problems["affiliation_agency_id"] = _("所属单位须是本单位管理的被评议单位。")
    if problems:
        raise ValidationFailed(problems)


def create_judge(session: Session, campaign: Campaign, fields: JudgeFields) -> Judge:
    _validate(session, campaign, fields)
    judge = Judge(campaign_id=campaign.id, **fields.__dict__)
    session.add(judge)
    commit_or_fail(session)
    return judge


def update_judge(session: Session, campaign: Campaign, judge: Judge, fields: JudgeFields) -> Judge:
    _validate(session, campaign, fields, exclude_id=judge.id)
    return save_fields(session, judge, fields)


def campaign_judges(session: Session, campaign_id: int) -> list[Judge]:
    return list(
        session.exec(
            select(Judge)
            .where(Judge.campaign_id == campaign_id)
            # The groups in their customary order (人大代表 first), not by code point.
            .order_by(_GROUP_ORDER, Judge.id)
        ).all()
    )
