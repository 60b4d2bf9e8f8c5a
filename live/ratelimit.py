"""Per-connection rate limit: a token bucket per socket id (this process's connections)."""

from __future__ import annotations

import threading
import time

CAPACITY = 20  # a burst: a tablet resending its queue after a reconnect
REFILL_PER_SECOND = 5.0

_buckets: dict[str, tuple[float, float]] = {}
_guard = threading.Lock()


def allow(sid: str) -> bool:
    now = time.monotonic()
    with _guard:
        tokens, last = _buckets.get(sid, (CAPACITY, now))
        tokens = min(CAPACITY, tokens + (now - last) * REFILL_PER_SECOND)
        if tokens < 1:
            _buckets[sid] = (tokens, now)
            return False
        _buckets[sid] = (tokens - 1, now)
        return True


def forget(sid: str) -> None:
    with _guard:
        _buckets.pop(sid, None)
