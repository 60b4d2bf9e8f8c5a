# ruff: noqa: E501 - a diagnostic report, one figure per line
"""Which phase makes the slow ballots (a PINGYI_BALLOT_TRACE file, evaluation/ballot_trace.py).

    PINGYI_BALLOT_TRACE=/tmp/t.jsonl python bench/ballots_bench.py   # writes /tmp/t.jsonl(.phases)
    python bench/ballots_trace.py /tmp/t.jsonl

Only the requests of pingyi's paced turns count (their times are in FILE.phases).
"""

import json
import sys

path = sys.argv[1]


def lines(name):
    with open(name, encoding="utf-8") as source:
        return source.read().splitlines()


recs = [json.loads(line) for line in lines(path)]
clock = next(v for k, v in recs if k == "clock")
off = clock["wall"] - clock["perf"]
windows = [json.loads(line) for line in lines(path + ".phases")]


def inpaced(t):
    return any(a <= t + off <= b for a, b in windows)


reqs = [v for k, v in recs if k == "req" and "end" in v and inpaced(v["t0"])]
gcs = [v for k, v in recs if k == "gc" and inpaced(v["t"])]
lags = [v for k, v in recs if k == "lag" and inpaced(v["t"])]
batches = [v for k, v in recs if k == "batch" and inpaced(v["t"])]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def ms(x):
    return f"{1000 * x:7.2f}"


print(f"paced requests traced: {len(reqs)}; windows {len(windows)}")
phases = {
    "before view (ctx, session, CSRF, form)": lambda r: r["pre"] - r["t0"],
    "limits": lambda r: r["view"] - r["pre"],
    "reads": lambda r: r["enq"] - r["view"],
    "queue wait": lambda r: r["woken"] - r["enq"],
    "own commit (led)": lambda r: r["end"] - r["woken"] if r.get("led") else 0,
    "after (not led)": lambda r: r["end"] - r["woken"] if not r.get("led") else 0,
    "total in app": lambda r: r["end"] - r["t0"],
}
reqs = [r for r in reqs if all(k in r for k in ("pre", "view", "enq", "woken"))]
print(f"{'phase':<40}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}")
for name, f in phases.items():
    xs = [f(r) for r in reqs]
    print(f"{name:<40}{ms(pct(xs, 50))}{ms(pct(xs, 90))}{ms(pct(xs, 99))}{ms(max(xs))}")
reqs.sort(key=lambda r: r["end"] - r["t0"])
slow = reqs[-max(1, len(reqs) // 100) :]
print(f"slowest 1% ({len(slow)}): mean per phase")
for name, f in phases.items():
    print(f"  {name:<40}{ms(sum(f(r) for r in slow) / len(slow))}")
print(
    f"GC in paced windows: {len(gcs)}; by gen: "
    + ", ".join(
        f"gen{g}: n={sum(1 for x in gcs if x['gen'] == g)} max={ms(max([x['d'] for x in gcs if x['gen'] == g] or [0]))} sum={ms(sum(x['d'] for x in gcs if x['gen'] == g))}"
        for g in (0, 1, 2)
    )
)
print(
    f"hub lags > 2 ms: {len(lags)}; p50 {ms(pct([x['d'] for x in lags], 50))} max {ms(max([x['d'] for x in lags] or [0]))}; total {ms(sum(x['d'] for x in lags))}"
)
print(
    f"batches: {len(batches)}, size p50 {pct([b['n'] for b in batches], 50)} max {max(b['n'] for b in batches)}"
)
for key in ("catch", "writes", "commit"):
    xs = [b[key] for b in batches]
    print(
        f"  batch {key:<8} p50 {ms(pct(xs, 50))} p90 {ms(pct(xs, 90))} p99 {ms(pct(xs, 99))} max {ms(max(xs))}"
    )
catches = [b for b in batches if b["catch"] > 0.0005]
print(f"  catch-ups > 0.5 ms: {len(catches)}: " + " ".join(ms(b["catch"]) for b in catches[:30]))


# attribution for slow requests: overlapping events
def overlaps(r, t, d):
    return t < r["end"] and t + d > r["t0"]


n_gc = sum(1 for r in slow if any(overlaps(r, g["t"], g["d"]) and g["d"] > 0.002 for g in gcs))
n_lag = sum(
    1 for r in slow if any(overlaps(r, lag["t"], lag["d"]) and lag["d"] > 0.005 for lag in lags)
)
n_catch = sum(1 for r in slow if any(overlaps(r, b["t"], b["catch"]) for b in catches))
n_slowcommit = sum(
    1
    for r in slow
    if any(
        overlaps(r, b["t"], b["catch"] + b["writes"] + b["commit"]) and b["commit"] > 0.01
        for b in batches
    )
)
print(
    f"slowest 1% overlapping: gc>2ms {n_gc}, hub lag>5ms {n_lag}, catch-up {n_catch}, commit>10ms {n_slowcommit}"
)
commits = [v for k, v in recs if k == "commit" and inpaced(v["t"])]
for key in ("start", "sync", "back"):
    xs = [c[key] for c in commits]
    if xs:
        print(
            f"  commit {key:<6} (thread) p50 {ms(pct(xs, 50))} p90 {ms(pct(xs, 90))} p99 {ms(pct(xs, 99))} max {ms(max(xs))}"
        )
