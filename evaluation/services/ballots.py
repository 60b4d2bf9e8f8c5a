"""Casting a public-review ballot (社会评议): one per verified identity per agency.

The identity is checked first (a vote code of this stage, or a phone with a fresh SMS code),
then the ballot itself; the UNIQUE constraint (stage, agency, voter_key) is what makes a
replayed code or a thousand simultaneous copies of one ballot store exactly one row, and
gives the refusal its message. Nothing is stored from a refused ballot. On SQLite the
ballots waiting for the writer are committed together (evaluation/db_writes.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from evaluation import audit, db_writes
from evaluation.models import (
    Agency,
    Ballot,
    BallotKind,
    BallotPoint,
    BallotSettings,
    BallotStatus,
    Campaign,
    CampaignAgency,
    IdentityMode,
    Indicator,
    Satisfaction,
    Stage,
    StageKind,
    StageStatus,
)
from evaluation.models.base import utcnow
from evaluation.models.campaign import CampaignStatus
from evaluation.raw_sql import INTEGRITY_ERRORS, Prepared
from evaluation.services import ballot_screening, sms, vote_codes
from evaluation.services.errors import ValidationFailed


class BallotRefused(ValueError):
    """Nothing was stored. `field` names the form field, `status` the HTTP answer."""

    def __init__(self, field_name: str, message: str, status: int = 400):
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Voter:
    key: str  # the identity the unique constraint counts
    vote_code_id: int | None = None


@dataclass(frozen=True)
class Circumstances:
    """Where and how the ballot arrived: what screening looks at."""

    network: str = ""
    device: str = ""
    fill_seconds: float | None = None
    now: datetime = field(default_factory=utcnow)


# --- the stage and its settings ---------------------------------------------------------


@dataclass(frozen=True)
class StageView:
    """The columns of the public-review stage a ballot is checked against (read, not loaded:
    `check_open`, `voting_open` and `cast_ballot` take it where they take a Stage)."""

    id: int
    campaign_id: int
    kind: StageKind
    status: StageStatus
    opens_at: datetime | None
    closes_at: datetime | None


@dataclass(frozen=True)
class BallotTarget:
    """What casting a ballot needs of the URL's campaign, its public review and the agency,
    read in one query instead of five ORM look-ups (campaign, stage, agency, settings,
    enrollment). `stage` is None when the campaign is not public or has no public review;
    `agency_name` is None when the agency is not enrolled in the campaign."""

    campaign_id: int
    stage: StageView | None
    settings: BallotSettings | None
    agency_id: int
    agency_name: str | None


# Public campaigns only: the same statuses as evaluation.views.public.PUBLIC_STATUSES.
PUBLIC_CAMPAIGN_STATUSES = (CampaignStatus.ACTIVE, CampaignStatus.CLOSED, CampaignStatus.PUBLISHED)

# On the driver on SQLite, compiled once (evaluation/raw_sql.py).
_TARGET = Prepared(
    sa_select(
        Campaign.status.label("campaign_status"),
        Stage.id.label("stage_id"),
        Stage.kind,
        Stage.status.label("stage_status"),
        Stage.opens_at,
        Stage.closes_at,
        BallotSettings.id.label("settings_id"),
        BallotSettings.identity_mode,
        BallotSettings.ballot_kind,
        BallotSettings.burst_limit,
        BallotSettings.burst_window_seconds,
        BallotSettings.min_fill_seconds,
        Agency.name.label("agency_name"),
    )
    .select_from(Campaign)
    .outerjoin(Stage, and_(Stage.campaign_id == Campaign.id, Stage.kind == StageKind.PUBLIC_REVIEW))
    .outerjoin(BallotSettings, BallotSettings.stage_id == Stage.id)
    .outerjoin(
        CampaignAgency,
        and_(
            CampaignAgency.campaign_id == Campaign.id,
            CampaignAgency.agency_id == bindparam("agency_id"),
        ),
    )
    .outerjoin(Agency, Agency.id == CampaignAgency.agency_id)
    .where(Campaign.id == bindparam("campaign_id"))
    .limit(1),
)


def ballot_target(connection, campaign_id: int, agency_id: int) -> BallotTarget | None:
    """None when there is no such campaign. Read once per ballot: in the write transaction
    (`store_code_ballot`, SQLite), or just before it (`store_ballot` does not read it again).
    `connection`: a Core connection or `raw_sql.reads`'s."""
    row = _TARGET.first(connection, {"campaign_id": campaign_id, "agency_id": agency_id})
    if row is None:
        return None
    stage = settings = None
    if row.campaign_status in PUBLIC_CAMPAIGN_STATUSES and row.stage_id is not None:
        stage = StageView(
            row.stage_id, campaign_id, row.kind, row.stage_status, row.opens_at, row.closes_at
        )
        settings = _settings_snapshot(tuple(row[6:12]), row.stage_id)
    return BallotTarget(campaign_id, stage, settings, agency_id, row.agency_name)


