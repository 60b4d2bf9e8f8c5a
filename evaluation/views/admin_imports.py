"""Excel imports of a campaign: upload, progress, preview, commit (all or nothing).

The upload is checked here (size, content), parsed in the worker process (evaluation.jobs)
and reviewed against the database when the preview is shown and again when committed.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation import jobs
from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.imports import KINDS, parsed_from_plain
from evaluation.imports.model import N_
from evaluation.imports.templates import template_workbook
from evaluation.imports.workbook import MAX_BYTES, UnreadableWorkbook, check_xlsx
from evaluation.models import AgencyLevel, IndicatorKind
from evaluation.services.imports import ImportRefused, commit_import, review_import
from evaluation.views.admin import bp

TITLES = {
    "agencies": N_("被评议单位"),
    "judges": N_("评委"),
    "indicators": N_("指标体系"),
    "vote_codes": N_("投票码"),
}
AFTERWARDS = {  # where a committed import is seen
    "agencies": "admin.campaign_agencies_page",
    "judges": "admin.judges",
    "indicators": "admin.indicators",
    "vote_codes": "admin.public_review",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BASE = "/campaigns/<int:campaign_id>/imports"


def _folder() -> Path:
    return Path(current_app.config.get("IMPORTS_FOLDER") or current_app.instance_path)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _job(campaign, kind: str, job_id: str) -> dict:
    """The job, only when it belongs to this campaign and this kind of import."""
    job = jobs.read_job(_folder(), job_id)
    if job is None or job.get("campaign_id") != campaign.id or job.get("kind") != kind:
        abort(404)
    return job


def describe(problem) -> str:
    return _(problem.rule, **problem.params) if problem.params else _(problem.rule)


def _imports_page(campaign, errors: dict[str, str] | None = None, status: int = 200):
    return render_template(
        "admin/imports.html",
        campaign=campaign,
        kinds=list(KINDS),
        titles=TITLES,
        errors=errors or {},
        max_mb=MAX_BYTES // 1024 // 1024,
    ), status


@bp.get(BASE)
@organizer_required
def imports(campaign_id: int):
    return _imports_page(get_campaign(campaign_id))


@bp.get(BASE + "/<kind>/template.xlsx")
@organizer_required
def import_template(campaign_id: int, kind: str):
    get_campaign(campaign_id)
    body = template_workbook(_kind(kind))
    name = f"{kind}-template.xlsx"
    return current_app.response_class(
        body, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.post(BASE + "/<kind>")
@organizer_required
def import_upload(campaign_id: int, kind: str):
    campaign, kind = get_campaign(campaign_id), _kind(kind)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _imports_page(campaign, {kind: _("请选择要上传的 .xlsx 文件。")}, 400)
    data = upload.read()
    try:
        check_xlsx(data)
    except UnreadableWorkbook as refused:
        status = 413 if len(data) > MAX_BYTES else 400
        return _imports_page(campaign, {kind: _(refused.rule, **refused.params)}, status)
    path = jobs.store_upload(_folder(), data)
    job_id = jobs.submit(
        _folder(),
        kind,
        path,
        campaign_id=campaign.id,
        user_id=current_user.id,
        filename=upload.filename[:200],
    )
    return redirect(
        url_for("admin.import_job", campaign_id=campaign.id, kind=kind, job_id=job_id), 303
    )


@bp.get(BASE + "/<kind>/<job_id>")
@organizer_required
def import_job(campaign_id: int, kind: str, job_id: str):
    campaign = get_campaign(campaign_id)
    job = _job(campaign, _kind(kind), job_id)
    return _job_page(campaign, kind, job)


def _job_page(campaign, kind: str, job: dict, refused=None, status: int = 200):
    parsed = review = None
    if job["status"] in ("done", "committed"):
        parsed = parsed_from_plain(job["result"])
        review = review_import(get_session(), campaign, parsed)
        if refused is not None:
            review.problems = refused
    return render_template(
        "admin/import_job.html",
        campaign=campaign,
        kind=kind,
        title=TITLES[kind],
        job=job,
        parsed=parsed,
        review=review,
        describe=describe,
        level_labels={level.value: level.label for level in AgencyLevel},
        kind_labels={kind.value: kind.label for kind in IndicatorKind},
    ), status


@bp.get(BASE + "/<kind>/<job_id>/status.json")
@organizer_required
def import_status(campaign_id: int, kind: str, job_id: str):
    job = _job(get_campaign(campaign_id), _kind(kind), job_id)
    return jsonify(status=job["status"], progress=job.get("progress", 0))


@bp.post(BASE + "/<kind>/<job_id>/commit")
@organizer_required
def import_commit(campaign_id: int, kind: str, job_id: str):
    campaign = get_campaign(campaign_id)
    job = _job(campaign, _kind(kind), job_id)
    if job["status"] == "committed":
        abort(409, description=_("这个文件已经导入过了。"))
    if job["status"] != "done":
        abort(409, description=_("文件还没有读取完成。"))
    try:
        counts = commit_import(get_session(), campaign, parsed_from_plain(job["result"]))
    except ImportRefused as refused:
        return _job_page(campaign, kind, job, refused.problems, 400)
    jobs.update_job(jobs.job_path(_folder(), job_id), status="committed", counts=counts)
    flash(
        _(
            "导入完成：新建 %(created)s 条，加入本次评议 %(enrolled)s 条，跳过 %(skipped)s 条。",
            created=counts.get("create", 0) + counts.get("create_and_enroll", 0),
            enrolled=counts.get("enroll", 0) + counts.get("create_and_enroll", 0),
            skipped=counts.get("skip", 0),
        ),
        "success",
    )
    return redirect(url_for(AFTERWARDS[kind], campaign_id=campaign.id))
