"""Where the soak's slow feed polls come from, minute by minute (`soak.py --trace DIR`).

    python bench/soak_trace.py DIR

Reads DIR/pollers-*.jsonl (each poll as the client timed it, and the client event loop's
lateness) and DIR/server.jsonl (PINGYI_BALLOT_TRACE: each poll inside the server — waiting
for a FeedLane lane, then the view —, each garbage collection, each hub delay over 2 ms).
Per minute: the client's poll p50/p99, the body sizes, the server's own time per poll
(WSGI entry to answer) p50/p99 and its lane wait, the FeedLane queue's depth, the GC and
the hub delays; then, for the client's slowest 1% of each minute, how many overlapped a
server GC, a server hub delay over 10 ms, or a client-loop delay over 10 ms.
"""

from __future__ import annotations

import bisect
import json
import math
import sys
from pathlib import Path


def pct(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def read(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    trace = Path(sys.argv[1])
    start = json.loads((trace / "start.json").read_text())["wall"]
    polls, client_lag = [], []
    for path in sorted(trace.glob("pollers-*.jsonl")):
        for kind, values in read(path):
            (polls if kind == "poll" else client_lag).append(values)
    server = read(trace / "server.jsonl")
    clock = next(v for k, v in server if k == "clock")
    to_wall = clock["wall"] - clock["perf"]  # server perf_counter -> wall clock
    feeds = [v for k, v in server if k == "feed" and "end" in v]
    gcs = [v for k, v in server if k == "gc"]
    hub = [v for k, v in server if k == "lag"]
    builds = [v for k, v in server if k == "build"]
    minutes = int(max(p[0] for p in polls) - start) // 60 + 1

    def minute_of(wall):
        return int((wall - start) // 60)

    # FeedLane queue depth over time: +1 at WSGI entry, -1 when the lane is taken
    steps = sorted([(f["t0"], 1) for f in feeds if "lane" in f]
                   + [(f["lane"], -1) for f in feeds if "lane" in f])
    depth_max = [0] * minutes
    depth = 0
    for at, step in steps:
        depth += step
        m = minute_of(at + to_wall)
        if 0 <= m < minutes:
            depth_max[m] = max(depth_max[m], depth)

    print(f"{'min':>3} | {'client polls':>12} {'p50':>6} {'p99':>7} {'200s':>6} {'200 KB':>7} "
          f"{'lag n':>6} {'lag max':>7} | {'server p50':>10} {'p99':>6} {'lane p99':>8} "
          f"{'view p99':>8} {'depth':>5} | {'gc n':>4} {'gc2 n':>5} {'gc ms':>6} "
          f"{'gc max':>6} | {'hub n':>5} {'hub ms':>7} {'hub max':>7}")
    spans = {  # (start wall, end wall) of each server GC and hub delay, each client lag
        "server GC": sorted((g["t"] + to_wall, g["t"] + g["d"] + to_wall) for g in gcs),
        "server hub > 10 ms": sorted((h["t"] + to_wall, h["t"] + h["d"] + to_wall)
                                     for h in hub if h["d"] > 0.010),
        "feed build": sorted((b["t"] + to_wall, b["t"] + b["d"] + to_wall) for b in builds),
        "client loop > 10 ms": sorted((at - late / 1000, at) for at, late in client_lag
                                      if late > 10),
    }
    blame = []
    for m in range(minutes):
        cp = [p for p in polls if minute_of(p[0]) == m]
        ms = [p[1] for p in cp]
        oks = [p for p in cp if p[2] == 200]
        lag = [late for at, late in client_lag if minute_of(at) == m]
        sf = [f for f in feeds if minute_of(f["feed"]) == m]
        total = [(f["end"] - f["t0"]) * 1000 for f in sf]
        lane = [(f["lane"] - f["t0"]) * 1000 for f in sf if "lane" in f]
        view = [(f["end"] - f["lane"]) * 1000 for f in sf if "lane" in f]
        g = [x for x in gcs if minute_of(x["t"] + to_wall) == m]
        h = [x for x in hub if minute_of(x["t"] + to_wall) == m]
        print(f"{m + 1:>3} | {len(cp):>12} {pct(ms, 50):>6.1f} {pct(ms, 99):>7.1f} "
              f"{len(oks):>6} {sum(p[3] for p in oks) / max(1, len(oks)) / 1024:>7.1f} "
              f"{len(lag):>6} {max(lag, default=0):>7.1f} | {pct(total, 50):>10.2f} "
              f"{pct(total, 99):>6.1f} {pct(lane, 99):>8.1f} {pct(view, 99):>8.2f} "
              f"{depth_max[m]:>5} | {len(g):>4} {sum(1 for x in g if x['gen'] == 2):>5} "
              f"{sum(x['d'] for x in g) * 1000:>6.0f} "
              f"{max((x['d'] for x in g), default=0) * 1000:>6.1f}"
              f" | {len(h):>5} {sum(x['d'] for x in h) * 1000:>7.0f} "
              f"{max((x['d'] for x in h), default=0) * 1000:>7.1f}")
        threshold = pct(ms, 99)
        slow = [p for p in cp if p[1] >= threshold]
        row = {"minute": m + 1, "slow": len(slow)}
        for name, span in spans.items():
            starts = [a for a, _b in span]
            hits = 0
            for at, took, _status, _size in slow:
                done = at + took / 1000
                i = bisect.bisect_right(starts, done)
                if any(b > at for _a, b in span[max(0, i - 50):i]):
                    hits += 1
            row[name] = hits
        blame.append(row)
    print("\nthe feed's snapshot per new revision (first poll of it), per minute:")
    print(f"{'min':>3} {'n':>5} {'from DB':>7} {'ms sum':>7} {'ms p50':>7} {'ms max':>7} "
          f"{'CPU ms sum':>10} {'CPU p50':>7}  | GC CPU ms sum, max")
    for m in range(minutes):
        b = [x for x in builds if minute_of(x["t"] + to_wall) == m]
        d = [x["d"] * 1000 for x in b]
        cpu = [x.get("cpu", float("nan")) * 1000 for x in b]
        g = [x.get("cpu", float("nan")) * 1000 for x in gcs if minute_of(x["t"] + to_wall) == m]
        print(f"{m + 1:>3} {len(b):>5} {sum(1 for x in b if x.get('db', True)):>7} "
              f"{sum(d):>7.0f} {pct(d, 50):>7.1f} {max(d, default=0):>7.1f} "
              f"{sum(cpu):>10.0f} {pct(cpu, 50):>7.1f}  | {sum(g):.0f}, {max(g, default=0):.1f}")
    print("\nthe client's slowest 1% per minute overlapping:")
    for row in blame:
        print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
