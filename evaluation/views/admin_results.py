"""Organizer results pages: preview, policy, what-if, versions (certify, publish), appeals."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import Appeal, ResultsVersion, User
from evaluation.services import report_jobs
from evaluation.services.appeals import appeals_of, decide_appeal
from evaluation.services.errors import ValidationFailed
from evaluation.services.results import ResultsUnavailable, compose, unavailable_reason
from evaluation.services.results_freeze import FrozenView, freeze
from evaluation.services.results_policy import (
    SCORED_KINDS,
    TRIMMED,
    build_policy,
    default_settings,
    load_policy,
    save_policy,
    settings_from_form,
    settings_from_policy,
    settings_to_form,
)
from evaluation.services.results_versions import (
    TwoPersonRule,
    WorkflowRefused,
    appeal_days_from,
    certify,
    compose_version_and_results,
    edit_announcement,
    publish,
    versions_of,
)
from evaluation.views.admin import bp


def _preview(db, campaign, policy=None) -> tuple[FrozenView | None, str]:
    """The results as they would be composed now, or why they cannot be yet."""
    try:
        return FrozenView(freeze(compose(db, campaign, policy))), ""
    except (ResultsUnavailable, ValidationFailed) as problem:
        return None, unavailable_reason(problem)


def _refusal_status(failure: ValidationFailed) -> int:
    if isinstance(failure, TwoPersonRule):
        return 403
    return 409 if isinstance(failure, WorkflowRefused) else 400


def get_version(version_id: int):
    version = get_session().get(ResultsVersion, version_id)
    if version is None:
        abort(404)
    return version, get_campaign(version.campaign_id)


@bp.get("/campaigns/<int:campaign_id>/results")
@organizer_required
def results(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    preview, problem = _preview(db, campaign)
    versions = versions_of(db, campaign)
    return render_template(
        "admin/results.html", campaign=campaign, preview=preview, problem=problem,
        versions=versions, users=_names(db, versions), form=CsrfOnlyForm(),
        published=next((v for v in versions if v.status.value == "published"), None),
    )


def _names(db, versions) -> dict[int, str]:
    ids = {i for v in versions for i in (v.composed_by, v.certified_by) if i}
    return {i: db.get(User, i).display_name for i in ids}


def _current_values(db, campaign) -> tuple[dict, dict]:
    """The stored (or default) policy as form values; defaults that do not add up are shown
    with their problem rather than failing the page."""
    try:
        return settings_to_form(settings_from_policy(load_policy(db, campaign))), {}
    except ValidationFailed as failure:
        return settings_to_form(default_settings(db, campaign)), failure.errors


def _policy_page(campaign, values, errors, status=200, template="admin/results_policy.html",
                 **context):
    return render_template(template, campaign=campaign, values=values, errors=errors,
                           kinds=SCORED_KINDS, trimmed=TRIMMED, form=CsrfOnlyForm(),
                           **context), status


@bp.route("/campaigns/<int:campaign_id>/results/policy", methods=["GET", "POST"])
@organizer_required
def results_policy(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    form = CsrfOnlyForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            return _policy_page(campaign, request.form, {"form": _("表单已过期，请重试。")}, 400)
        return _policy_page(campaign, *_current_values(db, campaign))
    try:
        policy = build_policy(settings_from_form(request.form))
        save_policy(db, campaign, policy, current_user.id)
    except ValidationFailed as failure:
        return _policy_page(campaign, request.form, failure.errors, 400)
    flash(_("计分规则已保存（指纹 %(fp)s）。", fp=policy.fingerprint[:12]), "success")
    return redirect(url_for("admin.results", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/results/what-if")
@organizer_required
def results_what_if(campaign_id: int):
    """Other weights or rules, computed in memory beside the stored policy: nothing is saved."""
    campaign = get_campaign(campaign_id)
    db = get_session()
    current, problem = _preview(db, campaign)
    if not request.args:
        values, errors = _current_values(db, campaign)
        return _policy_page(campaign, values, errors, template="admin/results_what_if.html",
                            current=current, other=None, problem=problem, other_problem="")
    try:
        policy = build_policy(settings_from_form(request.args))
    except ValidationFailed as failure:
        return _policy_page(campaign, request.args, failure.errors, 400,
                            template="admin/results_what_if.html", current=current,
                            other=None, problem=problem, other_problem="")
    other, other_problem = _preview(db, campaign, policy)
    return _policy_page(campaign, request.args, {}, template="admin/results_what_if.html",
                        current=current, other=other, problem=problem,
                        other_problem=other_problem)


@bp.post("/campaigns/<int:campaign_id>/results/versions")
@organizer_required
def results_compose(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        version, composed = compose_version_and_results(
            db, campaign, current_user, reason=request.form.get("reason", ""))
    except ValidationFailed as failure:
        flash("；".join(failure.errors.values()), "error")
        return redirect(url_for("admin.results", campaign_id=campaign.id), code=303)
    except ResultsUnavailable as problem:
        flash(str(problem), "error")
        return redirect(url_for("admin.results", campaign_id=campaign.id), code=303)
    _prerender(lambda folder: report_jobs.prerender_charts(current_app.config, folder, composed))
    flash(_("已生成第 %(n)s 版结果草稿，请另一位组织者复核。", n=version.number), "success")
    return redirect(url_for("admin.results_version", version_id=version.id))


def _prerender(queue) -> None:
    """Queue the charts of a composed, certified or published version in the job worker.
    Only a head start for the exports: a failure here is logged, never the organizer's."""
    folder = report_jobs.reports_folder(current_app.config, current_app.instance_path)
    try:
        queue(folder)
    except Exception:   # noqa: BLE001 - the version is committed; an export draws the charts
        current_app.logger.exception("charts of a results version not queued")


