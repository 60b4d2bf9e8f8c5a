"""A director's command costs the same at the first slot and the fortieth: revealed slots'
results are kept (live/standings.py), never shown stale — a void after the reveal and a
rehearsal reset are seen at once."""

from __future__ import annotations

from conftest import CHIEF_SEAT, NS, command, snapshots, submit
from sqlmodel import select

from evaluation.models import LiveSession, LiveSubmission, ScoreStatus, TokenKind, VoidRequest
from evaluation.services.live_sessions import (
    issue_device_token,
    issue_seat_tokens,
    rehearsal_for,
)
from live import broadcast, snapshot
from live.identity import DIRECTOR

# Judge 5 belongs to the second agency (position 1): recused there.
MARKS = {0: ["90", "80", "70", "60", "50"], 1: ["91", "81", "71", "61"]}


def _run_slot(director, judges, slot_ids, position, marks, tag="") -> None:
    """Select `position`, open scoring, every seat marks, reveal, on to done."""
    assert command(director, "select", position=position)["ok"]
    for _ in range(3):
        assert command(director, "next")["ok"]
    for seat_no, total in enumerate(marks, start=1):
        ack = submit(judges[seat_no], slot_ids[position], total, f"sheet-{tag}{position}-{seat_no}")
        assert ack["ok"], ack
    assert command(director, "next")["ok"]  # closed
    assert command(director, "reveal")["ok"]
    for _ in range(2):  # summary, done
        assert command(director, "next")["ok"]


def _fresh_leaderboard(app, db, session_id: int) -> list[dict]:
    """The leaderboard computed from scratch: nothing kept."""
    app.extensions.pop("live_standings", None)
    db.expire_all()
    with app.app_context():
        return snapshot.build(db, db.get(LiveSession, session_id), DIRECTOR)["leaderboard"]


def _scored_slots(monkeypatch) -> list[int]:
    """How many slots' marks each gather reads and scores."""
    counts, real = [], snapshot.seat_states_by_slot

    def counting(db, session_id, slots, *args, **kwargs):
        counts.append(len(slots))
        return real(db, session_id, slots, *args, **kwargs)

    monkeypatch.setattr(snapshot, "seat_states_by_slot", counting)
    return counts


def test_a_director_command_reads_only_the_slot_on_stage_however_many_are_revealed(
        show, monkeypatch):
    director = show.director()
    judges = {seat: show.judge(seat) for seat in range(1, 6)}
    _run_slot(director, judges, show.slot_ids, 0, MARKS[0])
    _run_slot(director, judges, show.slot_ids, 1, MARKS[1])
    counts = _scored_slots(monkeypatch)
    assert command(director, "select", position=2)["ok"]
    assert command(director, "next")["ok"]
    # Two revealed slots, already scored by earlier gathers: only the slot on stage is read.
    assert counts == [1, 1]
    board = snapshots(director)[-1]["leaderboard"]
    assert [(row["rank"], row["value"]) for row in board] == [(1, "76.00"), (2, "70.00")]


def test_a_void_after_the_reveal_changes_the_leaderboard_at_once(show, app, db):
    director, chief = show.director(), show.judge(CHIEF_SEAT)
    judges = {seat: show.judge(seat) for seat in range(1, 6)}
    _run_slot(director, judges, show.slot_ids, 0, MARKS[0])
    _run_slot(director, judges, show.slot_ids, 1, MARKS[1])
    assert [row["value"] for row in snapshots(director)[-1]["leaderboard"]] == ["76.00", "70.00"]
    # A request left pending can be decided after the reveal (nothing in decide_void stops it).
    # The first slot, no longer on stage (the slot on stage is always read afresh).
    top = db.exec(select(LiveSubmission).where(
        LiveSubmission.slot_id == show.slot_ids[0], LiveSubmission.status == ScoreStatus.VALID)
        .order_by(LiveSubmission.id)).first()  # seat 1's 90
    request = VoidRequest(session_id=show.live_id, submission_id=top.id, reason="更正",
                          requested_by="test")
    db.add(request)
    db.commit()
    decided = chief.emit("void_decision", {"request_id": request.id, "approve": True},
                         namespace=NS, callback=True)
    assert decided["ok"]
    board = snapshots(director)[-1]["leaderboard"]
    # 80, 70, 60, 50 left: the highest and the lowest dropped, 65.
    assert [row["value"] for row in board] == ["76.00", "65.00"]
    assert board == _fresh_leaderboard(app, db, show.live_id)


def test_a_rehearsal_reset_never_shows_the_old_rehearsals_results(show, app, db, monkeypatch):
    """The new rehearsal's rows may take the old ones' ids (SQLite reuses them); its first
    slot is run while this process publishes nothing (as on another worker)."""
    def connected(rehearsal, tag):
        tokens = issue_seat_tokens(db, rehearsal)
        director = show.connect(issue_device_token(db, rehearsal, TokenKind.CONTROL).token,
                                session=rehearsal.id)
        judges = {seat: show.connect(tokens[seat].token, f"tablet-{tag}-{seat}",
                                     session=rehearsal.id) for seat in range(1, 6)}
        return director, judges, [slot["id"] for slot in snapshots(director)[-1]["slots"]]

    live = db.get(LiveSession, show.live_id)
    director, judges, slot_ids = connected(rehearsal_for(db, live), "a")
    _run_slot(director, judges, slot_ids, 0, MARKS[0], "a")
    assert [row["value"] for row in snapshots(director)[-1]["leaderboard"]] == ["70.00"]

    director, judges, slot_ids = connected(rehearsal_for(db, live, reset=True), "b")
    with monkeypatch.context() as elsewhere:
        elsewhere.setattr(broadcast, "publish_after_ack", lambda _session_id: None)
        _run_slot(director, judges, slot_ids, 0, ["20", "20", "20", "20", "20"], "b")
    assert command(director, "select", position=1)["ok"]
    board = snapshots(director)[-1]["leaderboard"]
    assert [row["value"] for row in board] == ["20.00"]
    rehearsal = db.exec(select(LiveSession).where(LiveSession.rehearsal_of_id == live.id)).one()
    assert board == _fresh_leaderboard(app, db, rehearsal.id)
