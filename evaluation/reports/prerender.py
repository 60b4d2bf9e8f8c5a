"""Charts drawn ahead: once a results version is composed, the job worker renders every
chart of its revision into the cache, so that exporting that version finds them there.

At low priority, in slices: the worker is one process running its jobs in order, and a
pre-render is a chain of jobs of about SLICE_SECONDS each, the next one queued only when
one ends. An export requested meanwhile so waits for at most one slice, never for the
whole pre-render (400 agencies: minutes of one core), and then renders what is still
missing itself, skipping what is cached (chart_cache.render_all); the slices after it
find nothing left to draw. The worker runs niced (jobs.WORKER_NICENESS).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import time
from functools import partial
from pathlib import Path

from evaluation import jobs
from evaluation.reports import chart_cache
from evaluation.reports.export import payload_path, write_payload
from evaluation.services.results_data import ComposedResults

SLICE_SECONDS = 1.0
RUNNING_SECONDS = 300    # a payload untouched this long: its chain ended with the server
log = logging.getLogger(__name__)
_loaded: dict[str, ComposedResults] = {}     # in the worker: the pre-render's results


def start(folder: Path, composed: ComposedResults) -> bool:
    """Queue the pre-render of `composed`'s charts; False when there is nothing to draw (a
    preview, whose charts are redrawn on every export, or a revision already complete) or
    a pre-render of the revision is under way."""
    if chart_cache.is_complete(folder, composed.campaign_id, composed.revision) or \
            composed.revision == chart_cache.PREVIEW:
        return False
    key = f"prerender-{composed.campaign_id}-r{composed.revision}"
    running = payload_path(folder, key)
    if running.exists() and time.time() - running.stat().st_mtime < RUNNING_SECONDS:
        return False     # a chain is at work on it (each slice touches its payload)
    payload = write_payload(folder, composed, key)
    _queue(str(folder), str(payload))
    return True


def _queue(folder: str, payload: str) -> None:
    jobs.run_in_worker(render_slice, folder, payload).add_done_callback(
        partial(_next_slice, folder, payload))


def _next_slice(folder: str, payload: str, future) -> None:
    """In the serving process, when a slice ends: queue the next one behind what was
    queued meanwhile (an export), or stop."""
    error = None if future.cancelled() else future.exception()
    if future.cancelled() or error is not None:
        # the worker died or a chart failed: an export draws what is missing (or says why)
        log.warning("chart pre-render stopped: %r", error)
        Path(payload).unlink(missing_ok=True)
    elif future.result():
        _queue(folder, payload)


def render_slice(folder_text: str, payload_text: str, seconds: float | None = None) -> bool:
    """In the worker: draw missing charts for about `seconds` (SLICE_SECONDS); True while
    some are left."""
    folder, payload = Path(folder_text), Path(payload_text)
    composed = _loaded.get(payload_text)
    if composed is None and not payload.exists():
        return False     # a second chain for the same revision finished it
    with contextlib.suppress(OSError):
        os.utime(payload)      # still at work: start() queues no second chain
    if composed is None:
        _loaded.clear()
        # written by our own serving process a moment ago, never uploaded
        composed = _loaded[payload_text] = pickle.loads(payload.read_bytes())
    deadline = time.monotonic() + (SLICE_SECONDS if seconds is None else seconds)
    missing = chart_cache.missing_by_name(folder, composed)
    for done, (name, fmts) in enumerate(missing, start=1):
        chart_cache.charts_of(folder, composed, name, fmts)    # one at least: progress
        if time.monotonic() >= deadline and done < len(missing):
            return True
    chart_cache.mark_complete(folder, composed)
    _loaded.pop(payload_text, None)
    payload.unlink(missing_ok=True)
    return False
