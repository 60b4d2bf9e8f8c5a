"""Soak: a long show against one server; is memory and latency stable? (a bench, not CI)

    python bench/soak.py [--minutes 10] [--judges 50] [--overlays 20] [--pollers 2000]
                         [--poll-interval 5] [--slot-seconds 15] [--json PATH]
                         [--poller-processes 1] [--trace DIR]

One `pingyi serve` (gevent, the production server) on a fresh temp instance prepared like
bench/live_bench.py's (`pingyi db upgrade`, `pingyi demo`, bench/live_setup.py: a session with
one seat per judge and enough slots for the run). Against it, from this process (asyncio):
* a director plays the show: every `--slot-seconds` the next agency goes on stage (select,
  report, showcase, scoring), every judge submits one mark, spread over the slot, then the slot
  runs to the end (closed, revealed, summary, done) and the next one opens;
* `--judges` judges (python-socketio clients, WebSocket transport), one seat each;
* `--overlays` overlays (the overlay token), each checking it never sees an older revision
  after a newer one;
* `--pollers` data-feed pollers (broadcast systems polling feed.json with the overlay token and
  If-None-Match, keep-alive), each once every `--poll-interval` seconds, phases spread.
Every minute: marks acknowledged, ack p50/p99, polls and poll p99 (200 or 304), overlay
snapshots, the server's RSS and CPU. At the end: start/end RSS, and whether the last minute's
p99 stayed within 2x the first minute's (latency stable) and RSS grew by less than 20%.
The machine is shared and noisy: read the trend, not any single minute.
`--trace DIR`: every poll as the client timed it, and as the server did (PINGYI_BALLOT_TRACE:
its wait for a FeedLane lane, the view, GC, hub delays); `python bench/soak_trace.py DIR`
says per minute whether the slow polls were slow in the server or in the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import multiprocessing
import queue
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import live_bench as lb  # noqa: E402 - after sys.path, on purpose
import socketio  # noqa: E402
from ballots_bench import Connection, request_bytes  # noqa: E402
from summary import figure, write  # noqa: E402

NS = "/live"


@dataclass
class Minute:
    acks: list[float] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)
    poll_errors: int = 0
    snapshots: int = 0
    rss_mb: float = float("nan")
    cpu_s: float = 0.0


class Soak:
    def __init__(self, options, server, links: dict):
        self.options, self.server, self.links = options, server, links
        self.session = links["session"]
        self.start = time.monotonic()
        self.minutes: list[Minute] = [Minute()]
        self.stopping = False
        self.regressions = 0  # an overlay seeing an older revision after a newer one
        self.refused: list[str] = []
        self.director = None
        self.judges: list[socketio.AsyncClient] = []
        self.overlays: list[socketio.AsyncClient] = []

    @property
    def minute(self) -> Minute:
        return self.minutes[-1]

    async def client(self, auth: dict, on_snapshot=None) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=True)
        if on_snapshot is not None:
            sio.on("snapshot", on_snapshot, namespace=NS)
        await sio.connect(f"http://127.0.0.1:{self.server.port}", namespaces=[NS],
                          transports=["websocket"], auth=auth, wait_timeout=60)
        return sio

    async def connect(self) -> None:
        session = self.session
        self.director = await self.client({"session": session,
                                           "token": self.links["control_token"]})
        seats = sorted(self.links["seats"].items(), key=lambda item: int(item[0]))
        self.judges = await lb.gather_limited(
            [lambda token=token, seat=seat: self.client(
                {"session": session, "token": token, "device": f"soak-seat-{seat}"})
             for seat, token in seats])
        for _ in range(self.options.overlays):
            latest = {"revision": -1}

            def on_snapshot(data, latest=latest):
                revision = data.get("revision", -1) if isinstance(data, dict) else -1
                if revision < latest["revision"]:
                    self.regressions += 1
                latest["revision"] = max(latest["revision"], revision)
                self.minute.snapshots += 1

            self.overlays.append(await self.client(
                {"session": session, "token": self.links["overlay_token"]}, on_snapshot))

    async def command(self, action: str, **fields) -> dict:
        for _attempt in range(50):
            ack = await self.director.call("director", {"action": action, **fields},
                                           namespace=NS, timeout=60)
            if ack.get("ok") or ack["error"]["code"] != "rate_limited":
                return ack
            await asyncio.sleep(0.3)
        return ack

    async def show(self) -> None:
        try:
            await self._show()
        except Exception as error:  # noqa: BLE001 - reported with the figures
            self.refused.append(f"the show stopped: {error!r}")

    async def _show(self) -> None:
        """Slot after slot until the time is up; every judge marks every slot once."""
        position, serial = 0, 0
        while not self.stopping:
            slot_start = time.monotonic()
            if position:
                for _ in range(4):  # closed, revealed, summary, done
                    await self.command("next")
            if position >= len(self.links["slots"]):
                self.refused.append("ran out of slots")
                return
            await self.command("select", position=position)
            for _ in range(3):  # 履职汇报, 现场展示, 现场评议 (scoring open)
                await self.command("next")
            snapshot = (await self.director.call("snapshot_request", {}, namespace=NS,
                                                 timeout=60))["snapshot"]["current"]
            recused = {seat["seat_no"] for seat in snapshot["seats"] if seat["recused"]}
            spacing = 0.7 * self.options.slot_seconds / max(1, len(self.judges))
            for index, judge in enumerate(self.judges):
                if self.stopping:
                    return
                if index + 1 in recused:
                    continue
                serial += 1
                asyncio.create_task(self.submit(judge, {
                    "client_id": f"soak-{serial:07d}", "slot_id": snapshot["slot_id"],
                    "total": f"{80 + (index % 40) / 2:.2f}"}))
                await asyncio.sleep(spacing)
            position += 1
            await asyncio.sleep(max(0.0, self.options.slot_seconds
                                    - (time.monotonic() - slot_start)))

    async def submit(self, judge, payload: dict) -> None:
        began = time.perf_counter()
        try:
            ack = await judge.call("submit_mark", payload, namespace=NS, timeout=60)
        except Exception as error:  # noqa: BLE001 - a timeout or a dropped connection: counted
            ack = {"error": repr(error)}
        if ack.get("ok"):
            self.minute.acks.append((time.perf_counter() - began) * 1000)
        else:
            self.refused.append(str(ack))

    async def clock(self, polls) -> None:
        """Closes a minute every 60 s: the server's RSS and CPU then, the pollers' figures."""
        cpu = self.server.cpu_seconds()
        loop = asyncio.get_running_loop()
        for number in range(self.options.minutes):
            await asyncio.sleep(60 - (time.monotonic() - self.start) % 60)
            now_cpu = self.server.cpu_seconds()
            self.minute.rss_mb, self.minute.cpu_s = self.server.rss_mb(), now_cpu - cpu
            cpu = now_cpu
            try:  # each poller process sends its minute a moment after the minute ends
                for _process in range(self.options.poller_processes):
                    minute, latencies, errors = await loop.run_in_executor(
                        None, polls.get, True, 30)
                    assert minute == number, (minute, number)
                    self.minute.polls += latencies
                    self.minute.poll_errors += errors
            except queue.Empty:
                self.minute.poll_errors = -1  # the pollers did not report
            self.report_minute(len(self.minutes), self.minute)
            self.minutes.append(Minute())
        self.stopping = True

    @staticmethod
    def report_minute(number: int, m: Minute) -> None:
        p = lb.percentile
        print(f"{number:>4}{len(m.acks):>7}{p(m.acks, 50):>9.1f}{p(m.acks, 99):>9.1f}"
              f"{len(m.polls):>8}{p(m.polls, 50):>9.1f}{p(m.polls, 99):>9.1f}{m.poll_errors:>6}"
              f"{m.snapshots:>8}{m.cpu_s:>8.1f}{m.rss_mb:>8.0f}", flush=True)

    async def close(self) -> None:
        for sio in [self.director, *self.judges, *self.overlays]:
            if sio is not None and sio.connected:
                await sio.disconnect()


async def run(options, work: Path) -> tuple[Soak, float]:
    instance = work / "instance"
    instance.mkdir()
    slots = min(50, math.ceil(options.minutes * 60 / options.slot_seconds) + 2)
    print(f"[{time.strftime('%H:%M:%S')}] preparing the instance ({options.judges} judges, "
          f"{slots} slots)", flush=True)
    links = lb.prepare_pingyi(instance, options.judges, slots)
    links["slots"] = list(range(slots))
    port = lb.free_port()
    env = lb.pingyi_env(instance)
    if options.trace:
        options.trace.mkdir(parents=True, exist_ok=True)
        env["PINGYI_BALLOT_TRACE"] = str(options.trace / "server.jsonl")
    server = lb.ServerProcess(
        "pingyi", [str(lb.PINGYI), "serve", "--host", "127.0.0.1", "--port", str(port)], port,
        work / "pingyi.log", env=env)
    soak = Soak(options, server, links)
    try:
        print(f"[{time.strftime('%H:%M:%S')}] connecting {options.judges} judges, "
              f"{options.overlays} overlays", flush=True)
        await soak.connect()
        start_rss = server.rss_mb()
        print(f"[{time.strftime('%H:%M:%S')}] {options.minutes} min with {options.pollers} feed "
              f"pollers every {options.poll_interval} s; server RSS at start {start_rss:.0f} MB")
        print(f"{'min':>4}{'marks':>7}{'ack p50':>9}{'ack p99':>9}{'polls':>8}{'poll p50':>9}"
              f"{'poll p99':>9}{'errs':>6}{'snaps':>8}{'CPU s':>8}{'RSS MB':>8}")
        context = multiprocessing.get_context("spawn")
        polls = context.Queue()
        start_wall = time.time() + 3
        share = options.poller_processes
        pollers = [context.Process(target=poll_process, args=(
            port, f"/live/{soak.session}/feed.json?token={links['overlay_token']}",
            range(number, options.pollers, share), options.poll_interval, start_wall,
            options.minutes, polls, options.trace and options.trace / f"pollers-{number}.jsonl"))
            for number in range(share)]
        for process in pollers:
            process.start()
        if options.trace:
            (options.trace / "start.json").write_text(json.dumps({"wall": start_wall}))
        await asyncio.sleep(max(0.0, start_wall - time.time()))
        soak.start = time.monotonic()
        show = asyncio.create_task(soak.show())
        await soak.clock(polls)
        await asyncio.wait([show], timeout=30)
        for process in pollers:
            process.join(timeout=60)
        return soak, start_rss
    finally:
        await soak.close()
        server.stop()


# ---------------------------------------------------------------------------- the pollers


def poll_process(port: int, path: str, indices: range, interval: float, start: float,
                 minutes: int, results, trace: Path | None = None) -> None:
    """Feed pollers (`indices` of them), in a process of their own (2,000 keep-alive
    connections would starve the Socket.IO clients' event loop): per minute, (index,
    latencies ms, errors). With `trace`, every poll (start time, ms, status, body bytes) and
    this event loop's lateness go to that file as JSON lines."""
    asyncio.run(_poll_all(port, path, indices, interval, start, minutes, results, trace))


