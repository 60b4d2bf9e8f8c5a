"""Which seats have a tablet connected, in this process.

With several workers (REDIS_URL) each process knows its own connections only; the seat map
then shows a seat as connected when its process says so (the console's own worker).
"""

from __future__ import annotations

import threading
from collections import Counter

_connected: Counter[int] = Counter()
_guard = threading.Lock()


def seat_connected(seat_id: int) -> None:
    with _guard:
        _connected[seat_id] += 1


def seat_disconnected(seat_id: int) -> None:
    with _guard:
        _connected[seat_id] -= 1
        if _connected[seat_id] <= 0:
            del _connected[seat_id]


def is_connected(seat_id: int) -> bool:
    return _connected.get(seat_id, 0) > 0
