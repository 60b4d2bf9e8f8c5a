"""Public ballots per second (社会评议): pingyi against a no-op Flask endpoint, same serving.

    python bench/ballots_bench.py [--voters 6000] [--per-voter 5] [--connections 32,64,128]
                                  [--rounds 3] [--rate R] [--sweep 100,250,500] [--quick]
                                  [--json PATH]

Three servers, each in its own subprocess on loopback, measured in the same run by the same
client (this process, asyncio, raw HTTP/1.1 keep-alive; the servers never share its CPU time
accounting):

1. pingyi: `pingyi serve --host 127.0.0.1` (gevent, the production server) on a fresh temp
   instance (SQLite on disk, WAL, synchronous=FULL) with `pingyi db upgrade`, `pingyi demo`
   and bench/ballots_setup.py: the demo city campaign's public review opened, N fresh vote
   codes. `PINGYI_PROXY_FIX=true` (as behind nginx): each simulated voter has its own
   address in X-Forwarded-For, in its own /24, so the production rate limits (per address,
   device and code) stay on and the burst screening sees people, not one script.
2. no-op: a Flask app with the same URL answering the same 303, nothing else, served the same
   way (gevent monkey-patched, pywsgi + pingyi's own gevent-websocket handler with
   TCP_NODELAY, gc.freeze()).
3. durable floor (a reference, not a target): the no-op plus one row stored durably as pingyi
   stores a ballot (SQLite WAL, synchronous=FULL, one writer at a time, the COMMIT's fsync in
   gevent's threadpool), nothing else: the least any durable ballot costs served this way.
   Its p99 ratio to the no-op says how much of the p99 target a durable write alone uses.

Each voter first loads one ballot page (not measured): its session cookie, CSRF token and
device cookie. Then every ballot is a real form POST: csrf_token, vote code, level, and the
form's signed time of showing (`shown`, signed with the instance's key as the page signs it,
dated 30 s earlier, so a ballot is a person's, not quarantined as filled too fast).
Every voter rates `--per-voter` agencies: each POST is a new (code, agency) pair.

Phases, servers taking turns (order rotating) so the noise of the shared machine falls on both:
* saturation: clients in a closed loop, `--sat-ballots` per turn, `--rounds` turns at each
  of the `--connections` counts: a server's ballots/s is its best count's, its saturation
  (with 32 clients pingyi's rate was bound by their wait for each group commit: 64 served
  ~15% more, where the no-op's peaked at 32-64 and fell at 128; 2026-11-29).
* paced: an open loop (a pool of 4x the smallest count) at `--rate` ballots/s (default:
  1,000/s, or 70% of pingyi's saturation rate when that is lower), `--paced-seconds` per
  turn; latency counts from the moment each request was due (no coordinated omission):
  p50 / p99 at the same offered load.
* sweep (extra information, not a target): the same open loop at each `--sweep` rate
  (default 100, 250, 500/s), servers taking turns, after the CPU and the targets' paced
  phase are measured; the p99 ratio printed per rate, the targets' rate among them.
Then the integrity checks on pingyi: 25 resends of one acknowledged ballot (409 until the
per-code limit answers 429), and the stored ballots counted in the database (= the 303s).

Targets (issue 7): >= 1,000 ballots/s, >= 0.4x the no-op's rate, paced p99 <= 1.5x the
no-op's. The machine is shared and noisy: trust the ratios more than the absolute figures.
`--profile DIR`: py-spy on the pingyi server during the measured phases (perturbs figures).
"""

import sys

if __name__ == "__main__" and "--serve-noop" in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402 - after the monkey-patch, on purpose
import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PINGYI = BIN / "pingyi"
SECRET = "ballots-bench-" + "k" * 40
ROUTE = "/review/<int:campaign_id>/agencies/<int:agency_id>"
LEVELS = ("satisfied", "satisfied", "basic", "dissatisfied")
CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')


# ---------------------------------------------------------------------------- the no-op


