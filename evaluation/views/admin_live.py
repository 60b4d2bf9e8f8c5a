"""Live sessions (现场评议场次) of a campaign: create, order (by hand or by lot), hand out links."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from evaluation.access import get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import REQUIRED, CsrfOnlyForm, attach_errors, enum_options, options, strip
from evaluation.models import BroadcastMode, Indicator, LiveSession, Stage, StageKind
from evaluation.services.agencies import campaign_agencies
from evaluation.services.errors import ValidationFailed
from evaluation.services.judges import campaign_judges
from evaluation.services.live_links import qr_svg, session_urls
from evaluation.services.live_order import draw_order, move_slot, slots_in_order
from evaluation.services.live_sessions import create_session, issue_session_links, rehearsal_for
from evaluation.views.admin import bp, render_form
from evaluation.views.admin_stages import parse_local_time


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LiveSessionForm(FlaskForm):
    title = StringField(_l("场次名称"), filters=[strip],
                        validators=[DataRequired(REQUIRED), Length(max=100)])
    venue = StringField(_l("地点"), filters=[strip], validators=[Length(max=100)])
    starts_at = StringField(_l("开始时间"), filters=[strip])
    broadcast_mode = SelectField(_l("播出方式"), choices=enum_options(BroadcastMode))
    embargo_until = StringField(_l("录播成绩公布时间"), filters=[strip])
    score_max = DecimalField(_l("总分满分"), places=None, default=Decimal("100"),
                             validators=[InputRequired(REQUIRED), NumberRange(min=Decimal("0.01"))])
    score_step = DecimalField(_l("评分步长"), places=None, default=Decimal("0.5"),
                              validators=[InputRequired(REQUIRED),
                                          NumberRange(min=Decimal("0.01"))])
    drop_high = IntegerField(_l("去掉最高分个数"), default=1,
                             validators=[InputRequired(REQUIRED), NumberRange(min=0, max=5)])
    drop_low = IntegerField(_l("去掉最低分个数"), default=1,
                            validators=[InputRequired(REQUIRED), NumberRange(min=0, max=5)])
    sheet_indicator_id = SelectField(_l("评分表"), coerce=int, default=0)
    agency_ids = Checkboxes(_l("上场单位（按勾选顺序出场，可再调整或抽签）"), coerce=int,
                            validators=[DataRequired(_l("请至少选择一个单位。"))])
    judge_ids = Checkboxes(_l("评委席"), coerce=int,
                           validators=[DataRequired(_l("请至少选择一位评委。"))])
    chief_judge_id = SelectField(_l("评委会主任（审批作废）"), coerce=int, default=0,
                                 validators=[Optional()])


def _onsite_stage(campaign) -> Stage:
    stage = get_session().exec(select(Stage).where(
        Stage.campaign_id == campaign.id, Stage.kind == StageKind.ONSITE_REVIEW)).first()
    if stage is None:
        abort(404)
    return stage


def _prepare(form: LiveSessionForm, campaign) -> LiveSessionForm:
    db = get_session()
    agencies = campaign_agencies(db, campaign.id)
    judges = campaign_judges(db, campaign.id)
    indicators = db.exec(select(Indicator).where(Indicator.campaign_id == campaign.id)
                         .order_by(Indicator.code)).all()
    parents = {i.parent_id for i in indicators if i.parent_id}
    form.agency_ids.choices = options((a.id, f"{entry.group_name} · {a.name}")
                                      for entry, a in agencies)
    form.judge_ids.choices = options((j.id, f"{j.name}（{_(j.group_name)}）") for j in judges)
    form.chief_judge_id.choices = options([(0, _("（不设）"))] + [(j.id, j.name) for j in judges])
    form.sheet_indicator_id.choices = options(
        [(0, _("一个总分"))] + [(i.id, _("按指标：%(code)s %(name)s", code=i.code, name=i.name))
                                for i in indicators if i.id in parents])
    return form


def _create(form: LiveSessionForm, stage: Stage) -> LiveSession:
    errors: dict[str, str] = {}
    starts_at = parse_local_time(form.starts_at.data, "starts_at", errors)
    embargo = parse_local_time(form.embargo_until.data, "embargo_until", errors)
    mode = BroadcastMode(form.broadcast_mode.data)
    if mode == BroadcastMode.RECORDED and embargo is None and "embargo_until" not in errors:
        errors["embargo_until"] = _("录播场次须填写成绩公布时间。")
    if form.score_step.data > form.score_max.data:
        errors["score_step"] = _("步长不能大于满分。")
    if form.chief_judge_id.data and form.chief_judge_id.data not in form.judge_ids.data:
        errors["chief_judge_id"] = _("评委会主任须是本场评委。")
    db = get_session()
    if db.exec(select(LiveSession).where(LiveSession.stage_id == stage.id,
                                         LiveSession.title == form.title.data)).first():
        errors["title"] = _("已有同名场次。")
    if errors:
        raise ValidationFailed(errors)
    return create_session(
        db, stage, form.title.data, form.agency_ids.data, form.judge_ids.data,
        chief_judge_id=form.chief_judge_id.data or None, venue=form.venue.data or "",
        starts_at=starts_at, broadcast_mode=mode,
        embargo_until=embargo if mode == BroadcastMode.RECORDED else None,
        score_max=form.score_max.data, score_step=form.score_step.data,
        drop_high=form.drop_high.data, drop_low=form.drop_low.data,
        sheet_indicator_id=form.sheet_indicator_id.data or None,
    )


@bp.route("/campaigns/<int:campaign_id>/live", methods=["GET", "POST"])
@organizer_required
def live_sessions(campaign_id: int):
    campaign = get_campaign(campaign_id)
    stage = _onsite_stage(campaign)
    form = _prepare(LiveSessionForm(), campaign)
    if form.validate_on_submit():
        try:
            live = _create(form, stage)
        except ValidationFailed as failure:
            attach_errors(form, failure)
        else:
            flash(_("场次已创建。"), "success")
            return redirect(url_for("admin.live_session", session_id=live.id))
    sessions = get_session().exec(select(LiveSession).where(
        LiveSession.stage_id == stage.id).order_by(LiveSession.id)).all()
    return render_form("admin/live_sessions.html", form, campaign=campaign, sessions=sessions)


def _owned_session(session_id: int) -> tuple[LiveSession, object]:
    live = get_session().get(LiveSession, session_id)
    if live is None:
        abort(404)
    stage = get_session().get(Stage, live.stage_id)
    return live, get_campaign(stage.campaign_id)


def _page(live: LiveSession, campaign, status: int = 200, links=None):
    db = get_session()
    from evaluation.models import Agency

    slots = [(slot, db.get(Agency, slot.agency_id)) for slot in slots_in_order(db, live)]
    return render_template("admin/live_session.html", live=live, campaign=campaign,
                           slots=slots, form=CsrfOnlyForm(), links=links), status


@bp.get("/live/<int:session_id>")
@organizer_required
def live_session(session_id: int):
    return _page(*_owned_session(session_id))


def _ordered(session_id: int, change) -> object:
    live, campaign = _owned_session(session_id)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        change(live)
    except ValidationFailed as failure:
        flash(" ".join(failure.errors.values()), "error")
        return _page(live, campaign, 409)
    return redirect(url_for("admin.live_session", session_id=live.id))


@bp.post("/live/<int:session_id>/slots/<int:slot_id>/<any(up, down):direction>")
@organizer_required
def live_move(session_id: int, slot_id: int, direction: str):
    offset = -1 if direction == "up" else 1
    return _ordered(session_id, lambda live: move_slot(get_session(), live, slot_id, offset))


@bp.post("/live/<int:session_id>/draw")
@organizer_required
def live_draw(session_id: int):
    def draw(live):
        seed = draw_order(get_session(), live)
        flash(_("已抽签，种子 %(seed)s 已记入审计日志。", seed=seed), "success")

    return _ordered(session_id, draw)


@bp.post("/live/<int:session_id>/links")
@organizer_required
def live_links(session_id: int):
    """Fresh links for everyone (earlier ones stop working), shown once with QR codes."""
    live, campaign = _owned_session(session_id)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    issued = issue_session_links(get_session(), live)
    urls = session_urls(request.host_url.rstrip("/"), live.id, issued)
    return render_template("admin/live_links.html", live=live, campaign=campaign, urls=urls,
                           qr=qr_svg)


@bp.post("/live/<int:session_id>/rehearsal")
@organizer_required
def live_rehearsal(session_id: int):
    live, _campaign = _owned_session(session_id)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        rehearsal = rehearsal_for(get_session(), live, reset=request.form.get("reset") == "1")
    except ValidationFailed:
        abort(409)
    flash(_("彩排场次已准备好：评分不计入成绩。"), "success")
    return redirect(url_for("admin.live_session", session_id=rehearsal.id))
