"""Cheaper publishes while the panel marks: the last published facts plus the marks since.

Gathering a publish's facts reads the database seven times and rebuilds every seat's state
(live/snapshot.py); while scoring is open nearly every change is one judge's mark on the slot
on stage, committed by this process, which knows the seat, the mark and the revision. When
every revision since the facts of the last publish is such a mark, the new facts are the old
ones with those seats' states replaced (and the clock, the session row and the connected seats
read afresh). Anything else — a director's command, a void, a vote, a tablet connecting,
another worker's commit, a per-indicator sheet — is a revision this process has no mark for:
the next publish gathers everything again. A missing mark only costs a full gather; a mark is
never applied to facts it does not follow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from decimal import Decimal

from flask import current_app

MARKS_KEPT = 512  # per process; marks older than the last publish are dropped anyway


@dataclass(frozen=True)
class Mark:
    slot_id: int
    seat_id: int
    submission_id: int
    value: Decimal


class Increments:
    def __init__(self) -> None:
        self._facts: dict[int, object] = {}  # session id -> the last published Facts
        self._marks: dict[tuple[int, int], Mark] = {}  # (session id, revision) -> its mark
        self._guard = threading.Lock()

    def marked(self, session_id: int, revision: int, mark: Mark) -> None:
        """A mark committed as `revision` (and nothing else in that revision)."""
        with self._guard:
            self._marks[(session_id, revision)] = mark
            if len(self._marks) > MARKS_KEPT:
                for key in sorted(self._marks, key=lambda key: key[1])[:MARKS_KEPT // 2]:
                    del self._marks[key]

    def facts(self, db, live, gather, refresh):
        """Facts for `live` at its revision: the last ones patched with the marks since when
        every revision in between is one, else `gather(db, live)`. `refresh(facts, live)`
        renews what moves without a revision (clock, connected seats)."""
        with self._guard:
            known = self._facts.get(live.id)
            marks = self._marks_since(known, live) if known is not None else None
            for key in [key for key in self._marks
                        if key[0] == live.id and key[1] <= live.revision]:
                del self._marks[key]
        facts = refresh(_patched(known, marks), live) if marks is not None else gather(db, live)
        with self._guard:
            latest = self._facts.get(live.id)
            if latest is None or latest.live.revision <= live.revision:
                self._facts[live.id] = facts
        return facts

    def _marks_since(self, known, live) -> list[Mark] | None:
        """The marks of every revision after `known` up to `live`'s, or None."""
        first = known.live.revision + 1
        if live.revision < first or known.current is None:
            return None
        marks = [self._marks.get((live.id, revision))
                 for revision in range(first, live.revision + 1)]
        slot = known.current[0]
        if any(mark is None or mark.slot_id != slot.id for mark in marks):
            return None
        return marks


def _patched(known, marks: list[Mark]):
    by_seat = {mark.seat_id: mark for mark in marks}
    states = [
        replace(state, mark=by_seat[state.seat_id].value,
                submission_id=by_seat[state.seat_id].submission_id)
        if state.seat_id in by_seat else state
        for state in known.states
    ]
    return replace(known, states=states)


def current() -> Increments:
    return current_app.extensions.setdefault("live_increments", Increments())


def marked(session_id: int, revision: int, mark: Mark) -> None:
    current().marked(session_id, revision, mark)