_snapshots: dict[tuple, BallotSettings] = {}


def _settings_snapshot(columns: tuple, stage_id: int) -> BallotSettings:
    """A transient BallotSettings with these column values, made once per distinct values
    (a model instance costs more than the query that read them). Read-only: the cast path
    never changes or adds it; any change to the settings is a new key, read each request."""
    key = (stage_id, *columns)
    found = _snapshots.get(key)
    if found is None:
        if len(_snapshots) > 256:
            _snapshots.clear()
        settings_id, identity_mode, ballot_kind, burst, window, min_fill = columns
        found = _snapshots[key] = (
            BallotSettings(
                id=settings_id,
                stage_id=stage_id,
                identity_mode=identity_mode,
                ballot_kind=ballot_kind,
                burst_limit=burst,
                burst_window_seconds=window,
                min_fill_seconds=min_fill,
            )
            if settings_id is not None
            else BallotSettings(stage_id=stage_id)
        )
    return found


def public_review_stage(db: Session, campaign_id: int) -> Stage | None:
    return db.exec(
        select(Stage).where(Stage.campaign_id == campaign_id, Stage.kind == StageKind.PUBLIC_REVIEW)
    ).first()


def settings_of(db: Session, stage: Stage) -> BallotSettings:
    """The stage's settings; the defaults (vote codes, satisfaction) until configured."""
    found = db.exec(select(BallotSettings).where(BallotSettings.stage_id == stage.id)).first()
    return found or BallotSettings(stage_id=stage.id)


def voting_open(stage: Stage, now: datetime | None = None) -> bool:
    """Open when the organizer has opened it and the planned closing time has not passed."""
    now = now or utcnow()
    if stage.status != StageStatus.OPEN:
        return False
    return stage.closes_at is None or now < stage.closes_at


def ballot_agencies(db: Session, stage: Stage) -> list[tuple[CampaignAgency, Agency]]:
    return list(
        db.exec(
            select(CampaignAgency, Agency)
            .join(Agency, Agency.id == CampaignAgency.agency_id)
            .where(CampaignAgency.campaign_id == stage.campaign_id)
            .order_by(CampaignAgency.group_name, CampaignAgency.position, Agency.name)
        ).all()
    )


def enrolled_agency(db: Session, stage: Stage, agency_id: int) -> Agency | None:
    """The agency if it is one of this stage's campaign (one row, not the whole list)."""
    return db.exec(
        select(Agency)
        .join(CampaignAgency, CampaignAgency.agency_id == Agency.id)
        .where(CampaignAgency.campaign_id == stage.campaign_id, Agency.id == agency_id)
    ).first()


def ballot_indicators(db: Session, stage: Stage) -> list[Indicator]:
    """A points ballot scores the campaign's first-level indicators."""
    return list(
        db.exec(
            select(Indicator)
            .where(Indicator.campaign_id == stage.campaign_id, Indicator.parent_id.is_(None))
            .order_by(Indicator.position, Indicator.code)
        ).all()
    )


# --- identity ---------------------------------------------------------------------------