def serve_noop(port: int, durable: Path | None = None) -> None:
    from flask import Flask, redirect
    from gevent import pywsgi

    # pingyi serve's own handler (TCP_NODELAY): with gevent-websocket's plain handler the
    # 303's two writes met Nagle and the client's delayed ACK, 40 ms each, and the no-op's
    # rate was 32 connections / 44 ms, not its CPU (found 2026-11-28, session 4).
    sys.path.insert(0, str(BENCH.parent))
    from evaluation.serve import LowLatencyHandler

    app = Flask("noop-ballot")
    store = durable_store(durable) if durable else None

    @app.post(ROUTE)
    def cast(campaign_id: int, agency_id: int):
        if store:
            store(campaign_id, agency_id)
        return redirect(f"/review/{campaign_id}?voted={agency_id}", 303)

    server = pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=LowLatencyHandler, log=None)
    server.start()
    print(f"{'durable floor' if durable else 'no-op flask'} listening on 127.0.0.1:{port}",
          flush=True)
    gc.freeze()
    server.serve_forever()


def durable_store(path: Path):
    """The least a durable ballot costs served this way: one row, committed as pingyi commits
    (SQLite WAL, synchronous=FULL, one writer at a time, the COMMIT's fsync in gevent's
    threadpool so the hub goes on serving, every row waiting meanwhile in the next commit),
    before the 303. No reads, no checks, no audit, no savepoints."""
    import threading

    from gevent import get_hub

    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS ballot (id INTEGER PRIMARY KEY, campaign INTEGER,"
               " agency INTEGER)")
    writer = threading.Lock()  # gevent's, once patched: the other greenlets run meanwhile
    pending: list[list] = []  # [campaign, agency, committed]

    def store(campaign: int, agency: int) -> None:
        row = [campaign, agency, False]
        pending.append(row)
        with writer:
            if row[2]:  # committed by the request that held the lock before
                return
            batch = pending[:]
            pending.clear()
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO ballot (campaign, agency) VALUES (?, ?)",
                           [(c, a) for c, a, _ in batch])
            get_hub().threadpool.apply(db.execute, ("COMMIT",))
            for done in batch:
                done[2] = True

    return store


# ---------------------------------------------------------------------------- the client


class Connection:
    """One keep-alive HTTP/1.1 connection: send a prepared request, read one response."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, request: bytes) -> tuple[int, bytes, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
        body = await self.reader.readexactly(int(match.group(1))) if match else b""
        return status, head, body

    def close(self) -> None:
        self.writer.close()


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines += ["Content-Type: application/x-www-form-urlencoded",
                  f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Voter:
    address: str
    code: str
    cookie: str = ""
    csrf: str = ""


def voter_address(index: int) -> str:
    """A distinct /24 for every voter: 10.x.y.7."""
    return f"10.{index // 250 % 256}.{index % 250}.7"


async def load_forms(port: int, campaign: int, agency: int, voters: list[Voter],
                     concurrency: int) -> None:
    """Each voter opens a ballot page: session cookie, CSRF token, device cookie."""
    queue = list(voters)

    async def worker() -> None:
        connection = await Connection.open(port)
        try:
            while queue:
                voter = queue.pop()
                request = request_bytes("GET", f"/review/{campaign}/agencies/{agency}",
                                        {"X-Forwarded-For": voter.address})
                status, head, body = await connection.exchange(request)
                if status != 200:
                    raise RuntimeError(f"ballot page answered {status}: {body[:300]!r}")
                cookies = re.findall(rb"\r\nset-cookie:\s*([^=]+=[^;\r]*)", head, re.IGNORECASE)
                voter.cookie = "; ".join(c.decode() for c in cookies)
                voter.csrf = CSRF.search(body).group(1).decode()
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def shown_token(agency: int) -> str:
    """The ballot form's signed time of showing, as the page would have issued it 30 s ago."""
    from itsdangerous import URLSafeSerializer

    signer = URLSafeSerializer(SECRET, salt="ballot-form-shown")
    return signer.dumps({"a": agency, "t": int((time.time() - 30) * 1000)})


