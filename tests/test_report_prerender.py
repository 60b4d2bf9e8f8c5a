"""Charts drawn ahead: composing a results version fills the chart cache of its revision in
the job worker, in slices an export does not wait behind; the export then draws nothing."""

from __future__ import annotations

import time
from concurrent.futures import Future

import pytest
import results_world
from test_report_cache import counting_render
from webclient import Browserless

from evaluation import jobs
from evaluation.reports import chart_cache, charts, prerender
from evaluation.reports.export import write_payload
from evaluation.reports.sample import sample_composed
from evaluation.services import report_jobs


def _files(folder) -> dict:
    """Every chart file with what changes when it is written again (write-then-rename)."""
    return {path: (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in (folder / "charts").rglob("*.*")}


def _wait(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker did not finish"
        time.sleep(0.2)


# The worker's part needs no database; composing is tested on both backends elsewhere.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_composed_version_is_drawn_ahead_and_its_export_draws_nothing(app, db, tmp_path):
    app.config.update(REPORTS_FOLDER=str(tmp_path), PRERENDER_CHARTS=True)
    world = results_world.build(db)
    web = Browserless(app.test_client())
    web.login(world.composer.username)
    campaign = world.campaign
    assert web.post(f"/admin/campaigns/{campaign.id}/results/versions", {}).status_code == 302
    composed = report_jobs.composed_results(db, campaign)   # what an export draws
    assert composed.revision == 1
    _wait(lambda: chart_cache.is_complete(tmp_path, campaign.id, composed.revision))
    wanted = charts.all_chart_items(composed)
    assert all(chart_cache.cached_path(tmp_path, composed, *item).exists() for item in wanted)
    drawn = _files(tmp_path)
    assert len(drawn) == len(wanted)
    assert not list((tmp_path / "reports").glob("*.pickle"))    # the payload is removed

    answer = web.post(f"/admin/campaigns/{campaign.id}/reports/export", {"kind": "charts"})
    job_id = answer.location.rsplit("/", 1)[1]
    _wait(lambda: report_jobs.export_job(tmp_path, campaign.id, job_id)["status"] == "done")
    assert _files(tmp_path) == drawn       # every chart a cache hit: none written again


class FakeWorker:
    """The job worker's queue, run by hand: one process, jobs in the order queued."""

    def __init__(self, monkeypatch):
        self.queue: list = []
        monkeypatch.setattr(jobs, "run_in_worker", self.submit)

    def submit(self, function, *args) -> Future:
        future = Future()
        self.queue.append((function, args, future))
        return future

    def run_next(self):
        function, args, future = self.queue.pop(0)
        future.set_result(function(*args))       # runs the done callbacks, as the pool does
        return function


def test_an_export_waits_for_one_slice_not_the_whole_pre_render(tmp_path, monkeypatch):
    calls = counting_render(monkeypatch)
    worker = FakeWorker(monkeypatch)
    monkeypatch.setattr(prerender, "SLICE_SECONDS", 0)      # one chart a slice
    composed = sample_composed(agencies=3, judges=5, indicators=10, revision=2)
    assert prerender.start(tmp_path, composed)
    assert not prerender.start(tmp_path, composed)         # one chain a revision

    def export():
        return chart_cache.render_all(tmp_path, composed, workers=1)
    worker.submit(export)                                  # requested during the pre-render
    assert worker.run_next() is prerender.render_slice     # the first slice: one chart
    assert len({name for _rev, name, _fmt in calls}) == 1
    assert [function for function, _args, _future in worker.queue] == [
        export, prerender.render_slice]                     # the export goes next
    assert worker.run_next() is export
    assert sorted(calls) == sorted((2, *item) for item in charts.all_chart_items(composed))
    assert chart_cache.is_complete(tmp_path, composed.campaign_id, 2)
    assert worker.run_next() is prerender.render_slice     # finds nothing left: the end
    assert worker.queue == [] and len(calls) == len(charts.all_chart_items(composed))
    assert not prerender.start(tmp_path, composed)         # complete: nothing queued


def test_a_slice_draws_until_its_time_is_up_and_the_chain_ends_when_all_are_drawn(
        tmp_path, monkeypatch):
    calls = counting_render(monkeypatch)
    composed = sample_composed(agencies=3, judges=5, indicators=10, revision=3)
    payload = write_payload(tmp_path, composed, "prerender-test")
    names = len({name for name, _fmt in charts.all_chart_items(composed)})
    slices = [prerender.render_slice(str(tmp_path), str(payload), 0) for _ in range(names)]
    assert slices == [True] * (names - 1) + [False] and len(calls) == len(
        charts.all_chart_items(composed))
    assert not payload.exists()
    assert chart_cache.is_complete(tmp_path, composed.campaign_id, 3)


def test_a_preview_is_not_drawn_ahead(tmp_path, monkeypatch):
    worker = FakeWorker(monkeypatch)
    assert not prerender.start(tmp_path, sample_composed(agencies=2, judges=5, indicators=10,
                                                         revision=0))
    assert worker.queue == []