def voter_by_code(db: Session, stage: Stage, typed: str, reads=None) -> Voter:
    """`reads`: the connection to look the code up through (default: the session's)."""
    normalized = vote_codes.normalize(typed)
    if not normalized:
        raise BallotRefused("code", _("请输入投票码。"))
    if not vote_codes.is_well_formed(normalized):
        raise BallotRefused(
            "code",
            _(
                "投票码格式不对：应为 %(min)s 到 %(max)s 位字母和数字（横线可省略）。",
                min=vote_codes.MIN_IMPORTED_LENGTH,
                max=vote_codes.MAX_CODE_LENGTH,
            ),
        )
    found = vote_codes.live_code_id(reads or db.connection(), stage.id, normalized)
    if found is None:
        raise BallotRefused("code", _("投票码无效：请核对后重新输入。"))
    return Voter(f"code:{found}", found)


def voter_by_phone(db: Session, stage: Stage, phone: str, sms_code: str) -> Voter:
    try:
        return Voter(sms.verify_challenge(db, stage, phone, sms_code))
    except ValidationFailed as refused:
        ((field_name, message),) = refused.errors.items()
        raise BallotRefused(field_name, message) from refused


def identify(
    db: Session, stage: Stage, form: dict, settings: BallotSettings | None = None, reads=None
) -> Voter:
    if (settings or settings_of(db, stage)).identity_mode == IdentityMode.SMS:
        return voter_by_phone(db, stage, form.get("phone", ""), form.get("sms_code", ""))
    return voter_by_code(db, stage, form.get("code", ""), reads)


# --- the choice ------------------------------------------------------------------------


def parse_choice(
    db: Session, stage: Stage, form: dict, settings: BallotSettings | None = None
) -> Satisfaction | dict[int, Decimal]:
    """The level of a satisfaction ballot, or {indicator id: points} of a points ballot."""
    if (settings or settings_of(db, stage)).ballot_kind == BallotKind.SATISFACTION:
        try:
            return Satisfaction(form.get("level", ""))
        except ValueError:
            raise BallotRefused("level", _("请选择 满意、基本满意 或 不满意。")) from None
    points = {}
    for indicator in ballot_indicators(db, stage):
        name = f"points-{indicator.id}"
        raw = (form.get(name) or "").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise BallotRefused(
                name,
                _(
                    "“%(name)s”请填写 0 到 %(max)s 之间的分数。",
                    name=indicator.name,
                    max=indicator.max_points,
                ),
            ) from None
        if value.is_finite() and 0 <= value <= indicator.max_points and value != round(value, 2):
            raise BallotRefused(
                name, _("“%(name)s”的分数最多保留两位小数。", name=indicator.name)
            )
        if not value.is_finite() or not 0 <= value <= indicator.max_points:
            raise BallotRefused(
                name,
                _(
                    "“%(name)s”请填写 0 到 %(max)s 之间的分数。",
                    name=indicator.name,
                    max=indicator.max_points,
                ),
            )
        points[indicator.id] = value
    if not points:
        raise BallotRefused("form", _("本次评议还没有一级指标，暂不能打分。"), 409)
    return points


# --- casting ------------------------------------------------------------------------------


def check_can_vote(db: Session, stage: Stage, agency_id: int, now: datetime | None = None) -> None:
    check_open(stage, now)
    enrolled = db.exec(
        select(CampaignAgency.id).where(
            CampaignAgency.campaign_id == stage.campaign_id, CampaignAgency.agency_id == agency_id
        )
    ).first()
    if enrolled is None:
        raise BallotRefused("agency", _("该单位不在本次社会评议之列。"), 404)


def check_open(stage: Stage, now: datetime | None = None) -> None:
    """The stage takes ballots now (the agency's enrollment is checked apart)."""
    if stage.kind != StageKind.PUBLIC_REVIEW:
        raise BallotRefused("form", _("这不是社会评议阶段。"), 404)
    if not voting_open(stage, now):
        if stage.status == StageStatus.PENDING:
            raise BallotRefused("form", _("社会评议投票尚未开始。"), 409)
        raise BallotRefused("form", _("社会评议投票已经结束，不再接受选票。"), 409)


