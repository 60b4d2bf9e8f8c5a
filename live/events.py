"""Socket.IO handlers of the live review (namespace /live). Thin: check who is calling,
validate the payload, call an operation, acknowledge, then publish what was committed.

Connect with `auth={"session": <id>, "token": <judge/control/overlay token or short code>,
"device": <tablet id>}`; the director may instead be logged in as an organizer.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.audit import acting_as
from evaluation.db import get_session
from evaluation.extensions import socketio
from evaluation.models import Judge, LiveSeat, LiveSession
from evaluation.security_log import security_event
from live import broadcast, presence, sweeper
from live.audience import cast_vote, my_votes
from live.direction import run_command
from live.errors import LiveRefusal
from live.identity import AUDIENCE, DIRECTOR, JUDGE, Identity, for_page, identify
from live.operations import bind_device, bump_revision, submit_mark
from live.payload_messages import first_problem
from live.payloads import (
    AudienceBallot,
    DirectorCommand,
    MarkSubmission,
    ValidationError,
    VoidDecisionPayload,
)
from live.ratelimit import allow, forget
from live.voiding import decide_void
from live.writes import writer_lock

NS = broadcast.NAMESPACE


def connections() -> dict[str, Identity]:
    """sid -> who, for this application's connections in this process."""
    return current_app.extensions["live_connections"]


def _refused(code: str, message: str, field: str | None = None) -> dict:
    return LiveRefusal(code, message, field).ack()


def _caller() -> Identity | None:
    return connections().get(request.sid)


def on_connect(auth):
    """Any client. Refused (ConnectionRefusedError) without a valid token for the session."""
    from flask_socketio import ConnectionRefusedError, join_room

    auth = auth if isinstance(auth, dict) else {}
    session_id = auth.get("session")
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        refusal = LiveRefusal(
            "invalid_payload", "auth.session must be the live session id", "session"
        )
        raise ConnectionRefusedError(refusal.message, refusal.ack()["error"])
    db = get_session()
    try:
        who = for_page(identify(db, session_id, auth.get("token"), current_user),
                       auth.get("role"))
        if who.role == JUDGE:
            with acting_as(who.actor):
                bind_device(db, who, str(auth.get("device") or "")[:64] or request.sid)
    except LiveRefusal as refusal:
        db.rollback()
        security_event("live_connect_refused", session=session_id, reason=refusal.code)
        # The client sees `message`, and the whole error (code, field) as `data`.
        raise ConnectionRefusedError(refusal.message, refusal.ack()["error"]) from None
    connections()[request.sid] = who
    app = current_app._get_current_object()
    sweeper.start(app, connections(), NS)
    presence.start_heartbeat(app, socketio.start_background_task, socketio.sleep)
    join_room(broadcast.room(session_id, who.view))
    if who.role == JUDGE:
        join_room(broadcast.seat_room(who.seat_id))
        presence.seat_connected(who.seat_id)
        seat, judge = db.get(LiveSeat, who.seat_id), db.get(Judge, who.judge_id)
        broadcast.welcome(seat.seat_no, judge.name, request.sid)
        _seat_map_changed(db, session_id)
    else:
        if who.role == AUDIENCE:
            broadcast.welcome_member(int(who.actor.split(":")[1]), my_votes(db, who), request.sid)
        broadcast.send_snapshot(db, db.get(LiveSession, session_id), who.view, request.sid)


def _seat_map_changed(db, session_id: int) -> None:
    """The console's seat map shows who is connected: a new revision, so no client keeps an
    older picture under the same number."""
    with writer_lock(db):
        bump_revision(db, session_id)
        db.commit()
    broadcast.publish_after_ack(session_id)


def on_disconnect(*_args):
    forget(request.sid)
    who = connections().pop(request.sid, None)
    if who is not None and who.role == JUDGE:
        presence.seat_disconnected(who.seat_id)
        _seat_map_changed(get_session(), who.session_id)