def ballot_requests(campaign: int, agencies: list[int], voters: list[Voter],
                    per_voter: int) -> list[bytes]:
    """Round by round: every voter's first ballot, then every voter's second, and so on."""
    shown = {agency: shown_token(agency) for agency in agencies}
    requests = []
    for turn in range(per_voter):
        for index, voter in enumerate(voters):
            agency = agencies[(index + turn * 11) % len(agencies)]
            body = urlencode({"csrf_token": voter.csrf, "shown": shown[agency],
                              "code": voter.code, "level": LEVELS[(index + turn) % 4]})
            requests.append(request_bytes(
                "POST", f"/review/{campaign}/agencies/{agency}",
                {"X-Forwarded-For": voter.address, "Cookie": voter.cookie}, body.encode()))
    return requests


@dataclass
class Tally:
    """What one server answered in the measured phases."""

    statuses: Counter = field(default_factory=Counter)
    # {connections: [seconds, requests, latencies in ms]} of the saturation turns
    saturation: dict = field(default_factory=dict)
    paced_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    samples: list[bytes] = field(default_factory=list)  # a few answers that were not 303

    def record(self, status: int, body: bytes) -> None:
        self.statuses[status] += 1
        if status != 303 and len(self.samples) < 3:
            self.samples.append(body[:400])

    def rate_at(self, connections: int) -> float:
        seconds, n, _ms = self.saturation.get(connections, (0.0, 0, []))
        return n / seconds if seconds else float("nan")

    @property
    def best_connections(self) -> int:
        return max(self.saturation, key=self.rate_at)

    @property
    def rate(self) -> float:
        """Saturation: the best rate over the connection counts."""
        return self.rate_at(self.best_connections) if self.saturation else float("nan")

    @property
    def saturation_ms(self) -> list[float]:
        """Latencies at the best connection count."""
        return self.saturation[self.best_connections][2] if self.saturation else []

    @property
    def saturation_n(self) -> int:
        return sum(n for _seconds, n, _ms in self.saturation.values())

    @property
    def cpu_per_request(self) -> float:
        """Server CPU seconds per request of the saturation and targets' paced phases."""
        return self.cpu_s / (self.saturation_n + len(self.paced_ms))


async def closed_loop(port: int, requests: list[bytes], connections: int, tally: Tally | None):
    """`connections` clients, each sending its next request when the last one is answered."""
    queue = iter(requests)
    latencies: list[float] = []

    async def worker() -> None:
        connection = await Connection.open(port)
        try:
            for request in queue:
                start = time.perf_counter()
                status, _head, body = await connection.exchange(request)
                latencies.append((time.perf_counter() - start) * 1000)
                if tally is not None:
                    tally.record(status, body)
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    if tally is not None:
        found = tally.saturation.setdefault(connections, [0.0, 0, []])
        found[0] += elapsed
        found[1] += len(requests)
        found[2] += latencies


async def paced(port: int, requests: list[bytes], rate: float, connections: int, tally: Tally):
    """Open loop: request i is due at start + i / rate; its latency counts from then."""
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(port))

    async def one(request: bytes, due: float) -> None:
        connection = await idle.get()
        try:
            status, _head, body = await connection.exchange(request)
            tally.paced_ms.append((time.perf_counter() - due) * 1000)
            tally.record(status, body)
        finally:
            idle.put_nowait(connection)

    start = time.perf_counter()
    tasks = []
    for index, request in enumerate(requests):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()


# ---------------------------------------------------------------------------- the run


def percentile(values: list[float], pct: float) -> float:
    from live_bench import percentile as nearest_rank

    return nearest_rank(values, pct)


@dataclass
class Contender:
    name: str
    server: object  # live_bench.ServerProcess
    tally: Tally = field(default_factory=Tally)
    profiler: object = None


def prepare_pingyi(instance: Path, voters: int) -> dict:
    from live_bench import run_checked

    env = server_env(instance)
    run_checked([str(PINGYI), "db", "upgrade"], env)
    run_checked([str(PINGYI), "demo"], env)
    setup = [sys.executable, str(BENCH / "ballots_setup.py"), "--voters", str(voters)]
    return json.loads(run_checked(setup, env))


def server_env(instance: Path) -> dict[str, str]:
    from live_bench import pingyi_env

    env = pingyi_env(instance)
    env.update({"SECRET_KEY": SECRET, "PINGYI_PROXY_FIX": "true"})
    if os.environ.get("PINGYI_BALLOT_TRACE"):  # phases per ballot: bench/ballots_trace.py
        env["PINGYI_BALLOT_TRACE"] = os.environ["PINGYI_BALLOT_TRACE"]
    return env


