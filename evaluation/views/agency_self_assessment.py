"""自查自评 for the agency contact: the draft form, evidence files, submit, past versions.

Every route resolves the submission from the contact's own agency, never from an id in
the URL, so agency B has no URL that reaches agency A's drafts or files.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import StoredFile, Submission
from evaluation.services.errors import ValidationFailed
from evaluation.services.file_store import MAX_FILE_BYTES, files_root
from evaluation.services.self_assessment import (
    MAX_EVIDENCE_FILES,
    ScoreInput,
    add_evidence,
    campaign_leaves,
    closed_reason,
    comments_by_indicator,
    deadline_of,
    draft_scores,
    evidence_files,
    find_submission,
    indicator_paths,
    latest_version,
    remove_evidence,
    save_and_submit,
    save_draft,
    submission_for,
    versions_of,
)
from evaluation.views.agency_portal import bp, contact_required, enrolled_campaign
from evaluation.views.downloads import send_stored, uploads_from_request
from evaluation.views.submission_pages import render_version, submission_file_ids


def _own_submission(campaign_id: int, *, create: bool = True) -> tuple:
    campaign, _entry = enrolled_campaign(campaign_id)
    load = submission_for if create else find_submission
    return campaign, load(get_session(), campaign.id, current_user.agency_id)


def _scores_from_form(leaves) -> dict[int, ScoreInput]:
    return {
        node.id: ScoreInput(
            points=request.form.get(f"points-{node.id}", ""),
            explanation=request.form.get(f"explanation-{node.id}", ""),
        )
        for node in leaves
        if f"points-{node.id}" in request.form
    }


def _page(campaign, submission: Submission, errors=None, values=None, status=200):
    db = get_session()
    leaves = campaign_leaves(db, campaign)
    stored = {s.indicator_id: s for s in draft_scores(db, submission.id)}
    if values is None:
        values = {"report_md": submission.report_md}
        for node in leaves:
            row = stored.get(node.id)
            values[f"points-{node.id}"] = f"{row.points.normalize():f}" if row else ""
            values[f"explanation-{node.id}"] = row.explanation if row else ""
    last = latest_version(db, submission.id)
    returned_comments = comments_by_indicator(db, last.id) if last and last.decision else {}
    return render_template(
        "agency/self_assessment.html",
        campaign=campaign,
        submission=submission,
        leaves=leaves,
        paths=indicator_paths(db, campaign.id),
        values=values,
        errors=errors or {},
        closed=closed_reason(db, submission),
        deadline=deadline_of(db, submission),
        files=evidence_files(db, submission.id),
        versions=versions_of(db, submission.id),
        last=last,
        comments=returned_comments,
        form=CsrfOnlyForm(),
        max_files=MAX_EVIDENCE_FILES,
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
    ), status


@bp.get("/campaigns/<int:campaign_id>/self-assessment")
@contact_required
def self_assessment(campaign_id: int):
    campaign, submission = _own_submission(campaign_id, create=False)
    return _page(campaign, submission)


@bp.post("/campaigns/<int:campaign_id>/self-assessment")
@contact_required
def self_assessment_save(campaign_id: int):
    campaign, submission = _own_submission(campaign_id)
    db = get_session()
    leaves = campaign_leaves(db, campaign)
    report = request.form.get("report_md", "").replace("\r\n", "\n")
    scores = _scores_from_form(leaves)
    try:
        if request.form.get("action") == "submit":
            version = save_and_submit(db, submission, report, scores, current_user)
            flash(_("已提交第 %(n)d 版自评材料，等待评议办审核。", n=version.number), "success")
        else:
            save_draft(db, submission, report, scores)
            flash(_("草稿已保存。"), "success")
    except ValidationFailed as failure:
        db.rollback()
        values = {key: request.form.get(key, "") for key in request.form}
        values["report_md"] = report
        status = 409 if "form" in failure.errors else 400
        return _page(campaign, submission, failure.errors, values, status)
    return redirect(url_for("agency.self_assessment", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/self-assessment/evidence")
@contact_required
def evidence_upload(campaign_id: int):
    campaign, submission = _own_submission(campaign_id)
    db = get_session()
    uploads = uploads_from_request("file")
    if not uploads:
        return _page(campaign, submission, {"file": _("请选择要上传的文件。")}, status=400)
    try:
        add_evidence(db, files_root(current_app), submission, uploads, current_user)
    except ValidationFailed as failure:
        db.rollback()
        status = 409 if "form" in failure.errors else 400
        return _page(campaign, submission, failure.errors, status=status)
    flash(_("已上传 %(n)d 个文件。", n=len(uploads)), "success")
    return redirect(url_for("agency.self_assessment", campaign_id=campaign.id) + "#evidence")


@bp.post("/campaigns/<int:campaign_id>/self-assessment/evidence/<int:evidence_id>/delete")
@contact_required
def evidence_delete(campaign_id: int, evidence_id: int):
    campaign, submission = _own_submission(campaign_id, create=False)
    try:
        remove_evidence(get_session(), submission, evidence_id)
    except ValidationFailed as failure:
        status = 409 if "form" in failure.errors else 404
        return _page(campaign, submission, failure.errors, status=status)
    flash(_("文件已删除。"), "success")
    return redirect(url_for("agency.self_assessment", campaign_id=campaign.id) + "#evidence")


@bp.get("/campaigns/<int:campaign_id>/self-assessment/files/<int:file_id>")
@contact_required
def evidence_download(campaign_id: int, file_id: int):
    _campaign, submission = _own_submission(campaign_id, create=False)
    db = get_session()
    if file_id not in submission_file_ids(db, submission):
        abort(404)
    return send_stored(db.get(StoredFile, file_id))


@bp.get("/campaigns/<int:campaign_id>/self-assessment/versions/<int:number>")
@contact_required
def version(campaign_id: int, number: int):
    campaign, submission = _own_submission(campaign_id, create=False)
    db = get_session()
    found = next((v for v in versions_of(db, submission.id) if v.number == number), None)
    if found is None:
        abort(404)
    return render_version(campaign, submission, found, for_agency=True)
