"""Where a ballot's time goes, for diagnosis: `PINGYI_BALLOT_TRACE=FILE pingyi serve`.

Off unless the variable names a file; every hook then returns at once (`ON` is False).
On, each request records the moments it passed (WSGI call, before the view's rate limits,
the view, the end of its reads and the queueing of its write, its wake-up: its write
committed by another request, or its turn to commit), each group commit its catch-up
checkpoint, writes and COMMIT (in the native thread: dispatch, sync, return to the hub),
each garbage collection its generation and duration, and a probe greenlet every hub delay
over 2 ms. Records go to FILE as JSON lines once a second; bench/ballots_trace.py reads
them (with `ballots_bench.py`'s paced-turn times) and says which phase makes the tail.
Found with it (2026-11-28): the slow 1% of paced ballots wait in the group-commit queue
behind earlier batches whose COMMIT waited for the busy hub, not for GC or the parse.
Feed polls are kept too (their FeedLane wait, status, size, and each snapshot the feed made
for a new revision): `bench/soak.py --trace DIR` sets the variable, bench/soak_trace.py reads
it with the pollers' own times.
"""

from __future__ import annotations

import gc
import json
import os
import time

PATH = os.environ.get("PINGYI_BALLOT_TRACE", "")
ON = bool(PATH)
now = time.perf_counter
_records: list = []


def _current():
    # gevent's current greenlet (the main greenlet outside a server): one request each
    import gevent

    return gevent.getcurrent()


def begin() -> None:
    if ON:
        _current()._ballot_trace = {"t0": now()}


def mark(name: str) -> None:
    if ON:
        record = getattr(_current(), "_ballot_trace", None)
        if record is not None:
            record[name] = now()


def put(name: str, value) -> None:
    if ON:
        record = getattr(_current(), "_ballot_trace", None)
        if record is not None:
            record[name] = value


def end() -> None:
    """The request is answered: kept if it reached a ballot view (`pre`) or was a feed poll."""
    if ON:
        current = _current()
        record = getattr(current, "_ballot_trace", None)
        if record is not None and ("pre" in record or "feed" in record):
            record["end"] = now()
            _records.append(("feed" if "feed" in record else "req", record))
        current._ballot_trace = None


def event(kind: str, **values) -> None:
    if ON:
        _records.append((kind, values))


def flush(path: str = "") -> None:
    batch = _records[:]
    del _records[: len(batch)]
    with open(path or PATH, "a", encoding="utf-8") as out:
        for kind, values in batch:
            out.write(json.dumps([kind, values]) + "\n")


def traced(inner):
    """WSGI middleware: each request's record begins and ends around `inner`, with its
    status and body size. A feed poll is kept too: live.overlays.FeedLane notes it (`feed`,
    its wall-clock start, matched with bench/soak.py's pollers' own times) and its lane."""

    def app(environ, start_response):
        begin()

        def answer(status, headers, *rest):
            put("status", int(status[:3]))
            put("bytes", next((int(value) for name, value in headers
                               if name.lower() == "content-length"), 0))
            return start_response(status, headers, *rest)

        try:
            return inner(environ, answer)
        finally:
            end()

    return app


def serve(app) -> None:
    """In `pingyi serve`, when on: trace every request, the collector and the hub."""
    if not ON:
        return
    import gevent

    app.wsgi_app = traced(app.wsgi_app)
    started = {}

    def on_gc(phase, info):
        if phase == "start":
            started["t"], started["cpu"] = now(), time.thread_time()
        elif "t" in started:
            _records.append(("gc", {"t": started["t"], "d": now() - started["t"],
                                    "cpu": time.thread_time() - started["cpu"],
                                    "gen": info["generation"], "collected": info["collected"]}))

    gc.callbacks.append(on_gc)
    _records.append(("clock", {"perf": now(), "wall": time.time()}))

    def probe():
        while True:
            start = now()
            gevent.sleep(0.001)
            late = now() - start - 0.001
            if late > 0.002:
                _records.append(("lag", {"t": start, "d": late}))

    def flusher():
        while True:
            gevent.sleep(1.0)
            flush()

    gevent.spawn(probe)
    gevent.spawn(flusher)
