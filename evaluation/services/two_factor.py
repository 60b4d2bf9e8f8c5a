"""TOTP second factor (RFC 6238) for admin and organizer accounts, with recovery codes.

- The secret is 160 random bits (base32), shown once as a QR code and as text, and becomes
  the account's only when the user proves their authenticator has it (a right code).
- A code is accepted for the current 30-second step and one step either side (clock drift
  on phones), and each step only once: `User.totp_last_step` refuses a replayed code.
- Ten recovery codes (16 characters of the short-code alphabet, ≈79 bits each) are shown
  once at enrolment, stored as keyed digests (`tokens.code_digest`), and each opens one
  login. A user who has lost both asks an admin: `pingyi user reset-2fa NAME`, which also
  ends all their sessions; they enrol again at their next login.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from datetime import datetime

import pyotp
import segno
from sqlmodel import Session, delete, select

from evaluation.models import RecoveryCode, Role, User
from evaluation.models.base import utcnow
from evaluation.services import user_sessions
from evaluation.services.tokens import SHORT_CODE_ALPHABET, code_digest, normalize_code

ISSUER = "pingyi"
STEP_SECONDS = 30
DRIFT_STEPS = 1
TOTP_DIGITS = 6
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 16
# The roles whose login can publish results, issue live tokens or manage users.
ROLES_WITH_2FA = (Role.ADMIN, Role.ORGANIZER)


def must_use_2fa(user: User) -> bool:
    return user.role in ROLES_WITH_2FA


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1d1d1d", light="#ffffff")


def _step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def matching_step(secret: str, typed: str, now: datetime | None = None) -> int | None:
    """The time step whose code `typed` is, within the drift window, or None."""
    # A Chinese input method types full-width digits (１２３４５６): NFKC makes them ASCII.
    # Any other non-ASCII digit is no code (and would make compare_digest raise).
    code = unicodedata.normalize("NFKC", "".join(typed.split()))
    if len(code) != TOTP_DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = _step(now or utcnow())
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _recovery_code() -> str:
    raw = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def _issue_recovery_codes(db: Session, user: User) -> list[str]:
    db.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.add_all(
        RecoveryCode(user_id=user.id, code_digest=code_digest(normalize_code(code)))
        for code in codes
    )
    return codes


def enrol(db: Session, user: User, secret: str, typed: str) -> list[str] | None:
    """Make `secret` the user's factor if `typed` is its current code; the recovery codes."""
    step = matching_step(secret, typed)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    db.add(user)
    codes = _issue_recovery_codes(db, user)
    db.commit()
    return codes


def renew_recovery_codes(db: Session, user: User) -> list[str]:
    codes = _issue_recovery_codes(db, user)
    db.commit()
    return codes


def verify(db: Session, user: User, typed: str) -> str | None:
    """"totp" or "recovery" when `typed` is a fresh code of the user's, else None."""
    if not user.has_totp:
        return None
    step = matching_step(user.totp_secret, typed or "")
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None  # this code (or an older one) was used already
        user.totp_last_step = step
        db.add(user)
        db.commit()
        return "totp"
    wanted = code_digest(normalize_code(typed or ""))
    found = db.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_digest == wanted,
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if found is None:
        return None
    found.used_at = utcnow()
    db.add(found)
    db.commit()
    return "recovery"


def recovery_codes_left(db: Session, user: User) -> int:
    return len(
        db.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def reset(db: Session, user: User) -> None:
    """An admin's reset for a lost authenticator: no factor, no codes, no open session."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.session_epoch += 1
    db.add(user)
    user_sessions.end_all(db, user)
    db.exec(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.commit()
