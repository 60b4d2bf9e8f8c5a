"""Charts on disk, keyed by (campaign, results revision, chart, format).

A chart of a given revision never changes, so a file once written is served as it is;
a new revision (a mark changed, results recomputed) gets new files. Rendering many charts
uses a pool of processes: one matplotlib figure takes tens of milliseconds of one core.
Called in the job worker process, never in the serving process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from evaluation.reports import charts
from evaluation.reports.fonts import use_cjk_font
from evaluation.services.results_data import ComposedResults

Progress = Callable[[int, int], None]
PREVIEW = 0                 # the revision of results composed now, not of a results version
INLINE_BELOW = 8            # fewer charts than this are not worth starting processes
_worker_composed: ComposedResults | None = None
_worker_lanes: tuple | None = None     # (lanes, their ends, this worker's lane)


def chart_path(folder: Path, campaign_id: int, revision: int, name: str, fmt: str) -> Path:
    return Path(folder) / "charts" / str(campaign_id) / f"r{revision}" / f"{name}.{fmt}"


def cached_path(folder: Path, composed: ComposedResults, name: str, fmt: str) -> Path:
    return chart_path(folder, composed.campaign_id, composed.revision, name, fmt)


def complete_marker(folder: Path, campaign_id: int, revision: int) -> Path:
    """Present once every chart of the revision is in the cache (drawn ahead or exported)."""
    return chart_path(folder, campaign_id, revision, "complete", "txt").parent / "complete"


def is_complete(folder: Path, campaign_id: int, revision: int) -> bool:
    return revision != PREVIEW and complete_marker(folder, campaign_id, revision).exists()


def mark_complete(folder: Path, composed: ComposedResults) -> None:
    if composed.revision != PREVIEW:
        _write(complete_marker(folder, composed.campaign_id, composed.revision), b"")


def missing_by_name(folder: Path, composed: ComposedResults) -> list[tuple[str, tuple]]:
    """Every chart of an export not in the cache yet, as (name, formats)."""
    return _by_name([item for item in charts.all_chart_items(composed)
                     if not cached_path(folder, composed, *item).exists()])


def _write(path: Path, data: bytes) -> None:
    """Write-then-rename: a reader never sees half a chart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def chart(folder: Path, composed: ComposedResults, name: str, fmt: str) -> Path:
    """The chart's file, rendered now only if this revision does not have it yet."""
    return charts_of(folder, composed, name, (fmt,))[0]


def charts_of(folder: Path, composed: ComposedResults, name: str, fmts) -> list[Path]:
    """The chart `name` in each format of `fmts`: the missing ones drawn once, together."""
    paths = [cached_path(folder, composed, name, fmt) for fmt in fmts]
    missing = [fmt for fmt, path in zip(fmts, paths, strict=True) if not path.exists()]
    if missing:
        for fmt, data in charts.render_many(composed, name, tuple(missing)).items():
            _write(cached_path(folder, composed, name, fmt), data)
    return paths


def _by_name(items: list[tuple[str, str]]) -> list[tuple[str, tuple[str, ...]]]:
    """(name, formats) in the order the names first appear."""
    grouped: dict[str, list[str]] = {}
    for name, fmt in items:
        grouped.setdefault(name, []).append(fmt)
    return [(name, tuple(fmts)) for name, fmts in grouped.items()]


def render_all(folder: Path, composed: ComposedResults,
               items: Iterable[tuple[str, str]] | None = None, *, workers: int | None = None,
               progress: Progress | None = None) -> list[Path]:
    """The charts `items` (name, format), by default every chart of an export, from the
    cache where present; returns their files."""
    wanted = list(charts.all_chart_items(composed) if items is None else items)
    if composed.revision == PREVIEW:     # a preview's marks may have changed since: redraw
        for item in wanted:
            cached_path(folder, composed, *item).unlink(missing_ok=True)
    missing = [item for item in wanted if not cached_path(folder, composed, *item).exists()]
    done = len(wanted) - len(missing)
    workers = workers or os.cpu_count() or 1
    if len(missing) < INLINE_BELOW or workers == 1:
        for name, fmts in _by_name(missing):
            charts_of(folder, composed, name, fmts)
            done += len(fmts)
            if progress:
                progress(done, len(wanted))
    else:
        _render_in_pool(folder, composed, missing, workers, done, len(wanted), progress)
    if items is None:
        mark_complete(folder, composed)
    return [cached_path(folder, composed, *item) for item in wanted]


