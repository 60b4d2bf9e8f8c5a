"""The audience panel (大众评审团): one vote per member per agency, in the scoring window;
the satisfaction index (scoring/'s three-level scale) is revealed with the judges' result."""

from __future__ import annotations

import pytest
from conftest import NS, command, snapshots, submit, to_scoring
from sqlmodel import select

from evaluation.models import AudienceVote, LiveSession, PanelMember
from evaluation.services.errors import ValidationFailed
from evaluation.services.live_sessions import issue_panel_codes


@pytest.fixture
def panel(show, db):
    return issue_panel_codes(db, db.get(LiveSession, show.live_id), 6)


def _vote(client, slot_id, level, client_id):
    return client.emit("audience_vote", {"client_id": client_id, "slot_id": slot_id,
                                         "level": level}, namespace=NS, callback=True)


def test_codes_are_stored_as_digests_and_admit_their_member(show, panel, db):
    number, code = panel[0]
    stored = db.exec(select(PanelMember).where(PanelMember.number == number)).one()
    assert code not in stored.code_digest and len(stored.code_digest) == 64
    member = show.connect(code.lower())
    assert member.is_connected(NS)
    welcome = [e["args"][0] for e in member.get_received(NS) if e["name"] == "welcome"]
    assert welcome == [{"member": 1, "voted": []}]
    assert not show.connect("WRONGCODE9").is_connected(NS)


def test_one_vote_per_member_per_agency_during_scoring(show, panel, db):
    director = show.director()
    member = show.connect(panel[0][1])
    command(director, "select", position=0)
    assert _vote(member, show.slot_ids[0], "satisfied", "vote-too-early")["error"]["code"] == (
        "voting_closed")
    for _ in range(3):
        command(director, "next")
    first = _vote(member, show.slot_ids[0], "satisfied", "vote-member1-a")
    assert first["ok"] and not first["duplicate"]
    again = _vote(member, show.slot_ids[0], "satisfied", "vote-member1-a")
    assert again["duplicate"] and again["vote_id"] == first["vote_id"]
    second = _vote(member, show.slot_ids[0], "dissatisfied", "vote-member1-b")
    assert second["error"]["code"] == "already_voted"
    assert len(db.exec(select(AudienceVote)).all()) == 1


@pytest.mark.parametrize("payload, field", [
    ({"client_id": "vote-bad-level", "level": "非常满意"}, "level"),
    ({"client_id": "x", "level": "satisfied"}, "client_id"),
])
def test_bad_ballots_name_the_field(show, panel, payload, field):
    director, member = show.director(), show.connect(panel[0][1])
    to_scoring(director)
    ack = member.emit("audience_vote", {"slot_id": show.slot_ids[0], **payload}, namespace=NS,
                      callback=True)
    assert ack["error"]["code"] == "invalid_payload" and ack["error"]["field"] == field


def test_only_panel_members_vote_and_members_do_nothing_else(show, panel):
    director, member, judge = show.director(), show.connect(panel[0][1]), show.judge(1)
    to_scoring(director)
    assert _vote(judge, show.slot_ids[0], "satisfied", "vote-by-judge")["error"]["code"] == (
        "forbidden")
    assert _vote(director, show.slot_ids[0], "satisfied", "vote-by-dir")["error"]["code"] == (
        "forbidden")
    assert submit(member, show.slot_ids[0], "90", "mark-by-member")["error"]["code"] == (
        "forbidden")
    assert command(member, "next")["error"]["code"] == "forbidden"


def test_index_is_revealed_with_the_result(show, panel):
    director, overlay = show.director(), show.connect(show.overlay)
    to_scoring(director)
    levels = ["satisfied", "satisfied", "basic", "dissatisfied"]
    for (number, code), level in zip(panel, levels, strict=False):
        assert _vote(show.connect(code), show.slot_ids[0], level, f"vote-{number:04d}")["ok"]
    before = snapshots(overlay)[-1]["current"]["audience"]
    assert before == {"votes": 4}  # progress only before the reveal
    for seat in range(1, 6):
        submit(show.judge(seat), show.slot_ids[0], "80", f"mark-audience-{seat}")
    command(director, "next")
    command(director, "next")
    after = snapshots(overlay)[-1]["current"]["audience"]
    # (2 × 100 + 1 × 80 + 1 × 0) / 4 = 70.00; satisfied or basic: 3 / 4 = 75.00 %
    assert after["index"] == "70.00" and after["rate"] == "75.00"
    assert after["counts"] == {"satisfied": 2, "basic": 1, "dissatisfied": 1}
    assert after["below_minimum"] is True  # fewer than 30 votes: flagged, not hidden


def test_code_batches_are_numbered_on(show, db):
    live = db.get(LiveSession, show.live_id)
    assert [n for n, _ in issue_panel_codes(db, live, 2)] == [1, 2]
    assert [n for n, _ in issue_panel_codes(db, live, 3)] == [3, 4, 5]
    with pytest.raises(ValidationFailed):
        issue_panel_codes(db, live, 0)
