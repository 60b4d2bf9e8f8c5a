"""Invitation links: an agency contact sets their own password; nobody mails passwords.

A link is random (256 bits), single-use and expiring; only its SHA-256 digest is stored.
Issuing a new link revokes the user's older unused ones.

The same links reset a forgotten password of any account (ASVS V6.4.3): an admin's
"重置密码链接" on `/admin/users` or `pingyi user reset-link NAME` (`issue_reset_link`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from evaluation.audit import record
from evaluation.models import Agency, Invitation, Role, User
from evaluation.models.base import utcnow
from evaluation.services import user_sessions
from evaluation.services.accounts import password_problem
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail
from evaluation.services.tokens import digest

INVITATION_VALID_FOR = timedelta(days=7)


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once, to the organizer who sends it on


def _unusable_password() -> str:
    # Nobody knows it: the account opens only through the invitation link.
    return generate_password_hash(secrets.token_urlsafe(32))


def contact_for(session: Session, agency: Agency, username: str, display_name: str) -> User:
    """The agency's contact account with this username, created (without a password) if new."""
    username, display_name = username.strip(), display_name.strip()
    errors = {}
    if not username or len(username) > 64:
        errors["username"] = _("用户名须为 1 到 64 个字符。")
    if not display_name or len(display_name) > 64:
        errors["display_name"] = _("联络员姓名须为 1 到 64 个字符。")
    if errors:
        raise ValidationFailed(errors)
    user = session.exec(select(User).where(User.username == username)).first()
    if user is not None:
        if user.role != Role.AGENCY_CONTACT or user.agency_id != agency.id:
            raise ValidationFailed({"username": _("用户名已被其他账号使用。")})
        return user
    user = User(
        username=username,
        display_name=display_name,
        role=Role.AGENCY_CONTACT,
        organization_id=agency.organization_id,
        agency_id=agency.id,
        password_hash=_unusable_password(),
    )
    session.add(user)
    session.flush()
    return user


def issue_invitation(session: Session, user: User, issued_by: User | None) -> IssuedInvitation:
    """issued_by None: the operator at the server (the command line)."""
    now = utcnow()
    for old in session.exec(
        select(Invitation).where(
            Invitation.user_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
        session.add(old)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        user_id=user.id,
        token_digest=digest(token),
        created_by=issued_by.id if issued_by else None,
        created_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    session.add(invitation)
    commit_or_fail(session)
    return IssuedInvitation(invitation, token)


def issue_reset_link(session: Session, user: User, issued_by: User | None) -> IssuedInvitation:
    """A single-use link to set a new password (a forgotten one): older links are revoked
    and every session of the user ends, so whoever may hold one loses it. The password
    itself keeps working until the link is used: a lost link locks nobody out."""
    if not user.active:
        # Using a link re-activates the account: a disabled account is enabled first, on purpose.
        raise ValidationFailed({"form": _("账号已停用：请先启用，再发送重置密码链接。")})
    user.session_epoch += 1
    session.add(user)
    user_sessions.end_all(session, user)
    issued = issue_invitation(session, user, issued_by)  # commits
    record(session, "password_reset_link_issued", "user", user.id,
           {"invitation_id": issued.invitation.id})
    commit_or_fail(session)
    return issued


def live_invitation(session: Session, token: str) -> Invitation | None:
    """The unused, unexpired, unrevoked invitation for this token, or None."""
    if not token or len(token) > 128:
        return None
    found = session.exec(select(Invitation).where(Invitation.token_digest == digest(token))).first()
    if found is None or found.used_at or found.revoked_at or found.expires_at <= utcnow():
        return None
    return found


def accept_invitation(session: Session, token: str, password: str, confirm: str) -> User:
    invitation = live_invitation(session, token)
    if invitation is None:
        raise ValidationFailed({"form": _("邀请链接无效、已使用或已过期，请联系评议办重新发送。")})
    problem = password_problem(password)
    if problem:
        raise ValidationFailed({"password": problem})
    if password != confirm:
        raise ValidationFailed({"confirm": _("两次输入的密码不一致。")})
    now = utcnow()
    # Conditional update: of two requests racing with one link, exactly one wins.
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise ValidationFailed({"form": _("邀请链接无效、已使用或已过期，请联系评议办重新发送。")})
    user = session.get(User, invitation.user_id)
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = now  # ends every session signed before (see User.get_id)
    user.must_change_password = False  # the user chose this one
    user.active = True
    session.add(user)
    user_sessions.end_all(session, user)
    session.flush()
    record(session, "invitation_accepted", "user", user.id, {"invitation_id": invitation.id})
    commit_or_fail(session)
    return user


def latest_invitations(session: Session, user_ids: list[int]) -> dict[int, Invitation]:
    rows = session.exec(
        select(Invitation).where(Invitation.user_id.in_(user_ids)).order_by(Invitation.id)
    ).all()
    return {row.user_id: row for row in rows}
