"""The organizer's views on self-assessment: who has submitted, and what changed between
two versions of one agency's submission."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    CampaignAgency,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)


@dataclass(frozen=True)
class CompletenessRow:
    agency: Agency
    group_name: str
    submission: Submission | None
    last_submitted_at: datetime | None

    @property
    def status(self) -> SubmissionStatus | None:
        return self.submission.status if self.submission else None

    @property
    def has_submitted(self) -> bool:
        return self.submission is not None and self.submission.version_count > 0


def completeness(session: Session, campaign_id: int) -> list[CompletenessRow]:
    """Every enrolled agency with its submission state; the ones not submitted come first."""
    enrolled = session.exec(
        select(CampaignAgency, Agency)
        .join(Agency, Agency.id == CampaignAgency.agency_id)
        .where(CampaignAgency.campaign_id == campaign_id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position, Agency.id)
    ).all()
    submissions = {
        s.agency_id: s
        for s in session.exec(select(Submission).where(Submission.campaign_id == campaign_id))
    }
    last = dict(
        session.exec(
            select(SubmissionVersion.submission_id, SubmissionVersion.submitted_at)
            .join(Submission, Submission.id == SubmissionVersion.submission_id)
            .where(Submission.campaign_id == campaign_id)
            .order_by(SubmissionVersion.number)
        ).all()
    )
    rows = [
        CompletenessRow(
            agency=agency,
            group_name=entry.group_name,
            submission=submissions.get(agency.id),
            last_submitted_at=last.get(submissions[agency.id].id)
            if agency.id in submissions
            else None,
        )
        for entry, agency in enrolled
    ]
    return sorted(rows, key=lambda row: row.has_submitted)


@dataclass(frozen=True)
class ScoreChange:
    code: str
    name: str
    max_points: str
    old_points: str | None
    new_points: str | None
    old_explanation: str
    new_explanation: str

    @property
    def changed(self) -> bool:
        # Compared as numbers: "4" and "4.00" are the same mark.
        def number(text):
            return Decimal(text) if text is not None else None

        return (number(self.old_points), self.old_explanation) != (
            number(self.new_points),
            self.new_explanation,
        )


@dataclass(frozen=True)
class VersionComparison:
    old: SubmissionVersion
    new: SubmissionVersion
    report_lines: list[tuple[str, str]]  # (" ", "-", "+"; line)
    scores: list[ScoreChange]
    files_added: list[str]
    files_removed: list[str]


def _report_diff(old: str, new: str) -> list[tuple[str, str]]:
    lines = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("? "):
            continue  # ndiff's intraline hints are for monospace terminals, not a web page
        lines.append((line[0], line[2:]))
    return lines


def compare_versions(old: SubmissionVersion, new: SubmissionVersion) -> VersionComparison:
    old_scores = {row["indicator_id"]: row for row in json.loads(old.scores_json)}
    new_scores = {row["indicator_id"]: row for row in json.loads(new.scores_json)}
    changes = []
    for indicator_id in list(new_scores) + [k for k in old_scores if k not in new_scores]:
        a, b = old_scores.get(indicator_id, {}), new_scores.get(indicator_id, {})
        either = b or a
        changes.append(
            ScoreChange(
                code=either["code"],
                name=either["name"],
                max_points=either["max_points"],
                old_points=a.get("points"),
                new_points=b.get("points"),
                old_explanation=a.get("explanation", ""),
                new_explanation=b.get("explanation", ""),
            )
        )
    old_files = {f["sha256"]: f["name"] for f in json.loads(old.files_json)}
    new_files = {f["sha256"]: f["name"] for f in json.loads(new.files_json)}
    return VersionComparison(
        old=old,
        new=new,
        report_lines=_report_diff(old.report_md, new.report_md),
        scores=changes,
        files_added=[name for sha, name in new_files.items() if sha not in old_files],
        files_removed=[name for sha, name in old_files.items() if sha not in new_files],
    )