def cast_ballot(*args, **kwargs) -> Ballot:
    """`store_ballot` (same arguments), returning the stored ballot as a model object."""
    ballot_id, values = store_ballot(*args, **kwargs)
    return Ballot(**values, id=ballot_id)


def store_ballot(
    db: Session,
    stage: Stage | StageView,
    agency_id: int,
    voter: Voter,
    choice: Satisfaction | dict[int, Decimal],
    circumstances: Circumstances | None = None,
    settings: BallotSettings | None = None,
    *,
    enrollment_checked: bool = False,
) -> tuple[int, dict]:
    """Store the ballot (valid, or quarantined with its reasons) or refuse it, storing nothing.
    Returns its id and column values (the view needs no model object: making one cost a
    twentieth of a ballot's CPU, bench/ballots_cpu.py, 2026-11-28).

    Committed before it returns; on SQLite together with the ballots queued behind the same
    writer (evaluation/db_writes.py), each in its own savepoint. `enrollment_checked`: the
    caller read the agency's enrollment already (`ballot_target`); the stage is still checked.

    Written with Core statements, not the ORM unit of work (a third of a ballot's CPU): so the
    audit events the ORM hook would have written are appended here, the same events (one
    `create` per row, every column) in the same transaction, hashed into the same chain."""
    how = circumstances or Circumstances()
    if enrollment_checked:
        check_open(stage, how.now)
    else:
        check_can_vote(db, stage, agency_id, how.now)
    settings = settings or settings_of(db, stage)
    stage_id = stage.id

    def store(connection: Connection) -> tuple[int, dict]:
        return _store(connection, stage_id, agency_id, voter, choice, how, settings)

    return db_writes.write_batched(db, store)


class NeedsSession(Exception):
    """Raised by `store_code_ballot`'s write, nothing written: this review identifies voters
    by SMS or takes points, read through the ORM session (an SMS code's wrong attempt is
    counted with a commit of its own, which must not wait inside the batch's transaction).
    Carries the stage (checked open) and settings the write read: the caller identifies the
    voter and parses the choice with them, then calls `store_ballot`."""

    def __init__(self, stage: StageView, settings: BallotSettings):
        super().__init__(stage.id)
        self.stage, self.settings = stage, settings


def store_code_ballot(
    db: Session,
    agency_id: int,
    form,
    how: Circumstances,
    read_target: Callable[[Connection], tuple[StageView, BallotSettings]],
) -> tuple[int, dict]:
    """A vote-code, satisfaction-level ballot read, checked and stored in one write of the
    SQLite group commit (the public review's usual kind, sent by the thousand): what the URL
    names (`read_target(connection)`: the stage open and the agency enrolled, or it raises),
    the vote code, the level, then `store_ballot`'s screening and INSERTs. The reads run on the
    batch's connection: its page cache stays warm from one commit to the next, where the
    reader's is emptied by every commit (the two reads cost ~70% more there, in the serving
    process; bench/ballots_cpu.py --phases, 2026-11-29). A refusal is raised from inside the
    batch, as a duplicate is, and undoes nothing but its own savepoint (which wrote nothing).
    Other kinds of review raise `NeedsSession`."""

    def checked_and_stored(connection: Connection) -> tuple[int, dict]:
        stage, settings = read_target(connection)
        check_open(stage, how.now)
        if (settings.identity_mode, settings.ballot_kind) != (
            IdentityMode.VOTE_CODE,
            BallotKind.SATISFACTION,
        ):
            raise NeedsSession(stage, settings)
        voter = voter_by_code(db, stage, form.get("code", ""), reads=connection)
        choice = parse_choice(db, stage, form, settings)
        return _store(connection, stage.id, agency_id, voter, choice, how, settings)

    return db_writes.write_batched(db, checked_and_stored)


