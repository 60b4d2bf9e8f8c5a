"""Benchmark of the scoring engine on a synthetic campaign.

400 agencies × 50 judges × 20 indicators = 400,000 marks. Each judge's sheet is validated
against the rubric (max points, 0.5 step) and totalled; the on-site review trims the highest
and lowest judge total within three weighted judge groups (专家 40 / 人大代表 30 / 群众代表 30,
with recusals); field inspection, public-review satisfaction and self-assessment are composed
with weights, then ranked within two groups with a tie-break, graded with a quota, and the
diagnostics (judge leniency, drop counts, Kendall's W) are computed.

The machine is shared and noisy, so the figure that matters is the ratio against a baseline
measured in the same run: a plain-Python Decimal sum over the same 400,000 marks.
Run: python bench/scoring_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring import (  # noqa: E402 - the repository root must be on sys.path first
    THREE_LEVEL,
    Composition,
    GradeScale,
    GroupWeighting,
    Indicator,
    PanelRule,
    RubricSheet,
    ScoringPolicy,
    StageSpec,
    evaluate,
    judge_diagnostics,
    kendalls_w,
)

AGENCIES, INDICATORS = 400, 20
JUDGE_GROUPS = {"专家": 20, "人大代表": 15, "群众代表": 15}          # 50 judges
STEPS = [Decimal(i) / 2 for i in range(11)]                         # 0.0 .. 5.0 by 0.5

RUBRIC = Indicator("R", "履职评议", 100, children=tuple(
    Indicator(f"R{p}", f"一级指标{p}", 25, children=tuple(
        Indicator(f"R{p}.{c}", f"二级指标{p}.{c}", 5, step="0.5") for c in range(1, 6)))
    for p in range(1, 5)))
POLICY = ScoringPolicy(
    stage_rules={
        "onsite_review": GroupWeighting(
            {"专家": 40, "人大代表": 30, "群众代表": 30},
            rule=PanelRule(drop_high=1, drop_low=1, min_marks=5, fallback="use_all")),
        "field_inspection": PanelRule(drop_high=1, drop_low=1),
        "public_review": THREE_LEVEL,
    },
    composition=Composition((StageSpec("self_assessment", 10),
                             StageSpec("field_inspection", 20, max_points=50),
                             StageSpec("public_review", 30), StageSpec("onsite_review", 40))),
    tie_breakers=("onsite_review", "public_review"),
    grading=GradeScale({"优秀": 90, "良好": 80, "合格": 60}, quotas={"优秀": 30}),
)


def synthetic_campaign(seed: int = 2024):
    """Raw inputs as the web app would pass them (marks as Decimal, keyed by judge id)."""
    rng = random.Random(seed)
    judges = {g: [f"{g}{i:02d}" for i in range(1, n + 1)] for g, n in JUDGE_GROUPS.items()}
    bias = {j: rng.choice((-1, 0, 0, 0, 1)) for js in judges.values() for j in js}
    leaves = [leaf.code for leaf in RUBRIC.leaves()]
    sheets, others = {}, {}
    for a in range(AGENCIES):
        agency, quality = f"A{a:03d}", rng.randint(4, 10)
        recused = rng.choice([None] * 9 + [rng.choice(list(bias))])
        sheets[agency] = {
            judge: None if judge == recused else {
                code: STEPS[min(10, max(0, quality + bias[judge] + rng.randint(-1, 1)))]
                for code in leaves}
            for judge in bias}
        others[agency] = {
            "self_assessment": Decimal(rng.randint(150, 200)) / 2,
            "field_inspection": {f"F{i}": Decimal(rng.randint(60, 100)) / 2 for i in range(5)},
            "public_review": {"满意": rng.randint(20, 200), "基本满意": rng.randint(0, 60),
                              "不满意": rng.randint(0, 20)},
        }
    groups = {agency: "市直组" if i < 250 else "县区组" for i, agency in enumerate(sheets)}
    return judges, sheets, others, groups


def run_engine(judges, sheets, others, groups):
    """Everything timed: sheets -> panels -> composition -> ranking -> grading -> diagnostics."""
    sheet = RubricSheet(RUBRIC)
    totals, inputs = {}, {}
    for agency, by_judge in sheets.items():
        totals[agency] = {j: None if m is None else sheet.total(m) for j, m in by_judge.items()}
        onsite = {g: {j: totals[agency][j] for j in js} for g, js in judges.items()}
        inputs[agency] = dict(others[agency], onsite_review=onsite)
    campaign = evaluate(POLICY, inputs, groups=groups)
    panels = {(a.agency, part.group): part.result for a in campaign.agencies
              for part in a.stages["onsite_review"].parts}
    leniency = judge_diagnostics(panels, tolerance=10)
    by_judge = {j: {a: totals[a][j] for a in totals} for js in judges.values() for j in js}
    concordance = kendalls_w(by_judge)
    return campaign, leniency, concordance


def baseline(sheets):
    """Plain-Python Decimal sum over the same 400,000 marks."""
    total = Decimal(0)
    for by_judge in sheets.values():
        for marks in by_judge.values():
            if marks is not None:
                total += sum(marks.values())
    return total


def timed(function, *args):
    """(wall seconds, CPU seconds of this process, result): on a shared machine the CPU time
    is the steadier figure, the wall time includes waiting for a core."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return time.perf_counter() - start, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    repeat = args.repeat
    judges, sheets, others, groups = synthetic_campaign()
    marks = sum(len(m) for by_judge in sheets.values() for m in by_judge.values() if m)
    slots = AGENCIES * sum(JUDGE_GROUPS.values()) * INDICATORS
    engine_times, engine_cpu, baseline_times = [], [], []
    for _ in range(repeat):  # interleaved, so both see the same machine load
        baseline_times.append(timed(baseline, sheets)[0])
        elapsed, cpu, (campaign, leniency, concordance) = timed(run_engine, judges, sheets,
                                                                others, groups)
        engine_times.append(elapsed)
        engine_cpu.append(cpu)
    engine, base = statistics.median(engine_times), statistics.median(baseline_times)
    print(f"campaign: {AGENCIES} agencies × {sum(JUDGE_GROUPS.values())} judges × "
          f"{INDICATORS} indicators = {slots:,} mark slots, {marks:,} marks (rest recused)")
    print(f"engine:   median {engine:.3f} s (best {min(engine_times):.3f} s) over {repeat} runs,"
          f" {marks / engine:,.0f} marks/s")
    print(f"cpu:      median {statistics.median(engine_cpu):.3f} s of CPU per run "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"baseline: median {base * 1000:.1f} ms (plain Decimal sum of the same marks)")
    print(f"ratio:    engine / baseline = {engine / base:.1f}x   (target: engine under 1 s)")
    top = campaign.agencies[0]
    print(f"check:    first {top.agency} {top.total} {top.graded.grade}; Kendall's W "
          f"{concordance.w}; judges diagnosed {len(leniency)}; fingerprint "
          f"{campaign.fingerprint[:12]}…")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from summary import figure, write

    write(args.json, "scoring", [
        figure(f"tally {AGENCIES} × {sum(JUDGE_GROUPS.values())} × {INDICATORS} (median)",
               round(engine, 3), "s", "< 1 s", engine < 1, f"best {min(engine_times):.3f} s"),
        figure("plain Decimal sum of the same marks (baseline)", round(base * 1000, 1), "ms"),
        figure("tally / baseline", round(engine / base, 1), "x"),
    ], {"repeat": repeat, "marks": marks})


if __name__ == "__main__":
    main()
