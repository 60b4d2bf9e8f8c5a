"""Browser sessions a user can see and end one by one (ASVS V7.5.2).

Each login writes a `UserSession` row and puts a random key in the signed session cookie;
only the key's SHA-256 digest is stored. `evaluation.auth.load_user` refuses a cookie whose
row is missing or ended, so ending a row ends that browser's session at its next request.
Ending *every* session (logout, `pingyi user end-sessions`, a password change) still works
through the user's session epoch; those paths end the rows too, so the list stays true.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from evaluation.models import User, UserSession
from evaluation.models.base import utcnow
from evaluation.services.tokens import digest

# The cookie stores the key under this name; the row stores digest(key).
SESSION_KEY = "sid"
# Writing "last seen" on every request is wasteful; a minute's precision is enough.
SEEN_PRECISION = timedelta(seconds=60)
USER_AGENT_LENGTH = 255


def open_session(db: Session, user: User, user_agent: str | None, lifetime: timedelta) -> str:
    """A row for a new login; returns the key to put in the session cookie."""
    now = utcnow()
    _forget_finished(db, user, now - lifetime)
    key = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            user_id=user.id,
            key_digest=digest(key),
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
            created_at=now,
            last_seen_at=now,
        )
    )
    db.commit()
    return key


def current(db: Session, user: User, key: object) -> UserSession | None:
    """The open row this cookie's key names for this user, or None (ended, or never one)."""
    if not isinstance(key, str) or not key or len(key) > 128:
        return None
    found = db.exec(select(UserSession).where(UserSession.key_digest == digest(key))).first()
    if found is None or found.user_id != user.id or found.ended_at is not None:
        return None
    return found


def touch(db: Session, record: UserSession, now: datetime) -> None:
    """Note the request (at most once a minute: one UPDATE, no reload of the row)."""
    if now - record.last_seen_at < SEEN_PRECISION:
        return
    db.execute(
        update(UserSession).where(UserSession.id == record.id).values(last_seen_at=now)
    )
    db.commit()
    record.last_seen_at = now


def open_sessions(
    db: Session, user: User, idle: timedelta, lifetime: timedelta
) -> list[UserSession]:
    """The user's sessions that still work, newest first (idle and absolute limits applied)."""
    now = utcnow()
    rows = db.exec(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.created_at > now - lifetime,
            UserSession.last_seen_at > now - idle,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return list(rows)


def end_one(db: Session, user: User, session_id: int) -> UserSession | None:
    """End one of the user's own sessions; None when it is not theirs or already ended."""
    found = db.get(UserSession, session_id)
    if found is None or found.user_id != user.id or found.ended_at is not None:
        return None
    found.ended_at = utcnow()
    db.add(found)
    db.commit()
    return found


def end_all(db: Session, user: User, *, keep: int | None = None) -> None:
    """Mark every open row of the user ended (but `keep`); the caller commits.

    The cookies themselves stop working through the session epoch or the password stamp;
    this keeps the list the user sees in step with that.
    """
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    db.execute(query.values(ended_at=utcnow()))


def _forget_finished(db: Session, user: User, expired_before: datetime) -> None:
    """Rows of ended or long-expired sessions go when the user logs in again: the table
    holds about one row per open browser, not one per login ever made."""
    db.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.created_at < expired_before,
            ),
        )
    )


# (marker in the User-Agent, name shown), first match wins: Edge and WeChat also say Chrome.
_BROWSERS = (("MicroMessenger", "WeChat"), ("Edg/", "Edge"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))


def describe_agent(user_agent: str) -> str:
    """"Chrome · Windows" from a User-Agent string: enough to recognise one's own devices."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    return " · ".join(part for part in (browser, system) if part) or (user_agent[:60] or "?")