def _store(
    connection: Connection,
    stage_id: int,
    agency_id: int,
    voter: Voter,
    choice: Satisfaction | dict[int, Decimal],
    how: Circumstances,
    settings: BallotSettings,
) -> tuple[int, dict]:
    """The ballot's write, in the write transaction (maybe committed by another request): the
    burst count sees every ballot committed or queued before this one, and the UNIQUE
    constraint refuses a second ballot of the same identity, however the requests raced (no
    look-up first: it would cost every valid ballot a query to spare the rare duplicate one)."""
    level = choice if isinstance(choice, Satisfaction) else None
    signs = ballot_screening.reasons(
        settings, how.now, how.fill_seconds, _recent_from(connection, stage_id, how, settings)
    )
    values = {
        "stage_id": stage_id,
        "agency_id": agency_id,
        "voter_key": voter.key,
        "vote_code_id": voter.vote_code_id,
        "level": level,
        "status": BallotStatus.QUARANTINED if signs else BallotStatus.VALID,
        "network": how.network[:64],
        "device": how.device[:64],
        "fill_ms": None if how.fill_seconds is None else int(how.fill_seconds * 1000),
        "cast_at": how.now,
        "quarantine_reason": json.dumps(signs, ensure_ascii=False) if signs else "",
        "decided_by": None,
        "decided_at": None,
        "decision_reason": "",
    }
    try:
        ballot_id = _INSERT_BALLOT.scalar_one(connection, values)
        events = [("create", Ballot.__tablename__, ballot_id, {"id": ballot_id, **values})]
        if isinstance(choice, dict):
            for indicator_id, points in choice.items():
                row = {"ballot_id": ballot_id, "indicator_id": indicator_id, "points": points}
                point_id = _INSERT_POINT.scalar_one(connection, row)
                events.append(
                    ("create", BallotPoint.__tablename__, point_id, {"id": point_id, **row})
                )
    except INTEGRITY_ERRORS:  # the UNIQUE constraint settles every race
        raise _duplicate(voter) from None
    audit.append_events(connection, events)
    return ballot_id, values


# Straight on the driver on SQLite, compiled once (evaluation/raw_sql.py): the write's
# statements cost less than SQLAlchemy's execution around them.
_BALLOT_COLUMNS = (
    "stage_id", "agency_id", "voter_key", "vote_code_id", "level", "status", "network",
    "device", "fill_ms", "cast_at", "quarantine_reason", "decided_by", "decided_at",
    "decision_reason",
)
_INSERT_BALLOT = Prepared(
    insert(Ballot.__table__).returning(Ballot.__table__.c.id), _BALLOT_COLUMNS
)
_INSERT_POINT = Prepared(
    insert(BallotPoint.__table__).returning(BallotPoint.__table__.c.id),
    ("ballot_id", "indicator_id", "points"),
)


def _duplicate(voter: Voter) -> BallotRefused:
    field_name = "code" if voter.vote_code_id is not None else "sms_code"
    return BallotRefused(
        field_name, _("这个身份已经对该单位投过票了：每人对每个单位只能投一次，本次未计入。"), 409
    )


_t = Ballot.__table__.c
_RECENT = Prepared(
    sa_select(_t.cast_at)
    .where(
        _t.stage_id == bindparam("stage_id"),
        _t.network == bindparam("network"),
        _t.cast_at > bindparam("since"),
        _t.cast_at <= bindparam("now"),
    )
    .order_by(_t.cast_at)
)


def _recent_from(connection, stage_id: int, how: Circumstances, settings) -> list[datetime]:
    """Arrival times of this network's ballots within the burst window (index
    ix_public_ballot_burst: the window's rows, not the stage's)."""
    if not how.network:
        return []
    since = how.now - timedelta(seconds=settings.burst_window_seconds)
    params = {"stage_id": stage_id, "network": how.network, "since": since, "now": how.now}
    return _RECENT.scalars(connection, params)


def voted_agencies(db: Session, stage: Stage, voter: Voter) -> set[int]:
    return set(
        db.exec(
            select(Ballot.agency_id).where(
                Ballot.stage_id == stage.id, Ballot.voter_key == voter.key
            )
        ).all()
    )
