"""CPU per public ballot inside the application, without the HTTP server (a profiling aid).

    python bench/ballots_cpu.py [--ballots 3000] [--concurrency 32] [--profile OUT.prof]
                                [--instance DIR]

The same instance as bench/ballots_bench.py (`pingyi db upgrade`, `pingyi demo`,
bench/ballots_setup.py; SQLite on disk, WAL, synchronous=FULL, PINGYI_PROXY_FIX), loaded in
this process under gevent as `pingyi serve` loads it (monkey-patched, commits off the hub, the
WAL checkpoint thread, frozen GC). Each voter's ballot page is fetched through the WSGI app
(session and device cookies, CSRF token); then every ballot is a WSGI environ as pywsgi
would build it, posted by `--concurrency` greenlets straight into `app(environ,
start_response)`. Printed: process CPU (all threads: the commit and checkpoint threads
too) per ballot over the measured ballots, and the answers. What it leaves out is what the
no-op endpoint of ballots_bench.py pays too: pywsgi's parsing and the socket writes
(~0.25 ms). `--profile`: cProfile of the measured ballots (greenlet switches blur the
inclusive times of whatever waits; the own times are right), printed by own time.

`--phases`: what each step of a ballot costs, one ballot at a time (concurrency 1): the
main thread's CPU (`time.thread_time`: the hub and every greenlet; not the commit and
checkpoint threads, printed apart) inside each step, by wrapping the functions the lane
calls. cProfile's per-call overhead inflates steps made of many small calls (an
itsdangerous token check: ~12 us, ~3x that under cProfile); this is the step's own CPU
plus ~1 us of wrapping.
"""

import sys

if __name__ == "__main__":
    import gc

    gc.disable()  # as evaluation.entry does for `pingyi serve`
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # the code measured: PYTHONPATH (the venv has main)

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
LEVELS = ("satisfied", "satisfied", "basic", "dissatisfied")


def environ(method: str, path: str, address: str, cookie: str = "", body: bytes = b""):
    """What gevent's pywsgi hands the application for this request."""
    env = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "GATEWAY_INTERFACE": "CGI/1.1",
        "HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_FOR": address,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie:
        env["HTTP_COOKIE"] = cookie
    if method == "POST":
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        env["CONTENT_LENGTH"] = str(len(body))
    return env


def call(app, env) -> tuple[int, list, bytes]:
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status[:3]), headers

    chunks = app(env, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], answer["headers"], body


# The steps of a ballot in the order the lane takes them (evaluation/ballot_lane.py,
# ballot_cast.store_cast, services/ballots.store_code_ballot: on SQLite the reads
# and checks inside the group commit, db_writes._commit): (label, module, attribute); a
# class attribute as "Class.method". Nested steps are printed indented under their caller.
PHASES = (
    ("the whole WSGI call (ProxyFix, the lane, Flask not reached)", "evaluation.ballot_lane",
     "BallotLane.__call__"),
    ("  body read and form parsed", "evaluation.ballot_lane", "_parse_form"),
    ("  session cookie and CSRF token", "evaluation.ballot_lane", "BallotLane._admitted"),
    ("    CSRF token alone", "evaluation.ballot_lane", "_csrf_valid"),
    ("  rate limits (3 layers)", "evaluation.ballot_limits", "count_limits"),
    ("  the ballot (store_cast)", "evaluation.ballot_cast", "store_cast"),
    ("    form stamp verified (fill time)", "evaluation.ballot_cast", "fill_seconds"),
    ("    queued, read, checked, written, committed", "evaluation.services.ballots",
     "store_code_ballot"),
    ("      the group commit (batch of 1)", "evaluation.db_writes", "_commit"),
    ("        campaign, stage, settings, enrollment read", "evaluation.services.ballots",
     "ballot_target"),
    ("        vote code read and checked", "evaluation.services.ballots", "voter_by_code"),
    ("        choice parsed", "evaluation.services.ballots", "parse_choice"),
    ("        burst screening read", "evaluation.services.ballots", "_recent_from"),
    ("        audit events hashed and added", "evaluation.audit", "append_events"),
    ("        audit events inserted", "evaluation.audit", "flush_batch"),
    ("        COMMIT handed off the hub", "evaluation.db", "off_the_hub"),
    # Across the steps above (each also counted in its step):
    ("every SQL statement on the driver (execute, fetch)", "evaluation.raw_sql", "_fetch"),
    ("every signature checked (session, CSRF, form stamp)", "itsdangerous.signer",
     "Signer.verify_signature"),
)


