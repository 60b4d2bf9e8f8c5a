"""Committing a parsed import: checked against the database, written all or nothing.

The parse (evaluation.imports, in the worker process) knows only the workbook. Here each
row is compared with what is stored: an identical existing agency or judge is skipped
(a note), a different one with the same name is an error, an indicator code already in
the campaign is an error. `commit_import` repeats the check inside the transaction that
writes, so what changed since the preview is caught; every row goes through the ORM, so
the audit hook logs each one, and a refusal rolls the whole transaction back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from evaluation.imports import ImportProblem, ParsedImport
from evaluation.imports.model import sort_by_place
from evaluation.models import Campaign
from evaluation.services import (
    import_agencies,
    import_indicators,
    import_judges,
    import_vote_codes,
)
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail


@dataclass
class Review:
    """What committing would do: an action per Excel row, and what stands in the way."""

    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[ImportProblem] = field(default_factory=list)
    actions: dict[int, str] = field(default_factory=dict)  # Excel row -> create/enroll/skip

    @property
    def ok(self) -> bool:
        return not self.problems


class ImportRefused(ValueError):
    """Nothing was stored; `problems` says why, each at its place in the workbook."""

    def __init__(self, problems: list[ImportProblem]):
        super().__init__("; ".join(problem.text() for problem in problems))
        self.problems = problems


REVIEWERS = {
    "agencies": import_agencies.review_agencies,
    "judges": import_judges.review_judges,
    "indicators": import_indicators.review_indicators,
    "vote_codes": import_vote_codes.review_vote_codes,
}
WRITERS = {
    "agencies": import_agencies.write_agencies,
    "judges": import_judges.write_judges,
    "indicators": import_indicators.write_indicators,
    "vote_codes": import_vote_codes.write_vote_codes,
}


def review_import(session: Session, campaign: Campaign, parsed: ParsedImport) -> Review:
    """The workbook's own problems and notes, then the database's."""
    review = Review(list(parsed.problems), list(parsed.notes))
    REVIEWERS[parsed.kind](session, campaign, parsed, review)
    # The database's findings join the workbook's in row order, not after them.
    sort_by_place(review.problems)
    sort_by_place(review.notes)
    return review


def commit_import(session: Session, campaign: Campaign, parsed: ParsedImport) -> dict[str, int]:
    """Write every row in one transaction, or nothing (ImportRefused). Counts per action."""
    try:
        review = review_import(session, campaign, parsed)
        if not review.ok:
            raise ImportRefused(review.problems)
        WRITERS[parsed.kind](session, campaign, parsed, review)
        commit_or_fail(session)
    except ValidationFailed as clash:  # a race the constraints caught: already rolled back
        raise ImportRefused(
            [
                ImportProblem(parsed.sheet, None, "", "", message)
                for message in clash.errors.values()
            ]
        ) from clash
    except BaseException:
        session.rollback()
        raise
    counts: dict[str, int] = {}
    for action in review.actions.values():
        counts[action] = counts.get(action, 0) + 1
    return counts
