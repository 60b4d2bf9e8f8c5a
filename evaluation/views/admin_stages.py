"""Stage plan: weights (total exactly 100.00) and windows."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from evaluation.access import get_campaign, organizer_required
from evaluation.clock import LOCAL_TZ
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.services.campaigns import STAGE_ORDER, StagePlan, save_stage_plan, stages_of
from evaluation.services.errors import ValidationFailed
from evaluation.services.results_policy import policy_weights_that_differ
from evaluation.views.admin import bp

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


def local_input(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime(DATETIME_INPUT) if moment else ""


def _parse_weight(raw: str, key: str, errors: dict) -> Decimal:
    # NFKC: a Chinese input method types full-width digits and point (３０．５); Decimal took
    # the digits but not the point. stage_plan.js normalizes the same way for its total.
    # A comma is refused, not dropped: "1,5" meant 1.5 (a decimal comma) and was read as 15,
    # and a weight of 0 to 100 has no thousands to separate.
    text = unicodedata.normalize("NFKC", raw)
    try:
        value = Decimal(text.strip())
        if not value.is_finite():
            raise InvalidOperation
        return value
    except InvalidOperation:
        errors[key] = _("请输入数字，例如 20 或 12.5。")
        return Decimal("0")


def parse_local_time(raw: str, key: str, errors: dict) -> datetime | None:
    if not raw.strip():
        return None
    try:
        return datetime.strptime(raw.strip(), DATETIME_INPUT).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        errors[key] = _("时间格式应为 年-月-日 时:分。")
        return None


def parse_plan(form) -> tuple[list[StagePlan], dict[str, str]]:
    plan, errors = [], {}
    for kind in STAGE_ORDER:
        k = kind.value
        plan.append(
            StagePlan(
                kind=kind,
                weight=_parse_weight(form.get(f"weight-{k}", ""), f"weight-{k}", errors),
                opens_at=parse_local_time(form.get(f"opens-{k}", ""), f"opens-{k}", errors),
                closes_at=parse_local_time(form.get(f"closes-{k}", ""), f"closes-{k}", errors),
            )
        )
    return plan, errors


def _values_from_stages(stages) -> dict[str, str]:
    values = {}
    for stage in stages:
        k = stage.kind.value
        values[f"weight-{k}"] = f"{stage.weight:.2f}"
        values[f"opens-{k}"] = local_input(stage.opens_at)
        values[f"closes-{k}"] = local_input(stage.closes_at)
    return values


@bp.route("/campaigns/<int:campaign_id>/stages", methods=["GET", "POST"])
@organizer_required
def stages(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    form = CsrfOnlyForm()
    errors: dict[str, str] = {}
    values = _values_from_stages(stages_of(db, campaign.id))
    if form.validate_on_submit():
        values = {key: request.form.get(key, "") for key in values}
        plan, errors = parse_plan(request.form)
        if not errors:
            try:
                save_stage_plan(db, campaign, plan)
            except ValidationFailed as failure:
                errors = failure.errors
            else:
                flash(_("阶段设置已保存。"), "success")
                return redirect(url_for("admin.stages", campaign_id=campaign.id))
    status = 400 if errors else 200
    return render_template(
        "admin/stages.html",
        campaign=campaign,
        form=form,
        kinds=STAGE_ORDER,
        values=values,
        errors=errors,
        policy_weights=policy_weights_that_differ(db, campaign),
    ), status
