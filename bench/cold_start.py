"""What a restart costs: spawn to first answered request, for pingyi and its baselines.

    python bench/cold_start.py [--repeat 7] [--tree PATH ...] [--json PATH]

A server killed mid-show (bench/chaos_live.py) is back only when its replacement answers, so
its cold start is part of every tablet's wait. Measured here, interleaved round by round so
every contender sees the same machine load:

* `python -c pass`: the interpreter alone;
* bare Flask-SocketIO (bench/bare_servers.py: gevent, monkey-patched, one namespace): the
  floor for any Flask-SocketIO server, spawn to its first Socket.IO handshake answer;
* `pingyi serve` of each tree (this checkout by default; `--tree` adds others, e.g. a
  checkout of the commit before a change, for a before/after in one run): spawn to its
  first Socket.IO handshake answer (what a tablet waits for) and to its first `/login`
  page (what tests/serverproc.py waits for), on a demo instance with a live session.

Printed: the median wall time of each, its ratio to the bare server, and the CPU time of
the pingyi process until it answered (user + system, less dependent on the load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from serverproc import PINGYI, demo_instance, environment, free_port  # noqa: E402

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def _answered(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except OSError:
        return False


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_server(command: list[str], env: dict, port: int, paths: list[str],
                timeout: float = 60) -> tuple[list[float], float]:
    """Spawn `command`; seconds until each of `paths` first answers (in order), and the
    process's CPU seconds by then."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    times: list[float] = []
    try:
        for path in paths:
            while not _answered(f"http://127.0.0.1:{port}{path}"):
                if process.poll() is not None:
                    raise RuntimeError(f"{command} exited with {process.returncode}")
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"{command} did not answer {path}")
                time.sleep(0.02)
            times.append(time.monotonic() - started)
        return times, _cpu_seconds(process.pid)
    finally:
        process.kill()
        process.wait()


def run(trees: list[Path], repeat: int, log=print) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"python -c pass": [], "bare flask-socketio": []}
    with tempfile.TemporaryDirectory(prefix="pingyi-cold-") as folder:
        instance = demo_instance(Path(folder))
        for round_no in range(repeat):
            started = time.monotonic()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            results["python -c pass"].append(time.monotonic() - started)
            port = free_port()
            (bare,), _cpu = time_server(
                [sys.executable, str(ROOT / "bench" / "bare_servers.py"), "flask-socketio",
                 str(port)], dict(os.environ, PYTHONPATH=str(ROOT)), port, [HANDSHAKE])
            results["bare flask-socketio"].append(bare)
            for tree in trees:
                port = free_port()
                env = environment(instance, PYTHONPATH=str(tree))
                (socket_io, login), cpu = time_server(
                    [PINGYI, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port,
                    [HANDSHAKE, "/login"])
                results.setdefault(f"{tree.name}: socket.io", []).append(socket_io)
                results.setdefault(f"{tree.name}: /login", []).append(login)
                results.setdefault(f"{tree.name}: cpu", []).append(cpu)
            log(f"round {round_no + 1}/{repeat} ({time.monotonic() - started:.1f} s), "
                f"load {Path('/proc/loadavg').read_text().split()[0]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="another checkout whose `pingyi serve` to time (repeatable)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    trees = [ROOT, *[tree.resolve() for tree in args.tree]]
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results = run(trees, args.repeat)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    bare = statistics.median(results["bare flask-socketio"])
    interpreter = statistics.median(results["python -c pass"])
    print(f"\nload average before {' '.join(load_before)}, after {' '.join(load_after)}; "
          f"medians of {args.repeat}")
    for name, values in results.items():
        median = statistics.median(values)
        if name.endswith(": cpu"):
            print(f"{name:<34} {median:6.2f} s CPU until /login answered")
            continue
        print(f"{name:<34} {median:6.2f} s  (min {min(values):.2f})  "
              f"{median / bare:5.2f}x bare  {median / interpreter:6.1f}x python -c pass")
    if args.json:
        sys.path.insert(0, str(ROOT / "bench"))
        from summary import figure, write

        write(args.json, "cold_start", [
            figure(name, round(statistics.median(values), 3), "s")
            for name, values in results.items()], {"repeat": args.repeat})


if __name__ == "__main__":
    main()
