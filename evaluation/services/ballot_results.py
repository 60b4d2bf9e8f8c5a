"""What the public review adds up to: counts, turnout, the index from scoring/, quarantine.

Only valid ballots count: quarantined ones wait for an organizer, rejected ones never count.
Figures are for organizers (and, after the stage, for the results composition): nothing
here is shown to the public while voting is open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func
from sqlmodel import Session, select

from evaluation.models import Ballot, BallotPoint, BallotStatus, Satisfaction, Stage
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from scoring import THREE_LEVEL, PanelRule
from scoring.satisfaction import SatisfactionResult

# The level names scoring/'s three-level scale uses are the levels' Chinese labels.
SCALE = THREE_LEVEL
LEVEL_NAMES = {level: level.label for level in Satisfaction}
BALLOT_TOTAL = PanelRule(combine="sum", places=2)
MEAN_OF_BALLOTS = PanelRule(combine="mean", places=2, min_marks=1, fallback="use_all")


def counts_by_agency(db: Session, stage: Stage) -> dict[int, dict[str, int]]:
    """{agency_id: {level: count}} of valid ballots; levels are scoring's names (满意 …),
    ready for `SCALE.apply`. Agencies without a valid ballot are absent."""
    rows = db.exec(
        select(Ballot.agency_id, Ballot.level, func.count())
        .where(
            Ballot.stage_id == stage.id,
            Ballot.status == BallotStatus.VALID,
            Ballot.level.is_not(None),
        )
        .group_by(Ballot.agency_id, Ballot.level)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for agency_id, level, count in rows:
        counts.setdefault(agency_id, {})[LEVEL_NAMES[Satisfaction(level)]] = count
    return counts


def satisfaction_by_agency(db: Session, stage: Stage) -> dict[int, SatisfactionResult]:
    return {
        agency_id: SCALE.apply(counts) for agency_id, counts in counts_by_agency(db, stage).items()
    }


def points_by_agency(db: Session, stage: Stage) -> dict[int, object]:
    """{agency_id: PanelResult}: the mean of valid points ballots' totals, from scoring/."""
    rows = db.exec(
        select(Ballot.agency_id, Ballot.id, BallotPoint.points)
        .join(BallotPoint, BallotPoint.ballot_id == Ballot.id)
        .where(Ballot.stage_id == stage.id, Ballot.status == BallotStatus.VALID)
    ).all()
    per_ballot: dict[int, dict[int, list]] = {}
    for agency_id, ballot_id, points in rows:
        per_ballot.setdefault(agency_id, {}).setdefault(ballot_id, []).append(points)
    return {
        agency_id: MEAN_OF_BALLOTS.apply([BALLOT_TOTAL.apply(p).value for p in ballots.values()])
        for agency_id, ballots in per_ballot.items()
    }


@dataclass
class Turnout:
    valid: int = 0
    quarantined: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        return self.valid + self.quarantined + self.rejected


def turnout_by_agency(db: Session, stage: Stage) -> dict[int, Turnout]:
    rows = db.exec(
        select(Ballot.agency_id, Ballot.status, func.count())
        .where(Ballot.stage_id == stage.id)
        .group_by(Ballot.agency_id, Ballot.status)
    ).all()
    found: dict[int, Turnout] = {}
    for agency_id, status, count in rows:
        setattr(found.setdefault(agency_id, Turnout()), BallotStatus(status).name.lower(), count)
    return found


def codes_used(db: Session, stage: Stage) -> int:
    return db.exec(
        select(func.count(func.distinct(Ballot.vote_code_id))).where(Ballot.stage_id == stage.id)
    ).one()


# --- quarantine -------------------------------------------------------------------------


def quarantine_queue(db: Session, stage: Stage) -> list[Ballot]:
    return list(
        db.exec(
            select(Ballot)
            .where(Ballot.stage_id == stage.id, Ballot.status == BallotStatus.QUARANTINED)
            .order_by(Ballot.cast_at)
        ).all()
    )


def recently_decided(db: Session, stage: Stage, limit: int = 50) -> list[Ballot]:
    return list(
        db.exec(
            select(Ballot)
            .where(Ballot.stage_id == stage.id, Ballot.decided_at.is_not(None))
            .order_by(Ballot.decided_at.desc())
            .limit(limit)
        ).all()
    )


def reasons_of(ballot: Ballot) -> list[tuple[str, dict]]:
    """The screening's reasons as (msgid, params), translated where shown."""
    return [tuple(item) for item in json.loads(ballot.quarantine_reason or "[]")]


def decide(db: Session, stage: Stage, ballot_id: int, accept: bool, reason: str, by: str) -> Ballot:
    """Accept (it counts) or reject (it never counts) a quarantined ballot; audited, reasoned."""
    ballot = db.get(Ballot, ballot_id)
    if ballot is None or ballot.stage_id != stage.id:
        raise ValidationFailed({"ballot": _("没有这张选票。")})
    if ballot.status != BallotStatus.QUARANTINED:
        raise ValidationFailed({"ballot": _("这张选票已经处理过了。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("请写明处理理由。")})
    if len(reason) > 300:
        raise ValidationFailed({"reason": _("理由最多 300 个字。")})
    ballot.status = BallotStatus.VALID if accept else BallotStatus.REJECTED
    ballot.decision_reason = reason
    ballot.decided_by = by[:100]
    ballot.decided_at = utcnow()
    db.add(ballot)
    db.commit()
    return ballot
