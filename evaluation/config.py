"""Configuration: defaults, then the instance file, then environment variables.

Later sources win. `SECRET_KEY` has no default outside development: a production
server that forgets it must refuse to start rather than sign cookies with a guess.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS: dict[str, object] = {
    "PINGYI_ENV": "production",
    "DATABASE_URL": None,  # None: an SQLite file in the instance folder
    "REDIS_URL": None,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # False here still means Secure over https (see evaluation.security); True forces it.
    "SESSION_COOKIE_SECURE": False,
    "PROXY_FIX": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # The cookie signature's own age limit, a backstop to SESSION_MAX_HOURS (evaluation.auth).
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LOGIN_RATE_LIMIT": "10 per minute",
    "RATELIMIT_ENABLED": True,
    # One process: in-process counters (evaluation/rate_limit_storage.py, cheaper than the
    # `limits` package's memory://). Several workers: REDIS_URL switches this to Redis.
    "RATELIMIT_STORAGE_URI": "pingyi-memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    # 社会评议: layered limits on casting a ballot (and asking for an SMS code).
    "BALLOT_LIMIT_PER_IP": "60 per minute",
    "BALLOT_LIMIT_PER_DEVICE": "20 per minute",
    "BALLOT_LIMIT_PER_IDENTITY": "10 per minute",
    # "console" logs the message (development); "package.module:Class" sends it.
    "SMS_SENDER": "console",
    # 媒体公示: comments per network address (no captcha: a limit instead).
    "PUBLICITY_COMMENT_LIMIT": "5 per minute",
    # Admin and organizer accounts must use a TOTP second factor. None: on in production,
    # off in development and tests (the demo's published accounts log in with a password).
    "REQUIRE_2FA": None,
    "TOTP_RATE_LIMIT": "10 per minute",
    # Web sessions end after this long without a request, and this long after the login.
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_MAX_HOURS": 12,
    # Key for digests of short codes (vote, panel, SMS, recovery codes, judges' short codes).
    # None: derived from SECRET_KEY. Set it to rotate SECRET_KEY without voiding printed codes.
    "CODE_DIGEST_KEY": None,
    # Strict-Transport-Security on https responses (one year; 0 switches it off).
    "HSTS_MAX_AGE": 31536000,
    # Draw a results version's charts in the job worker once it is composed (the export
    # then finds them cached); off in the tests that do not look at charts.
    "PRERENDER_CHARTS": True,
}

# Environment variables read without the PINGYI_ prefix (the usual names in deployments).
PLAIN_ENV_KEYS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")

# Known keys whose environment values are not strings.
_INT_KEYS = {
    "MAX_CONTENT_LENGTH",
    "WTF_CSRF_TIME_LIMIT",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "HSTS_MAX_AGE",
}
_BOOL_KEYS = {"SESSION_COOKIE_SECURE", "RATELIMIT_ENABLED", "TESTING", "PROXY_FIX", "REQUIRE_2FA",
              "PRERENDER_CHARTS"}


class ConfigError(RuntimeError):
    """The configuration cannot be used to start the platform."""


def from_environment(environ: os._Environ | dict) -> dict[str, object]:
    found: dict[str, object] = {}
    for key in PLAIN_ENV_KEYS:
        if environ.get(key):
            found[key] = environ[key]
    for name, raw in environ.items():
        if name.startswith("PINGYI_") and name != "PINGYI_ENV":
            key = name.removeprefix("PINGYI_")
            found[key] = _coerce(key, raw)
    if environ.get("PINGYI_ENV"):
        found["PINGYI_ENV"] = environ["PINGYI_ENV"]
    return found


def _coerce(key: str, raw: str) -> object:
    if key in _INT_KEYS:
        return int(raw)
    if key in _BOOL_KEYS:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


def is_development(config: dict) -> bool:
    return config.get("PINGYI_ENV") == "development" or bool(config.get("TESTING"))


def is_production(config: dict) -> bool:
    return config.get("PINGYI_ENV") == "production" and not config.get("TESTING")


def two_factor_required(config: dict) -> bool:
    """REQUIRE_2FA when set; otherwise on everywhere but development and tests."""
    setting = config.get("REQUIRE_2FA")
    return not is_development(config) if setting is None else bool(setting)


def ensure_secret_key(config: dict, instance_path: Path) -> None:
    """Keep a configured key; in development make one and keep it in the instance folder."""
    if config.get("SECRET_KEY"):
        return
    if not is_development(config):
        raise ConfigError(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(for instance: export SECRET_KEY=$(openssl rand -hex 32)), "
            "or PINGYI_ENV=development for a local key."
        )
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    config["SECRET_KEY"] = key_file.read_text().strip()


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'pingyi.sqlite3'}"


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the deployment uses."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
