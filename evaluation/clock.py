"""Time: stored in UTC, entered and shown in the campaign's local time (China Standard Time)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from evaluation.models.base import utcnow

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(LOCAL_TZ).strftime(pattern) if moment else ""


__all__ = ["LOCAL_TZ", "local", "utcnow"]
