"""Connections end when what admitted them ends: a revoked or expired token, a user who
logged out, changed their password or was deactivated, a browser session ended from the
account's sessions page.

A logout is heard at once (Flask-Login's signal, for this process's sockets); everything
else is checked every few seconds against the database, so a token revoked from any worker
or from the command line closes its sockets everywhere.
"""

from __future__ import annotations

from flask import Flask
from flask_login import user_logged_out
from sqlmodel import Session, select

from evaluation.extensions import socketio
from evaluation.models import AccessToken, UserSession
from evaluation.models.base import utcnow
from live.identity import Identity

_started: set[int] = set()


def still_valid(db: Session, connections: dict[str, Identity]) -> set[str]:
    """The socket ids whose credentials still hold."""
    token_ids = {who.token_id for who in connections.values() if who.token_id}
    live_tokens = (
        set(
            db.exec(
                select(AccessToken.id).where(
                    AccessToken.id.in_(token_ids),
                    AccessToken.revoked_at.is_(None),
                    AccessToken.expires_at > utcnow(),
                )
            ).all()
        )
        if token_ids
        else set()
    )
    return {
        sid
        for sid, who in connections.items()
        if (who.token_id in live_tokens)
        or who.member_id  # panel codes do not expire during a show
        or (who.login_id and _login_holds(db, who.login_id, who.session_row))
    }


def _login_holds(db: Session, login_id: str, session_row: int | None) -> bool:
    from evaluation.auth import load_user

    if load_user(login_id) is None:
        return False
    if session_row is None:
        return True
    row = db.get(UserSession, session_row)
    # Fresh from the database: the row may have been ended by another worker.
    if row is not None:
        db.refresh(row)
    return row is not None and row.ended_at is None


def sweep(db: Session, connections: dict[str, Identity], namespace: str) -> list[str]:
    """Disconnect every local socket whose credential ended; returns their ids."""
    keep = still_valid(db, connections)
    ended = [sid for sid in list(connections) if sid not in keep]
    for sid in ended:
        socketio.server.disconnect(sid, namespace=namespace)
    return ended


def start(app: Flask, connections: dict[str, Identity], namespace: str) -> None:
    """Once per process: the periodic check, as a Socket.IO background task."""
    interval = app.config.get("LIVE_SWEEP_SECONDS", 5)
    if interval <= 0 or id(app) in _started:  # 0: off (tests call sweep() themselves)
        return
    _started.add(id(app))

    def loop():
        while True:
            socketio.sleep(interval)
            with app.app_context():
                from evaluation.db import get_session

                sweep(get_session(), dict(connections), namespace)

    socketio.start_background_task(loop)


def disconnect_on_logout(app: Flask, connections: dict[str, Identity], namespace: str) -> None:
    def on_logout(_sender, user, **_extra):
        for sid, who in list(connections.items()):
            if who.login_id and who.login_id.split(":")[0] == str(user.id):
                socketio.server.disconnect(sid, namespace=namespace)

    user_logged_out.connect(on_logout, app, weak=False)
