"""Exports run in the job worker process (evaluation.jobs), never in the serving process.

The serving process composes the results (a database read) and pickles the plain-data
ComposedResults next to the job; the worker unpickles it, builds the workbook or renders the
charts (itself with a process pool), writes the file beside the job and marks it done.
Under gevent a 2-second openpyxl build in the serving process would freeze every tablet and
overlay for 2 seconds; here it only costs the worker's core.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from evaluation import jobs

KINDS = ("workbook", "charts")
SUFFIX = {"workbook": ".xlsx", "charts": ".zip"}


def reports_dir(folder: Path) -> Path:
    return Path(folder) / "reports"


def output_path(folder: Path, job_id: str, kind: str) -> Path:
    return reports_dir(folder) / f"{job_id}{SUFFIX[kind]}"


def payload_path(folder: Path, job_key: str) -> Path:
    return reports_dir(folder) / f"{job_key}.pickle"


def write_payload(folder: Path, composed, key: str) -> Path:
    path = payload_path(folder, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(pickle.dumps(composed, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(temporary, path)
    return path


def run_export(state_text: str, kind: str, payload_text: str) -> None:
    """In the worker: build `kind` from the pickled ComposedResults, reporting progress."""
    state, payload = Path(state_text), Path(payload_text)
    folder = state.parent.parent
    jobs.update_job(state, status="running", pid=os.getpid())
    try:
        # the payload was written by our own serving process a moment ago, never uploaded
        composed = pickle.loads(payload.read_bytes())
        progress = jobs.progress_writer(state)
        job_id = state.stem
        output = output_path(folder, job_id, kind)
        if kind == "workbook":
            from evaluation.reports.workbook import build_workbook

            data = build_workbook(composed, progress=progress)
        else:
            from evaluation.reports.chart_cache import (
                prune_other_revisions,
                render_all,
                zip_charts,
            )

            data = zip_charts(render_all(folder, composed, progress=progress), composed)
            prune_other_revisions(folder, composed)
        temporary = output.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, output)
    finally:
        payload.unlink(missing_ok=True)
    jobs.update_job(state, status="done", progress=100, result={"file": output.name})
