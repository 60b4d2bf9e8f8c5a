"""Accounts: creating users, checking passwords, changing them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from evaluation.models import Role, User
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10
# Compared against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH))
    if password.isdigit() or password.isalpha():
        return str(_l("密码需同时包含字母和数字（或符号）。"))
    return None


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    organization_id: int | None = None,
    agency_id: int | None = None,
) -> User:
    problem = password_problem(password)
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
    )
    session.add(user)
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise ValidationFailed({"current_password": str(_l("当前密码不正确。"))})
    problem = password_problem(new)
    if problem:
        raise ValidationFailed({"new_password": problem})
    user.password_hash = generate_password_hash(new)
    # A new timestamp changes the login id, so sessions signed before the change end.
    user.password_changed_at = utcnow()
    session.add(user)
    session.commit()
