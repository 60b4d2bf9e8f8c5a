"""The one place that emits. Everything sent here is already committed.

Overlays first (they are on air), then judges, then the director. Each role's snapshot is
encoded once per change and sent to the whole room.
"""

from __future__ import annotations

from evaluation.extensions import socketio
from live import snapshot
from live.identity import AUDIENCE, CHIEF, DIRECTOR, JUDGE, OVERLAY

NAMESPACE = "/live"
ROLES_IN_ORDER = (OVERLAY, JUDGE, CHIEF, AUDIENCE, DIRECTOR)


def room(session_id: int, role: str) -> str:
    return f"live:{session_id}:{role}"


def seat_room(seat_id: int) -> str:
    return f"seat:{seat_id}"


def publish(db, live) -> None:
    for role in ROLES_IN_ORDER:
        socketio.emit(
            "snapshot", snapshot.build(db, live, role), to=room(live.id, role), namespace=NAMESPACE
        )


def send_snapshot(db, live, role: str, sid: str) -> None:
    socketio.emit("snapshot", snapshot.build(db, live, role), to=sid, namespace=NAMESPACE)


def release(seat_id: int) -> None:
    """Tell the tablet holding a released seat to let go (its sockets are then closed)."""
    socketio.emit("seat_released", {}, to=seat_room(seat_id), namespace=NAMESPACE)
    socketio.close_room(seat_room(seat_id), namespace=NAMESPACE)


def welcome(seat_no: int, judge_name: str, sid: str) -> None:
    """Tell a tablet whose seat it holds (its snapshots then pick out that seat)."""
    socketio.emit("welcome", {"seat_no": seat_no, "judge": judge_name}, to=sid, namespace=NAMESPACE)


def welcome_member(number: int, voted_slots: list[int], sid: str) -> None:
    """Tell a panel member's phone its number and where it already voted."""
    socketio.emit("welcome", {"member": number, "voted": voted_slots}, to=sid,
                  namespace=NAMESPACE)
