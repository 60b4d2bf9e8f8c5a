"""The public's ballot pages (社会评议): choose an agency, verify, vote. POST only, CSRF.

Rate limits are layered: per network address, per device cookie and per vote code (or
phone number), each answering 429 with its own message. A refused ballot re-shows the form
with the reason next to the field; nothing is stored.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial, wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem
from limits import parse as parse_limit

from evaluation import ballot_trace
from evaluation.db import get_session
from evaluation.db_writes import is_sqlite
from evaluation.extensions import limiter
from evaluation.models import Agency, BallotKind, Campaign, IdentityMode, Satisfaction
from evaluation.raw_sql import reads
from evaluation.security import cookie_name, cookie_secure
from evaluation.services import ballots as service
from evaluation.services import sms, vote_codes
from evaluation.services.ballot_screening import network_of
from evaluation.services.errors import ValidationFailed
from evaluation.services.tokens import digest
from evaluation.views.public import PUBLIC_STATUSES

bp = Blueprint("ballots", __name__, url_prefix="/review")
DEVICE_COOKIE = "pingyi_device"
ONE_YEAR = 365 * 24 * 3600
SHOWN_MAX_AGE_MS = 12 * 3600 * 1000


# --- rate-limit keys: a client without the cookie or a code is keyed by its address ---


# Each takes the request object (not the `request` proxy: a ballot's dozens of proxy
# look-ups cost a fiftieth of its CPU, bench/ballots_cpu.py, 2026-11-28).


def _device_key(req) -> str:
    device = req.cookies.get(cookie_name(DEVICE_COOKIE))
    return "device:" + (device or req.remote_addr or "")


def _identity_key(req) -> str:
    form = req.form
    typed = form.get("code") or form.get("phone") or ""
    normalized = vote_codes.normalize(typed)
    return "identity:" + (digest(normalized) if normalized else req.remote_addr or "")


def _address_key(req) -> str:
    return "address:" + (req.remote_addr or "127.0.0.1")


@lru_cache(maxsize=32)
def _rate(text: str) -> RateLimitItem:
    return parse_limit(text)


# Strictest scope first (as Flask-Limiter ordered these limits); the first breach answers.
_LAYERS = (
    (
        "BALLOT_LIMIT_PER_IDENTITY",
        _identity_key,
        lambda: _("这个投票码（或手机号）尝试次数过多，请 1 分钟后再试。"),
    ),
    ("BALLOT_LIMIT_PER_DEVICE", _device_key, lambda: _("这台设备提交过于频繁，请 1 分钟后再试。")),
    (
        "BALLOT_LIMIT_PER_IP",
        _address_key,
        lambda: _("来自您所在网络的提交过于频繁，请 1 分钟后再试。"),
    ),
)


# The ballot lane (evaluation/ballot_lane.py) counts a ballot POST's limits before handing it
# to Flask: it leaves the outcome here, so that no hit is counted twice.
LIMITS_COUNTED = "pingyi.ballot_limits"
LANE_FAILED = "pingyi.ballot_lane_failed"  # an unexpected error of the lane's attempt
_NOT_COUNTED = object()


@dataclass(frozen=True)
class Breach:
    message: Callable[[], str]  # in the voter's language: called in Flask's request
    retry_after: int  # seconds


def count_limits(req, endpoint: str) -> Breach | None:
    """One hit on each layer, strictest first; the first breached layer stops the count.
    `req`: the Flask request or the lane's `BallotPost` (form, cookies, remote_addr).

    The three layers are counted by Flask-Limiter's own strategy in the application's
    rate-limit storage (in-process, or Redis with several workers), without its per-request
    machinery: resolving, filtering and re-sorting the route's limits and computing headers
    for them cost a tenth of a ballot's CPU (bench/ballots_bench.py, 2026-11-28)."""
    ballot_trace.mark("pre")
    if not limiter.enabled:
        return None
    strategy, config = limiter.limiter, current_app.config
    for setting, key, message in _LAYERS:
        identifiers = ("ballots", endpoint, key(req))
        rate = _rate(config[setting])
        if not strategy.hit(rate, *identifiers):
            reset = strategy.get_window_stats(rate, *identifiers).reset_time
            return Breach(message, max(1, math.ceil(reset - time.time())))
    return None