def measure_phases() -> dict[str, float]:
    """Wrap each step of PHASES to add up the main thread's CPU inside it."""
    import functools
    import importlib

    spent: dict[str, float] = {}

    def timed(label, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.thread_time() - start

        return wrapper

    for label, module_name, attribute in PHASES:
        owner = importlib.import_module(module_name)
        *classes, name = attribute.split(".")
        for class_name in classes:
            owner = getattr(owner, class_name)
        setattr(owner, name, timed(label, getattr(owner, name)))
    return spent


def print_phases(spent: dict[str, float], n: int, main_cpu: float, others: float) -> None:
    whole = spent.get(PHASES[0][0], 0.0)
    print(f"CPU per ballot by step, one at a time ({n} ballots; us = microseconds, main "
          f"thread; share of the whole call):")
    for label, _module, _attribute in PHASES:
        seconds = spent.get(label, 0.0)
        print(f"  {1e6 * seconds / n:7.1f} us {seconds / whole:6.1%}  {label}")
    print(f"  main thread {1e6 * main_cpu / n:.1f} us a ballot in all (the harness's own "
          f"loop included); the process's other threads (the COMMIT with its fsync, the "
          f"checkpoints) {1e6 * others / n:.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", type=Path, metavar="OUT.prof")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--instance", type=Path, help="a prepared instance (kept)")
    parser.add_argument("--phases", action="store_true",
                        help="CPU per step of a ballot (sets --concurrency 1)")
    options = parser.parse_args()
    if options.phases:
        options.concurrency = 1
    per_voter = 5
    voters_needed = (options.ballots + options.warmup + per_voter - 1) // per_voter

    from ballots_bench import SECRET, server_env, shown_token, voter_address
    from live_bench import run_checked

    work = Path(tempfile.mkdtemp(prefix="ballots-cpu-"))
    template = options.instance or work / "template"
    setup_file = template / "ballots-cpu-setup.json"
    if not setup_file.exists():
        template.mkdir(parents=True, exist_ok=True)
        env = server_env(template)
        pingyi = Path(sys.executable).parent / "pingyi"
        run_checked([str(pingyi), "db", "upgrade"], env)
        run_checked([str(pingyi), "demo"], env)
        setup = run_checked([sys.executable, str(BENCH / "ballots_setup.py"),
                             "--voters", str(voters_needed)], env)
        setup_file.write_text(setup)
    setup = json.loads(setup_file.read_text())
    if len(setup["codes"]) < voters_needed:
        raise SystemExit(f"{template} has {len(setup['codes'])} codes, {voters_needed} needed")
    # Every run votes on a fresh copy: the template's codes stay unused (--instance).
    instance = work / "instance"
    shutil.copytree(template, instance)
    os.environ.update(server_env(instance))
    os.environ["SECRET_KEY"] = SECRET

    import gc

    import gevent

    from evaluation import create_app
    from evaluation.serve import settle_garbage_collector
    from evaluation.wal_checkpoints import checkpoint_in_background

    app = create_app()
    checkpoint_in_background(app.extensions["pingyi_db"])
    campaign, agencies = setup["campaign"], setup["agencies"]

    voters = []
    for index, code in enumerate(setup["codes"][:voters_needed]):
        address = voter_address(index)
        # In a greenlet of its own, as pywsgi serves it: its own contexts (g, the session).
        status, headers, body = gevent.spawn(call, app, environ(
            "GET", f"/review/{campaign}/agencies/{agencies[0]}", address)).get()
        assert status == 200, (status, body[:300])
        cookies = [value.split(";", 1)[0] for name, value in headers if name == "Set-Cookie"]
        voters.append((address, code, "; ".join(cookies),
                       CSRF.search(body).group(1).decode()))
    shown = {agency: shown_token(agency) for agency in agencies}
    requests = []
    for turn in range(per_voter):
        for index, (address, code, cookie, csrf) in enumerate(voters):
            agency = agencies[(index + turn * 11) % len(agencies)]
            body = urlencode({"csrf_token": csrf, "shown": shown[agency], "code": code,
                              "level": LEVELS[(index + turn) % 4]}).encode()
            requests.append((f"/review/{campaign}/agencies/{agency}", address, cookie, body))

    from gevent.queue import Queue

    def run(batch, answers: Counter) -> None:
        queue = Queue()
        for item in batch:
            queue.put(item)

        def worker():
            while not queue.empty():
                path, address, cookie, body = queue.get()
                status, _headers, text = call(app, environ("POST", path, address, cookie, body))
                answers[status] += 1
                if status != 303 and answers[status] <= 2:
                    print(f"answered {status}: {text[:300]!r}", flush=True)

        gevent.joinall([gevent.spawn(worker) for _ in range(options.concurrency)])

    warm = Counter()
    run(requests[:options.warmup], warm)
    measured = requests[options.warmup:options.warmup + options.ballots]
    settle_garbage_collector()
    answers = Counter()
    phases = measure_phases() if options.phases else None
    profiler = None
    if options.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu, wall, main_cpu = time.process_time(), time.perf_counter(), time.thread_time()
    run(measured, answers)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    main_cpu = time.thread_time() - main_cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(options.profile)
    n = len(measured)
    print(f"{n} ballots, {options.concurrency} greenlets: {1000 * cpu / n:.3f} ms CPU per "
          f"ballot, {n / wall:.0f} ballots/s wall, answers {dict(answers)} "
          f"(gc gen counts {gc.get_count()})")
    if phases is not None:
        print_phases(phases, n, main_cpu, cpu - main_cpu)
    if profiler:
        import pstats

        pstats.Stats(str(options.profile)).sort_stats("tottime").print_stats(options.top)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
