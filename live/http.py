"""HTTP beside the sockets: the marks fallback (same payload, same semantics as the
`submit_mark` event) for a tablet whose WebSocket cannot get through."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from evaluation.audit import acting_as
from evaluation.db import get_session
from evaluation.extensions import csrf, limiter
from live import broadcast
from live.errors import LiveRefusal
from live.identity import JUDGE, identify
from live.operations import submit_mark
from live.payload_messages import first_problem
from live.payloads import MarkSubmission, ValidationError

bp = Blueprint("live_http", __name__, url_prefix="/live")
# Bearer-token calls from tablets: no cookie is involved, so no CSRF token either.
csrf.exempt(bp)

STATUS = {
    "unauthorized": 401,
    "forbidden": 403,
    "unknown_session": 404,
    "already_submitted": 409,
    "client_id_taken": 409,
}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _refusal(refusal: LiveRefusal):
    return jsonify(refusal.ack()), STATUS.get(refusal.code, 422)


@bp.post("/<int:session_id>/marks")
@limiter.limit("60 per minute")
def post_mark(session_id: int):
    db = get_session()
    try:
        who = identify(db, session_id, _bearer(), None)
        if who.role != JUDGE:
            raise LiveRefusal("forbidden", _("只有评委的平板可以提交评分。"))
        payload = request.get_json(silent=True)
        try:
            submission = MarkSubmission.model_validate(payload if isinstance(payload, dict) else {})
        except ValidationError as error:
            field, message = first_problem(error)
            raise LiveRefusal("invalid_payload", message, field) from None
        with acting_as(who.actor):
            ack = submit_mark(db, who, submission)
    except LiveRefusal as refusal:
        db.rollback()
        return _refusal(refusal)
    if not ack["duplicate"]:
        broadcast.publish_after_ack(session_id)
    return jsonify(ack), 200 if ack["duplicate"] else 201