def _limited(view):
    """A breach is a 429 with its layer's message, a Retry-After header and a `rate_limited`
    line in the security log."""

    @wraps(view)
    def limited(*args, **kwargs):
        req = request._get_current_object()
        if req.method == "POST":
            counted = req.environ.get(LIMITS_COUNTED, _NOT_COUNTED)
            if counted is not _NOT_COUNTED and counted[0] == req.endpoint:
                breach = counted[1]  # by the lane, for this very request
            else:
                breach = count_limits(req, req.endpoint)
            if breach is not None:
                g.ballot_retry_after = breach.retry_after
                abort(429, description=breach.message())
        return view(*args, **kwargs)

    return limited


# The ballot POSTs count their own limits (`_limited`); Flask-Limiter's before-request check
# would only resolve that these routes have none of its own (4% of a ballot's samples, py-spy,
# bench/ballots_bench.py, 2026-11-28). It still runs if application-wide limits are set.
_SELF_LIMITED = frozenset({"ballots.cast", "ballots.send_sms"})
APP_WIDE_LIMITS = ("RATELIMIT_APPLICATION", "RATELIMIT_DEFAULT", "RATELIMIT_META")


@limiter.request_filter
def _counted_by_the_view() -> bool:
    if request.endpoint not in _SELF_LIMITED or request.method != "POST":
        return False
    config = current_app.config
    return not any(config.get(key) for key in APP_WIDE_LIMITS)


def skip_limiter_hooks(app) -> None:
    """Flask-Limiter's three per-request hooks (its before-request check, the after-request
    headers and the teardown of its context) are skipped for the requests
    `_counted_by_the_view`, as its request filter would skip them, but before they set up
    their context: even skipped late they cost a twentieth of a ballot's CPU
    (bench/ballots_cpu.py, 2026-11-28). For those requests they would do nothing: no limits
    of Flask-Limiter's own, so no headers and nothing to deduct or reset. Call after
    `limiter.init_app(app)`."""

    def owned(hook) -> bool:
        return getattr(hook, "__self__", None) is limiter or (
            isinstance(hook, partial) and hook.args[:1] == (limiter,)
        )

    for hooks, passes_response in (
        (app.before_request_funcs, False),
        (app.after_request_funcs, True),
        (app.teardown_request_funcs, False),
    ):
        found = hooks.get(None, [])
        for index, hook in enumerate(found):
            if owned(hook):
                found[index] = _unless_counted_by_the_view(hook, passes_response)


def _unless_counted_by_the_view(hook, passes_response: bool):
    @wraps(hook)
    def run(*args):
        skip = g.get("_limits_counted_by_view")
        if skip is None:  # decided once per request, for all three hooks alike
            skip = g._limits_counted_by_view = _counted_by_the_view()
        if skip:
            return args[0] if passes_response else None
        return hook(*args)

    return run


@bp.after_request
def _retry_after(response):
    if response.status_code == 429 and "ballot_retry_after" in g:
        response.headers["Retry-After"] = str(g.ballot_retry_after)
    return response


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