def _version_page(version, campaign, errors=None, status=200):
    db = get_session()
    appeals = appeals_of(db, version)
    view = FrozenView.load(version.results_json)
    return render_template(
        "admin/results_version.html", version=version, campaign=campaign, view=view,
        errors=errors or {}, form=CsrfOnlyForm(), names=_names(db, [version]), appeals=appeals,
        appeal_agencies={a.id: view.agency(a.agency_id) for a in appeals},
    ), status


@bp.get("/results/<int:version_id>")
@organizer_required
def results_version(version_id: int):
    version, campaign = get_version(version_id)
    return _version_page(version, campaign)


def _version_step(version_id: int, step, done_message: str, after=None):
    version, campaign = get_version(version_id)
    if not CsrfOnlyForm().validate_on_submit():
        return _version_page(version, campaign, {"form": _("表单已过期，请重试。")}, 400)
    try:
        step(get_session(), version)
    except ValidationFailed as failure:
        get_session().rollback()
        return _version_page(version, campaign, failure.errors, _refusal_status(failure))
    if after is not None:
        _prerender(lambda folder: after(folder, campaign))
    flash(done_message, "success")
    return redirect(url_for("admin.results_version", version_id=version.id))


@bp.post("/results/<int:version_id>/certify")
@organizer_required
def results_certify(version_id: int):
    return _version_step(version_id, lambda db, v: certify(db, v, current_user),
                         _("已复核。"), after=_prerender_newest)


@bp.post("/results/<int:version_id>/announcement")
@organizer_required
def results_announcement(version_id: int):
    return _version_step(
        version_id, lambda db, v: edit_announcement(db, v, request.form.get("announcement", "")),
        _("公示文本已保存。"))


@bp.post("/results/<int:version_id>/publish")
@organizer_required
def results_publish(version_id: int):
    try:
        days = appeal_days_from(request.form.get("appeal_days", ""))
    except ValidationFailed as failure:
        version, campaign = get_version(version_id)
        return _version_page(version, campaign, failure.errors, 400)
    return _version_step(
        version_id, lambda db, v: publish(db, v, current_user, appeal_days=days),
        _("结果已公布。"), after=_prerender_newest)


def _prerender_newest(folder, campaign) -> None:
    """After certifying or publishing: the pre-render after composing normally finished
    long ago (nothing to do); if it was cut short (a restart), it goes on."""
    report_jobs.prerender_newest(current_app.config, folder, get_session(), campaign)


@bp.post("/appeals/<int:appeal_id>/decision")
@organizer_required
def appeal_decide(appeal_id: int):
    db = get_session()
    appeal = db.get(Appeal, appeal_id)
    if appeal is None:
        abort(404)
    version, campaign = get_version(appeal.version_id)
    if not CsrfOnlyForm().validate_on_submit():
        return _version_page(version, campaign, {"form": _("表单已过期，请重试。")}, 400)
    try:
        decide_appeal(db, appeal, current_user, request.form.get("status", ""),
                      request.form.get("decision", ""))
    except ValidationFailed as failure:
        db.rollback()
        errors = {f"appeal-{appeal.id}": "；".join(failure.errors.values())}
        return _version_page(version, campaign, errors, _refusal_status(failure))
    flash(_("申诉处理结果已记录。"), "success")
    return redirect(url_for("admin.results_version", version_id=version.id))
