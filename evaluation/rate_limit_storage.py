"""In-process counters for Flask-Limiter's fixed windows (`pingyi-memory://`, one process).

The `limits` package's own `memory://` storage re-arms a 10 ms timer on every hit once the
previous one has run (a new thread, a greenlet under gevent), and each run walks every key:
with one counter per voter, address and device that cost the public ballot ~0.5 ms of CPU
per request (bench/ballots_bench.py, 2026-11-28), more as the number of voters grew. Here a
counter is a dict entry that knows its own expiry; expired entries are dropped lazily when
read, and the whole dict is swept at most once per `SWEEP_SECONDS` (O(keys) a minute, not a
hundred times a second). Fixed windows only, which is what every limit in pingyi uses (the
Flask-Limiter default strategy). Several workers share no memory: with REDIS_URL set, the
limits live in Redis instead (evaluation.factory).
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SWEEP_SECONDS = 60.0


class LeanMemoryStorage(Storage):
    STORAGE_SCHEME = ["pingyi-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._counters: dict[str, list[float]] = {}  # key -> [count, expires at]
        self._lock = threading.Lock()  # tests serve from threads; uncontended under gevent
        self._next_sweep = time.monotonic() + SWEEP_SECONDS
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):  # pragma: no cover - nothing here raises on I/O
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.monotonic()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            entry = self._counters.get(key)
            if entry is None or entry[1] <= now:
                entry = self._counters[key] = [0, now + expiry]
            entry[0] += amount
            return int(entry[0])

    def get(self, key: str) -> int:
        entry = self._counters.get(key)
        if entry is None or entry[1] <= time.monotonic():
            return 0
        return int(entry[0])

    def get_expiry(self, key: str) -> float:
        """Wall-clock time (epoch seconds) when the key's window ends, as `limits` expects."""
        now = time.monotonic()
        entry = self._counters.get(key)
        remaining = entry[1] - now if entry is not None and entry[1] > now else 0.0
        return time.time() + remaining

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counters)
            self._counters.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counters = {key: e for key, e in self._counters.items() if e[1] > now}
        self._next_sweep = now + SWEEP_SECONDS
