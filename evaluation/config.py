"""Configuration: defaults, then the instance file, then environment variables.

Later sources win. `SECRET_KEY` has no default outside development: a production
server that forgets it must refuse to start rather than sign cookies with a guess.
"""

from __future__ import annotations

import os
import secrets
import stat
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
    # `__Host-` prefix on every cookie (session, device, display choices). None: on in
    # production, off in development and tests (evaluation.security).
    "COOKIE_HOST_PREFIX": None,
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
    # A plain ballot POST answered beside Flask's request cycle (evaluation/ballot_lane.py,
    # the same checks); off: every ballot through Flask.
    "BALLOT_LANE": True,
    # "console" logs the message (development); "package.module:Class" sends it.
    "SMS_SENDER": "console",
    # A gateway that has not answered after this long counts as failed (503, nothing stored).
    "SMS_TIMEOUT_SECONDS": 10,
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
    # Key for the digests of voters' phone numbers (SMS voting). None: SECRET_KEY itself, as
    # before this setting existed, so stored digests keep matching. Set it (before rotating
    # SECRET_KEY during an open SMS stage: to the current SECRET_KEY) so a rotation does not
    # let every phone vote again. See README, "Rotating keys".
    "PHONE_DIGEST_KEY": None,
    # Earlier SECRET_KEY values, still accepted on cookies and signed form stamps while
    # sessions signed with them run out (Flask 3.1). Environment: SECRET_KEY_FALLBACKS or
    # PINGYI_SECRET_KEY_FALLBACKS, keys separated by commas or spaces.
    "SECRET_KEY_FALLBACKS": [],
    # Strict-Transport-Security on https responses (one year; 0 switches it off).
    "HSTS_MAX_AGE": 31536000,
    # Draw a results version's charts in the job worker once it is composed (the export
    # then finds them cached); off in the tests that do not look at charts.
    "PRERENDER_CHARTS": True,
}

# Environment variables read without the PINGYI_ prefix (the usual names in deployments).
PLAIN_ENV_KEYS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS")

# Known keys whose values are lists (environment: separated by commas or whitespace).
_LIST_KEYS = {"SECRET_KEY_FALLBACKS"}

# Known keys whose environment values are not strings.
_INT_KEYS = {
    "MAX_CONTENT_LENGTH",
    "WTF_CSRF_TIME_LIMIT",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "HSTS_MAX_AGE",
    "SMS_TIMEOUT_SECONDS",
}
_BOOL_KEYS = {"SESSION_COOKIE_SECURE", "RATELIMIT_ENABLED", "TESTING", "PROXY_FIX", "REQUIRE_2FA",
              "PRERENDER_CHARTS", "COOKIE_HOST_PREFIX", "BALLOT_LANE"}


class ConfigError(RuntimeError):
    """The configuration cannot be used to start the platform."""


# Secrets from files (ASVS V13.3.1): any variable NAME read below can instead be given as
# NAME_FILE=/path, or as a systemd credential named NAME (`LoadCredential=NAME:/path` puts it in
# $CREDENTIALS_DIRECTORY). Docker and Kubernetes secrets are files too. A file keeps the secret
# out of the process environment, which child processes inherit and crash reports, `ps e` and
# /proc/PID/environ show. Two sources for one name, or a file that cannot be read, stop the
# start: silently preferring one would leave the operator unsure which key signs cookies.
CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY"
FILE_SUFFIX = "_FILE"
# Read by the factory or chosen before any file could be checked: never from a file.
_NOT_FROM_FILES = {"PINGYI_ENV", "PINGYI_INSTANCE_PATH"}


def _is_setting_variable(name: str) -> bool:
    if name in _NOT_FROM_FILES:
        return False
    return name in PLAIN_ENV_KEYS or (name.startswith("PINGYI_") and len(name) > len("PINGYI_"))


def _file_reference(name: str) -> str | None:
    """NAME for NAME_FILE when NAME is a variable pingyi reads, else None."""
    if not name.endswith(FILE_SUFFIX):
        return None
    target = name.removesuffix(FILE_SUFFIX)
    return target if _is_setting_variable(target) else None


def read_secret_file(label: str, path: str | os.PathLike, *, check_mode: bool) -> str:
    """A secret's file content without its trailing newline (`openssl rand -hex 32 > f`).

    Outside development the file must not be open to other users: a key readable by every
    account on the host is not a secret."""
    try:
        mode = os.stat(path).st_mode
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(f"{label}: cannot read {path}: {error.strerror or error}.") from error
    if check_mode and mode & stat.S_IRWXO:
        raise ConfigError(
            f"{label}: {path} is accessible to other users (mode {stat.S_IMODE(mode):04o}); "
            f"make it readable by the service's user only (chmod 400 or 600), "
            f"or set PINGYI_ENV=development."
        )
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{label}: {path} is not UTF-8 text.") from error
    if not text:
        raise ConfigError(f"{label}: {path} is empty.")
    return text


def with_secret_files(environ: os._Environ | dict) -> dict[str, str]:
    """The environment with every NAME_FILE and systemd credential replaced by NAME=content."""
    check_mode = environ.get("PINGYI_ENV") != "development"
    sources: dict[str, tuple[str, Path]] = {}  # NAME -> (where it was named, file)
    for name, value in environ.items():
        target = _file_reference(name)
        if target is not None and value:
            sources[target] = (name, Path(value))
    directory = environ.get(CREDENTIALS_DIRECTORY)
    if directory:
        try:
            entries = sorted(Path(directory).iterdir())
        except OSError as error:
            raise ConfigError(
                f"{CREDENTIALS_DIRECTORY}: cannot read {directory}: {error.strerror or error}."
            ) from error
        for entry in entries:
            if not (_is_setting_variable(entry.name) and entry.is_file()):
                continue  # the unit's other credentials are not ours
            label = f"the credential {entry.name} in ${CREDENTIALS_DIRECTORY}"
            if entry.name in sources:
                raise ConfigError(
                    f"{entry.name} is given twice ({sources[entry.name][0]} and {label}): "
                    f"keep one."
                )
            sources[entry.name] = (label, entry)
    result = {name: value for name, value in environ.items() if not _file_reference(name)}
    for target, (label, path) in sources.items():
        if environ.get(target):
            raise ConfigError(
                f"{target} is given twice (the environment variable {target} and {label}): "
                f"keep one."
            )
        result[target] = read_secret_file(label, path, check_mode=check_mode)
    return result


def from_environment(environ: os._Environ | dict) -> dict[str, object]:
    environ = with_secret_files(environ)
    found: dict[str, object] = {}
    for key in PLAIN_ENV_KEYS:
        if environ.get(key):
            found[key] = _coerce(key, environ[key])
    for name, raw in environ.items():
        if name.startswith("PINGYI_") and name != "PINGYI_ENV":
            key = name.removeprefix("PINGYI_")
            found[key] = _coerce(key, raw)
    if environ.get("PINGYI_ENV"):
        found["PINGYI_ENV"] = environ["PINGYI_ENV"]
    return found


def key_list(value: object) -> list[str]:
    """A list of keys from a list or from one string ("k1,k2" or "k1 k2"); blanks dropped."""
    if value is None:
        return []
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def _coerce(key: str, raw: str) -> object:
    if key in _LIST_KEYS:
        return key_list(raw)
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
