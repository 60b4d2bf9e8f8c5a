"""Bearer tokens for judges' seats, the director's console and overlays.

The long token goes into a QR code; the short code is for typing on a tablet. Both are
random, shown once, and stored only as digests: the 256-bit token as SHA-256 (nothing to
guess), the short code, like every other code short enough to enumerate (vote, panel, SMS
and recovery codes), as a keyed digest (`code_digest`): HMAC-SHA-256 with a key that is not
in the database, so a stolen copy of the database does not give the codes away.

A short code (≈49.5 bits) is never a bearer credential itself: it is accepted only by the
rate-limited `/live/join` page, which hands the tablet the seat's join token
(`seat_token`, 256 bits) in the `#token=` fragment. Socket connects and the HTTP mark
fallback take tokens only (ASVS V7.2.3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlmodel import Session, select

from evaluation.models import AccessToken, TokenKind
from evaluation.models.base import utcnow

# No 0/O, 1/I/L: a short code is read off paper and typed on glass.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 10  # 31^10 ≈ 2^49.5: hopeless to guess under a rate limit


@dataclass(frozen=True)
class IssuedToken:
    record: AccessToken
    token: str
    short_code: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


_CODE_KEY_LABEL = b"pingyi code digests v1"


def code_key_from(config) -> bytes:
    """CODE_DIGEST_KEY when set (rotate SECRET_KEY without re-issuing codes), else derived
    from SECRET_KEY under its own label, so a key for codes is never the cookie key itself."""
    explicit = config.get("CODE_DIGEST_KEY")
    if explicit:
        return explicit.encode("utf-8")
    secret_key = config.get("SECRET_KEY")
    if not secret_key:
        raise RuntimeError("code digests need CODE_DIGEST_KEY or SECRET_KEY to be set")
    return _derived_code_key(str(secret_key))


@lru_cache(maxsize=8)  # every public ballot needs it (bench/ballots_cpu.py, 2026-11-28)
def _derived_code_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), _CODE_KEY_LABEL, hashlib.sha256).digest()


# The key of the application created in this process, for code that runs without an app
# context (CLI helpers, scripts, tests calling services directly). A process serves one app.
_process_code_key: bytes | None = None


def init_app(app) -> None:
    global _process_code_key
    _process_code_key = code_key_from(app.config)


def code_key() -> bytes:
    from flask import current_app, has_app_context

    if has_app_context():
        return code_key_from(current_app.config)
    if _process_code_key is None:
        raise RuntimeError("no application: the key for code digests is unknown")
    return _process_code_key


def migration_code_key() -> bytes:
    """The key while migrating: the app's when `pingyi db upgrade` runs, else the environment."""
    from flask import has_app_context

    if has_app_context():
        return code_key()
    from evaluation.config import from_environment

    return code_key_from(from_environment(os.environ))


def rekey(plain_digest: str, key: bytes | None = None) -> str:
    """The stored form of a code from its SHA-256 digest (the import worker sends only that)."""
    return hmac.new(key or code_key(), plain_digest.encode("ascii"), hashlib.sha256).hexdigest()


def code_digest(code: str) -> str:
    return rekey(digest(code))


def normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def issue_token(
    session: Session,
    *,
    kind: TokenKind,
    campaign_id: int,
    scope: str,
    judge_id: int | None = None,
    valid_for: timedelta = timedelta(days=2),
) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    short_code = new_short_code()
    record = AccessToken(
        kind=kind,
        campaign_id=campaign_id,
        scope=scope,
        judge_id=judge_id,
        token_digest=digest(token),
        short_code_digest=code_digest(short_code),
        expires_at=utcnow() + valid_for,
    )
    session.add(record)
    session.flush()
    return IssuedToken(record, token, short_code)


_SEAT_TOKEN_LABEL = b"pingyi seat token v1:"


def seat_token(record: AccessToken) -> str:
    """The 256-bit token `/live/join` gives for a judge's short code: `<id>.<HMAC>`.

    Derived, not stored: the same code always opens the same token (the tablet's outbox of
    unsent marks is kept under it), it ends with its record (revoked, expired, re-issued
    links), and it cannot be made without the code key, which is not in the database."""
    mac = hmac.new(
        code_key(), _SEAT_TOKEN_LABEL + f"{record.id}:{record.short_code_digest}".encode(),
        hashlib.sha256,
    ).digest()
    return f"{record.id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode('ascii')}"


def _by_seat_token(session: Session, presented: str) -> AccessToken | None:
    record_id, _, _mac = presented.partition(".")
    if not record_id.isdigit() or len(record_id) > 18:
        return None
    record = session.get(AccessToken, int(record_id))
    if record is None or not hmac.compare_digest(seat_token(record), presented):
        return None
    return record


def check_token(
    session: Session, presented: str, *, kind: TokenKind, scope: str
) -> AccessToken | None:
    """The live token for `presented` (a 256-bit token or a seat token), or None.

    A short code is refused here on purpose: it is only accepted at `/live/join`."""
    presented = (presented or "").strip()
    if not presented:
        return None
    if "." in presented:  # token_urlsafe never contains a dot: a join token
        found = _by_seat_token(session, presented)
    else:
        found = session.exec(
            select(AccessToken).where(AccessToken.token_digest == digest(presented))
        ).first()
    if found is None or found.kind != kind or found.scope != scope:
        return None
    if found.revoked_at is not None or found.expires_at <= utcnow():
        return None
    return found


def find_short_code(session: Session, code: str) -> AccessToken | None:
    """The live judge token a typed short code belongs to (for the join page)."""
    wanted = code_digest(normalize_code(code))
    found = session.exec(select(AccessToken).where(AccessToken.short_code_digest == wanted)).first()
    if found is None or found.kind != TokenKind.JUDGE or found.revoked_at is not None:
        return None
    return found if found.expires_at > utcnow() else None


def revoke_token(session: Session, record: AccessToken) -> None:
    from evaluation.security_log import security_event

    record.revoked_at = utcnow()
    session.add(record)
    session.flush()
    security_event(
        "token_revoked", token=record.id, kind=record.kind.value, scope=record.scope
    )
