"""Crash mid-show: kill -9 the server again and again while judges score; nothing is lost.

    python bench/chaos_live.py [--kills 20] [--judges 30] [--overlays 5] [--seed 7]

A fresh instance (embedded SQLite, WAL, synchronous=FULL) with a session of J judges (no
recusals, bench/live_setup.py) is served by `pingyi serve`. J simulated tablets
(tests/live/simtablet.py: real python-socketio clients with the tablet's delivery rules: an
outbox kept until acknowledged, resent on reconnect and every second) and O overlays are
connected; a director client runs the show. Every client retries a lost connection as the
real pages do (the reconnection delays of evaluation/static/live/connection.js, read from it:
simtablet.page_reconnection), so the time to resync is the pages' time, not a faster one.
Each round, a batch of judges submit their marks for the agency on stage without waiting, and
at a random moment (0-300 ms later, so some marks are in flight) the server is killed with
SIGKILL and started again. After each restart the bench measures how long until every client
is back in sync: every tablet connected with an empty outbox and every overlay holding a
snapshot of the server's current revision. When all judges of an agency have delivered, the
director reveals it and puts the next one on stage.

Printed figures:
* acknowledged marks, stored marks, lost (acknowledged but not stored) and duplicates
  (a client id or a seat stored twice for one agency): both must be 0;
* back-in-sync time from each kill (restart included), p50 / p95 / max (target p95 < 15 s),
  and the clients' part of it (from the server answering again) as a ratio to the baseline
  measured in this run: a bare cold start of the server (spawn to first HTTP answer);
* `pingyi audit verify` at the end: the audit chain is intact and every stored mark is what
  its audit events say, after all those kills;
* overlay regressions: snapshots received with an older revision than one already received
  (the page ignores them, so it never shows an older picture after a newer one; counted to
  show how often ordering is left to the client). After each restart every overlay must
  receive the server's current revision: a revision that went backwards would fail the sync.

`tests/live/test_chaos_short.py` runs `run()` with 3 kills in `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "live"))

import socketio  # noqa: E402
from serverproc import Server, demo_instance, environment, run_cli  # noqa: E402
from simtablet import NS, SimTablet, page_reconnection  # noqa: E402

SYNC_TIMEOUT = 120.0


class Overlay:
    """A read-only client that notes every revision it is shown, in order."""

    def __init__(self, base: str, session: int, token: str):
        self.revisions: list[int] = []
        self.lock = threading.Lock()
        # Retrying as the real pages do (evaluation/static/live/connection.js).
        self.client = socketio.Client(**page_reconnection())
        self.client.on("snapshot", self._seen, namespace=NS)
        self.client.connect(base, namespaces=[NS], transports=["websocket"], wait_timeout=10,
                            auth={"session": session, "token": token}, retry=True)

    def _seen(self, picture: dict) -> None:
        with self.lock:
            self.revisions.append(picture["revision"])

    def mark(self) -> int:
        with self.lock:
            return len(self.revisions)

    def newest_since(self, mark: int) -> int:
        """The newest revision received after `mark`: a restarted server must send the
        current one (a revision that went backwards would leave the page ignoring it)."""
        with self.lock:
            return max(self.revisions[mark:], default=-1)

    def regressions(self) -> int:
        """Snapshots older than one already received (the page ignores them)."""
        with self.lock:
            newest, older = -1, 0
            for revision in self.revisions:
                older += revision < newest
                newest = max(newest, revision)
            return older


class Director:
    """Drives the show idempotently: every step checks the state first, so a command lost in
    a crash is simply sent again."""

    def __init__(self, base: str, session: int, token: str):
        # Retrying as the real pages do (evaluation/static/live/connection.js).
        self.client = socketio.Client(**page_reconnection())
        self.client.connect(base, namespaces=[NS], transports=["websocket"], wait_timeout=10,
                            auth={"session": session, "token": token}, retry=True)

    def _call(self, event: str, payload: dict) -> dict | None:
        try:
            return self.client.call(event, payload, namespace=NS, timeout=5)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError):
            return None

    def picture(self) -> dict:
        deadline = time.monotonic() + SYNC_TIMEOUT
        while time.monotonic() < deadline:
            ack = self._call("snapshot_request", {})
            if ack and ack.get("ok"):
                return ack["snapshot"]
            time.sleep(0.2)
        raise RuntimeError("the director could not get a snapshot")

    def bring(self, position: int, segment: str) -> dict:
        """Put the slot at `position` on stage (finishing the one before) and move it forward
        to `segment`."""
        deadline = time.monotonic() + SYNC_TIMEOUT
        while time.monotonic() < deadline:
            current = self.picture()["current"]
            if current is not None and current["position"] == position:
                if current["segment"] == segment:
                    return current
                self._call("director", {"action": "next"})
            elif current is not None and current["segment"] not in ("waiting", "done"):
                self._call("director", {"action": "next"})  # finish the agency before
            else:
                self._call("director", {"action": "select", "position": position})
        raise RuntimeError(f"could not bring slot {position} to {segment}")


@dataclass
class Figures:
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicates: int = 0
    refused: list = field(default_factory=list)
    sync_seconds: list[float] = field(default_factory=list)  # from the server being up again
    since_kill_seconds: list[float] = field(default_factory=list)  # from the kill
    cold_start_seconds: list[float] = field(default_factory=list)
    overlay_regressions: int = 0
    audit_verified: bool = False  # `pingyi audit verify` after the last restart

    def percentile(self, values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def _setup(instance: Path, judges: int, slots: int) -> dict:
    demo_instance(instance)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "live_setup.py"), "--judges", str(judges),
         "--slots", str(slots)],
        env=environment(instance), capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _kill_and_restart(server: Server, instance: Path, figures: Figures) -> Server:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server.log.close()
    started = time.monotonic()
    fresh = Server(instance, port=server.port)
    figures.cold_start_seconds.append(time.monotonic() - started)
    return fresh


def _in_sync(tablets, overlays, marks, director) -> bool:
    if any(t.pending() or not t.client.connected for t in tablets.values()):
        return False
    revision = director.picture()["revision"]
    return all(o.newest_since(m) >= revision for o, m in zip(overlays, marks, strict=True))


def stored_marks(instance: Path, session: int) -> list[tuple]:
    with sqlite3.connect(instance / "pingyi.sqlite3") as db:
        return db.execute(
            "SELECT s.client_id, s.seat_id, s.slot_id FROM live_submission s "
            "JOIN score sc ON sc.id = s.score_id WHERE s.session_id = ?", (session,)).fetchall()


def tally(stored: list[tuple], wanted: set[str]) -> tuple[int, int]:
    """(lost, duplicates): ids wanted but not stored; a client id or a seat stored twice
    for one agency."""
    ids = [row[0] for row in stored]
    per_seat = [(row[1], row[2]) for row in stored]
    return (len(wanted - set(ids)),
            len(ids) - len(set(ids)) + len(per_seat) - len(set(per_seat)))


def run(kills: int = 20, judges: int = 30, overlays: int = 5, seed: int = 7,
        log=print) -> Figures:
    rng = random.Random(seed)
    figures = Figures()
    per_slot = 3  # rounds (kills) per agency on stage
    slots = kills // per_slot + 2
    with tempfile.TemporaryDirectory(prefix="pingyi-chaos-") as folder:
        instance = Path(folder)
        links = _setup(instance, judges, slots)
        session = links["session"]
        server = Server(instance)
        base = server.base
        director = Director(base, session, links["control_token"])
        watchers = [Overlay(base, session, links["overlay_token"]) for _ in range(overlays)]
        tablets = {int(n): SimTablet(base, session, token, f"chaos-{n}")
                   for n, token in links["seats"].items()}
        try:
            for tablet in tablets.values():
                tablet.connect()
            position = 0
            current = director.bring(position, "scoring")
            waiting = sorted(tablets)
            for kill in range(kills):
                if not waiting:  # everyone delivered: reveal, next agency
                    director.bring(position, "revealed")
                    position += 1
                    current = director.bring(position, "scoring")
                    waiting = sorted(tablets)
                batch = waiting[: max(1, len(tablets) // per_slot)]
                waiting = waiting[len(batch):]
                for n in batch:  # without waiting for acks: some are in flight at the kill
                    tablets[n].client.start_background_task(
                        tablets[n].submit, f"chaos-{current['slot_id']}-{n:03d}",
                        current["slot_id"], f"{rng.randint(60, 99)}.5")
                time.sleep(rng.uniform(0, 0.3))
                marks = [o.mark() for o in watchers]
                killed = time.monotonic()
                server = _kill_and_restart(server, instance, figures)
                started = time.monotonic()
                while not _in_sync(tablets, watchers, marks, director):
                    if time.monotonic() - started > SYNC_TIMEOUT:
                        stuck = {n: t.diagnosis() for n, t in tablets.items()
                                 if t.pending() or not t.client.connected}
                        raise RuntimeError(f"not back in sync after {SYNC_TIMEOUT} s: {stuck}")
                    time.sleep(0.1)
                figures.sync_seconds.append(time.monotonic() - started)
                figures.since_kill_seconds.append(time.monotonic() - killed)
                log(f"kill {kill + 1}/{kills}: server up after {started - killed:.2f} s, every "
                    f"client in sync {figures.sync_seconds[-1]:.2f} s later")
            acked = {cid for t in tablets.values() for cid in t.acks}
            figures.refused = [r for t in tablets.values() for r in t.refusals]
            stored = stored_marks(instance, session)
            figures.acknowledged = len(acked)
            figures.stored = len(stored)
            figures.lost, figures.duplicates = tally(stored, acked)
            figures.overlay_regressions = sum(o.regressions() for o in watchers)
            verify = run_cli(instance, "audit", "verify")
            figures.audit_verified = verify.returncode == 0
            if not figures.audit_verified:
                log(verify.stderr)
        finally:
            for tablet in tablets.values():
                tablet.close()
            for client in [director, *watchers]:
                client.client.disconnect()
            server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--judges", type=int, default=30)
    parser.add_argument("--overlays", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    figures = run(args.kills, args.judges, args.overlays, args.seed)
    sync, cold = figures.sync_seconds, figures.cold_start_seconds
    cold_median = statistics.median(cold)
    print(f"\n{args.kills} kills, {args.judges} judges, {args.overlays} overlays")
    print(f"acknowledged marks  {figures.acknowledged}")
    print(f"stored marks        {figures.stored}")
    print(f"lost                {figures.lost}")
    print(f"duplicates          {figures.duplicates}")
    print(f"refused             {len(figures.refused)}")
    since = figures.since_kill_seconds
    print(f"in sync after kill  p50 {figures.percentile(since, 0.5):.2f} s  "
          f"p95 {figures.percentile(since, 0.95):.2f} s  max {max(since):.2f} s  "
          "(target p95 < 15 s; includes the restart)")
    print(f"  of which clients  p50 {figures.percentile(sync, 0.5):.2f} s  "
          f"p95 {figures.percentile(sync, 0.95):.2f} s  max {max(sync):.2f} s  "
          "(after the server answered again)")
    print(f"baseline cold start median {cold_median:.2f} s: sync p95 = "
          f"{figures.percentile(sync, 0.95) / cold_median:.1f}x a bare restart")
    print(f"out-of-order snapshots received (ignored by the pages) {figures.overlay_regressions}")
    print(f"audit chain and marks verified after the last kill: {figures.audit_verified}")
    ok = figures.lost == 0 and figures.duplicates == 0 and figures.audit_verified
    write_json(args, figures, cold_median)
    sys.exit(0 if ok else 1)


def write_json(args, figures: Figures, cold_median: float) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from summary import figure, write

    since, sync = figures.since_kill_seconds, figures.sync_seconds
    p95 = figures.percentile(since, 0.95)
    write(args.json, "chaos", [
        figure("acknowledged marks", figures.acknowledged),
        figure("stored marks", figures.stored),
        figure("lost (acknowledged, not stored)", figures.lost, "", "0", figures.lost == 0),
        figure("duplicates", figures.duplicates, "", "0", figures.duplicates == 0),
        figure("every client in sync after a kill, p95", round(p95, 2), "s", "< 15 s",
               p95 < 15, "includes the restart"),
        figure("client sync p95 / a bare cold start", round(
            figures.percentile(sync, 0.95) / cold_median, 1), "x", None, None,
            f"cold start median {cold_median:.2f} s"),
        figure("out-of-order snapshots received", figures.overlay_regressions, "", None, None,
               "ignored by the pages"),
        figure("audit chain verified after the last kill", figures.audit_verified, "", "true",
               figures.audit_verified),
    ], {"kills": args.kills, "judges": args.judges, "overlays": args.overlays,
        "seed": args.seed})


if __name__ == "__main__":
    main()