def _render_in_pool(folder: Path, composed: ComposedResults, missing: list, workers: int,
                    done: int, total: int, progress: Progress | None) -> None:
    # The charts in lanes, one a worker (_lanes), shared: a task takes the next chunk of
    # its worker's lane, or, that lane done, the last chunk of another's, so that each
    # worker keeps to the kinds of chart of its lane (a worker learns every kind it draws:
    # its kept figure, backdrops, texts; two workers drawing every kind learnt each twice,
    # ~0.7 s of CPU for 400 agencies) and both finish together. Chunks keep the pool's
    # overhead small; the results travel once per worker process (the initializer).
    named = _paired(_by_name(missing))
    size = max(1, min(16, len(named) // (workers * 4)))
    lanes = _lanes(named, workers)
    context = _context()
    if context.get_start_method() == "fork":
        charts.load_drawing()     # once here, inherited by every worker
    ends = context.Array("i", [end for lane in lanes for end in (0, len(lane))])
    joined = context.Value("i", 0)
    tasks = sum(-(-len(lane) // size) + 1 for lane in lanes)    # takes at each end
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(composed, lanes, ends, joined)) as pool:
        futures = [pool.submit(_render_next, str(folder), size) for _task in range(tasks)]
        for future in as_completed(futures):
            done += future.result()
            if progress:
                progress(done, total)


def _lanes(named: list, workers: int) -> list[list]:
    """The charts (in _paired's order) cut into `workers` runs of about the same cost: a
    campaign page's chart costs about as much as 20 agency charts (each in PNG and SVG,
    40 agencies a page), a marks chart about as much as two others (four panels)."""
    def cost(item) -> float:
        kind = item[0].split("-")[0]
        return {"ranking": 10.0, "breakdown": 10.0, "marks": 1.7}.get(kind, 1.0) * len(item[1])
    share = sum(map(cost, named)) / workers
    lanes: list[list] = [[] for _worker in range(workers)]
    spent = 0.0
    for item in named:
        lanes[min(int(spent / share), workers - 1)].append(item)
        spent += cost(item)
    return lanes


def _paired(named: list) -> list:
    """A page's ranking and breakdown charts next to each other, so in one chunk (one
    process): they name the same 40 agencies, whose row names are then measured and laid out
    once for both (the caches of raster.py are per process); agency charts after them, kind
    by kind: a chunk of one kind refills one kept figure, whose objects the processor's
    caches keep."""
    def page(item):
        kind, number = item[0].split("-")
        return (0, int(number), kind != "ranking") if kind in ("ranking", "breakdown") \
            else (1, charts.AGENCY_KINDS.index(kind), 0)
    return sorted(named, key=page)      # stable: each kind's charts keep their order


def _context():
    """Fork where it is safe: the children start at once with matplotlib, the font and the
    results already loaded (a spawned one re-imports them and unpickles the results, a
    second of CPU each). Never from a gevent-patched process (the serving process): forked
    children would inherit its hub; spawn there, and where fork does not exist."""
    patched = False
    if "gevent" in sys.modules:
        from gevent import monkey

        patched = monkey.is_module_patched("os") or monkey.is_module_patched("threading")
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and not patched \
        else "spawn"
    return multiprocessing.get_context(method)


def _init_worker(composed: ComposedResults, lanes: list, ends, joined) -> None:
    global _worker_composed, _worker_lanes
    _worker_composed = composed
    with joined.get_lock():      # this worker's lane: the next one not taken
        _worker_lanes = (lanes, ends, joined.value % len(lanes))
        joined.value += 1
    use_cjk_font()
    # What the worker starts with (inherited at fork: the results, matplotlib) lives as
    # long as it does: out of the collector's way, whose full passes walked all of it
    # (and, in a forked child, wrote to every page of it: copies of the parent's pages).
    gc.freeze()


def _render_next(folder: str, size: int) -> int:
    """The next chunk of at most `size` charts of this worker's lane drawn, or the last
    of another lane's (from the end: its owner draws from the start); the number of files
    written (0 when every lane is done)."""
    lanes, ends, mine = _worker_lanes
    with ends.get_lock():
        chunk = []
        for lane in (mine, *(n for n in range(len(lanes)) if n != mine)):
            first, last = ends[2 * lane], ends[2 * lane + 1]
            if first < last:
                if lane == mine:
                    ends[2 * lane] = first + min(size, last - first)
                    chunk = lanes[lane][first:ends[2 * lane]]
                else:
                    ends[2 * lane + 1] = last - min(size, last - first)
                    chunk = lanes[lane][ends[2 * lane + 1]:last]
                break
    return _render_chunk(folder, chunk)


def _render_chunk(folder: str, chunk: list[tuple[str, tuple[str, ...]]]) -> int:
    for name, fmts in chunk:
        charts_of(Path(folder), _worker_composed, name, fmts)
    return sum(len(fmts) for _name, fmts in chunk)


def prune_other_revisions(folder: Path, composed: ComposedResults) -> None:
    """Remove the charts of the campaign's other revisions: results only move forward."""
    import shutil

    keep = cached_path(folder, composed, "x", "png").parent
    for directory in keep.parent.glob("r*"):
        if directory != keep and directory.is_dir():
            shutil.rmtree(directory, ignore_errors=True)


def zip_charts(paths: list[Path], composed: ComposedResults) -> bytes:
    """One archive of chart files, named by their titles (Chinese file names, UTF-8)."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed
        for path in paths:
            title = charts.chart_title(composed, path.stem).replace("/", "／")
            archive.write(path, f"{path.suffix[1:]}/{path.stem} {title}{path.suffix}")
    return buffer.getvalue()