def stored_ballots(instance: Path, campaign: int) -> Counter:
    with sqlite3.connect(instance / "pingyi.sqlite3") as db:
        rows = db.execute(
            "SELECT b.status, count(*) FROM public_ballot b JOIN stage s ON s.id = b.stage_id "
            "WHERE s.campaign_id = ? AND b.network LIKE '10.%' GROUP BY b.status",
            (campaign,)).fetchall()
    return Counter(dict(rows))


async def integrity_checks(port: int, resend: bytes) -> Counter:
    """One acknowledged ballot sent 25 more times: refused (409), then rate-limited (429)."""
    connection = await Connection.open(port)
    answers = Counter()
    try:
        for _ in range(25):
            status, _head, _body = await connection.exchange(resend)
            answers[status] += 1
    finally:
        connection.close()
    return answers


async def run(options, work: Path) -> dict:
    from live_bench import Profiler, ServerProcess, free_port

    instance = work / "instance"
    instance.mkdir()
    print(f"[{time.strftime('%H:%M:%S')}] preparing the pingyi instance "
          f"({options.voters} vote codes)", flush=True)
    setup = prepare_pingyi(instance, options.voters)
    port = free_port()
    pingyi = Contender("pingyi", ServerProcess(
        "pingyi", [str(PINGYI), "serve", "--host", "127.0.0.1", "--port", str(port)], port,
        work / "pingyi.log", env=server_env(instance)))
    noop_port = free_port()
    noop = Contender("no-op flask", ServerProcess(
        "no-op", [sys.executable, str(Path(__file__).resolve()), "--serve-noop", str(noop_port)],
        noop_port, work / "noop.log"))
    floor_port = free_port()
    floor = Contender("durable floor", ServerProcess(
        "floor", [sys.executable, str(Path(__file__).resolve()), "--serve-noop", str(floor_port),
                  "--durable", str(work / "floor.sqlite3")], floor_port, work / "floor.log"))
    contenders = [pingyi, noop, floor]
    try:
        voters = [Voter(voter_address(i), code) for i, code in enumerate(setup["codes"])]
        print(f"[{time.strftime('%H:%M:%S')}] {len(voters)} voters open a ballot page",
              flush=True)
        await load_forms(port, setup["campaign"], setup["agencies"][0], voters, 16)
        requests = ballot_requests(setup["campaign"], setup["agencies"], voters,
                                   options.per_voter)
        warmup, rest = requests[:options.warmup], requests[options.warmup:]
        counts = options.connection_counts
        sat_total = options.rounds * len(counts) * options.sat_ballots
        sat_chunks = [rest[i * options.sat_ballots:(i + 1) * options.sat_ballots]
                      for i in range(options.rounds * len(counts))]
        rest = rest[sat_total:]
        warm = Tally()
        for contender in contenders:  # warm-up, unmeasured (pingyi's answers counted)
            await closed_loop(contender.server.port, warmup, options.connections,
                              warm if contender is pingyi else None)
        gc.collect()
        gc.freeze()
        print(f"[{time.strftime('%H:%M:%S')}] saturation: {options.rounds} turns of "
              f"{options.sat_ballots} ballots at each of {counts} connections", flush=True)
        cpu0 = {c.name: c.server.cpu_seconds() for c in contenders}
        for contender in contenders:
            contender.profiler = Profiler(options.profile, contender.name.replace(" ", "-"),
                                          contender.server.pid) if options.profile else None
        for turn, chunk in enumerate(sat_chunks):
            connections = counts[turn % len(counts)]
            for contender in rotated(contenders, turn):
                await closed_loop(contender.server.port, chunk, connections, contender.tally)
        rate = options.rate or min(1000.0, 0.7 * pingyi.tally.rate)
        per_turn = int(rate * options.paced_seconds)
        if len(rest) < options.rounds * per_turn:
            raise SystemExit(f"not enough ballots for the paced phase: {len(rest)} left, "
                             f"{options.rounds * per_turn} needed (raise --voters)")
        print(f"[{time.strftime('%H:%M:%S')}] paced: {options.rounds} turns of "
              f"{options.paced_seconds} s at {rate:.0f} ballots/s", flush=True)
        for turn in range(options.rounds):
            chunk = rest[turn * per_turn:(turn + 1) * per_turn]
            for contender in rotated(contenders, turn):
                began = time.time()
                await paced(contender.server.port, chunk, rate, options.connections * 4,
                            contender.tally)
                if os.environ.get("PINGYI_BALLOT_TRACE") and contender is pingyi:
                    # the paced turns' times, for bench/ballots_trace.py
                    with open(os.environ["PINGYI_BALLOT_TRACE"] + ".phases", "a") as out:
                        out.write(json.dumps([began, time.time()]) + "\n")
        for contender in contenders:
            contender.tally.cpu_s = contender.server.cpu_seconds() - cpu0[contender.name]
            if contender.profiler:
                contender.profiler.stop()
        rest = rest[options.rounds * per_turn:]
        sweep = await rate_sweep(options, contenders, rest)
        resend = await integrity_checks(port, sat_chunks[0][0])
        rss = pingyi.server.rss_mb()
    finally:
        for contender in contenders:
            contender.server.stop()
    stored = stored_ballots(instance, setup["campaign"])
    return {"tallies": {contender.name: contender.tally for contender in contenders},
            "rate": rate, "sweep": sweep,
            "resend": resend,
            "stored": stored, "rss_mb": rss, "voters": len(voters),
            "acked": pingyi.tally.statuses[303] + warm.statuses[303]
            + sum(tallies["pingyi"].statuses[303] for tallies in sweep.values())}


