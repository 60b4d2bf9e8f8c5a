"""The organizer's side of the public review: how the ballot works, opening and closing it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import (
    Ballot,
    BallotKind,
    BallotSettings,
    IdentityMode,
    Stage,
    StageStatus,
)
from evaluation.models.base import utcnow
from evaluation.services.ballots import settings_of
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail


@dataclass(frozen=True)
class SettingsFields:
    identity_mode: IdentityMode
    ballot_kind: BallotKind
    burst_limit: int
    burst_window_seconds: int
    min_fill_seconds: int


def save_settings(db: Session, stage: Stage, fields: SettingsFields) -> BallotSettings:
    settings = settings_of(db, stage)
    has_ballots = db.exec(select(Ballot.id).where(Ballot.stage_id == stage.id)).first()
    if has_ballots and (fields.identity_mode, fields.ballot_kind) != (
        settings.identity_mode,
        settings.ballot_kind,
    ):
        raise ValidationFailed(
            {"ballot_kind": _("已经有人投票，不能再更改身份验证方式或选票形式。")}
        )
    errors = {}
    if not 2 <= fields.burst_limit <= 100000:
        errors["burst_limit"] = _("请填写 2 到 100000 之间的整数。")
    if not 1 <= fields.burst_window_seconds <= 3600:
        errors["burst_window_seconds"] = _("请填写 1 到 3600 之间的整数。")
    if not 0 <= fields.min_fill_seconds <= 600:
        errors["min_fill_seconds"] = _("请填写 0 到 600 之间的整数。")
    if errors:
        raise ValidationFailed(errors)
    for key, value in fields.__dict__.items():
        setattr(settings, key, value)
    db.add(settings)
    commit_or_fail(db)
    return settings


def open_voting(db: Session, stage: Stage) -> None:
    if stage.closes_at is not None and stage.closes_at <= utcnow():
        raise ValidationFailed(
            {"status": _("计划的截止时间已过：请先在“阶段与权重”中调整社会评议的时间。")}
        )
    stage.status = StageStatus.OPEN
    db.add(settings_of(db, stage))  # the defaults become explicit when voting starts
    db.add(stage)
    commit_or_fail(db)


def close_voting(db: Session, stage: Stage) -> None:
    stage.status = StageStatus.CLOSED
    db.add(stage)
    commit_or_fail(db)