def _serializer() -> URLSafeSerializer:
    # Signed with SECRET_KEY; stamps signed with a retired key still verify (rotation).
    config = current_app.config
    return _serializer_for((*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"]))


@lru_cache(maxsize=8)
def _serializer_for(keys: tuple) -> URLSafeSerializer:
    # Made once per key set: making one costs as much as verifying a stamp (itsdangerous
    # probes its JSON module each time; bench/ballots_cpu.py, 2026-11-28).
    return URLSafeSerializer(list(keys), salt="ballot-form-shown")


def _shown_token(agency_id: int) -> str:
    return _serializer().dumps({"a": agency_id, "t": int(time.time() * 1000)})


def _fill_seconds(token: str, agency_id: int) -> float | None:
    """Seconds from showing the form to receiving it; None when the token is not ours."""
    try:
        shown = _serializer().loads(token or "")
    except BadSignature:
        return None
    elapsed = int(time.time() * 1000) - int(shown.get("t", 0))
    if shown.get("a") != agency_id or not 0 <= elapsed <= SHOWN_MAX_AGE_MS:
        return None
    return elapsed / 1000


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
                shown=_shown_token(agency.id),
                errors=errors or {},
                values=values or {"phone": session.get("ballot_phone", "")},
            ),
            status,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    if not request.cookies.get(cookie_name(DEVICE_COOKIE)):
        response.set_cookie(
            cookie_name(DEVICE_COOKIE),
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
@_limited
def cast(campaign_id: int, agency_id: int):
    req = request._get_current_object()
    failed = req.environ.get(LANE_FAILED)
    if failed is not None:  # the lane's attempt failed unexpectedly: answered as if here
        raise failed
    try:
        store_cast(req, campaign_id, agency_id)
    except service.BallotRefused as refused:
        campaign, stage = _campaign_and_stage(campaign_id)
        form = req.form
        kept = {key: form.get(key, "") for key in ("code", "phone", "level")}
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
    return redirect(thanks_url(current_app.url_map, req.script_root, campaign_id, agency_id), 303)


def store_cast(req, campaign_id: int, agency_id: int) -> None:
    """Check the ballot `req` carries and store it (committed when this returns), or raise:
    `BallotRefused` (nothing stored), or an HTTP error (404) for what the URL names.
    `req`: the Flask request, or the lane's `BallotPost` (evaluation/ballot_lane.py), which
    calls this very function.

    The hot path of a public review: one query for campaign, stage, settings and the
    agency's enrollment, one for the vote code, on SQLite inside the group commit on its
    connection (`service.store_code_ballot`), elsewhere (and for SMS or points ballots) on a
    driver connection before the write (`raw_sql.reads`); ORM objects (and the page) only
    when the ballot is refused."""
    ballot_trace.mark("view")
    db = get_session()
    form = req.form
    how = service.Circumstances(
        network=network_of(req.remote_addr),
        device=digest(req.cookies.get(cookie_name(DEVICE_COOKIE), "")),
        fill_seconds=_fill_seconds(form.get("shown", ""), agency_id),
    )

    def read_target(connection):
        return _checked_target(connection, campaign_id, agency_id)

    read = None  # the stage and settings, when the group commit has read them
    if is_sqlite(db):
        try:
            service.store_code_ballot(db, agency_id, form, how, read_target)
            return
        except service.NeedsSession as needs:  # identified and parsed first, then stored
            read = needs.stage, needs.settings
    with reads(db) as connection:
        stage, settings = read or read_target(connection)
        service.check_open(stage)
        voter = service.identify(db, stage, form, settings, reads=connection)
        choice = service.parse_choice(db, stage, form, settings)
    service.store_ballot(db, stage, agency_id, voter, choice, how, settings,
                         enrollment_checked=True)


def _checked_target(connection, campaign_id: int, agency_id: int):
    """The public review's stage and settings that the URL names, or a 404."""
    target = service.ballot_target(connection, campaign_id, agency_id)
    if target is None or target.stage is None:
        abort(404)
    if target.agency_name is None:
        abort(404, description=_("该单位不在本次社会评议之列。"))
    return target.stage, target.settings


@lru_cache(maxsize=1024)
def thanks_url(url_map, script_root: str, campaign_id: int, agency_id: int) -> str:
    """Where a stored ballot sends the voter: the same URL for every voter of an agency
    (url_for cost a fortieth of a ballot's CPU). Built as url_for builds it, by the rule's
    own converters, without a request (the lane has none)."""
    adapter = url_map.bind("localhost", script_name=script_root or "/")
    return adapter.build("ballots.overview", {"campaign_id": campaign_id, "voted": agency_id})


@bp.post("/<int:campaign_id>/agencies/<int:agency_id>/sms")
@_limited
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
