"""An agency's published results across campaigns (the programme runs since 2018).

Read from the frozen JSON of each campaign's published version: history shows what was
published then, whatever has changed in the marks since.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from evaluation.models import Campaign, ResultsVersion, VersionStatus
from evaluation.services.results_data import PastResult
from evaluation.services.results_freeze import FrozenView


@dataclass(frozen=True)
class HistoryRow:
    year: int
    campaign_id: int
    title: str
    version_number: int
    group: str
    group_size: int
    rank: int | None
    total: Decimal
    grade: str | None
    stages: dict
    shared: bool = False      # a rank shared with another agency of the group (并列)


def published_versions(db: Session, before_year: int | None = None):
    query = (
        select(ResultsVersion, Campaign)
        .join(Campaign, Campaign.id == ResultsVersion.campaign_id)
        .where(ResultsVersion.status == VersionStatus.PUBLISHED)
        .order_by(Campaign.year, Campaign.id)
    )
    if before_year is not None:
        query = query.where(Campaign.year < before_year)
    return db.exec(query).all()


def history_rows(db: Session, agency_id: int, before_year: int | None = None) -> list[HistoryRow]:
    rows = []
    for version, campaign in published_versions(db, before_year):
        view = FrozenView.load(version.results_json)
        entry = view.agency(agency_id)
        if entry is None:
            continue
        rows.append(HistoryRow(
            year=campaign.year, campaign_id=campaign.id, title=campaign.title,
            version_number=version.number, group=entry["group"],
            group_size=view.group_size(entry["group"]), rank=entry["rank"],
            total=Decimal(entry["total"]), grade=entry["grade"], stages=entry["stages"],
            shared=bool(entry.get("shared")),
        ))
    return rows


def past_results(db: Session, agency_ids: list[int],
                 before_year: int) -> dict[int, tuple[PastResult, ...]]:
    """Earlier published figures of these agencies (the reports' multi-year trend)."""
    wanted = set(agency_ids)
    found: dict[int, list[PastResult]] = {}
    for version, campaign in published_versions(db, before_year):
        for entry in FrozenView.load(version.results_json).data["agencies"]:
            if entry["id"] in wanted:
                found.setdefault(entry["id"], []).append(PastResult(
                    campaign.year, Decimal(entry["total"]), entry["rank"], entry["grade"]))
    return {agency: tuple(rows) for agency, rows in found.items()}
