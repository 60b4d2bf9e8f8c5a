"""Flask-Login wiring: how a session cookie becomes a user, and the audit actor."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from evaluation.audit import set_actor
from evaluation.db import get_session
from evaluation.models import User


def load_user(login_id: str) -> User | None:
    user_id, _, stamp = login_id.partition(":")
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    # The id embeds the password timestamp: a password change ends every older session.
    if user is None or not user.active or user.get_id() != login_id:
        return None
    return user


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)

    @app.before_request
    def name_the_actor():
        if current_user.is_authenticated:
            set_actor(f"user:{current_user.id}:{current_user.username}")
        else:
            set_actor("anonymous")
