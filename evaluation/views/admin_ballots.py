"""The organizer's public review (社会评议): settings, opening, vote codes, turnout, quarantine.

Turnout and the index are for organizers only: the public sees no tally while voting is open.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm, attach_errors
from evaluation.forms_ballots import BallotSettingsForm, DecisionForm, IssueCodesForm
from evaluation.models import BallotKind, IdentityMode
from evaluation.services import ballot_results as results
from evaluation.services import ballot_setup, vote_codes
from evaluation.services.ballots import (
    ballot_agencies,
    public_review_stage,
    settings_of,
    voting_open,
)
from evaluation.services.errors import ValidationFailed
from evaluation.views.admin import bp

BASE = "/campaigns/<int:campaign_id>/public-review"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stage(campaign):
    stage = public_review_stage(get_session(), campaign.id)
    if stage is None:
        abort(404, description=_("本次评议没有设置社会评议阶段。"))
    return stage


def _page(campaign, stage, settings_form=None, codes_form=None, status: int = 200):
    db = get_session()
    settings = settings_of(db, stage)
    if settings_form is None:
        settings_form = BallotSettingsForm(
            formdata=None,
            obj=settings,
            identity_mode=settings.identity_mode.value,
            ballot_kind=settings.ballot_kind.value,
        )
    points = settings.ballot_kind == BallotKind.POINTS
    return render_template(
        "admin/public_review.html",
        campaign=campaign,
        stage=stage,
        settings=settings,
        is_open=voting_open(stage),
        settings_form=settings_form,
        codes_form=codes_form or IssueCodesForm(formdata=None),
        agencies=ballot_agencies(db, stage),
        turnout=results.turnout_by_agency(db, stage),
        counts=results.counts_by_agency(db, stage),
        scores=results.points_by_agency(db, stage)
        if points
        else results.satisfaction_by_agency(db, stage),
        points=points,
        level_names=list(results.LEVEL_NAMES.values()),
        batches=vote_codes.batches(db, stage),
        codes_used=results.codes_used(db, stage),
        queue_length=len(results.quarantine_queue(db, stage)),
        entropy_bits=f"{vote_codes.ENTROPY_BITS:.1f}",
        sms_mode=settings.identity_mode == IdentityMode.SMS,
    ), status


@bp.route(BASE, methods=["GET", "POST"])
@organizer_required
def public_review(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    if request.method == "GET":
        return _page(campaign, stage)
    form = BallotSettingsForm()
    if not form.validate_on_submit():
        return _page(campaign, stage, settings_form=form, status=400)
    try:
        ballot_setup.save_settings(
            get_session(),
            stage,
            ballot_setup.SettingsFields(
                identity_mode=IdentityMode(form.identity_mode.data),
                ballot_kind=BallotKind(form.ballot_kind.data),
                burst_limit=form.burst_limit.data,
                burst_window_seconds=form.burst_window_seconds.data,
                min_fill_seconds=form.min_fill_seconds.data,
            ),
        )
    except ValidationFailed as failure:
        for message in attach_errors(form, failure).values():
            flash(message, "error")
        return _page(campaign, stage, settings_form=form, status=400)
    flash(_("社会评议设置已保存。"), "success")
    return redirect(url_for("admin.public_review", campaign_id=campaign.id), 303)


@bp.post(BASE + "/status")
@organizer_required
def public_review_status(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    action = request.form.get("action")
    if action not in ("open", "close"):
        abort(400, description=_("未知的操作。"))
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        (ballot_setup.open_voting if action == "open" else ballot_setup.close_voting)(
            get_session(), stage
        )
    except ValidationFailed as failure:
        for message in failure.errors.values():
            flash(message, "error")
        return _page(campaign, stage, status=409)
    flash(_("投票已开始。") if action == "open" else _("投票已结束。"), "success")
    return redirect(url_for("admin.public_review", campaign_id=campaign.id), 303)


@bp.post(BASE + "/codes")
@organizer_required
def vote_codes_issue(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    form = IssueCodesForm()
    if not form.validate_on_submit():
        return _page(campaign, stage, codes_form=form, status=400)
    codes = vote_codes.issue_batch(get_session(), stage, form.count.data, current_user.username)
    batch = codes[0].batch
    name = f"vote-codes-{campaign.id}-batch{batch}"
    if form.output.data == "print":
        response = current_app.make_response(
            render_template(
                "admin/vote_codes_print.html",
                campaign=campaign,
                codes=codes,
                batch=batch,
                vote_url=url_for("ballots.overview", campaign_id=campaign.id, _external=True),
            )
        )
    elif form.output.data == "csv":
        response = current_app.response_class(
            vote_codes.codes_csv(codes),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={name}.csv"},
        )
    else:
        response = current_app.response_class(
            vote_codes.codes_xlsx(codes, f"{campaign.title} 社会评议投票码 第{batch}批"),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
        )
    # The codes exist in clear only in this response: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(BASE + "/codes/<int:batch>/revoke")
@organizer_required
def vote_codes_revoke(campaign_id: int, batch: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        count = vote_codes.revoke_batch(get_session(), stage, batch, current_user.username)
    except ValidationFailed as failure:
        abort(409, description=next(iter(failure.errors.values())))
    flash(_("第 %(batch)s 批的 %(count)s 个投票码已作废。", batch=batch, count=count), "success")
    return redirect(url_for("admin.public_review", campaign_id=campaign.id), 303)


def _quarantine_page(campaign, stage, forms=None, status: int = 200):
    db = get_session()
    names = {agency.id: agency.name for _enrolled, agency in ballot_agencies(db, stage)}
    return render_template(
        "admin/ballot_quarantine.html",
        campaign=campaign,
        stage=stage,
        queue=results.quarantine_queue(db, stage),
        decided=results.recently_decided(db, stage),
        names=names,
        reasons_of=results.reasons_of,
        forms=forms or {},
        blank_form=DecisionForm(formdata=None),
    ), status


@bp.get(BASE + "/quarantine")
@organizer_required
def ballot_quarantine(campaign_id: int):
    campaign = get_campaign(campaign_id)
    return _quarantine_page(campaign, _stage(campaign))


@bp.post(BASE + "/quarantine/<int:ballot_id>")
@organizer_required
def ballot_decide(campaign_id: int, ballot_id: int):
    campaign = get_campaign(campaign_id)
    stage = _stage(campaign)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _quarantine_page(campaign, stage, {ballot_id: form}, 400)
    try:
        results.decide(
            get_session(),
            stage,
            ballot_id,
            form.decision.data == "accept",
            form.reason.data,
            current_user.username,
        )
    except ValidationFailed as failure:
        for message in attach_errors(form, failure).values():
            form.reason.errors = [*form.reason.errors, message]
        return _quarantine_page(campaign, stage, {ballot_id: form}, 400)
    flash(_("选票 #%(id)s 已处理。", id=ballot_id), "success")
    return redirect(url_for("admin.ballot_quarantine", campaign_id=campaign.id), 303)
