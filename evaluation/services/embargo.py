"""Recorded shows: the on-site review is broadcast later, so its results stay off the public
pages until the session's embargo time (a live broadcast has no embargo)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from evaluation.models import BroadcastMode, LiveSession, Stage
from evaluation.models.base import utcnow


def embargoed_until(db: Session, campaign_id: int, now: datetime | None = None) -> datetime | None:
    """The moment this campaign's results may go public, if that is still to come."""
    latest = db.exec(
        select(func.max(LiveSession.embargo_until))
        .join(Stage, Stage.id == LiveSession.stage_id)
        .where(
            Stage.campaign_id == campaign_id,
            LiveSession.broadcast_mode == BroadcastMode.RECORDED,
            LiveSession.rehearsal_of_id.is_(None),
        )
    ).one()
    if latest is None:
        return None
    if latest.tzinfo is None:  # SQLite hands back naive UTC
        from datetime import UTC

        latest = latest.replace(tzinfo=UTC)
    return latest if latest > (now or utcnow()) else None
