"""Reports of a campaign's results: workbook and chart exports, charts, result sheets.

The serving process only composes the results and reads files: the workbook and the charts
are built in the job worker (evaluation.reports.export), the pages follow its progress.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.imports.model import N_
from evaluation.reports import charts
from evaluation.reports.chart_cache import cached_path, chart_path
from evaluation.reports.export import KINDS
from evaluation.reports.sheets import stream_result_sheets
from evaluation.services import report_jobs
from evaluation.services.errors import ValidationFailed
from evaluation.services.results import ResultsUnavailable, unavailable_reason
from evaluation.views.admin import bp

BASE = "/campaigns/<int:campaign_id>/reports"
MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}
SVG_CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
TITLES = {"workbook": N_("成绩汇总表（Excel）"), "charts": N_("统计图表（PNG、SVG 压缩包）")}


def _folder():
    return report_jobs.reports_folder(current_app.config, current_app.instance_path)


def _composed(campaign):
    return report_jobs.composed_results(get_session(), campaign)


def _composed_or_why(campaign):
    """(the composed results, "") or (None, why they cannot be composed yet: an agency
    without marks, weights that do not add up): the reports page says so, never fails."""
    try:
        return _composed(campaign), ""
    except (ResultsUnavailable, ValidationFailed) as problem:
        return None, unavailable_reason(problem)


def _back_to_reports(campaign, problem: str):
    flash(_("暂时无法合成结果：") + problem, "error")
    return redirect(url_for("admin.reports", campaign_id=campaign.id), 303)


def _chart_url(campaign, composed):
    """URL of a chart's PNG when this revision has it rendered, else None."""
    folder = _folder()

    def url(name: str) -> str | None:
        if not cached_path(folder, composed, name, "png").exists():
            return None
        return url_for("admin.report_chart", campaign_id=campaign.id,
                       revision=composed.revision, name=name, fmt="png")
    return url


def _export_job(campaign, job_id: str) -> dict:
    job = report_jobs.export_job(_folder(), campaign.id, job_id)
    if job is None:
        abort(404)
    return job


@bp.get(BASE)
@organizer_required
def reports(campaign_id: int):
    campaign = get_campaign(campaign_id)
    composed, problem = _composed_or_why(campaign)
    if composed is None:
        return render_template("admin/reports.html", campaign=campaign, problem=problem)
    chart_url = _chart_url(campaign, composed)
    campaign_charts = [(charts.chart_title(composed, name), chart_url(name), name)
                       for name in charts.campaign_chart_names(composed)]
    agencies = [(composed.agencies[a.agency], a) for a in composed.result.agencies]
    return render_template(
        "admin/reports.html", campaign=campaign, composed=composed, kinds=KINDS,
        titles=TITLES, campaign_charts=campaign_charts, agencies=agencies,
        charts_ready=all(url for _title, url, _name in campaign_charts))


@bp.post(BASE + "/export")
@organizer_required
def report_export(campaign_id: int):
    campaign = get_campaign(campaign_id)
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        abort(400, description=_("未知的导出类型：%(kind)s", kind=kind[:40]))
    composed, problem = _composed_or_why(campaign)
    if composed is None:
        return _back_to_reports(campaign, problem)
    job_id = report_jobs.start_export(_folder(), composed, kind, current_user.id)
    return redirect(url_for("admin.report_job", campaign_id=campaign.id, job_id=job_id), 303)


@bp.get(BASE + "/jobs/<job_id>")
@organizer_required
def report_job(campaign_id: int, job_id: str):
    campaign = get_campaign(campaign_id)
    job = _export_job(campaign, job_id)
    ready = report_jobs.export_file(_folder(), job) is not None
    return render_template("admin/report_job.html", campaign=campaign, job=job,
                           title=TITLES[job["kind"]], ready=ready)


@bp.get(BASE + "/jobs/<job_id>/status.json")
@organizer_required
def report_status(campaign_id: int, job_id: str):
    job = _export_job(get_campaign(campaign_id), job_id)
    return jsonify(status=job["status"], progress=job.get("progress", 0))


@bp.get(BASE + "/jobs/<job_id>/download")
@organizer_required
def report_download(campaign_id: int, job_id: str):
    job = _export_job(get_campaign(campaign_id), job_id)
    path = report_jobs.export_file(_folder(), job)
    if path is None:
        abort(409, description=_("文件还没有生成完成。"))
    return send_file(path, as_attachment=True, download_name=job.get("filename") or path.name)


@bp.get(BASE + "/charts/r<int:revision>/<name>.<fmt>")
@organizer_required
def report_chart(campaign_id: int, revision: int, name: str, fmt: str):
    """A rendered chart of one results revision: immutable, so cached by the browser."""
    campaign = get_campaign(campaign_id)
    if fmt not in MIMETYPES or charts.NAME.fullmatch(name) is None:
        abort(404)
    path = chart_path(_folder(), campaign.id, revision, name, fmt)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=MIMETYPES[fmt], max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    if fmt == "svg":
        # Opened on its own, matplotlib's SVG needs its inline styles; it is our own file,
        # and this policy lets it load nothing and run nothing (the site-wide CSP allows no
        # inline styles, ASVS V3.4.3).
        response.headers["Content-Security-Policy"] = SVG_CHART_POLICY
    return response


@bp.get(BASE + "/sheets")
@organizer_required
def result_sheets(campaign_id: int):
    """Printable result sheets: every agency, or one with ?agency=ID."""
    campaign = get_campaign(campaign_id)
    composed, problem = _composed_or_why(campaign)
    if composed is None:
        return _back_to_reports(campaign, problem)
    agency_ids = None
    if request.args.get("agency"):
        agency_id = request.args.get("agency", type=int)
        if agency_id not in composed.result.by_agency:
            abort(404)
        agency_ids = [agency_id]
    pieces = stream_result_sheets(composed, agency_ids, _chart_url(campaign, composed),
                                  back_url=url_for("admin.reports", campaign_id=campaign.id))
    return current_app.response_class(stream_with_context(pieces), mimetype="text/html")
