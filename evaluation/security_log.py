"""Security events (logins, 2FA, lockouts, refusals) to the `pingyi.security` logger.

One line per event, `key=value` pairs, so a log collector can parse it. What may appear:
the event name, the client address, an account as `id:username`, counts and reasons. What
never appears: passwords, codes, tokens, TOTP secrets or their digests. A name typed into a
failed login that is not an account is logged as a short hash only: people type their
password into the username field.

This is the application log (stderr of `pingyi serve`), not the audit chain: the chain is a
record of changes to the evaluation, and refusals change nothing.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time

from flask import has_request_context, request

logger = logging.getLogger("pingyi.security")
LINE_FORMAT = "%(asctime)sZ %(levelname)s %(name)s %(message)s"


def init_app(app) -> None:
    """Security events are INFO: make sure they reach stderr when nobody configured logging
    (`pingyi serve`), in UTC, without doubling lines where a handler already exists."""
    logger.setLevel(logging.INFO)
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(LINE_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger.addHandler(handler)


def _clean(value: object) -> str:
    # No line breaks or spaces inside a value: a crafted name cannot forge a second event.
    text = str(value)
    return "".join(c if c.isprintable() and not c.isspace() else "_" for c in text)[:80]


def account(user) -> str:
    return f"{user.id}:{user.username}"


def name_fingerprint(typed: str) -> str:
    return hashlib.sha256(typed.encode("utf-8")).hexdigest()[:12]


def security_event(event: str, level: int = logging.INFO, **fields: object) -> None:
    parts = [f"event={_clean(event)}"]
    if has_request_context():
        parts.append(f"ip={_clean(request.remote_addr or '-')}")
        parts.append(f"path={_clean(request.path)}")
    parts.extend(f"{key}={_clean(value)}" for key, value in fields.items() if value is not None)
    logger.log(level, " ".join(parts))
