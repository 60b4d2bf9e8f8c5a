"""Accounts: creating users, checking passwords, changing them."""

from __future__ import annotations

from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from evaluation.config import is_production
from evaluation.models import Role, User
from evaluation.models.base import utcnow
from evaluation.security_log import account, security_event
from evaluation.services import user_sessions
from evaluation.services.errors import ValidationFailed
from evaluation.services.passwords import DEFAULT_DEMO_PASSWORD, password_problem


@cache
def _dummy_hash() -> str:
    """Compared against when the username is unknown, so both paths cost the same time.

    Made on the first login attempt, not at import: a hash costs ~0.07 s of CPU (scrypt),
    paid by every server start, and a restart mid-show is waited for by every tablet.
    """
    return generate_password_hash("not-a-real-password")


def authenticate(session: Session, username: str, password: str) -> User | None:
    # Before the lookup, known username or not: the first attempt pays for making it either
    # way, so even that one does not tell which usernames exist.
    dummy = _dummy_hash()
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        check_password_hash(dummy, password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    if password == DEFAULT_DEMO_PASSWORD and is_production(current_app.config):
        # The demo's password is published in the README: in production it opens nothing.
        security_event("demo_password_refused", user=account(user))
        return None
    return user


def end_sessions(session: Session, user: User) -> None:
    """Every session of `user` ends, on every device (logout, an admin's order, 2FA reset)."""
    user.session_epoch += 1
    session.add(user)
    user_sessions.end_all(session, user)
    session.commit()


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    organization_id: int | None = None,
    agency_id: int | None = None,
    enforce_policy: bool = True,
    temporary_password: bool = False,
) -> User:
    """temporary_password: the password was chosen by an admin (`/admin/users/new`,
    `pingyi user create`), so the user must replace it at the first login (ASVS V6.4.1)."""
    # enforce_policy=False only for the demo's published accounts (refused in production).
    problem = password_problem(password, username) if enforce_policy else None
    if problem:
        raise ValidationFailed({"password": problem})
    if session.exec(select(User).where(User.username == username)).first():
        raise ValidationFailed({"username": str(_l("用户名已被使用。"))})
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=generate_password_hash(password),
        organization_id=organization_id,
        agency_id=agency_id,
        must_change_password=temporary_password,
    )
    session.add(user)
    session.flush()
    return user


def change_password(
    session: Session, user: User, current: str, new: str, *, keep_session: int | None = None
) -> None:
    """keep_session: the id of the `UserSession` the change was made from (it stays open)."""
    if not check_password_hash(user.password_hash, current):
        raise ValidationFailed({"current_password": str(_l("当前密码不正确。"))})
    problem = password_problem(new, user.username)
    if problem:
        raise ValidationFailed({"new_password": problem})
    if check_password_hash(user.password_hash, new):
        raise ValidationFailed({"new_password": str(_l("新密码不能与当前密码相同。"))})
    user.password_hash = generate_password_hash(new)
    # A new timestamp changes the login id, so sessions signed before the change end.
    user.password_changed_at = utcnow()
    user.must_change_password = False
    session.add(user)
    user_sessions.end_all(session, user, keep=keep_session)
    session.commit()
