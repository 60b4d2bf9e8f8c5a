"""A public ballot POST checked and stored: what the Flask view (views/public_ballots.py) and
the ballot lane (evaluation/ballot_lane.py) both run, so that a ballot is judged the same way
whichever of them answers it. Also the form stamp (when the form was shown, for the burst
screening) and the device cookie the screening and the rate limits read.
"""

from __future__ import annotations

import time
from functools import lru_cache

from flask import abort, current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from evaluation import ballot_trace
from evaluation.db import get_session
from evaluation.db_writes import is_sqlite
from evaluation.raw_sql import reads
from evaluation.security import cookie_name
from evaluation.services import ballots as service
from evaluation.services.ballot_screening import network_of
from evaluation.services.tokens import digest

DEVICE_COOKIE = "pingyi_device"
SHOWN_MAX_AGE_MS = 12 * 3600 * 1000


# --- the form stamp: when the ballot form was shown ----------------------------------------


def _serializer() -> URLSafeSerializer:
    # Signed with SECRET_KEY; stamps signed with a retired key still verify (rotation).
    config = current_app.config
    return _serializer_for((*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"]))


@lru_cache(maxsize=8)
def _serializer_for(keys: tuple) -> URLSafeSerializer:
    # Made once per key set: making one costs as much as verifying a stamp (itsdangerous
    # probes its JSON module each time; bench/ballots_cpu.py, 2026-11-28).
    return URLSafeSerializer(list(keys), salt="ballot-form-shown")


def shown_token(agency_id: int) -> str:
    return _serializer().dumps({"a": agency_id, "t": int(time.time() * 1000)})


def fill_seconds(token: str, agency_id: int) -> float | None:
    """Seconds from showing the form to receiving it; None when the token is not ours."""
    try:
        shown = _serializer().loads(token or "")
    except BadSignature:
        return None
    elapsed = int(time.time() * 1000) - int(shown.get("t", 0))
    if shown.get("a") != agency_id or not 0 <= elapsed <= SHOWN_MAX_AGE_MS:
        return None
    return elapsed / 1000


# --- the ballot ------------------------------------------------------------------------


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
        fill_seconds=fill_seconds(form.get("shown", ""), agency_id),
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
