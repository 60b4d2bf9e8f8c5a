"""Bearer tokens for judges' seats, the director's console and overlays.

The long token goes into a QR code; the short code is for typing on a tablet. Both are
random, shown once, and stored only as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

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
        short_code_digest=digest(short_code),
        expires_at=utcnow() + valid_for,
    )
    session.add(record)
    session.flush()
    return IssuedToken(record, token, short_code)


def check_token(
    session: Session, presented: str, *, kind: TokenKind, scope: str
) -> AccessToken | None:
    """The live token for `presented` (a token or a short code), or None."""
    if not presented:
        return None
    wanted = {digest(presented.strip()), digest(normalize_code(presented))}
    found = session.exec(
        select(AccessToken).where(
            (AccessToken.token_digest.in_(wanted)) | (AccessToken.short_code_digest.in_(wanted))
        )
    ).first()
    if found is None or found.kind != kind or found.scope != scope:
        return None
    if found.revoked_at is not None or found.expires_at <= utcnow():
        return None
    return found


def find_short_code(session: Session, code: str) -> AccessToken | None:
    """The live judge token a typed short code belongs to (for the join page)."""
    found = session.exec(
        select(AccessToken).where(AccessToken.short_code_digest == digest(normalize_code(code)))
    ).first()
    if found is None or found.kind != TokenKind.JUDGE or found.revoked_at is not None:
        return None
    return found if found.expires_at > utcnow() else None


def revoke_token(session: Session, record: AccessToken) -> None:
    record.revoked_at = utcnow()
    session.add(record)
    session.flush()