async def _poll_all(port, path, indices, interval, start, minutes, results, trace) -> None:
    end = start + minutes * 60
    buckets = [([], [0]) for _ in range(minutes)]
    traced: list = []  # (start, ms, status, bytes) per poll, with `trace`
    lateness: list = []  # (at, ms) each time this loop woke > 2 ms late, with `trace`

    async def poller(index: int) -> None:
        # Each poller keeps its own phase on a fixed grid (due += interval), as independent
        # vMix/CasparCG pollers on their own timers do. Sleeping "interval minus this poll's
        # time" instead let the phases drift together: whenever this one event loop ran late,
        # every poller due meanwhile woke at the same instant and kept that shared phase, so
        # the bursts grew minute after minute (poll p50 1.6 -> 5.6 ms over 10 minutes at a
        # flat server CPU per minute: the clients bunching up, not the server slowing down).
        due = start + random.Random(index).uniform(0, interval)
        await asyncio.sleep(max(0.0, due - time.time()))
        etag, connection = "", None
        while time.time() < end:
            began, at = time.perf_counter(), time.time()
            bucket = buckets[min(minutes - 1, int((at - start) // 60))]
            try:
                if connection is None:
                    connection = await Connection.open(port)
                headers = {"If-None-Match": etag} if etag else {}
                status, head, body = await connection.exchange(
                    request_bytes("GET", path, headers))
                for line in head.split(b"\r\n"):
                    if status == 200 and line.lower().startswith(b"etag:"):
                        etag = line.split(b":", 1)[1].strip().decode()
                took = (time.perf_counter() - began) * 1000
                if status in (200, 304):
                    bucket[0].append(took)
                else:
                    bucket[1][0] += 1
                if trace:
                    traced.append((at, took, status, len(body)))
            except (OSError, asyncio.IncompleteReadError):
                bucket[1][0] += 1
                connection = None
            due += interval
            while due < time.time():  # a poll slower than the interval skips its turns
                due += interval
            await asyncio.sleep(due - time.time())
        if connection is not None:
            connection.close()

    async def reporter() -> None:
        for minute in range(minutes):
            await asyncio.sleep(max(0.0, start + (minute + 1) * 60 + 1 - time.time()))
            latencies, errors = buckets[minute]
            results.put((minute, latencies, errors[0]))

    async def loop_lag() -> None:
        while time.time() < end:
            began = time.perf_counter()
            await asyncio.sleep(0.001)
            late = (time.perf_counter() - began) * 1000 - 1
            if late > 2:
                lateness.append((time.time(), late))

    lb.raise_open_file_limit()
    await asyncio.gather(reporter(), *(poller(i) for i in indices),
                         *([loop_lag()] if trace else []))
    if trace:
        with open(trace, "w", encoding="utf-8") as out:
            for poll in traced:
                out.write(json.dumps(["poll", poll]) + "\n")
            for late in lateness:
                out.write(json.dumps(["lag", late]) + "\n")


def summarize(soak: Soak, start_rss: float, options) -> list[dict]:
    minutes = soak.minutes[:options.minutes]
    first, last = minutes[0], minutes[-1]
    # Growth is counted from the end of the first minute: by then every poller has connected
    # (2,000 connections cost memory once; what matters is whether it keeps growing).
    settled_rss, end_rss = first.rss_mb, last.rss_mb
    p = lb.percentile
    ack_drift = p(last.acks, 99) / p(first.acks, 99)
    poll_drift = p(last.polls, 99) / p(first.polls, 99)
    growth = end_rss / settled_rss - 1
    stable = ack_drift <= 2 and poll_drift <= 2
    print(f"RSS: before the pollers {start_rss:.0f} MB, after minute 1 {settled_rss:.0f} MB, end "
          f"{end_rss:.0f} MB ({growth:+.0%} since minute 1); p99 last / first "
          f"minute: acks {ack_drift:.2f}x, polls {poll_drift:.2f}x; overlays saw an older "
          f"revision {soak.regressions} times; refused or failed submits: {len(soak.refused)} "
          f"{soak.refused[:2] or ''}")
    print(f"memory stable (< +20%): {'yes' if growth < 0.2 else 'NO'}; latency stable "
          f"(last-minute p99 <= 2x the first's): {'yes' if stable else 'NO'}")
    acks = [a for m in minutes for a in m.acks]
    polls = [a for m in minutes for a in m.polls]
    return [
        figure("minutes", len(minutes)),
        figure("marks acknowledged", len(acks), "", None, None,
               f"{len(soak.refused)} refused or failed"),
        figure("ack p99 (whole run)", round(p(acks, 99), 1), "ms"),
        figure("feed polls", len(polls), "", None, None,
               f"{sum(m.poll_errors for m in minutes)} errors"),
        figure("poll p99 (whole run)", round(p(polls, 99), 1), "ms"),
        figure("RSS before the pollers connect", round(start_rss), "MB"),
        figure("RSS after minute 1 (every client connected)", round(settled_rss), "MB"),
        figure("RSS end", round(end_rss), "MB", "< +20% since minute 1", growth < 0.2,
               f"{growth:+.0%}"),
        figure("ack p99 last / first minute", round(ack_drift, 2), "x", "<= 2", ack_drift <= 2),
        figure("poll p99 last / first minute", round(poll_drift, 2), "x", "<= 2",
               poll_drift <= 2),
        figure("overlay revision regressions", soak.regressions, "", "0",
               soak.regressions == 0),
    ]


def quiet_client_noise() -> None:
    """A client dropped by a starved server logs a line per packet and per session: counted
    in the figures (refused, errors) instead."""
    for name in ("engineio.client", "socketio.client", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--overlays", type=int, default=20)
    parser.add_argument("--pollers", type=int, default=2000)
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds per poller")
    parser.add_argument("--slot-seconds", type=float, default=15.0)
    parser.add_argument("--poller-processes", type=int, default=1,
                        help="client processes the pollers are split over")
    parser.add_argument("--trace", type=Path, metavar="DIR",
                        help="record every poll, client and server side (PINGYI_BALLOT_TRACE), "
                             "in DIR; read with bench/soak_trace.py")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    options = parser.parse_args()
    lb.raise_open_file_limit()
    quiet_client_noise()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        soak, start_rss = asyncio.run(run(options, work))
    finally:
        if options.keep:
            print(f"logs and instance kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    figures = summarize(soak, start_rss, options)
    write(options.json, "soak", figures, {
        "minutes": options.minutes, "judges": options.judges, "overlays": options.overlays,
        "pollers": options.pollers, "poll_interval_s": options.poll_interval,
        "slot_seconds": options.slot_seconds})


if __name__ == "__main__":
    main()
