"""The indicator tree editor: add (top level or child), edit, reorder, delete."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from evaluation.access import get_campaign, get_indicator, organizer_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm, IndicatorForm, attach_errors
from evaluation.models import Indicator, IndicatorKind
from evaluation.services.errors import ValidationFailed
from evaluation.services.indicators import (
    IndicatorFields,
    campaign_indicators,
    create_indicator,
    delete_indicator,
    move_indicator,
    tree_problems,
    update_indicator,
    walk,
)
from evaluation.url_converters import MAX_ID
from evaluation.views.admin import bp, render_form


def _fields(form: IndicatorForm) -> IndicatorFields:
    return IndicatorFields(
        code=form.code.data,
        name=form.name.data,
        max_points=form.max_points.data,
        kind=IndicatorKind(form.kind.data),
        step=form.step.data,
    )


def _tree_page(campaign, form=None, problems_extra=None, status=200):
    indicators = campaign_indicators(get_session(), campaign.id)
    problems = tree_problems(indicators)
    return render_template(
        "admin/indicators.html",
        campaign=campaign,
        rows=walk(indicators),
        problems=problems,
        action_form=CsrfOnlyForm(),
        errors=problems_extra or {},
    ), status


def _parent_for(campaign, parent_id: int | None) -> Indicator | None:
    if parent_id is None:
        return None
    if not 0 < parent_id <= MAX_ID:  # no row, and past MAX_ID the look-up itself overflows
        abort(404)
    parent = get_session().get(Indicator, parent_id)
    if parent is None or parent.campaign_id != campaign.id:
        abort(404)
    return parent


@bp.get("/campaigns/<int:campaign_id>/indicators")
@organizer_required
def indicators(campaign_id: int):
    return _tree_page(get_campaign(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/indicators/new", methods=["GET", "POST"])
@organizer_required
def indicator_new(campaign_id: int):
    campaign = get_campaign(campaign_id)
    parent = _parent_for(campaign, request.args.get("parent", type=int))
    form = IndicatorForm()
    if form.validate_on_submit():
        try:
            create_indicator(get_session(), campaign, _fields(form), parent)
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("指标已添加。"), "success")
            return redirect(url_for("admin.indicators", campaign_id=campaign.id))
    return render_form(
        "admin/indicator_form.html", form, campaign=campaign, parent=parent, indicator=None
    )


@bp.route("/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@organizer_required
def indicator_edit(indicator_id: int):
    node, campaign = get_indicator(indicator_id)
    form = IndicatorForm(obj=node)
    if request.method == "GET":
        form.kind.data = node.kind.value
    if form.validate_on_submit():
        try:
            update_indicator(get_session(), campaign, node, _fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.indicators", campaign_id=campaign.id))
    parent = get_session().get(Indicator, node.parent_id) if node.parent_id else None
    return render_form(
        "admin/indicator_form.html", form, campaign=campaign, parent=parent, indicator=node
    )


@bp.post("/indicators/<int:indicator_id>/move")
@organizer_required
def indicator_move(indicator_id: int):
    node, campaign = get_indicator(indicator_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description=_("移动方向须为 up 或 down。"))
    move_indicator(get_session(), node, -1 if direction == "up" else 1)
    return redirect(url_for("admin.indicators", campaign_id=campaign.id))


@bp.post("/indicators/<int:indicator_id>/delete")
@organizer_required
def indicator_delete(indicator_id: int):
    node, campaign = get_indicator(indicator_id)
    try:
        delete_indicator(get_session(), node)
    except ValidationFailed as failure:
        return _tree_page(campaign, problems_extra=failure.errors, status=409)
    flash(_("指标 %(code)s 已删除。", code=node.code), "success")
    return redirect(url_for("admin.indicators", campaign_id=campaign.id))
