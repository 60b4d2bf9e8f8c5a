"""How public pages are shown: elder mode (large text, high contrast) and 简体 / 繁體.

Both choices live in cookies (no account needed) and apply to public pages only. Traditional
Chinese is made on the server from the rendered page with OpenCC (s2t), so every text,
including names from the database, converts without a second catalog; only the text
between tags changes in practice, since markup, codes and tokens are ASCII.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, request

from evaluation.security import cookie_name, cookie_secure

ELDER_COOKIE = "pingyi_elder"
SCRIPT_COOKIE = "pingyi_script"
SCRIPTS = ("hans", "hant")
ONE_YEAR = 365 * 24 * 3600
# Blueprints whose pages the public reads.
PUBLIC_BLUEPRINTS = {"public", "ballots", "publicity"}


def is_public_page() -> bool:
    return request.blueprint in PUBLIC_BLUEPRINTS


def elder_mode() -> bool:
    return request.cookies.get(cookie_name(ELDER_COOKIE)) == "1"


def script() -> str:
    chosen = request.cookies.get(cookie_name(SCRIPT_COOKIE))
    return chosen if chosen in SCRIPTS else "hans"


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _converter().convert(text)


def remember(response, elder: str | None, chosen_script: str | None):
    """Store the reader's choices on the response (a year; not secret, not HttpOnly-worthy
    but kept HttpOnly anyway: no script needs them)."""
    if elder in ("0", "1"):
        response.set_cookie(
            cookie_name(ELDER_COOKIE), elder, max_age=ONE_YEAR, samesite="Lax", httponly=True,
            secure=cookie_secure(),
        )
    if chosen_script in SCRIPTS:
        response.set_cookie(
            cookie_name(SCRIPT_COOKIE), chosen_script, max_age=ONE_YEAR, samesite="Lax",
            httponly=True, secure=cookie_secure(),
        )
    return response


def _convert_public_page(response):
    if (
        request.blueprint in PUBLIC_BLUEPRINTS
        and script() == "hant"
        and response.mimetype == "text/html"
        and not response.direct_passthrough
    ):
        response.set_data(to_traditional(response.get_data(as_text=True)))
    return response


def init_app(app: Flask) -> None:
    app.after_request(_convert_public_page)

    @app.context_processor
    def display_choices():
        public = request.blueprint in PUBLIC_BLUEPRINTS
        return {
            "public_page": public,
            "elder_mode": public and elder_mode(),
            "page_script": script() if public else "hans",
        }
