"""Benchmark of the reports: workbook, charts, and live latency while an export runs.

A campaign of 400 agencies × 50 judges × 20 indicators, scored by `scoring.evaluate` and
held as the plain-data ComposedResults the reports read (evaluation/reports/sample.py):

1. the results workbook (`build_workbook`): wall and CPU time (target < 5 s);
2. the charts, rendered by `chart_cache.render_all` with a process pool of one process per
   core into an empty cache: the campaign charts (ranking and stage breakdown per group) in
   PNG and SVG, then the charts of `--agencies` agencies (radar, judges' marks, trend), from
   which the time for all 400 agencies is extrapolated (or measured with `--all-charts`);
   and a second call (every chart a cache hit);
3. live latency: a serving process as `pingyi serve` runs it (Flask-SocketIO on gevent,
   pywsgi + gevent-websocket, gc.freeze) answers a trivial Socket.IO round trip (`ping`,
   acknowledged) while a client sends one every 20 ms: first idle, then while a workbook
   export runs in the job worker (evaluation.jobs with the report runner, the production
   path from a pickled ComposedResults), then while the same workbook is built *inside* the
   serving process (what the worker avoids). p50 / p99 / max and the ratio to idle.

The machine is shared: the ratios measured in one run matter more than any absolute time.
Run: python bench/reports_bench.py [--agencies N] [--all-charts] [--skip-live]
"""

import sys

if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    from gevent import monkey  # the serving process: patched first, as evaluation/serve.py

    monkey.patch_all()