SERVERS = ("pingyi", "no-op flask", "durable floor")  # Contender names, in result["tallies"]


def rotated(contenders: list, turn: int) -> list:
    """The servers in the order of this turn: each goes first in turn."""
    first = turn % len(contenders)
    return contenders[first:] + contenders[:first]


async def rate_sweep(options, contenders: list, requests: list[bytes]) -> dict:
    """{rate: {server name: Tally}}: paced turns at each sweep rate (servers alternating,
    `--sweep-rounds` turns each), on requests not sent before."""
    rates = [float(rate) for rate in options.sweep.split(",") if rate.strip()]
    needed = sum(int(rate * options.paced_seconds) for rate in rates) * options.sweep_rounds
    if len(requests) < needed:
        raise SystemExit(f"not enough ballots for the rate sweep: {len(requests)} left, "
                         f"{needed} needed (raise --voters)")
    found: dict = {}
    for rate in rates:
        print(f"[{time.strftime('%H:%M:%S')}] sweep: {options.sweep_rounds} turns of "
              f"{options.paced_seconds} s at {rate:.0f} ballots/s", flush=True)
        found[rate] = {contender.name: Tally() for contender in contenders}
        per_turn = int(rate * options.paced_seconds)
        for turn in range(options.sweep_rounds):
            chunk, requests = requests[:per_turn], requests[per_turn:]
            for contender in rotated(contenders, turn):
                await paced(contender.server.port, chunk, rate, options.connections * 4,
                            found[rate][contender.name])
    return found


def report_sweep(result: dict) -> list[dict]:
    from summary import figure

    rows = {rate: [t[name].paced_ms for name in SERVERS]
            for rate, t in [*result["sweep"].items(), (result["rate"], result["tallies"])]}
    print("paced p50 / p99 by offered rate (ms; the target is judged at the targets' rate "
          "only; the floor's ratio is the least a durable ballot could reach here):")
    print(f"{'ballots/s':>10}{'pingyi':>13}{'no-op':>13}{'floor':>13}{'p99 ratio':>10}"
          f"{'floor ratio':>12}")
    figures = []
    for rate in sorted(rows):
        ours, theirs, floor = rows[rate]
        ratio = percentile(ours, 99) / percentile(theirs, 99)
        floor_ratio = percentile(floor, 99) / percentile(theirs, 99)
        mark = "  (targets' rate)" if rate == result["rate"] else ""
        print(f"{rate:>10.0f}" + "".join(
            f"{percentile(ms, 50):>6.1f} /{percentile(ms, 99):>5.1f}" for ms in rows[rate])
            + f"{ratio:>9.2f}x{floor_ratio:>11.2f}x{mark}")
        if rate != result["rate"]:
            figures.append(figure(f"ballot p99 ratio to the no-op at {rate:.0f}/s (sweep)",
                                  round(ratio, 2), "x"))
        figures.append(figure(f"durable floor p99 ratio to the no-op at {rate:.0f}/s",
                              round(floor_ratio, 2), "x"))
    return figures


