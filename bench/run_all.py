"""Run every benchmark, each in its own process, and write BENCHMARKS.md at the repository root.

    python bench/run_all.py [--scaled] [--short-chaos] [--soak-minutes N] [--only a,b]
                            [--out BENCHMARKS.md]

Benchmarks, in this order: scoring (400 x 50 x 20 tally), live (50 judges + 1,000 viewers
against bare Flask-SocketIO and `websockets`), reports (workbook, charts, live latency during
an export), ballots (public ballots/s against a no-op Flask endpoint), chaos (kill -9
mid-show), flaky Wi-Fi, and the soak when `--soak-minutes` is given. Each is run as
`python bench/<name>.py ... --json FILE`; its figures (bench/summary.py's format), its exit
code, its duration and the tail of its output go into BENCHMARKS.md with the machine (CPU,
cores, RAM, load, disk fsync time, Python and library versions), the date and the commit;
bench/benchmarks_notes.md (profiles, before/after of fixes) is appended as it is.
Every target is marked met or MISSED; ratios are against baselines measured in the same run.

`--scaled` runs the lighter settings listed in SCALED (a full run takes a long time on the
shared 2-core machine); `--short-chaos` only shortens the chaos run. BENCHMARKS.md says which
settings were used. A bench that fails or times out is reported as such; the rest still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# name: (script, full arguments, scaled arguments, timeout in seconds)
BENCHES = {
    "scoring": ("scoring_bench.py", ["--repeat", "5"], ["--repeat", "3"], 900),
    "live": ("live_bench.py", [], ["--viewers", "500", "--submits", "60", "--warmup", "10"],
             1800),
    "reports": ("reports_bench.py", ["--all-charts"], ["--agencies", "10", "--repeat", "2"], 1800),
    "ballots": ("ballots_bench.py", [], ["--quick"], 1800),
    "chaos": ("chaos_live.py", ["--kills", "20"], ["--kills", "5"], 1800),
    "flaky_wifi": ("flaky_wifi.py", [], ["--tablets", "30", "--agencies", "2"], 1800),
    "soak": ("soak.py", [], ["--poll-interval", "20"], 4000),
}
RESULTS_MARK = "<!-- run_all results: "
SCALED = {name: spec[2] for name, spec in BENCHES.items() if spec[2]}
TITLES = {
    "scoring": "Scoring engine: the 400 × 50 × 20 tally",
    "live": "Live review: judges' acks and fan-out to viewers",
    "reports": "Reports: workbook, charts, live latency during an export",
    "ballots": "Public ballots (社会评议) per second",
    "chaos": "Crash mid-show: kill -9 and restart",
    "flaky_wifi": "Flaky Wi-Fi: tablets dropping off and reloading offline",
    "soak": "Soak: memory and latency over a long show",
}
LIBRARIES = ("flask", "flask-socketio", "python-socketio", "python-engineio", "gevent",
             "gevent-websocket", "sqlalchemy", "sqlmodel", "flask-limiter", "limits",
             "openpyxl", "matplotlib", "hypothesis", "aiohttp", "websockets")


# ---------------------------------------------------------------------------- the machine


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram": ram,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "versions": versions,
            "fsync_ms": fsync_ms()}


def fsync_ms(count: int = 100) -> float:
    """What one durable SQLite commit costs at least here (synchronous=FULL: an fsync)."""
    with tempfile.NamedTemporaryFile(dir=tempfile.gettempdir()) as handle:
        start = time.perf_counter()
        for _ in range(count):
            handle.write(b"x" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
        return (time.perf_counter() - start) / count * 1000


def commit() -> str:
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "unknown"


# ---------------------------------------------------------------------------- running


def run_bench(name: str, arguments: list[str], timeout: int, logs: Path) -> dict:
    script = BENCHES[name][0]
    summary = logs / f"{name}.json"
    argv = [sys.executable, str(BENCH / script), *arguments, "--json", str(summary)]
    log = logs / f"{name}.log"
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {' '.join(argv[1:])}", flush=True)
    started = time.monotonic()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    load = os.getloadavg()[0]
    with log.open("w") as out:
        try:
            code = subprocess.run(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    elapsed = time.monotonic() - started
    result = {"name": name, "command": f"python bench/{script} {' '.join(arguments)}".strip(),
              "exit": code, "seconds": round(elapsed), "load_before": round(load, 1),
              "load_after": round(os.getloadavg()[0], 1), "figures": [], "settings": {},
              "tail": log.read_text(errors="replace").splitlines()[-40:]}
    if summary.exists():
        data = json.loads(summary.read_text("utf-8"))
        result["figures"], result["settings"] = data["figures"], data.get("settings", {})
    print(f"[{time.strftime('%H:%M:%S')}] {name}: exit {code} after {elapsed:.0f} s, "
          f"{len(result['figures'])} figures", flush=True)
    return result


# ---------------------------------------------------------------------------- the report


def cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def verdict(passed) -> str:
    return "–" if passed is None else ("met" if passed else "**MISSED**")


def markdown(results: list[dict], host: dict, options, started: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python bench/run_all.py{options.argv}` on {started} UTC "
        f"(commit `{options.generated_at}`).{options.rerun} Regenerate with the same command; "
        "every bench also runs alone (`python bench/<name>.py --help`).",
        "",
        "The machine is shared (other people's test runs) and has 2 cores: absolute figures "
        "move from run to run; the ratios against baselines measured in the same run (bare "
        "servers, a no-op endpoint, a plain Decimal sum, a plain openpyxl write, a bare "
        "restart) are what to compare. The load average before and after each bench is given.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {host['cpu']} |",
        f"| cores | {host['cores']} |",
        f"| RAM | {host['ram']} |",
        f"| OS | {host['os']} |",
        f"| Python | {host['python']} |",
        f"| fsync (4 KiB, temp dir) | {host['fsync_ms']:.2f} ms: the floor of one durable "
        "SQLite commit |",
        "| libraries | " + ", ".join(f"{k} {v}" for k, v in host["versions"].items()) + " |",
        "",
    ]
    scaled = [r["name"] for r in results if r["name"] in SCALED and options.scaled
              or r["name"] == "chaos" and options.short_chaos]
    if scaled:
        lines += ["**Scaled run**: " + ", ".join(
            f"{name} (`{' '.join(SCALED[name])}`)" for name in scaled)
            + " ran with lighter settings than the issue's (a full run takes too long on this "
            "shared machine); the figures below say what was run.", ""]
    lines += ["## Targets", "", "| bench | figure | value | target | result |",
              "| --- | --- | --- | --- | --- |"]
    for result in results:
        for f in result["figures"]:
            if f["target"] is not None:
                lines.append(f"| {result['name']} | {cell(f['name'])} | "
                             f"{cell(f['value'])} {f['unit']} | {cell(f['target'])} | "
                             f"{verdict(f['pass'])} |")
        if result["exit"] not in (0,) and not result["figures"]:
            lines.append(f"| {result['name']} | (no figures) | – | – | **exit "
                         f"{result['exit']}** |")
    lines.append("")
    for result in results:
        lines += [f"## {TITLES.get(result['name'], result['name'])}", "",
                  f"`{result['command']}` — exit {result['exit']}, {result['seconds']} s, "
                  f"load average {result['load_before']} before, {result['load_after']} after.",
                  ""]
        if result["settings"]:
            lines += ["Settings: " + ", ".join(f"{k} {cell(v)}"
                                               for k, v in result["settings"].items()), ""]
        if result["figures"]:
            lines += ["| figure | value | target | result | note |",
                      "| --- | --- | --- | --- | --- |"]
            lines += [f"| {cell(f['name'])} | {cell(f['value'])} {f['unit']} | "
                      f"{cell(f['target'])} | {verdict(f['pass'])} | {cell(f['note'])} |"
                      for f in result["figures"]]
            lines.append("")
        lines += ["<details><summary>output (last lines)</summary>", "", "```text",
                  *result["tail"], "```", "", "</details>", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaled", action="store_true", help="lighter settings (SCALED)")
    parser.add_argument("--short-chaos", action="store_true", help="chaos with 5 kills")
    parser.add_argument("--soak-minutes", type=int, help="also run the soak, this long")
    parser.add_argument("--only", help="comma-separated bench names")
    parser.add_argument("--update", action="store_true",
                        help="rerun only the --only benches; keep the others' results from "
                             "the existing report (kept in it as a JSON comment)")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--notes", type=Path, default=BENCH / "benchmarks_notes.md",
                        help="commentary appended to the report (profiles, before/after)")
    options = parser.parse_args()
    options.argv = "".join(f" {a}" for a in sys.argv[1:])
    options.rerun = ""
    options.generated_at = commit()
    names = [n for n in BENCHES if n != "soak"]
    if options.soak_minutes:
        names.append("soak")
    if options.only:
        names = [n for n in options.only.split(",") if n in BENCHES]
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    host = machine()
    results, kept = [], {}
    if options.update and options.out.exists():
        previous = options.out.read_text("utf-8").rsplit(RESULTS_MARK, 1)
        if len(previous) == 2:
            saved = json.loads(previous[1].removesuffix(" -->\n"))
            kept = {r["name"]: r for r in saved["results"]}
            started, host = saved["started"], saved["host"]
            # the commit of the first run stays named; the rerun's is named beside it
            options.generated_at = saved.get("commit", "not recorded")
            options.rerun = f" Rerun since then: {options.only} (`--update`, " + time.strftime(
                "%Y-%m-%d %H:%M", time.gmtime()) + f" UTC, commit `{commit()}`)."
            options.argv = saved["argv"]
    with tempfile.TemporaryDirectory(prefix="run-all-") as folder:
        for name in names:
            _script, full, scaled, timeout = BENCHES[name]
            arguments = scaled if options.scaled and scaled else full
            if name == "chaos" and options.short_chaos:
                arguments = SCALED["chaos"]
            if name == "soak":
                arguments = ["--minutes", str(options.soak_minutes), *(
                    scaled if options.scaled else [])]
                timeout = options.soak_minutes * 60 + 600
            results.append(run_bench(name, arguments, timeout, Path(folder)))
    fresh = {r["name"]: r for r in results}
    results = [fresh.get(name) or kept[name] for name in BENCHES if name in fresh or name in kept]
    report = markdown(results, host, options, started)
    if options.notes and options.notes.exists():
        report += "\n" + options.notes.read_text("utf-8")
    report += "\n" + RESULTS_MARK + json.dumps(
        {"started": started, "commit": options.generated_at, "host": host,
         "argv": options.argv, "results": results},
        ensure_ascii=False) + " -->\n"
    options.out.write_text(report, "utf-8")
    missed = [f"{r['name']}: {f['name']}" for r in results for f in r["figures"]
              if f["pass"] is False]
    failed = [r["name"] for r in results if r["exit"] != 0]
    print(f"wrote {options.out}; targets missed: {missed or 'none'}; benches failing: "
          f"{failed or 'none'}")


if __name__ == "__main__":
    main()
