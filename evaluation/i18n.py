"""Language choice: `?lang=` (remembered), then the user's setting, then Chinese."""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from evaluation.clock import local
from evaluation.extensions import babel
from evaluation.file_sizes import file_size

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"


def select_locale() -> str:
    if not has_request_context():  # CLI commands speak the default language
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    user_locale = getattr(current_user, "locale", None)
    if user_locale in LANGUAGES:
        return user_locale
    return DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/translations"))
    babel.init_app(app, locale_selector=select_locale)

    app.add_template_filter(local, "local")
    app.add_template_filter(file_size, "file_size")

    @app.context_processor
    def languages():
        return {"LANGUAGES": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE)}
