"""Broadcast graphics: overlay pages (OBS / vMix / CasparCG / SPX) and polled data feeds.

Overlay pages are shells: nothing about the session is rendered on the server, the page
connects to /live with the read-only overlay token from its URL (OBS cannot type passwords).
Feeds (shape in `live.feeds`) take the same token as `?token=` (or a Bearer header); the
control token works too, a judge's token does not: a feed is the overlay's view.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlmodel import select

from evaluation.db import get_session
from evaluation.models import LiveSession, TokenKind
from evaluation.services.live_sessions import token_scope
from evaluation.services.tokens import check_token
from live import snapshot
from live.errors import LiveRefusal
from live.feeds import FORMATS, FeedCache
from live.identity import OVERLAY

bp = Blueprint("live_overlays", __name__)

OVERLAYS = ("scoreboard", "lower-third", "timer", "leaderboard", "audience")
FEED_TOKEN_KINDS = (TokenKind.OVERLAY, TokenKind.CONTROL)


@bp.get("/overlay/<int:session_id>/<name>")
def overlay(session_id: int, name: str):
    if name not in OVERLAYS or get_session().get(LiveSession, session_id) is None:
        abort(404)
    return render_template(f"overlay/{name}.html", session_id=session_id, overlay=name)


def _cache() -> FeedCache:
    return current_app.extensions.setdefault("pingyi_feeds", FeedCache())


def _presented_token() -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.args.get("token", "")


def _may_read(db, session_id: int) -> bool:
    token, scope = _presented_token(), token_scope(session_id)
    return any(check_token(db, token, kind=kind, scope=scope) for kind in FEED_TOKEN_KINDS)


def _refused(code: str, message: str, status: int):
    response = jsonify(LiveRefusal(code, message).ack())
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live/<int:session_id>/feed.<any(json, xml, csv):fmt>")
def feed(session_id: int, fmt: str):
    db = get_session()
    # The one query a poll makes besides the token check: has anything changed?
    revision = db.exec(select(LiveSession.revision).where(LiveSession.id == session_id)).first()
    if revision is None:
        return _refused("unknown_session", _("场次不存在。"), 404)
    if not _may_read(db, session_id):
        return _refused("unauthorized", _("链接无效或已过期，请重新扫码或输入短码。"), 401)
    table = "leaderboard" if request.args.get("table") == "leaderboard" else "seats"
    key = (session_id, revision, str(get_locale()))
    body = _cache().body(
        key, lambda: snapshot.build(db, db.get(LiveSession, session_id), OVERLAY), fmt, table
    )
    headers = {"Cache-Control": "no-cache", "ETag": body.etag}
    if body.etag in _if_none_match():
        return Response(status=304, headers=headers)
    return Response(body.content, content_type=FORMATS[fmt], headers=headers)


def _if_none_match() -> set[str]:
    return {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
