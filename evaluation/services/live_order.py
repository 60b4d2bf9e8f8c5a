"""The run-of-show order of a live session: set by hand, or drawn by lot.

A draw is reproducible: its seed and the order it gave go to the audit log, so anyone can
re-run `random.Random(seed).shuffle` over the agencies in their former order and check it.
"""

from __future__ import annotations

import random
import secrets

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import LiveSession, LiveSlot, Segment
from evaluation.services.errors import ValidationFailed


def slots_in_order(db: Session, live: LiveSession) -> list[LiveSlot]:
    return list(db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id)
                        .order_by(LiveSlot.position)).all())


def _not_started(live: LiveSession, slots: list[LiveSlot]) -> None:
    if live.current_position is not None or any(s.segment != Segment.WAITING for s in slots):
        raise ValidationFailed({"order": _("场次已经开始，出场顺序不能再改。")})


def _renumber(db: Session, slots: list[LiveSlot]) -> None:
    """Positions are unique per session: park them above the range, then number 0..n-1."""
    top = len(slots)
    for index, slot in enumerate(slots):
        slot.position = top + index
        db.add(slot)
    db.flush()
    for index, slot in enumerate(slots):
        slot.position = index
        db.add(slot)


def move_slot(db: Session, live: LiveSession, slot_id: int, offset: int) -> None:
    """One place up (-1) or down (+1), by hand."""
    slots = slots_in_order(db, live)
    _not_started(live, slots)
    index = next((i for i, s in enumerate(slots) if s.id == slot_id), None)
    if index is None:
        raise ValidationFailed({"slot": _("没有这个出场单位。")})
    target = index + offset
    if not 0 <= target < len(slots):
        return
    slots[index], slots[target] = slots[target], slots[index]
    _renumber(db, slots)
    db.commit()


def draw_order(db: Session, live: LiveSession, seed: int | None = None) -> int:
    """Shuffle the order by lot; returns the seed (recorded with the result)."""
    slots = slots_in_order(db, live)
    _not_started(live, slots)
    seed = secrets.randbits(64) if seed is None else seed
    before = [slot.agency_id for slot in slots]
    random.Random(seed).shuffle(slots)
    _renumber(db, slots)
    record(db, "draw", "live_session", live.id,
           {"seed": seed, "before": before, "order": [slot.agency_id for slot in slots]})
    db.commit()
    return seed
