"""The one place that emits. Everything sent here is already committed.

Overlays first (they are on air), then judges, then the director. Roles that see the same
picture (`snapshot.SAME_PICTURE`: overlays, judges, the audience panel) get one emit to all
their rooms: the picture is made and JSON-encoded once per change, not once per role.
"""

from __future__ import annotations

import threading

from flask import current_app

from evaluation.extensions import socketio
from live import increments, snapshot
from live.identity import CHIEF, DIRECTOR, OVERLAY
from live.overlays import feed_cache

NAMESPACE = "/live"
# (the role whose picture is made, every role that receives it), in the order sent; every
# role once (tests/live/test_ack_path.py checks).
EMITS = ((OVERLAY, snapshot.SAME_PICTURE), (CHIEF, (CHIEF,)), (DIRECTOR, (DIRECTOR,)))


def room(session_id: int, role: str) -> str:
    return f"live:{session_id}:{role}"


def seat_room(seat_id: int) -> str:
    return f"seat:{seat_id}"


def publish(db, live) -> None:
    # The database is read once for every role, or not at all when only this process's
    # marks happened since the last publish (live/increments.py).
    facts = increments.current().facts(db, live, snapshot.gather, snapshot.refreshed)
    for made, roles in EMITS:
        # A list of rooms: python-socketio encodes the packet once for all their members.
        socketio.emit("snapshot", snapshot.view(facts, made),
                      to=[room(live.id, role) for role in roles], namespace=NAMESPACE)
    # Feed polls answer this revision from memory (live.feeds), these facts included: without
    # asking the database.
    feed_cache().saw_revision(live.id, live.revision, facts)


_pending: set[int] = set()  # sessions with a publish scheduled but not yet started
# Before building a publish, wait this long: gevent runs greenlets in the order they became
# ready, and the publish greenlet (spawned inside the handler) would otherwise run before the
# writer that sends the judge's ack, holding the ack behind 1,000 viewers' snapshots. Two
# hub yields instead (tried 2026-11-28) publish ~2 ms sooner on the server's clock but not
# measurably end to end, and in paired soaks the feed polls' p99 then grew over the show
# (10 minutes: 18.6 -> 58.3 ms with the yields, 29.1 -> 32.0 ms with this wait; BENCHMARKS
# notes, session 5).
ACK_FIRST_SECONDS = 0.002


def publish_after_ack(session_id: int) -> None:
    """Publish what was just committed without holding up the caller's acknowledgement.

    Under gevent the handler returns first (the judge's ack leaves at once) and a greenlet
    builds and sends the snapshots; clients order them by revision anyway. Publishes are
    coalesced: while one is scheduled and has not started, further commits ride on it (it
    reads the database when it runs, so it carries them). A burst — 30 tablets reconnecting
    after a restart, a panel submitting at the bell — costs a few publishes, not one each.
    In other async modes (the test client) it publishes inline, so tests see the snapshot
    deterministically.
    """
    app = current_app._get_current_object()
    if socketio.async_mode != "gevent":
        _publish_now(app, session_id)
        return
    if session_id in _pending:
        return
    _pending.add(session_id)
    socketio.start_background_task(_publish_pending, app, session_id)


def _publish_pending(app, session_id: int) -> None:
    socketio.sleep(ACK_FIRST_SECONDS)
    # From here on a new commit schedules a new publish: nothing committed goes unpublished.
    _pending.discard(session_id)
    _publish_now(app, session_id)


_in_order: dict[int, threading.Lock] = {}  # session id -> held from a publish's read to its emit


def _in_revision_order(session_id: int) -> threading.Lock:
    """One publish of a session at a time, from reading the revision to the last emit: a
    publish that read an older revision can then never emit after one that read a newer
    one (its greenlet may yield in between: a commit off the hub, the message queue). So
    this process sends a session's snapshots in revision order; across workers the clients
    still order them (they ignore a revision older than the one they show). Created on first
    use, after gevent's monkey-patching, so it is a greenlet lock under `pingyi serve`."""
    lock = _in_order.get(session_id)
    if lock is None:
        lock = _in_order.setdefault(session_id, threading.Lock())
    return lock


def _publish_now(app, session_id: int) -> None:
    from evaluation.db import get_session
    from evaluation.models import LiveSession

    with app.app_context(), _in_revision_order(session_id):
        db = get_session()
        publish(db, db.get(LiveSession, session_id))


def send_snapshot(db, live, role: str, sid: str) -> None:
    """One client's first picture. The client is already in its rooms, so a publish may
    reach it meanwhile: the row is read again under the lock, so that this picture is never
    older than one a publish already sent."""
    with _in_revision_order(live.id):
        db.refresh(live)
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