def on_snapshot_request(*_args):
    """Any connected client; the ack is its role's full snapshot (used after a gap)."""
    who = _caller()
    if who is None:
        return _refused("unauthorized", "not connected")
    from live import snapshot

    db = get_session()
    return {
        "ok": True,
        "snapshot": snapshot.build(db, db.get(LiveSession, who.session_id), who.view),
    }


def _payload(args: tuple):
    """The event's one payload. A client may send none (`emit("director", ack)`) or several:
    such a call gets an invalid_payload ack like any other bad payload, never a handler crash
    that leaves the client waiting for an answer."""
    return args[0] if len(args) == 1 else None


def _checked(role: str, refusal: str, model, payload):
    """(caller, validated payload) or (None, error ack): role, rate limit, then the payload."""
    who = _caller()
    if who is None or who.role != role:
        security_event("live_event_forbidden", role=who.role if who else None,
                       actor=who.actor if who else None)
        return None, _refused("forbidden", refusal)
    if not allow(request.sid):
        return None, _refused("rate_limited", _("操作过于频繁，请稍后再试。"))
    try:
        return who, model.model_validate(payload if isinstance(payload, dict) else {})
    except ValidationError as error:
        return None, _refused("invalid_payload", *reversed(first_problem(error)))


def on_submit_mark(*args):
    """A judge's tablet sends its sheet; the ack (after the commit) carries the stored ids."""
    who, submission = _checked(JUDGE, _("只有评委的平板可以提交评分。"), MarkSubmission,
                               _payload(args))
    if who is None:
        return submission
    return _apply(who, lambda db: submit_mark(db, who, submission))


def on_void_decision(*args):
    """The chief judge's tablet approves or rejects a void request (the second person)."""
    who, decision = _checked(JUDGE, _("只有评委会主任可以审批作废申请。"),
                             VoidDecisionPayload,
                             _payload(args))
    if who is None:
        return decision
    return _apply(who, lambda db: decide_void(db, who, decision))


def on_audience_vote(*args):
    """A panel member's phone: one vote per agency, during its scoring window."""
    who, ballot = _checked(AUDIENCE, _("只有大众评审团成员可以投票。"), AudienceBallot,
                            _payload(args))
    if who is None:
        return ballot
    return _apply(who, lambda db: cast_vote(db, who, ballot))


def on_director(*args):
    """The director's console: one command per message (see live.payloads.DirectorCommand)."""
    who, command = _checked(DIRECTOR, _("只有导播可以操作。"), DirectorCommand,
                            _payload(args))
    if who is None:
        return command
    ack = _apply(who, lambda db: run_command(db, who.session_id, command))
    if ack["ok"] and command.action == "release_seat":
        _release_local(who.session_id, command.seat_no)
    return ack


def _apply(who: Identity, operation) -> dict:
    db = get_session()
    try:
        with acting_as(who.actor):
            ack = operation(db)
    except LiveRefusal as refusal:
        db.rollback()
        return refusal.ack()
    if not ack.get("duplicate"):
        # Committed: acknowledge now, publish right after (see broadcast.publish_after_ack).
        broadcast.publish_after_ack(who.session_id)
    return ack


def _release_local(session_id: int, seat_no: int) -> None:
    from sqlmodel import select

    from evaluation.models import LiveSeat

    db = get_session()
    seat = db.exec(
        select(LiveSeat).where(LiveSeat.session_id == session_id, LiveSeat.seat_no == seat_no)
    ).one()
    broadcast.release(seat.id)
    for sid, who in list(connections().items()):
        if who.seat_id == seat.id:
            socketio.server.disconnect(sid, namespace=NS)


HANDLERS = {
    "connect": on_connect,
    "disconnect": on_disconnect,
    "snapshot_request": on_snapshot_request,
    "submit_mark": on_submit_mark,
    "director": on_director,
    "void_decision": on_void_decision,
    "audience_vote": on_audience_vote,
}


def register() -> None:
    """Attach the handlers to the server `socketio.init_app` just made.

    Explicit rather than decorators: `@socketio.on` binds to whichever server exists at import
    time, so a second application (tests, workers) would get none.
    """
    for event, handler in HANDLERS.items():
        socketio.on_event(event, handler, namespace=NS)
