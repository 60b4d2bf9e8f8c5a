"""Judges of a campaign."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from evaluation.access import get_campaign, get_judge, organizer_required
from evaluation.db import get_session
from evaluation.forms import JudgeForm, attach_errors, options
from evaluation.services.agencies import organization_agencies
from evaluation.services.errors import ValidationFailed
from evaluation.services.judges import (
    JUDGE_GROUPS,
    JudgeFields,
    campaign_judges,
    create_judge,
    update_judge,
)
from evaluation.views.admin import bp, render_form


def _prepare(form: JudgeForm, campaign) -> JudgeForm:
    form.group_name.choices = options((g, _(g)) for g in JUDGE_GROUPS)
    agencies = organization_agencies(get_session(), campaign.organization_id)
    form.affiliation_agency_id.choices = options(
        [(0, _("（无）"))] + [(a.id, a.name) for a in agencies]
    )
    return form


def _fields(form: JudgeForm) -> JudgeFields:
    return JudgeFields(
        name=form.name.data,
        group_name=form.group_name.data,
        title=form.title.data or "",
        affiliation_agency_id=form.affiliation_agency_id.data or None,
        contact=form.contact.data or "",
    )


@bp.route("/campaigns/<int:campaign_id>/judges", methods=["GET", "POST"])
@organizer_required
def judges(campaign_id: int):
    """The list, with the add form below it."""
    campaign = get_campaign(campaign_id)
    form = _prepare(JudgeForm(), campaign)
    if form.validate_on_submit():
        try:
            create_judge(get_session(), campaign, _fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("评委已添加。"), "success")
            return redirect(url_for("admin.judges", campaign_id=campaign.id))
    return render_form(
        "admin/judges.html",
        form,
        campaign=campaign,
        judges=campaign_judges(get_session(), campaign.id),
        # The affiliation choices already name every agency of the organization.
        agency_names={choice.value: choice.label for choice in form.affiliation_agency_id.choices},
    )


@bp.route("/judges/<int:judge_id>/edit", methods=["GET", "POST"])
@organizer_required
def judge_edit(judge_id: int):
    judge, campaign = get_judge(judge_id)
    form = _prepare(JudgeForm(obj=judge), campaign)
    if request.method == "GET":
        form.affiliation_agency_id.data = judge.affiliation_agency_id or 0
    if form.validate_on_submit():
        try:
            update_judge(get_session(), campaign, judge, _fields(form))
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.judges", campaign_id=campaign.id))
    return render_form("admin/judge_form.html", form, campaign=campaign, judge=judge)
