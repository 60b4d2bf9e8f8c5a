"""Voiding a mark: the director asks with a reason, the chief judge decides (two people)."""

from __future__ import annotations

import json

import pytest
from conftest import CHIEF_SEAT, NS, command, snapshots, submit, to_scoring
from sqlmodel import select

from evaluation.models import (
    AuditEvent,
    LiveSubmission,
    Score,
    ScoreStatus,
    VoidDecision,
    VoidRequest,
)


@pytest.fixture
def marked(show):
    """Scoring open on slot 0, judge 1 has marked 95."""
    director, judge1, chief = show.director(), show.judge(1), show.judge(CHIEF_SEAT)
    to_scoring(director)
    assert submit(judge1, show.slot_ids[0], "95", "void-first-sheet")["ok"]
    return director, judge1, chief


def _decide(client, request_id: int, approve: bool) -> dict:
    return client.emit("void_decision", {"request_id": request_id, "approve": approve},
                       namespace=NS, callback=True)


def test_requested_void_waits_for_the_chief_and_only_they_see_it(show, marked, db):
    director, judge1, chief = marked
    overlay = show.connect(show.overlay)
    assert command(director, "void_request", seat_no=1, reason="误触，评委申请更正")["ok"]
    chief_view = snapshots(chief)[-1]
    assert chief_view["void_requests"][0]["seat_no"] == 1
    assert "误触" in chief_view["void_requests"][0]["reason"]
    assert "void_requests" in snapshots(director)[-1]
    for bystander in (overlay, judge1):
        assert "void_requests" not in snapshots(bystander)[-1]
    score = db.exec(select(Score)).one()
    assert score.status == ScoreStatus.VALID  # nothing happens on one person's word


def test_chief_approval_voids_the_mark_and_the_seat_may_mark_again(show, marked, db):
    director, judge1, chief = marked
    command(director, "void_request", seat_no=1, reason="误触")
    request_id = snapshots(chief)[-1]["void_requests"][0]["id"]
    decided = _decide(chief, request_id, approve=True)
    assert decided["ok"] and decided["decision"] == "approved"
    db.expire_all()
    voided = db.exec(select(Score)).one()
    assert voided.status == ScoreStatus.VOIDED and voided.void_reason == "误触"
    assert voided.voided_by.startswith("judge:") and voided.voided_by.endswith(f"seat{CHIEF_SEAT}")
    seat_view = snapshots(judge1)[-1]["current"]["seats"][0]
    assert seat_view["submitted"] is False
    again = submit(judge1, show.slot_ids[0], "88", "void-second-sheet")
    assert again["ok"]
    valid = db.exec(select(Score).where(Score.status == ScoreStatus.VALID)).all()
    assert [str(s.value) for s in valid] == ["88.00"]
    statuses = sorted(s.status.value for s in db.exec(select(LiveSubmission)).all())
    assert statuses == ["valid", "voided"]
    actions = {(e.object_type, e.action) for e in db.exec(select(AuditEvent)).all()}
    assert {("void_request", "create"), ("void_request", "update"), ("score", "update")} <= actions
    payloads = [json.loads(e.payload) for e in db.exec(
        select(AuditEvent).where(AuditEvent.object_type == "void_request")).all()]
    requesters = [p["requested_by"] for p in payloads if "requested_by" in p]
    assert requesters and requesters[0].startswith("token:director")


def test_chief_rejection_keeps_the_mark(show, marked, db):
    director, _judge1, chief = marked
    command(director, "void_request", seat_no=1, reason="误触")
    request_id = snapshots(chief)[-1]["void_requests"][0]["id"]
    assert _decide(chief, request_id, approve=False)["decision"] == "rejected"
    assert db.exec(select(Score)).one().status == ScoreStatus.VALID
    assert _decide(chief, request_id, approve=True)["error"]["code"] == "already_decided"


def test_only_the_chief_decides(show, marked, db):
    director, judge1, chief = marked
    command(director, "void_request", seat_no=1, reason="误触")
    request_id = db.exec(select(VoidRequest)).one().id
    assert _decide(judge1, request_id, True)["error"]["code"] == "forbidden"
    assert _decide(director, request_id, True)["error"]["code"] == "forbidden"
    assert db.exec(select(VoidRequest)).one().decision == VoidDecision.PENDING


@pytest.mark.parametrize("fields, code", [
    ({"seat_no": 1}, "reason_required"),
    ({"seat_no": 1, "reason": "   "}, "reason_required"),
    ({"seat_no": 2, "reason": "无此评分"}, "no_mark"),
    ({"seat_no": 99, "reason": "无此席位"}, "no_mark"),
])
def test_bad_void_requests(show, marked, fields, code, db):
    director, _judge1, _chief = marked
    ack = command(director, "void_request", **fields)
    assert ack["error"]["code"] == code
    assert db.exec(select(VoidRequest)).all() == []


def test_one_pending_request_per_mark_and_none_after_the_reveal(show, marked, db):
    director, _judge1, chief = marked
    assert command(director, "void_request", seat_no=1, reason="一")["ok"]
    assert command(director, "void_request", seat_no=1, reason="二")["error"]["code"] == (
        "void_pending")
    command(director, "next")  # close
    blocked = command(director, "reveal", reason="其余评委缺席")
    assert blocked["error"]["code"] == "void_pending"  # no reveal while a void is undecided
    _decide(chief, db.exec(select(VoidRequest)).one().id, approve=False)
    assert command(director, "reveal", reason="其余评委缺席")["ok"]
    assert command(director, "void_request", seat_no=1, reason="三")["error"]["code"] == (
        "not_voidable")