import argparse  # noqa: E402 - after the monkey-patch, on purpose
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# REPORTS_BENCH_CODE=/path/to/another/checkout measures that code with this bench (a
# before/after comparison in one run, on the same machine load)
ROOT = Path(os.environ.get("REPORTS_BENCH_CODE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))

from evaluation.reports.sample import sample_composed  # noqa: E402

AGENCIES, JUDGES, INDICATORS = 400, 50, 20
PING_INTERVAL = 0.02


def timed(function, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


# ---------------------------------------------------------------- workbook and charts

def plain_openpyxl(cells: int) -> bytes:
    """Baseline: the same number of cells, written by openpyxl write-only with no styles."""
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("基准")
    for row in range(cells // 5):
        sheet.append([f"市测试局{row % 400}", "现场评议·专家", f"评委{row % 50}", row / 7.0,
                      "计入"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bench_workbook(composed, repeat: int) -> None:
    from evaluation.reports import workbook

    tables = [workbook.summary_table(composed), workbook.marks_table(composed)] + [
        workbook.stage_table(composed, code) for code in workbook.scored_stages(composed)]
    cells = sum(len(row) for table in tables for row in table.rows)
    runs, baseline = [], []
    for _ in range(repeat):   # interleaved, so both see the same machine load
        baseline.append(timed(plain_openpyxl, cells))
        runs.append(timed(workbook.build_workbook, composed))
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    base_wall = statistics.median(r[0] for r in baseline)
    size = len(runs[0][2])
    print(f"workbook: median {wall:.2f} s wall, {cpu:.2f} s CPU over {repeat} runs "
          f"({size / 1e6:.1f} MB, 9 sheets, {cells:,} cells)   target < 5 s")
    print(f"          baseline: plain openpyxl write-only, same cells, no styles: "
          f"{base_wall:.2f} s; ratio {wall / base_wall:.2f}x")


def cpu_with_children() -> float:
    """CPU seconds of this process and of its finished children (the chart pool)."""
    import resource

    mine, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN))
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def bench_charts(composed, agencies: int, all_charts: bool) -> None:
    from evaluation.reports import chart_cache, charts

    print(f"          (chart code from {Path(charts.__file__).parents[2]})")
    workers = os.cpu_count() or 1
    started = cpu_with_children()
    with tempfile.TemporaryDirectory() as folder:
        campaign = [(name, fmt) for name in charts.campaign_chart_names(composed)
                    for fmt in charts.FORMATS]
        wall, _cpu, paths = timed(chart_cache.render_all, Path(folder), composed, campaign,
                                  workers=workers)
        print(f"charts:   {len(paths)} campaign chart files (ranking and breakdown, "
              f"{charts.PAGE} agencies a page, PNG + SVG) in {wall:.2f} s with {workers} "
              "processes")
        chosen = composed.result.agencies if all_charts else composed.result.agencies[:agencies]
        items = [(name, fmt) for a in chosen for name in charts.agency_chart_names(
            composed, a.agency) for fmt in charts.AGENCY_FORMATS]
        wall_agency, _cpu, paths = timed(chart_cache.render_all, Path(folder), composed, items,
                                         workers=workers)
        per_chart = wall_agency / max(len(paths), 1)
        every = len(charts.all_chart_items(composed)) - len(campaign)
        print(f"          {len(paths)} agency charts (radar, marks, trend; PNG) in "
              f"{wall_agency:.2f} s ({per_chart * 1000:.0f} ms a chart with the pool)")
        cpu = cpu_with_children() - started
        print(f"          CPU of all chart processes: {cpu:.1f} s for {len(campaign)} + "
              f"{len(paths)} files (less load-dependent than the wall times)")
        if all_charts:
            # What an export runs (report_jobs): one render_all of every chart, into an
            # empty cache, one pool for all (the two calls above each start a pool and wait
            # for its slowest worker; they show the split)
            with tempfile.TemporaryDirectory() as fresh:
                total, _cpu, _paths = timed(chart_cache.render_all, Path(fresh), composed,
                                            workers=workers)
            how = (f"measured: one call, as an export; the two parts above "
                   f"{wall + wall_agency:.1f} s")
        else:
            total = wall + per_chart * every
            how = f"extrapolated from {len(chosen)} agencies"
        print(f"          every chart of an export ({len(campaign) + every} files): "
              f"{total:.1f} s ({how})   target < 5 s")
        hit, _cpu, _paths = timed(chart_cache.render_all, Path(folder), composed,
                                  campaign + items)
        print(f"          second call, every chart a cache hit: {hit * 1000:.0f} ms")
        if all_charts:   # the export of a version drawn ahead: cache hits and the archive
            warm, _cpu, archive = timed(lambda: chart_cache.zip_charts(
                chart_cache.render_all(Path(folder), composed), composed))
            print(f"          chart export of a version drawn ahead (all cache hits + zip of "
                  f"{len(campaign) + every} files, {len(archive) / 1e6:.0f} MB): "
                  f"{warm * 1000:.0f} ms   target < 5 s")


# ---------------------------------------------------------------- live latency

def serve(port: int, folder: str) -> None:
    """The serving process: gevent Flask-SocketIO with a ping and two ways to export."""
    import gc

    import gevent
    from flask import Flask, jsonify, request
    from flask_socketio import SocketIO
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    from evaluation import jobs
    from evaluation.reports.export import run_export, write_payload
    from evaluation.reports.workbook import build_workbook

    composed = sample_composed(AGENCIES, JUDGES, INDICATORS)
    app = Flask("reports-bench")
    socketio = SocketIO(app, async_mode="gevent")

    @socketio.on("ping", namespace="/bench")
    def ping(data):
        return data

    @app.post("/export/worker")
    def export_in_worker():
        payload = write_payload(Path(folder), composed, f"bench{time.time_ns()}")
        return jsonify(job=jobs.submit(Path(folder), "workbook", payload, runner=run_export))

    @app.get("/job/<job_id>")
    def job(job_id):
        return jsonify(jobs.read_job(Path(folder), job_id))

    @app.post("/export/inline")
    def export_inline():
        started = time.perf_counter()
        build_workbook(composed)
        return jsonify(seconds=time.perf_counter() - started)

    @app.get("/ready")
    def ready():
        return jsonify(host=request.host)

    server = pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=WebSocketHandler,
                               log=None)
    server.start()
    gc.freeze()
    gevent.joinall([gevent.spawn(server.serve_forever)])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method: str, url: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=120) as r:
        return json.loads(r.read() or b"null")


class Pinger:
    """Sends `ping` round trips one after another; records each round trip's time."""

    def __init__(self, base: str):
        import socketio

        self.client = socketio.Client()
        self.client.connect(base, namespaces=["/bench"], transports=["websocket"])

    def run(self, seconds: float | None = None, until=None) -> list[float]:
        samples = []
        deadline = time.monotonic() + (seconds or 600)
        while time.monotonic() < deadline and not (until and until()):
            started = time.perf_counter()
            self.client.call("ping", {"t": started}, namespace="/bench", timeout=30)
            samples.append((time.perf_counter() - started) * 1000)
            time.sleep(PING_INTERVAL)
        return samples


def describe(label: str, samples: list[float], idle: list[float] | None = None) -> None:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    ratio = ""
    if idle:
        base = sorted(idle)
        ratio = (f"   ratio to idle: p50 {p50 / base[len(base) // 2]:.1f}x, "
                 f"p99 {p99 / base[min(len(base) - 1, int(len(base) * 0.99))]:.1f}x")
    print(f"  {label:<38} n={len(samples):4d}  p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  "
          f"max {ordered[-1]:7.1f} ms{ratio}")


def bench_live() -> None:
    import threading

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        server = subprocess.Popen([sys.executable, __file__, "serve", str(port), folder],
                                  env=env)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    http("GET", base + "/ready")
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.3)
            pinger = Pinger(base)
            pinger.run(1)                                          # warm up
            idle = pinger.run(4)
            print("live:     trivial Socket.IO round trip (gevent serving process), every "
                  f"{PING_INTERVAL * 1000:.0f} ms")
            describe("idle", idle)
            job = http("POST", base + "/export/worker")["job"]
            started = time.perf_counter()

            def done() -> bool:
                return http("GET", f"{base}/job/{job}")["status"] not in ("queued", "running")
            during = pinger.run(until=done)
            state = http("GET", f"{base}/job/{job}")
            describe(f"workbook export in the job worker ({time.perf_counter() - started:.1f} s)",
                     during, idle)
            assert state["status"] == "done", state
            inline: dict = {}
            thread = threading.Thread(
                target=lambda: inline.update(http("POST", base + "/export/inline")))
            thread.start()
            blocked = pinger.run(until=lambda: not thread.is_alive())
            thread.join()
            describe(f"same workbook in the serving process ({inline['seconds']:.1f} s)",
                     blocked, idle)
            pinger.client.disconnect()
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=40,
                        help="agencies whose charts are rendered (the rest extrapolated)")
    parser.add_argument("--all-charts", action="store_true", help="render every chart")
    parser.add_argument("--repeat", type=int, default=3, help="workbook builds")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--only-live", action="store_true")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="write the figures as JSON (for bench/run_all.py)")
    options = parser.parse_args()
    if options.json:  # the figures are read back from what the bench prints
        sys.stdout = Tee(sys.stdout)
    wall, _cpu, composed = timed(sample_composed, AGENCIES, JUDGES, INDICATORS)
    marks = AGENCIES * JUDGES * INDICATORS
    print(f"campaign: {AGENCIES} agencies × {JUDGES} judges × {INDICATORS} indicators "
          f"({marks:,} indicator marks), scored in {wall:.1f} s; machine load "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not options.only_live:
        bench_workbook(composed, options.repeat)
        bench_charts(composed, options.agencies, options.all_charts)
    if not options.skip_live:
        bench_live()
    if options.json:
        write_json(options.json, sys.stdout.getvalue(), vars(options))


class Tee:
    """stdout, kept as well: the JSON summary is read from the printed report."""

    def __init__(self, stream):
        self.stream, self.kept = stream, []

    def write(self, text: str) -> int:
        self.kept.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def getvalue(self) -> str:
        return "".join(self.kept)


def write_json(path: Path, printed: str, settings: dict) -> None:
    import re

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from summary import figure, write

    figures = []
    if found := re.search(r"workbook: median ([\d.]+) s wall, ([\d.]+) s CPU", printed):
        wall = float(found[1])
        figures.append(figure("workbook (400 × 50 × 20), median wall", wall, "s", "< 5 s",
                              wall < 5, f"{found[2]} s CPU"))
    if found := re.search(r"no styles: ([\d.]+) s; ratio ([\d.]+)x", printed):
        figures.append(figure("plain openpyxl, same cells (baseline)", float(found[1]), "s"))
        figures.append(figure("workbook / baseline", float(found[2]), "x"))
    if found := re.search(r"every chart of an export \((\d+) files\): ([\d.]+) s \(([^)]*)\)",
                          printed):
        seconds = float(found[2])
        figures.append(figure(f"every chart of an export ({found[1]} files)", seconds, "s",
                              "< 5 s", seconds < 5, found[3]))
    p99 = {}
    for label in ("idle", "workbook export in the job worker",
                  "same workbook in the serving process"):
        pattern = re.escape(label) + r"[^\n]*?p50 +([\d.]+) ms +p99 +([\d.]+) ms"
        if found := re.search(pattern, printed):
            p99[label] = float(found[2])
            figures.append(figure(f"live round trip p99, {label}", p99[label], "ms"))
    if "idle" in p99 and "workbook export in the job worker" in p99:
        figures.append(figure("live p99 during an export in the worker / idle", round(
            p99["workbook export in the job worker"] / p99["idle"], 1), "x"))
    write(path, "reports", figures, {k: v for k, v in settings.items() if k != "json"})


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        main()
