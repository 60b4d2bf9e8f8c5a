"""Rate limits of the public ballot POSTs (社会评议), in three layers: per vote code (or phone
number), per device cookie and per network address, each answering 429 with its own message
and a Retry-After. Counted once per ballot, by the ballot lane (evaluation/ballot_lane.py) or
by the view (`limited`), in Flask-Limiter's storage (in-process, or Redis with several
workers) but without Flask-Limiter's per-request machinery.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial, wraps

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from limits import RateLimitItem
from limits import parse as parse_limit

from evaluation import ballot_trace
from evaluation.ballot_cast import DEVICE_COOKIE
from evaluation.extensions import limiter
from evaluation.security import cookie_name
from evaluation.services import vote_codes
from evaluation.services.tokens import digest

# The keys: a client without the cookie or a code is keyed by its address. Each takes the
# request object (not the `request` proxy: a ballot's dozens of proxy look-ups cost a
# fiftieth of its CPU, bench/ballots_cpu.py, 2026-11-28).


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


def limited(view):
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


# The ballot POSTs count their own limits (`limited`); Flask-Limiter's before-request check
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


def retry_after_header(response):
    """An after-request hook of the ballots' blueprint: a 429 of `limited` says when to retry."""
    if response.status_code == 429 and "ballot_retry_after" in g:
        response.headers["Retry-After"] = str(g.ballot_retry_after)
    return response
