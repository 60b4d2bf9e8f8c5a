"""Broadcast graphics: overlay pages (OBS / vMix / CasparCG / SPX) and polled data feeds.

Overlay pages are shells: nothing about the session is rendered on the server, the page
connects to /live with the read-only overlay token from its URL (OBS cannot type passwords).
Feeds (shape in `live.feeds`) take the same token as `?token=` (or a Bearer header); the
control token works too, a judge's token does not: a feed is the overlay's view.
A poll normally reads no database at all (see `live.feeds`: revision and token trusted for a
second or a few).
"""

from __future__ import annotations

import re
import threading
import time

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlmodel import select

from evaluation import ballot_trace
from evaluation.db import get_session
from evaluation.models import LiveSession, TokenKind
from evaluation.models.base import utcnow
from evaluation.services.live_sessions import token_scope
from evaluation.services.tokens import check_token
from live import snapshot
from live.errors import LiveRefusal
from live.feeds import FORMATS, REVISION_SECONDS, FeedCache
from live.identity import OVERLAY

bp = Blueprint("live_overlays", __name__)

OVERLAYS = ("scoreboard", "lower-third", "timer", "leaderboard", "audience")
FEED_TOKEN_KINDS = (TokenKind.OVERLAY, TokenKind.CONTROL)


@bp.get("/overlay/<int:session_id>/<name>")
def overlay(session_id: int, name: str):
    if name not in OVERLAYS or get_session().get(LiveSession, session_id) is None:
        abort(404)
    return render_template(f"overlay/{name}.html", session_id=session_id, overlay=name)


FEED_PATH = re.compile(r"^/live/\d+/feed\.(json|xml|csv)$")
FEED_LANES = 2


class FeedLane:
    """WSGI middleware: feed polls go through `lanes` at a time, each after one yield.

    Under gevent every ready greenlet runs in turn; 400 polls a second on a loaded machine
    put hundreds of them ahead of each step of a judge's mark (read the frame, run the handler,
    commit, write the ack), and the ack took seconds (bench/soak.py, 2026-11-28). Here a poll
    first waits for a lane, then yields once (`time.sleep(0)`, gevent's under `pingyi serve`)
    so that whatever else is ready — the judges' acks — runs before it; the polls queue among
    themselves instead of in front of the acks. Outside gevent it only bounds concurrency.
    """

    def __init__(self, wsgi_app, lanes: int = FEED_LANES):
        self.wsgi_app = wsgi_app
        self.gate = threading.BoundedSemaphore(lanes)  # gevent's under monkey-patching

    def __call__(self, environ, start_response):
        if not FEED_PATH.match(environ.get("PATH_INFO", "")):
            return self.wsgi_app(environ, start_response)
        ballot_trace.put("feed", time.time())  # PINGYI_BALLOT_TRACE only (bench/soak.py)
        with self.gate:
            time.sleep(0)
            ballot_trace.mark("lane")
            return self.wsgi_app(environ, start_response)


def feed_cache(app=None) -> FeedCache:
    """This application's feed cache (made on first use)."""
    app = app or current_app
    cache = app.extensions.get("pingyi_feeds")
    if cache is None:
        cache = app.extensions["pingyi_feeds"] = FeedCache(
            revision_seconds=app.config.get("LIVE_FEED_REVISION_SECONDS", REVISION_SECONDS),
            # As long as a revoked tablet's socket stays open (live/sweeper.py), no longer.
            token_seconds=app.config.get("LIVE_FEED_TOKEN_SECONDS",
                                         app.config.get("LIVE_SWEEP_SECONDS", 5)),
        )
    return cache


def _presented_token() -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.args.get("token", "")


def _token_seconds_left(session_id: int, token: str) -> float | None:
    """Seconds until the overlay or control token expires; None if it does not admit."""
    db, scope = get_session(), token_scope(session_id)
    for kind in FEED_TOKEN_KINDS:
        record = check_token(db, token, kind=kind, scope=scope)
        if record is not None:
            return (record.expires_at - utcnow()).total_seconds()
    return None


def _stored_revision(session_id: int) -> int | None:
    return get_session().exec(
        select(LiveSession.revision).where(LiveSession.id == session_id)).first()


def _refused(code: str, message: str, status: int):
    response = jsonify(LiveRefusal(code, message).ack())
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live/<int:session_id>/feed.<any(json, xml, csv):fmt>")
def feed(session_id: int, fmt: str):
    cache = feed_cache()
    # Has anything changed? Usually answered from memory (see live.feeds).
    revision = cache.revision(session_id, lambda: _stored_revision(session_id))
    if revision is None:
        return _refused("unknown_session", _("场次不存在。"), 404)
    token = _presented_token()
    if not cache.admits(session_id, token, lambda: _token_seconds_left(session_id, token)):
        return _refused("unauthorized", _("链接无效或已过期，请重新扫码或输入短码。"), 401)
    table = "leaderboard" if request.args.get("table") == "leaderboard" else "seats"
    key = (session_id, revision, str(get_locale()))
    body = cache.body(key, lambda: _overlay_picture(cache, session_id, revision), fmt, table)
    headers = {"Cache-Control": "no-cache", "ETag": body.etag}
    if body.etag in _if_none_match():
        return Response(status=304, headers=headers)
    return Response(body.content, content_type=FORMATS[fmt], headers=headers)


def _overlay_picture(cache: FeedCache, session_id: int, revision: int) -> dict:
    """The overlay's picture at `revision`: from the facts this process published (no
    database), else built (another worker's revision, or none published since start)."""
    began, cpu = ballot_trace.now(), time.thread_time()
    facts = cache.published_facts(session_id, revision)
    if facts is not None:
        picture = snapshot.view(facts, OVERLAY)
    else:
        db = get_session()
        picture = snapshot.build(db, db.get(LiveSession, session_id), OVERLAY)
    ballot_trace.event("build", t=began, d=ballot_trace.now() - began,
                       cpu=time.thread_time() - cpu, db=facts is None)
    return picture


def _if_none_match() -> set[str]:
    return {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
