"""The director takes full-screen graphics to air; a rehearsal (彩排) runs the same show on a
channel of its own, and its marks never become scores."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from conftest import CHIEF_SEAT, NS, command, snapshots, submit, to_scoring
from serverproc import demo_instance, run_cli
from sqlmodel import select

from evaluation.models import LiveSession, LiveSlot, LiveSubmission, Score, TokenKind
from evaluation.services.errors import ValidationFailed
from evaluation.services.live_sessions import (
    issue_device_token,
    issue_seat_tokens,
    rehearsal_for,
)

MARKS = {1: "91.5", 2: "88", 3: "86.5", 4: "90"}  # seat 5 is recused for the second agency


def _latest(client) -> dict:
    return snapshots(client)[-1]


def _score_all(show, director, marks=MARKS, prefix="mark-real"):
    to_scoring(director)
    for seat, mark in marks.items():
        judge = show.judge(seat)
        assert submit(judge, show.slot_ids[0], mark, f"{prefix}-{seat:02d}")["ok"]
    if 5 not in marks:
        judge = show.judge(5)
        assert submit(judge, show.slot_ids[0], "85", f"{prefix}-05")["ok"]


def test_the_leaderboard_goes_to_air_and_comes_off(show):
    director, overlay = show.director(), show.connect(show.overlay)
    assert _latest(overlay)["on_air"] is None
    assert command(director, "take_to_air", graphic="leaderboard")["ok"]
    assert _latest(overlay)["on_air"] == "leaderboard"
    assert command(director, "take_off_air")["ok"]
    assert _latest(overlay)["on_air"] is None


def test_the_audience_result_goes_to_air_only_after_the_reveal(show):
    director, overlay = show.director(), show.connect(show.overlay)
    _score_all(show, director)
    early = command(director, "take_to_air", graphic="audience")
    assert early["error"]["code"] == "not_revealed"
    assert command(director, "next")["ok"]  # scoring -> closed
    assert command(director, "next")["ok"]  # closed -> revealed
    assert command(director, "take_to_air", graphic="audience")["ok"]
    assert _latest(overlay)["on_air"] == "audience"


@pytest.mark.parametrize("fields, code, field", [
    ({}, "graphic_required", "graphic"),
    ({"graphic": "scoreboard"}, "invalid_payload", "graphic"),
])
def test_a_bad_graphic_is_refused_naming_the_field(show, fields, code, field):
    ack = command(show.director(), "take_to_air", **fields)
    assert ack["error"]["code"] == code and ack["error"]["field"] == field


def test_judges_and_overlays_cannot_take_anything_to_air(show):
    for client in (show.judge(1), show.connect(show.overlay)):
        ack = command(client, "take_to_air", graphic="leaderboard")
        assert not ack["ok"] and ack["error"]["code"] == "forbidden"
    assert _latest(show.connect(show.overlay))["on_air"] is None


def _rehearsal_show(show, db):
    rehearsal = rehearsal_for(db, db.get(LiveSession, show.live_id))
    tokens = issue_seat_tokens(db, rehearsal)
    control = issue_device_token(db, rehearsal, TokenKind.CONTROL).token
    slots = db.exec(select(LiveSlot).where(LiveSlot.session_id == rehearsal.id)
                    .order_by(LiveSlot.position)).all()
    return rehearsal, tokens, control, [slot.id for slot in slots]


def test_a_rehearsal_runs_the_same_show_and_its_marks_never_become_scores(show, db):
    rehearsal, tokens, control, slot_ids = _rehearsal_show(show, db)
    assert rehearsal.title == "第一场（彩排）" and rehearsal.rehearsal
    assert [db.get(LiveSlot, s).agency_id for s in slot_ids] == show.agency_ids
    director = show.connect(control, session=rehearsal.id)
    assert _latest(director)["session"]["rehearsal"] is True
    to_scoring(director)
    for seat, mark in MARKS.items():
        judge = show.connect(tokens[seat].token, f"tablet-{seat}", session=rehearsal.id)
        ack = submit(judge, slot_ids[0], mark, f"rehearsal-{seat:02d}")
        assert ack["ok"] and ack["score_id"] is None
    judge = show.connect(tokens[5].token, "tablet-5", session=rehearsal.id)
    assert submit(judge, slot_ids[0], "85", "rehearsal-05")["ok"]
    assert command(director, "next")["ok"] and command(director, "next")["ok"]  # revealed
    # The reveal works as on the day: five marks, highest and lowest dropped.
    result = _latest(director)["current"]["result"]
    assert result["value"] == f"{(Decimal('88') + Decimal('86.5') + Decimal('90')) / 3:.2f}"
    assert db.exec(select(Score)).all() == []  # nothing that results could ever count
    stored = db.exec(select(LiveSubmission)).all()
    assert len(stored) == 5 and all(s.score_id is None for s in stored)

    # The real session's channel heard nothing of it, and its judges still score afresh.
    real = show.director()
    picture = _latest(real)
    assert picture["current"] is None and picture["session"]["rehearsal"] is False
    _score_all(show, real)
    assert len(db.exec(select(Score)).all()) == 5


def test_rehearsal_tokens_do_not_open_the_real_session(show, db):
    _rehearsal, tokens, control, _slots = _rehearsal_show(show, db)
    assert not show.connect(control).is_connected(NS)
    assert not show.connect(tokens[1].token, "tablet-1").is_connected(NS)


def test_a_rehearsal_mark_can_be_voided_with_the_chief_judges_approval(show, db):
    rehearsal, tokens, control, slot_ids = _rehearsal_show(show, db)
    director = show.connect(control, session=rehearsal.id)
    to_scoring(director)
    judge = show.connect(tokens[1].token, "tablet-1", session=rehearsal.id)
    assert submit(judge, slot_ids[0], "60", "rehearsal-void")["ok"]
    assert command(director, "void_request", seat_no=1, reason="误触")["ok"]
    chief = show.connect(tokens[CHIEF_SEAT].token, f"tablet-{CHIEF_SEAT}", session=rehearsal.id)
    request_id = _latest(chief)["void_requests"][0]["id"]
    ack = chief.emit("void_decision", {"request_id": request_id, "approve": True},
                     namespace=NS, callback=True)
    assert ack["ok"]
    assert db.exec(select(LiveSubmission)).one().status.value == "voided"


def test_reset_starts_the_rehearsal_over_and_a_rehearsal_has_no_rehearsal(show, db):
    rehearsal, tokens, control, slot_ids = _rehearsal_show(show, db)
    director = show.connect(control, session=rehearsal.id)
    to_scoring(director)
    judge = show.connect(tokens[1].token, "tablet-1", session=rehearsal.id)
    assert submit(judge, slot_ids[0], "80", "rehearsal-reset")["ok"]
    live = db.get(LiveSession, show.live_id)
    assert rehearsal_for(db, live).id == rehearsal.id  # reused
    fresh = rehearsal_for(db, live, reset=True)
    assert db.exec(select(LiveSubmission)).all() == []
    assert all(s.segment.value == "waiting" for s in
               db.exec(select(LiveSlot).where(LiveSlot.session_id == fresh.id)).all())
    with pytest.raises(ValidationFailed) as refused:
        rehearsal_for(db, fresh)
    assert "session" in refused.value.errors


def test_the_cli_prints_rehearsal_links_for_the_demo(tmp_path):
    demo_instance(tmp_path)
    real = json.loads(run_cli(tmp_path, "live", "links", "--demo", "--json").stdout)
    result = run_cli(tmp_path, "live", "rehearsal", "--demo", "--json")
    assert result.returncode == 0, result.stderr
    links = json.loads(result.stdout)
    assert links["session"] != real["session"]
    assert set(links["seats"]) == set(real["seats"])
    assert links["pages"]["audience"].endswith(f"/overlay/{links['session']}/audience?token="
                                               f"{links['overlay_token']}")
