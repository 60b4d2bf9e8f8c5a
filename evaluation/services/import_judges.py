"""Judges from a workbook: 所属单位 must name one of the organization's agencies."""

from __future__ import annotations

from sqlmodel import Session

from evaluation.imports.cells import name_key
from evaluation.imports.model import N_, ParsedImport
from evaluation.models import (
    Campaign,
    Judge,
)
from evaluation.services.import_actions import CREATE, SKIP, agencies_by_name
from evaluation.services.judges import campaign_judges


def review_judges(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    agencies = agencies_by_name(session, campaign.organization_id)
    judges = {name_key(j.name): j for j in campaign_judges(session, campaign.id)}
    for row in parsed.rows:
        affiliation = agencies.get(name_key(row.affiliation)) if row.affiliation else None
        if row.affiliation and affiliation is None:
            review.problems.append(
                parsed.cell(
                    "affiliation",
                    row.row,
                    N_("所属单位“%(name)s”不是本单位管理的被评议单位，请先导入或添加该单位。"),
                    name=row.affiliation,
                )
            )
            continue
        judge = judges.get(name_key(row.name))
        if judge is None:
            review.actions[row.row] = CREATE
        elif (judge.group_name, judge.title, judge.affiliation_agency_id) == (
            row.group_name,
            row.title,
            affiliation.id if affiliation else None,
        ):
            review.actions[row.row] = SKIP
            review.notes.append(
                parsed.cell(
                    "name", row.row, N_("评委“%(name)s”已存在且相同，跳过。"), name=judge.name
                )
            )
        else:
            review.problems.append(
                parsed.cell(
                    "name",
                    row.row,
                    N_("本次评议已有评委“%(name)s”，但类别、职务或所属单位不同。"),
                    name=judge.name,
                )
            )


def write_judges(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    agencies = agencies_by_name(session, campaign.organization_id)
    for row in parsed.rows:
        if review.actions[row.row] != CREATE:
            continue
        affiliation = agencies.get(name_key(row.affiliation)) if row.affiliation else None
        session.add(
            Judge(
                campaign_id=campaign.id,
                name=row.name,
                group_name=row.group_name,
                title=row.title,
                affiliation_agency_id=affiliation.id if affiliation else None,
            )
        )
    session.flush()
