"""The one picture every client rebuilds its view from, filtered by role.

Before the reveal only the director sees marks; judges and overlays see progress.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Agency, LiveSession, LiveSlot, Segment
from evaluation.models.base import utcnow
from live import presence, standings
from live.audience import audience_result
from live.identity import AUDIENCE, CHIEF, DIRECTOR, JUDGE, OVERLAY
from live.results import (
    expected_seats,
    read_panel,
    seat_states_by_slot,
    slot_result,
    voided_submissions,
    waiting_seats,
)
from live.runofshow import MARKS_PUBLIC_FROM, remaining_ms
from live.sheets import load_sheet
from live.voiding import pending_requests
from scoring import rank

# Roles whose pictures `view` makes alike (only the chief and the director see more): a
# publish makes and encodes one picture for all of them (live/broadcast.py).
SAME_PICTURE = (OVERLAY, JUDGE, AUDIENCE)


@dataclass(frozen=True)
class Facts:
    """What every role's picture is made of, read from the database once per change."""

    live: LiveSession
    now: datetime
    slots: list
    current: tuple | None
    states: list
    audience: dict | None
    leaderboard: list[dict]
    void_requests: list[dict]
    sheet: list[dict] | None  # per-indicator sheet lines, or None: one total
    connected: set[int]  # seats with a tablet connected, on any worker


def gather(db: Session, live: LiveSession) -> Facts:
    slots = db.exec(
        select(LiveSlot, Agency)
        .join(Agency, Agency.id == LiveSlot.agency_id)
        .where(LiveSlot.session_id == live.id)
        .order_by(LiveSlot.position)
    ).all()
    current = next((pair for pair in slots if pair[0].position == live.current_position), None)
    sheet = load_sheet(db, live)  # once per publish: the seat states' totals need it too
    # Everything a revealed result depends on but its marks, read before them (live/standings.py).
    panel = read_panel(db, live.id, [slot.agency_id for slot, _agency in slots])
    context = (live.created_at, live.drop_high, live.drop_low, sheet and sheet.items,
               panel, voided_submissions(db, live.id))
    agency_of = {slot.id: slot.agency_id for slot, _agency in slots}
    known = {slot_id: kept for slot_id, kept in standings.current().known(live.id, context).items()
             if agency_of.get(slot_id) == kept[0]}
    # Only the slot on stage and the revealed slots this process has no result for are read.
    wanted = [
        slot
        for slot, _agency in slots
        if (slot.segment in MARKS_PUBLIC_FROM and slot.id not in known)
        or (current and slot.id == current[0].id)
    ]
    states = seat_states_by_slot(db, live.id, wanted, sheet, panel) if wanted else {}
    scored = {
        slot.id: (slot.agency_id, _value(live, states[slot.id]))
        for slot in wanted
        if slot.segment in MARKS_PUBLIC_FROM
    }
    standings.current().keep(live.id, context, scored)
    audience = (
        audience_result(db, current[0].id, current[0].segment in MARKS_PUBLIC_FROM)
        if current
        else None
    )
    return Facts(
        live,
        utcnow(),
        slots,
        current,
        states.get(current[0].id, []) if current else [],
        audience,
        _leaderboard(slots, known | scored),
        pending_requests(db, live.id),
        None if sheet is None else [item.as_dict() for item in sheet.items],
        presence.connected_seats(),
    )


def refreshed(facts: Facts, live: LiveSession) -> Facts:
    """`facts` as of now for `live` (a newer row of the same session): what moves without
    a revision of its own read again — the clock, the connected seats."""
    return replace(facts, live=live, now=utcnow(), connected=presence.connected_seats())


def build(db: Session, live: LiveSession, role: str) -> dict:
    return view(gather(db, live), role)


def view(facts: Facts, role: str) -> dict:
    """One role's picture (no database access: cheap to make for every role)."""
    live = facts.live
    picture = {
        "revision": live.revision,
        "server_time_ms": int(facts.now.timestamp() * 1000),
        "session": {
            "id": live.id,
            "title": live.title,
            "venue": live.venue,
            "broadcast_mode": live.broadcast_mode.value,
            "score_max": str(live.score_max),
            "score_step": str(live.score_step),
            "rehearsal": live.rehearsal,
            "sheet": facts.sheet,
        },
        # The full-screen graphic the director has on air: "leaderboard", "audience" or null.
        "on_air": live.on_air.value if live.on_air else None,
        "slots": [_slot_line(slot, agency) for slot, agency in facts.slots],
        "current": _current(facts, role) if facts.current else None,
        "leaderboard": facts.leaderboard,
    }
    if role in (CHIEF, DIRECTOR):
        # The two people of a void: the director who asked, the chief judge who decides.
        picture["void_requests"] = facts.void_requests
    return picture


def _slot_line(slot: LiveSlot, agency: Agency) -> dict:
    return {
        "id": slot.id,
        "position": slot.position,
        "agency": agency.name,
        "segment": slot.segment.value,
    }


def _current(facts: Facts, role: str) -> dict:
    (slot, agency), states, live, now = facts.current, facts.states, facts.live, facts.now
    expected = expected_seats(states)
    shown = role == DIRECTOR or slot.segment in MARKS_PUBLIC_FROM
    current = {
        "slot_id": slot.id,
        "position": slot.position,
        "agency": agency.name,
        "segment": slot.segment.value,
        "segment_label": _(slot.segment.label),
        "scoring_open": slot.segment == Segment.SCORING,
        "timer": {
            "running": slot.timer_started_at is not None,
            "remaining_ms": remaining_ms(slot, now),
        },
        "progress": {
            "submitted": sum(1 for s in expected if s.mark is not None),
            "expected": len(expected),
            "waiting_seats": waiting_seats(states),
        },
        "seats": [_seat(state, shown, role, facts.connected) for state in states],
        "audience": facts.audience,
    }
    if slot.segment in MARKS_PUBLIC_FROM or role == DIRECTOR:
        current["result"] = _result(live, states)
    return current


def _seat(state, shown: bool, role: str, connected: set[int]) -> dict:
    seat = {
        "seat_no": state.seat_no,
        "submitted": state.mark is not None,
        "recused": state.recused,
    }
    if role == DIRECTOR:
        seat.update(
            judge=state.judge_name,
            group=state.judge_group,
            connected=state.seat_id in connected,
        )
    if shown and state.mark is not None:
        seat["mark"] = f"{state.mark:.2f}"
    return seat


def _result(live: LiveSession, states) -> dict | None:
    result = slot_result(live, states)
    if result is None:
        return None
    return {
        "value": f"{result.value:.2f}",
        "dropped_high": [m.judge for m in result.dropped_high],
        "dropped_low": [m.judge for m in result.dropped_low],
        "fallback": result.fallback,
        "kept_count": len(result.kept),
    }


def _value(live: LiveSession, states) -> Decimal | None:
    result = slot_result(live, states)
    return None if result is None else result.value


def _leaderboard(slots, results: dict) -> list[dict]:
    """Revealed agencies, competition-ranked by scoring/ (1, 2, 2, 4). `results`: each
    revealed slot's (agency id, value or None: no mark), by slot id."""
    totals = {}
    for slot, agency in slots:
        if slot.segment in MARKS_PUBLIC_FROM:
            _agency_id, value = results[slot.id]
            if value is not None:
                totals[agency.name] = value
    ranked = sorted(rank(totals), key=lambda row: (row.rank, row.agency))
    return [
        {"rank": row.rank, "agency": row.agency, "value": f"{row.total:.2f}", "shared": row.shared}
        for row in ranked
    ]
