"""The run-of-show as pure rules: segment order and server-time timers.

Timers run on server time: clients get `remaining_ms` and the server clock, and count down
from there, so every screen shows the same second.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from evaluation.models import LiveSlot, Segment

# From the reveal on, marks and results may be shown beyond the director's console.
MARKS_PUBLIC_FROM = frozenset({Segment.REVEALED, Segment.SUMMARY, Segment.DONE})

ORDER = list(Segment)
TIMED = {
    Segment.REPORT: "report_seconds",
    Segment.SHOWCASE: "showcase_seconds",
    Segment.SCORING: "scoring_seconds",
    Segment.SUMMARY: "summary_seconds",
}
# Once the marks were shown on air there is no going back before the reveal.
NO_RETURN_FROM = MARKS_PUBLIC_FROM


def following(segment: Segment) -> Segment | None:
    index = ORDER.index(segment)
    return ORDER[index + 1] if index + 1 < len(ORDER) else None


def preceding(segment: Segment) -> Segment | None:
    if segment in NO_RETURN_FROM:
        return None
    index = ORDER.index(segment)
    return ORDER[index - 1] if index > 0 else None


def enter(slot: LiveSlot, segment: Segment) -> None:
    """Move to `segment` with its planned duration loaded and the clock stopped."""
    slot.segment = segment
    slot.timer_started_at = None
    field = TIMED.get(segment)
    slot.timer_remaining_ms = getattr(slot, field) * 1000 if field else 0


def remaining_ms(slot: LiveSlot, now: datetime) -> int:
    if slot.timer_started_at is None:
        return slot.timer_remaining_ms
    elapsed = int((now - slot.timer_started_at).total_seconds() * 1000)
    return slot.timer_remaining_ms - elapsed  # negative: overtime, shown in red


def start_timer(slot: LiveSlot, now: datetime) -> None:
    if slot.timer_started_at is None:
        slot.timer_started_at = now


def pause_timer(slot: LiveSlot, now: datetime) -> None:
    if slot.timer_started_at is not None:
        slot.timer_remaining_ms = remaining_ms(slot, now)
        slot.timer_started_at = None


def extend_timer(slot: LiveSlot, seconds: int) -> None:
    slot.timer_remaining_ms += seconds * 1000


def deadline(slot: LiveSlot) -> datetime | None:
    if slot.timer_started_at is None:
        return None
    return slot.timer_started_at + timedelta(milliseconds=slot.timer_remaining_ms)
