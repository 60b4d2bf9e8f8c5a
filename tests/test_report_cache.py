"""The chart cache: a results revision's charts are drawn once; a new revision draws anew."""

from __future__ import annotations

import results_world

from evaluation.reports import chart_cache, charts
from evaluation.reports.sample import sample_composed
from evaluation.services import report_jobs
from evaluation.services.results_versions import compose_version


def counting_render(monkeypatch) -> list:
    calls = []

    def render_many(composed, name, fmts):
        calls.extend((composed.revision, name, fmt) for fmt in fmts)
        return {fmt: f"{composed.revision}:{name}.{fmt}".encode() for fmt in fmts}

    monkeypatch.setattr(charts, "render_many", render_many)
    return calls


def test_render_all_draws_a_revision_once_and_a_new_revision_again(tmp_path, monkeypatch):
    calls = counting_render(monkeypatch)
    composed = sample_composed(agencies=3, judges=5, indicators=10, revision=4)
    wanted = charts.all_chart_items(composed)
    first = chart_cache.render_all(tmp_path, composed, workers=1)
    assert len(calls) == len(wanted) == len(first)
    again = chart_cache.render_all(tmp_path, composed, workers=1)       # same revision
    assert again == first and len(calls) == len(wanted)                 # nothing drawn
    assert first[0].read_bytes() == f"4:{wanted[0][0]}.{wanted[0][1]}".encode()
    newer = sample_composed(agencies=3, judges=5, indicators=10, revision=5)
    paths = chart_cache.render_all(tmp_path, newer, workers=1)
    assert len(calls) == 2 * len(wanted)                                # all drawn again
    assert {revision for revision, _name, _fmt in calls[len(wanted):]} == {5}
    assert paths[0].read_bytes().startswith(b"5:")


def test_a_preview_is_redrawn_on_every_export(tmp_path, monkeypatch):
    calls = counting_render(monkeypatch)
    preview = sample_composed(agencies=3, judges=5, indicators=10, revision=0)
    chart_cache.render_all(tmp_path, preview, workers=1)
    chart_cache.render_all(tmp_path, preview, workers=1)
    assert len(calls) == 2 * len(charts.all_chart_items(preview))


def test_reports_key_on_the_newest_version(db):
    world = results_world.build(db)
    assert report_jobs.composed_results(db, world.campaign).revision == 0     # a preview
    first = compose_version(db, world.campaign, world.composer)
    composed = report_jobs.composed_results(db, world.campaign)
    assert (composed.revision, composed.status) == (first.number, "preview")  # a draft
    assert composed.indicator_scores                  # the radar's figures come with it


def test_pool_lanes_keep_kinds_together_at_about_the_same_cost():
    """Each worker's lane: a run of the pool's order (campaign pages, then the agency
    charts kind by kind), cut where the cost reaches the next share: a page (PNG + SVG) as
    20 agency charts, a marks chart as 1.7."""
    named = chart_cache._paired(
        [(f"ranking-{n}", ("png", "svg")) for n in range(2)] +
        [(f"breakdown-{n}", ("png", "svg")) for n in range(2)] +
        [(f"{kind}-{agency}", ("png",)) for kind in ("radar", "marks", "trend")
         for agency in range(40)])
    first, second = chart_cache._lanes(named, 2)
    assert first + second == named
    assert [name for name, _fmts in first[:4]] == [
        "ranking-0", "breakdown-0", "ranking-1", "breakdown-1"]
    # 4 pages (80) + 40 radar + 40 marks (68) + 40 trend: 228, a lane 114
    assert [name for name, _fmts in first[4:]] == [f"radar-{n}" for n in range(34)]
    assert second[0][0] == "radar-34" and second[-1][0] == "trend-39"
    assert chart_cache._lanes(named, 1) == [named]


def test_pool_tasks_take_their_lane_from_the_start_then_others_from_the_end(monkeypatch):
    """A task draws the next chunk of its worker's lane; once that lane is done, the last
    chunk of another lane (whose own worker draws from the start), until none is left:
    every chart once."""
    import multiprocessing

    lanes = [[(f"a-{n}", ("png",)) for n in range(5)], [(f"b-{n}", ("png",)) for n in range(7)]]
    ends = multiprocessing.Array("i", [0, 5, 0, 7])
    drawn = []
    monkeypatch.setattr(chart_cache, "_render_chunk",
                        lambda folder, chunk: drawn.append([n for n, _f in chunk]) or len(chunk))
    monkeypatch.setattr(chart_cache, "_worker_lanes", (lanes, ends, 0))
    counts = [chart_cache._render_next("unused", 2) for _task in range(8)]
    assert drawn == [["a-0", "a-1"], ["a-2", "a-3"], ["a-4"], ["b-5", "b-6"], ["b-3", "b-4"],
                     ["b-1", "b-2"], ["b-0"], []]
    assert counts == [2, 2, 1, 2, 2, 2, 1, 0] and list(ends) == [5, 5, 0, 0]


def test_pool_order_pairs_a_pages_charts_then_agency_charts_kind_by_kind():
    """The pool's chunks take the charts in this order: a page's ranking and breakdown next
    to each other (one process lays their row names out once), then the agency charts one
    kind after the other, each kind in the agencies' order (a chunk refills one figure)."""
    named = [("radar-7", ("png",)), ("marks-7", ("png",)), ("trend-7", ("png",)),
             ("breakdown-1", ("png", "svg")), ("radar-3", ("png",)), ("ranking-1", ("png",)),
             ("marks-3", ("png",)), ("breakdown-0", ("svg",)), ("trend-3", ("png",)),
             ("ranking-0", ("png", "svg"))]
    assert [name for name, _fmts in chart_cache._paired(named)] == [
        "ranking-0", "breakdown-0", "ranking-1", "breakdown-1",
        "radar-7", "radar-3", "marks-7", "marks-3", "trend-7", "trend-3"]
