"""Revealed slots' results, kept per process so that a full gather does not read and score
every revealed slot's marks again (live/snapshot.py): its cost stays flat as the show goes on.

A revealed slot's result depends on its valid marks and on who is recused. Its marks cannot
grow after the reveal (a seat marks only while scoring is open, and a slot never goes back
from REVEALED, live/runofshow.py); they can only be voided (an approved void request may be
decided after the reveal, live/voiding.py). So each session's kept results are tied to a
`context`: everything else they were computed from — the session row's identity (a rehearsal
reset deletes the session and makes a new one, whose ids may be reused: its `created_at`
differs), the panel rule, the sheet's lines, the seats and their judges, the declared conflicts, and
the ids of every voided submission of the session. Any change to one of these, read before
the marks in the same gather, drops them all: the next gather scores every revealed slot again.
"""

from __future__ import annotations

import threading

from flask import current_app

SESSIONS_KEPT = 64


class Standings:
    def __init__(self) -> None:
        # session id -> (context, {slot id: (agency id, result value or None)})
        self._kept: dict[int, tuple[tuple, dict]] = {}
        self._guard = threading.Lock()

    def known(self, session_id: int, context: tuple) -> dict:
        """The results kept for `session_id` under `context` ({} when it changed)."""
        with self._guard:
            kept = self._kept.get(session_id)
            return dict(kept[1]) if kept is not None and kept[0] == context else {}

    def keep(self, session_id: int, context: tuple, results: dict) -> None:
        """Add `results` ({slot id: (agency id, value or None)}) of revealed slots."""
        with self._guard:
            kept = self._kept.get(session_id)
            if kept is None or kept[0] != context:
                kept = (context, {})
            kept[1].update(results)
            self._kept.pop(session_id, None)
            self._kept[session_id] = kept  # the newest last: the oldest go first
            while len(self._kept) > SESSIONS_KEPT:
                del self._kept[next(iter(self._kept))]


def current() -> Standings:
    return current_app.extensions.setdefault("live_standings", Standings())