def report(result: dict, options) -> list[dict]:
    from live_bench import source_version
    from summary import figure

    tallies = result["tallies"]
    p, n = (tallies[name] for name in SERVERS[:2])
    print()
    print(f"pingyi {source_version()}, {time.strftime('%Y-%m-%d %H:%M')}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    counts = options.connection_counts
    print(f"{result['voters']} voters x {options.per_voter} agencies, {options.rounds} turns; "
          f"saturation at {counts} connections, paced at {result['rate']:.0f} ballots/s")
    print("saturation ballots/s by connections: " + "; ".join(
        f"{name} " + ", ".join(f"{c}: {t.rate_at(c):.0f}" for c in counts)
        for name, t in tallies.items()))
    print(f"{'server':<14}{'ballots/s':>10}{'conns':>6}{'sat p50':>9}{'sat p99':>9}"
          f"{'pace p50':>9}{'pace p99':>9}{'CPU ms':>8}  answers")
    for name, t in tallies.items():
        print(f"{name:<14}{t.rate:>10.0f}{t.best_connections:>6}"
              f"{percentile(t.saturation_ms, 50):>9.1f}"
              f"{percentile(t.saturation_ms, 99):>9.1f}{percentile(t.paced_ms, 50):>9.1f}"
              f"{percentile(t.paced_ms, 99):>9.1f}{1000 * t.cpu_per_request:>8.2f}  "
              f"{dict(t.statuses)}")
    print("(ms; ballots/s, sat p50/p99: at the server's best connection count (conns); CPU ms: "
          "server CPU per measured request; durable floor: the no-op plus one row committed "
          "durably, as pingyi commits)")
    # A server busy most of the time queues its requests: the paced p99 grows with this
    # share (queueing), not only with one request's own time.
    print(f"CPU busy at {result['rate']:.0f}/s (share of one core, all threads): "
          + ", ".join(f"{name} {result['rate'] * t.cpu_per_request:.0%}"
                      for name, t in tallies.items()))
    rate_ratio = p.rate / n.rate
    # The ratio at one count, for comparison with the runs before 2026-11-29 (32 only).
    first_ratio = p.rate_at(counts[0]) / n.rate_at(counts[0])
    p99_ratio = percentile(p.paced_ms, 99) / percentile(n.paced_ms, 99)
    p50_ratio = percentile(p.paced_ms, 50) / percentile(n.paced_ms, 50)
    print(f"ratios pingyi / no-op: ballots/s {rate_ratio:.2f}x, paced p50 {p50_ratio:.2f}x, "
          f"paced p99 {p99_ratio:.2f}x, CPU/request "
          f"{p.cpu_per_request / n.cpu_per_request:.2f}x")
    for sample in p.samples:
        print(f"  pingyi answered: {sample!r}")
    stored, acked = result["stored"], result["acked"]
    print(f"stored ballots {sum(stored.values())} ({dict(stored)}), acknowledged (303) {acked}"
          f": {'equal' if sum(stored.values()) == acked else 'DIFFERENT'}; pingyi RSS "
          f"{result['rss_mb']:.0f} MB")
    resend = result["resend"]
    print(f"an acknowledged ballot resent 25 times: {dict(resend)} (409 duplicate, then 429 "
          f"from the per-code limit)")
    checks = {
        "rate": p.rate >= 1000, "ratio": rate_ratio >= 0.4, "p99": p99_ratio <= 1.5,
        "stored": sum(stored.values()) == acked,
        "resend": resend[303] == 0 and resend[409] > 0 and resend[429] > 0,
    }
    print(f"target >= 1,000 ballots/s: {'met' if checks['rate'] else 'MISSED'} ({p.rate:.0f})")
    print(f"target >= 0.4x the no-op: {'met' if checks['ratio'] else 'MISSED'} "
          f"({rate_ratio:.2f}x, each at its best count; at {counts[0]} connections both: "
          f"{first_ratio:.2f}x)")
    print(f"target paced p99 <= 1.5x the no-op's: {'met' if checks['p99'] else 'MISSED'} "
          f"({p99_ratio:.2f}x)")
    sweep_figures = report_sweep(result)
    return [
        figure("ballots/s (saturation)", round(p.rate), "/s", ">= 1000", checks["rate"],
               f"best of {counts} connections: {p.best_connections}"),
        figure("no-op Flask requests/s (baseline)", round(n.rate), "/s", note=f"best of "
               f"{counts} connections: {n.best_connections}"),
        figure("ballots/s ratio to the no-op", round(rate_ratio, 2), "x", ">= 0.4",
               checks["ratio"]),
        figure(f"ballots/s ratio to the no-op, both at {counts[0]} connections",
               round(first_ratio, 2), "x"),
        figure(f"ballot p50 at {result['rate']:.0f}/s", round(percentile(p.paced_ms, 50), 1),
               "ms"),
        figure(f"ballot p99 at {result['rate']:.0f}/s", round(percentile(p.paced_ms, 99), 1),
               "ms"),
        figure(f"no-op p99 at {result['rate']:.0f}/s (baseline)",
               round(percentile(n.paced_ms, 99), 1), "ms"),
        figure("ballot p99 ratio to the no-op", round(p99_ratio, 2), "x", "<= 1.5",
               checks["p99"]),
        figure("stored ballots = acknowledged", sum(stored.values()), "", "= acknowledged",
               checks["stored"], f"{acked} acknowledged"),
        figure("resent ballot: stored again", resend[303], "", "0, then 429",
               checks["resend"], f"answers {dict(resend)}"),
        *sweep_figures,
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=6000)
    parser.add_argument("--per-voter", type=int, default=5, help="agencies each voter rates")
    parser.add_argument("--connections", default="32,64,128",
                        help="saturation's closed-loop client counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="turns per phase per server")
    parser.add_argument("--sat-ballots", type=int, default=2000, help="ballots per turn")
    parser.add_argument("--paced-seconds", type=float, default=2.0, help="seconds per turn")
    parser.add_argument("--rate", type=float, help="paced ballots/s (default: see above)")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--sweep", default="100,250,500",
                        help="extra paced rates, comma-separated ('' for none)")
    parser.add_argument("--sweep-rounds", type=int, default=2, help="turns per sweep rate")
    parser.add_argument("--quick", action="store_true",
                        help="1,800 voters (enough for 1,000/s paced and the sweep), "
                             "smaller turns, one sweep turn per rate")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy the servers' measured phases into DIR")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument("--serve-noop", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--durable", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    options.connection_counts = sorted({int(c) for c in options.connections.split(",")})
    options.connections = options.connection_counts[0]  # warm-up; paced pools are 4x this
    if options.quick:
        options.voters, options.sat_ballots, options.paced_seconds, options.warmup = (
            1800, 500, 1.0, 100)
        options.sweep_rounds = 1
    return options


def main() -> None:
    options = parse_args()
    if options.serve_noop:
        serve_noop(options.serve_noop, options.durable)
        return
    sys.path.insert(0, str(BENCH))
    from live_bench import raise_open_file_limit
    from summary import write

    raise_open_file_limit()
    work = Path(tempfile.mkdtemp(prefix="ballots-bench-"))
    try:
        result = asyncio.run(run(options, work))
    finally:
        if options.keep:
            print(f"logs and instance kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    figures = report(result, options)
    write(options.json, "ballots", figures, {
        "voters": options.voters, "per_voter": options.per_voter,
        "connections": options.connection_counts, "rounds": options.rounds,
        "sat_ballots": options.sat_ballots, "paced_rate": round(result["rate"]),
        "paced_seconds": options.paced_seconds})


if __name__ == "__main__":
    main()
