"""Chart workers forked from a process that has drawn charts, drawing at once: a round of
8 tasks over 2 forked workers, `rounds` times; prints each failed task.

Before charts3 a forked worker used its parent's FreeType faces (raster.py's caches), whose
font file descriptor (and offset) it shares with its siblings: now and then
"FT_Load_Glyph ... broken file". Usage: `PYTHONPATH=. python bench/chart_fork_stress.py 10`.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

from evaluation.reports import charts
from evaluation.reports.fonts import use_cjk_font
from evaluation.reports.sample import sample_composed

COMPOSED = sample_composed(agencies=40, judges=9, indicators=10)


def draw(names: list[str]) -> int:
    for name in names:
        campaign = name.startswith(("ranking", "breakdown"))
        charts.render_many(COMPOSED, name, ("png", "svg") if campaign else ("png",))
    return len(names)


def main(rounds: int) -> None:
    use_cjk_font()
    for agency in COMPOSED.result.agencies[:3]:     # the parent has drawn (the pre-render)
        for name in charts.agency_chart_names(COMPOSED, agency.agency):
            charts.render_many(COMPOSED, name, ("png",))
    names = list(dict.fromkeys(name for name, _fmt in charts.all_chart_items(COMPOSED)))
    failed = 0
    for number in range(rounds):
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            for future in [pool.submit(draw, names[i::8]) for i in range(8)]:
                try:
                    future.result()
                except Exception as error:  # noqa: BLE001 - counted and shown
                    failed += 1
                    print("round", number, type(error).__name__, str(error)[:90], flush=True)
    print("rounds", rounds, "failed tasks", failed)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
