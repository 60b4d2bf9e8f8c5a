"""A tiny job runner: heavy work (reading workbooks) in a separate worker process.

The server runs gevent: a 2-second openpyxl parse in the serving process would freeze
every tablet and overlay for 2 seconds. Jobs therefore run in one worker process
(`spawn`ed, never forked from the monkey-patched server). A job's state is a JSON file,
`<folder>/jobs/<id>.json`, replaced atomically, so any server process can read it:
status queued -> running -> done | failed (then committed, for imports), progress 0-100,
the result, the worker's pid.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import re
import secrets
import threading
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

KEEP_FOR_SECONDS = 2 * 24 * 3600  # jobs and uploads older than this are removed
PROGRESS_INTERVAL = 0.25  # seconds between two progress writes
WORKER_NICENESS = 10  # the worker (and the chart processes it starts) yields to the server
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
log = logging.getLogger(__name__)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        return _pool


def _exit_with_parent(parent_pid: int) -> None:
    """In the worker: end when the server ends (a SIGTERM'd server runs no clean-up, and an
    orphaned worker would keep the server's stdout and the job queue open).

    The worker also lowers its priority: on a loaded machine a workbook or chart export must
    take the CPU the serving process leaves, not the CPU tablets and overlays wait for.
    """
    with contextlib.suppress(OSError):  # not permitted here: run at normal priority
        os.nice(WORKER_NICENESS)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _reset_executor() -> None:
    global _pool
    with _pool_lock:
        _pool = None


def job_path(folder: Path, job_id: str) -> Path | None:
    """The state file of `job_id`, or None for anything that is not a job id."""
    if not _JOB_ID.fullmatch(job_id or ""):
        return None
    return folder / "jobs" / f"{job_id}.json"


def read_job(folder: Path, job_id: str) -> dict | None:
    path = job_path(folder, job_id)
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_job(path: Path, state: dict) -> None:
    """Write-then-rename: a reader sees the old state or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def update_job(path: Path, **changes) -> dict:
    state = json.loads(path.read_text(encoding="utf-8"))
    state.update(changes)
    write_job(path, state)
    return state


def submit(folder: Path, kind: str, payload_path: Path, *, runner=None, **owner) -> str:
    """Queue `kind` on the uploaded file; `owner` (e.g. campaign_id) is kept with the job.

    `runner(state_path, kind, payload_path)` does the work in the worker (a module-level
    function, so it can be sent there); by default the Excel import parser `run_job`.
    """
    runner = runner or run_job
    _prune(folder)
    job_id = secrets.token_hex(16)
    path = job_path(folder, job_id)
    write_job(
        path,
        {
            "id": job_id,
            "kind": kind,
            "status": "queued",
            "progress": 0,
            "created_at": datetime.now(UTC).isoformat(),
            **owner,
        },
    )
    future = run_in_worker(runner, str(path), kind, str(payload_path))
    future.add_done_callback(partial(_record_crash, path))
    return job_id


def run_in_worker(function, *args) -> Future:
    """Run `function(*args)` in the worker after what is queued there already; no state
    file (background work no page follows, e.g. charts drawn ahead)."""
    try:
        return _executor().submit(function, *args)
    except BrokenProcessPool:  # the worker died (e.g. killed): start a new one
        _reset_executor()
        return _executor().submit(function, *args)


def _record_crash(path: Path, future: Future) -> None:
    """In the server: a job that raised, or whose worker died, must not stay 'running', and
    must say why: its exception and the worker's traceback (carried over by the pool as the
    exception's cause) are logged and kept in the job's state."""
    error = None if future.cancelled() else future.exception()
    if future.cancelled() or error is not None:
        detail = "cancelled" if error is None else \
            "".join(traceback.format_exception(error)).strip()
        log.error("job %s failed: %s", path.stem, detail)
        update_job(path, status="failed",
                   error=type(error).__name__ if error is not None else "CancelledError",
                   message=str(error or "")[:500], traceback=detail[-8000:])


def run_job(path_text: str, kind: str, payload_text: str) -> None:
    """In the worker process: parse the workbook, reporting progress by rows read."""
    from evaluation.imports import parse_workbook

    path = Path(path_text)
    update_job(path, status="running", pid=os.getpid())
    parsed = parse_workbook(kind, Path(payload_text).read_bytes(), progress_writer(path))
    update_job(path, status="done", progress=100, result=parsed.to_plain())


def progress_writer(path: Path):
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL:
            last[0] = now
            update_job(path, progress=min(99, done * 100 // max(total, 1)))

    return report


def _prune(folder: Path) -> None:
    cutoff = time.time() - KEEP_FOR_SECONDS
    for pattern in ("jobs/*.json", "uploads/*.xlsx", "reports/*.*"):
        for old in folder.glob(pattern):
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:  # another process removed it first
                pass


def store_upload(folder: Path, data: bytes) -> Path:
    """Keep an upload outside the web root, named by its SHA-256 (the same file, one copy)."""
    import hashlib

    path = folder / "uploads" / f"{hashlib.sha256(data).hexdigest()}.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return path
