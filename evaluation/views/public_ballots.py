"""The public's ballot pages (社会评议): choose an agency, verify, vote. POST only, CSRF.

The POSTs are rate-limited in three layers (evaluation/ballot_limits.py); a ballot is
checked and stored by evaluation/ballot_cast.py, which the ballot lane runs too. A refused
ballot re-shows the form with the reason next to the field; nothing is stored.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from evaluation import ballot_cast, ballot_limits
from evaluation.ballot_lane import LANE_FAILED
from evaluation.db import get_session
from evaluation.models import Agency, BallotKind, Campaign, IdentityMode, Satisfaction
from evaluation.security import cookie_name, cookie_secure
from evaluation.services import ballots as service
from evaluation.services import sms
from evaluation.services.errors import ValidationFailed
from evaluation.views.public import PUBLIC_STATUSES

bp = Blueprint("ballots", __name__, url_prefix="/review")
bp.after_request(ballot_limits.retry_after_header)
ONE_YEAR = 365 * 24 * 3600


# --- loading what the URL names ---------------------------------------------------------


def _campaign_and_stage(campaign_id: int):
    db = get_session()
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in PUBLIC_STATUSES:
        abort(404)
    stage = service.public_review_stage(db, campaign.id)
    if stage is None:
        abort(404)
    return campaign, stage


def _agency(stage, agency_id: int) -> Agency:
    agency = service.enrolled_agency(get_session(), stage, agency_id)
    if agency is None:
        abort(404, description=_("该单位不在本次社会评议之列。"))
    return agency


# --- pages ------------------------------------------------------------------------------


@bp.get("/<int:campaign_id>")
def overview(campaign_id: int):
    campaign, stage = _campaign_and_stage(campaign_id)
    db = get_session()
    return render_template(
        "public/review.html",
        campaign=campaign,
        stage=stage,
        is_open=service.voting_open(stage),
        agencies=service.ballot_agencies(db, stage),
        settings=service.settings_of(db, stage),
    )


def _ballot_page(campaign, stage, agency, errors=None, values=None, status: int = 200):
    db = get_session()
    settings = service.settings_of(db, stage)
    response = current_app.make_response(
        (
            render_template(
                "public/ballot.html",
                campaign=campaign,
                stage=stage,
                agency=agency,
                settings=settings,
                is_open=service.voting_open(stage),
                levels=list(Satisfaction),
                indicators=service.ballot_indicators(db, stage)
                if settings.ballot_kind == BallotKind.POINTS
                else [],
                sms_mode=settings.identity_mode == IdentityMode.SMS,
                shown=ballot_cast.shown_token(agency.id),
                errors=errors or {},
                values=values or {"phone": session.get("ballot_phone", "")},
            ),
            status,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    if not request.cookies.get(cookie_name(ballot_cast.DEVICE_COOKIE)):
        response.set_cookie(
            cookie_name(ballot_cast.DEVICE_COOKIE),
            secrets.token_urlsafe(18),
            max_age=ONE_YEAR,
            httponly=True,
            samesite="Lax",
            secure=cookie_secure(),
        )
    return response


@bp.get("/<int:campaign_id>/agencies/<int:agency_id>")
def ballot(campaign_id: int, agency_id: int):
    campaign, stage = _campaign_and_stage(campaign_id)
    return _ballot_page(campaign, stage, _agency(stage, agency_id))


@bp.post("/<int:campaign_id>/agencies/<int:agency_id>")
@ballot_limits.limited
def cast(campaign_id: int, agency_id: int):
    req = request._get_current_object()
    failed = req.environ.get(LANE_FAILED)
    if failed is not None:  # the lane's attempt failed unexpectedly: answered as if here
        raise failed
    try:
        ballot_cast.store_cast(req, campaign_id, agency_id)
    except service.BallotRefused as refused:
        campaign, stage = _campaign_and_stage(campaign_id)
        form = req.form
        # Everything typed is shown again, the points per indicator included: only the
        # field named in the refusal needs changing.
        kept = {
            key: form.get(key, "")
            for key in form
            if key in ("code", "phone", "level") or key.startswith("points-")
        }
        return _ballot_page(
            campaign,
            stage,
            _agency(stage, agency_id),
            {refused.field: refused.message},
            kept,
            refused.status,
        )
    # The overview thanks the voter for `voted` (templates/public/review.html): no flash, so
    # no translation and no session cookie to re-sign on the hot path.
    url = ballot_cast.thanks_url(current_app.url_map, req.script_root, campaign_id, agency_id)
    return redirect(url, 303)


@bp.post("/<int:campaign_id>/agencies/<int:agency_id>/sms")
@ballot_limits.limited
def send_sms(campaign_id: int, agency_id: int):
    campaign, stage = _campaign_and_stage(campaign_id)
    agency = _agency(stage, agency_id)
    db = get_session()
    if service.settings_of(db, stage).identity_mode != IdentityMode.SMS:
        abort(404)
    try:
        service.check_can_vote(db, stage, agency.id)
        session["ballot_phone"] = sms.send_challenge(db, stage, request.form.get("phone", ""))
    except service.BallotRefused as refused:
        return _ballot_page(
            campaign, stage, agency, {refused.field: refused.message}, status=refused.status
        )
    except sms.SmsUnavailable as failed:
        return _ballot_page(
            campaign, stage, agency, failed.errors, {"phone": request.form.get("phone", "")},
            failed.status,
        )
    except ValidationFailed as refused:
        return _ballot_page(
            campaign, stage, agency, refused.errors, {"phone": request.form.get("phone", "")}, 400
        )
    flash(_("验证码已发送，10 分钟内有效。"), "success")
    return redirect(url_for("ballots.ballot", campaign_id=campaign.id, agency_id=agency.id), 303)
