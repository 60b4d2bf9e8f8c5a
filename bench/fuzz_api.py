"""Schemathesis against the published OpenAPI document, in-process, at bench scale.

    PYTHONPATH=. python bench/fuzz_api.py [--cases 1000]

Builds a fresh migrated SQLite database and the app from create_app, prepares a live session on
its scoring segment (judge, overlay and organizer credentials), then runs --cases positive and
--cases negative cases against every operation (tests/api_fuzz.py does the checks: no 5xx,
documented status/content type/body, invalid sheets refused with 4xx and nothing stored).
Prints cases, failures and time per operation, and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from api_fuzz import fuzz_app, prepare_world  # noqa: E402
from sqlmodel import Session  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.db import make_engine  # noqa: E402
from evaluation.migrate import upgrade  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per operation and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pingyi-fuzz-") as folder:
        url = f"sqlite:///{folder}/fuzz.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = create_app({
            "TESTING": True, "SECRET_KEY": "fuzz", "DATABASE_URL": url,
            "SOCKETIO_ASYNC_MODE": "threading", "RATELIMIT_ENABLED": False,
            "LIVE_SWEEP_SECONDS": 0, "FILES_FOLDER": f"{folder}/files",
            "IMPORTS_FOLDER": f"{folder}/imports", "REPORTS_FOLDER": f"{folder}/reports",
        })
        with Session(app.extensions["pingyi_db"], expire_on_commit=False) as db:
            world = prepare_world(app, db)
        started = time.perf_counter()
        results = fuzz_app(world, args.cases)
        total = time.perf_counter() - started
    print(f"{'operation':<82} {'cases':>6} {'fail':>5} {'time s':>7}  statuses")
    for label, tally in results.items():
        statuses = " ".join(f"{code}:{n}" for code, n in sorted(tally.statuses.items()))
        print(f"{label:<82} {tally.cases:>6} {len(tally.failures):>5} {tally.seconds:>7.1f}  "
              f"{statuses}")
    failures = [failure for tally in results.values() for failure in tally.failures]
    for failure in failures[:20]:
        print("FAILURE", failure[:400])
    cases = sum(tally.cases for tally in results.values())
    print(f"fuzz_api: {cases} cases, {len(failures)} failures, {total:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
