"""自查自评 for the organizer: completeness, review (accept / return), reopen, compare."""

from __future__ import annotations

import json
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_campaign, organizer_required
from evaluation.clock import LOCAL_TZ
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import Agency, ReviewDecision, StoredFile, Submission
from evaluation.services.agencies import campaign_agencies
from evaluation.services.errors import ValidationFailed
from evaluation.services.markdown_text import render_markdown
from evaluation.services.self_assessment import (
    campaign_leaves,
    closed_reason,
    deadline_of,
    evidence_files,
    latest_version,
    reopen,
    review,
    self_assessment_stage,
    submission_for,
    versions_of,
)
from evaluation.services.self_assessment_overview import compare_versions, completeness
from evaluation.views.admin import bp
from evaluation.views.admin_stages import DATETIME_INPUT, local_input
from evaluation.views.downloads import send_stored
from evaluation.views.submission_pages import render_version, submission_file_ids


def _submission(submission_id: int):
    submission = get_session().get(Submission, submission_id)
    if submission is None:
        abort(404)
    return submission, get_campaign(submission.campaign_id)


@bp.get("/campaigns/<int:campaign_id>/self-assessment")
@organizer_required
def self_assessments(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    rows = completeness(db, campaign.id)
    return render_template(
        "admin/self_assessments.html",
        campaign=campaign,
        rows=rows,
        missing=[r for r in rows if not r.has_submitted],
        stage=self_assessment_stage(db, campaign.id),
    )


def _review_page(submission, campaign, errors=None, status=200):
    db = get_session()
    last = latest_version(db, submission.id)
    return render_template(
        "admin/submission_review.html",
        campaign=campaign,
        submission=submission,
        agency=db.get(Agency, submission.agency_id),
        last=last,
        report=render_markdown(last.report_md) if last else "",
        scores=json.loads(last.scores_json) if last else [],
        last_files=json.loads(last.files_json) if last else [],
        versions=versions_of(db, submission.id),
        deadline=deadline_of(db, submission),
        closed=closed_reason(db, submission),
        reopen_default=local_input(deadline_of(db, submission)),
        draft_files=evidence_files(db, submission.id),
        leaves=campaign_leaves(db, campaign),
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        form=CsrfOnlyForm(),
    ), status


@bp.post("/campaigns/<int:campaign_id>/self-assessment/<int:agency_id>/start")
@organizer_required
def submission_start(campaign_id: int, agency_id: int):
    """An agency that never opened its form: create the (empty) submission to reopen it."""
    campaign = get_campaign(campaign_id)
    db = get_session()
    if not any(a.id == agency_id for _entry, a in campaign_agencies(db, campaign.id)):
        abort(404)
    submission = submission_for(db, campaign.id, agency_id)
    return redirect(url_for("admin.submission_review", submission_id=submission.id))


@bp.get("/submissions/<int:submission_id>")
@organizer_required
def submission_review(submission_id: int):
    submission, campaign = _submission(submission_id)
    return _review_page(submission, campaign)


@bp.post("/submissions/<int:submission_id>/review")
@organizer_required
def submission_decide(submission_id: int):
    submission, campaign = _submission(submission_id)
    db = get_session()
    raw = request.form.get("decision", "")
    if raw not in {d.value for d in ReviewDecision}:
        return _review_page(submission, campaign, {"decision": _("请选择审核结果。")}, 400)
    comments = {
        int(key.removeprefix("comment-")): value
        for key, value in request.form.items()
        if key.startswith("comment-") and key.removeprefix("comment-").isdigit()
    }
    try:
        review(
            db,
            submission,
            current_user,
            ReviewDecision(raw),
            request.form.get("note", ""),
            comments,
        )
    except ValidationFailed as failure:
        db.rollback()
        status = 409 if "form" in failure.errors else 400
        return _review_page(submission, campaign, failure.errors, status)
    flash(_("审核结果已保存。"), "success")
    return redirect(url_for("admin.self_assessments", campaign_id=campaign.id))


@bp.post("/submissions/<int:submission_id>/reopen")
@organizer_required
def submission_reopen(submission_id: int):
    submission, campaign = _submission(submission_id)
    db = get_session()
    try:
        until = datetime.strptime(request.form.get("until", "").strip(), DATETIME_INPUT)
    except ValueError:
        return _review_page(
            submission, campaign, {"until": _("时间格式应为 年-月-日 时:分。")}, 400
        )
    try:
        reopen(db, submission, until.replace(tzinfo=LOCAL_TZ))
    except ValidationFailed as failure:
        db.rollback()
        return _review_page(submission, campaign, failure.errors, 400)
    flash(_("已重新开放，该单位可在新的截止时间前修改并提交。"), "success")
    return redirect(url_for("admin.submission_review", submission_id=submission.id))


@bp.get("/submissions/<int:submission_id>/versions/<int:number>")
@organizer_required
def submission_version(submission_id: int, number: int):
    submission, campaign = _submission(submission_id)
    found = next((v for v in versions_of(get_session(), submission.id) if v.number == number), None)
    if found is None:
        abort(404)
    return render_version(campaign, submission, found, for_agency=False)


@bp.get("/submissions/<int:submission_id>/compare")
@organizer_required
def submission_compare(submission_id: int):
    submission, campaign = _submission(submission_id)
    versions = {v.number: v for v in versions_of(get_session(), submission.id)}
    old = versions.get(request.args.get("a", type=int))
    new = versions.get(request.args.get("b", type=int))
    if old is None or new is None:
        abort(404, description=_("请选择两个已提交的版本进行比较。"))
    return render_template(
        "admin/submission_compare.html",
        campaign=campaign,
        submission=submission,
        agency=get_session().get(Agency, submission.agency_id),
        comparison=compare_versions(old, new),
    )


@bp.get("/submissions/<int:submission_id>/files/<int:file_id>")
@organizer_required
def submission_file(submission_id: int, file_id: int):
    submission, _campaign = _submission(submission_id)
    db = get_session()
    if file_id not in submission_file_ids(db, submission):
        abort(404)
    return send_stored(db.get(StoredFile, file_id))
