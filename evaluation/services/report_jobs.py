"""Reports of a campaign's results: where they come from and how their jobs are started.

`composed_results` is the one place the report pages get a campaign's ComposedResults from
(the results service reads the database and scores it); everything else here is about the
export jobs: the worker builds the file (evaluation.reports.export), the pages follow it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from evaluation import jobs
from evaluation.reports.export import KINDS, SUFFIX, output_path, run_export, write_payload
from evaluation.services.results_data import ComposedResults

WHAT = {"workbook": "成绩汇总表", "charts": "统计图表"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def composed_results(db, campaign) -> ComposedResults:
    """The campaign's results as plain data: its newest results version, recomputed from that
    version's frozen marks and policy; before any version, a preview composed now.

    The chart cache keys on the revision: a version's number names results that never change,
    so its charts are drawn once. A preview is revision 0 whatever the marks, so its charts
    are redrawn on every export (chart_cache.render_all).
    """
    from evaluation.services.results import compose, composed_for_version
    from evaluation.services.results_versions import versions_of

    versions = versions_of(db, campaign)
    return composed_for_version(db, versions[0]) if versions else compose(db, campaign)


def prerender_charts(config: dict, folder: Path, composed: ComposedResults) -> bool:
    """Queue the charts of a results version in the worker (evaluation.reports.prerender),
    so that its export is a cache hit; False when off (PRERENDER_CHARTS) or nothing to do."""
    if not config.get("PRERENDER_CHARTS", True):
        return False
    from evaluation.reports import prerender

    return prerender.start(folder, composed)


def prerender_newest(config: dict, folder: Path, db, campaign) -> bool:
    """prerender_charts for the version the reports show (the newest), when its charts are
    not all drawn yet (e.g. the server restarted during the pre-render after composing)."""
    from evaluation.reports.chart_cache import is_complete
    from evaluation.services.results import composed_for_version
    from evaluation.services.results_versions import versions_of

    versions = versions_of(db, campaign)
    if not config.get("PRERENDER_CHARTS", True) or not versions or \
            is_complete(folder, campaign.id, versions[0].number):
        return False
    return prerender_charts(config, folder, composed_for_version(db, versions[0]))


def reports_folder(config: dict, instance_path: str) -> Path:
    return Path(config.get("REPORTS_FOLDER") or instance_path)


def download_name(composed: ComposedResults, kind: str) -> str:
    title = _UNSAFE.sub("_", composed.title)[:80]
    return f"{title}-{WHAT[kind]}-r{composed.revision}{SUFFIX[kind]}"


def start_export(folder: Path, composed: ComposedResults, kind: str, user_id: int) -> str:
    """Queue the export `kind` of `composed` in the worker; returns the job id."""
    if kind not in KINDS:
        raise ValueError(kind)
    payload = write_payload(folder, composed, secrets.token_hex(16))
    return jobs.submit(folder, kind, payload, runner=run_export,
                       campaign_id=composed.campaign_id, revision=composed.revision,
                       user_id=user_id, filename=download_name(composed, kind))


def export_job(folder: Path, campaign_id: int, job_id: str) -> dict | None:
    """The export job, only when it is one of this campaign's report exports."""
    job = jobs.read_job(folder, job_id)
    if job is None or job.get("campaign_id") != campaign_id or job.get("kind") not in KINDS:
        return None
    return job


def export_file(folder: Path, job: dict) -> Path | None:
    """The finished export's file, or None while it is not there."""
    if job.get("status") != "done":
        return None
    path = output_path(folder, job["id"], job["kind"])
    return path if path.exists() else None
