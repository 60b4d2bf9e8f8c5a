"""Agencies from a workbook: new ones created, known ones skipped or enrolled."""

from __future__ import annotations

from sqlmodel import Session

from evaluation.imports.cells import name_key
from evaluation.imports.model import N_, ParsedImport
from evaluation.models import (
    Agency,
    AgencyLevel,
    Campaign,
    CampaignAgency,
)
from evaluation.services.agencies import campaign_agencies
from evaluation.services.import_actions import (
    CREATE,
    CREATE_AND_ENROLL,
    ENROLL,
    SKIP,
    agencies_by_name,
)


def review_agencies(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    stored = agencies_by_name(session, campaign.organization_id)
    enrolled = {
        entry.agency_id: entry for entry, _agency in campaign_agencies(session, campaign.id)
    }
    for row in parsed.rows:
        agency = stored.get(name_key(row.name))
        if agency is None:
            review.actions[row.row] = CREATE_AND_ENROLL if row.group else CREATE
        elif agency.level.value != row.level or (row.region and row.region != agency.region):
            review.problems.append(
                parsed.cell(
                    "name",
                    row.row,
                    N_(
                        "已有同名单位“%(name)s”，但类别或地区不同（已有：%(level)s，%(region)s）；"
                        "导入不修改已有单位，请在“被评议单位”中修改。"
                    ),
                    name=agency.name,
                    level=AgencyLevel(agency.level).label,
                    region=agency.region or "-",
                )
            )
        else:
            _review_existing_agency(parsed, review, row, agency, enrolled.get(agency.id))


def _review_existing_agency(parsed, review, row, agency: Agency, entry) -> None:
    if row.group and entry is None:
        review.actions[row.row] = ENROLL
        review.notes.append(
            parsed.cell(
                "name",
                row.row,
                N_("单位“%(name)s”已存在，将加入本次评议的“%(group)s”。"),
                name=agency.name,
                group=row.group,
            )
        )
    elif row.group and entry.group_name != row.group:
        review.problems.append(
            parsed.cell(
                "group",
                row.row,
                N_("单位“%(name)s”已在本次评议的“%(stored)s”中，与表中的“%(group)s”不同。"),
                name=agency.name,
                stored=entry.group_name,
                group=row.group,
            )
        )
    else:
        review.actions[row.row] = SKIP
        review.notes.append(
            parsed.cell("name", row.row, N_("单位“%(name)s”已存在且相同，跳过。"), name=agency.name)
        )


def write_agencies(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    stored = agencies_by_name(session, campaign.organization_id)
    positions = _positions(session, campaign, parsed, review)
    for row in parsed.rows:  # the sheet's order, so that ids follow it
        action = review.actions[row.row]
        if action == SKIP:
            continue
        agency = stored.get(name_key(row.name))
        if agency is None:
            agency = Agency(
                organization_id=campaign.organization_id,
                name=row.name,
                level=AgencyLevel(row.level),
                region=row.region,
            )
            session.add(agency)
            session.flush()
        if action in (ENROLL, CREATE_AND_ENROLL):
            entry = CampaignAgency(
                campaign_id=campaign.id,
                agency_id=agency.id,
                group_name=row.group,
                position=positions[row.row],
            )
            session.add(entry)
    session.flush()


def _positions(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> dict:
    """Excel row -> place in its group, after the agencies already there: the 顺序 given
    first, then the rows without one, in the sheet's order."""
    following: dict[str, int] = {}
    for entry, _agency in campaign_agencies(session, campaign.id):
        following[entry.group_name] = max(following.get(entry.group_name, 0), entry.position + 1)
    enrolling = [r for r in parsed.rows if review.actions[r.row] in (ENROLL, CREATE_AND_ENROLL)]
    places = {}
    for row in sorted(enrolling, key=lambda r: (r.position is None, r.position or 0, r.row)):
        places[row.row] = following.get(row.group, 0)
        following[row.group] = places[row.row] + 1
    return places
