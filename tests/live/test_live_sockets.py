"""The live review over Socket.IO (Flask-SocketIO test client): every event, every role."""

from __future__ import annotations

import json
import threading

import factories as f
import pytest
from conftest import CHIEF_SEAT, NS, command, snapshots, submit, to_scoring
from sqlmodel import Session, select

from evaluation.models import (
    AuditEvent,
    ConflictDeclaration,
    Judge,
    LiveSeat,
    LiveSession,
    LiveSubmission,
    Role,
    Score,
)
from live import broadcast
from live.identity import OVERLAY
from live.operations import bump_revision


def _count(db, model) -> int:
    return len(db.exec(select(model)).all())


@pytest.mark.parametrize("auth", [
    {},  # no session
    {"session": 1},  # no token
    {"session": 1, "token": "not-a-token"},
])
def test_connect_without_a_valid_token_is_refused(show, auth):
    from evaluation.extensions import socketio

    if "session" in auth:
        auth["session"] = show.live_id
    client = socketio.test_client(show.app, namespace=NS, auth=auth)
    assert not client.is_connected(NS)


def test_a_token_for_another_session_is_refused(show, caplog):
    caplog.set_level("INFO", logger="pingyi.security")
    client = show.connect(show.overlay, session=show.live_id + 1000)
    assert not client.is_connected(NS)
    assert "event=live_connect_refused" in caplog.text  # ASVS V16.3.1
    assert show.overlay not in caplog.text


def test_each_role_gets_a_snapshot_on_connect(show):
    clients = (show.connect(show.overlay), show.director(), show.judge(1))
    assert [c.is_connected(NS) for c in clients] == [True] * 3
    for client in clients:
        pictures = snapshots(client)
        assert pictures and pictures[-1]["session"]["id"] == show.live_id
        assert [s["id"] for s in pictures[-1]["slots"]] == show.slot_ids


def test_a_judges_mark_is_stored_before_the_ack_and_carries_its_ids(show, db):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    ack = submit(judge, show.slot_ids[0], "88.5", "sheet-seat1-a")
    assert ack["ok"] and not ack["duplicate"]
    score = db.get(Score, ack["score_id"])
    assert str(score.value) == "88.50" and score.client_request_id == "sheet-seat1-a"
    assert db.get(LiveSubmission, ack["submission_id"]).score_id == score.id


def test_a_resend_gets_the_original_ack_and_no_second_row(show, db):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    first = submit(judge, show.slot_ids[0], "90", "sheet-seat1-b")
    again = submit(judge, show.slot_ids[0], "90", "sheet-seat1-b")
    assert again["ok"] and again["duplicate"]
    assert again["submission_id"] == first["submission_id"]
    assert _count(db, Score) == 1


def test_a_resend_after_scoring_closed_is_still_acknowledged(show, db):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    first = submit(judge, show.slot_ids[0], "90", "sheet-late-resend")
    assert command(director, "next")["ok"]  # scoring closed
    again = submit(judge, show.slot_ids[0], "90", "sheet-late-resend")
    assert again["ok"] and again["submission_id"] == first["submission_id"]


def test_a_second_sheet_from_the_same_seat_is_refused(show, db):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    first = submit(judge, show.slot_ids[0], "90", "sheet-one")
    second = submit(judge, show.slot_ids[0], "70", "sheet-two")
    assert second["error"]["code"] == "already_submitted"
    assert second["error"]["submission_id"] == first["submission_id"]
    assert _count(db, Score) == 1


@pytest.mark.parametrize("payload, code, field", [
    ({"client_id": "short", "total": "80"}, "invalid_payload", "client_id"),
    ({"client_id": "sheet-float-1", "total": 80.5}, "invalid_payload", "total"),
    ({"client_id": "sheet-text-1", "total": "八十"}, "invalid_payload", "total"),
    ({"client_id": "sheet-big-1", "total": "100.5"}, "invalid_mark", "total"),
    ({"client_id": "sheet-step-1", "total": "80.3"}, "invalid_mark", "total"),
    ({"client_id": "sheet-extra-1", "total": "80", "admin": True}, "invalid_payload", "admin"),
])
def test_bad_marks_get_an_error_ack_naming_the_field_and_store_nothing(show, db, payload, code,
                                                                      field):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    events_before = _count(db, AuditEvent)
    ack = judge.emit("submit_mark", {"slot_id": show.slot_ids[0], **payload}, namespace=NS,
                     callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["field"] == field
    assert _count(db, Score) == 0 and _count(db, AuditEvent) == events_before


@pytest.mark.parametrize("event, payload, field, rule", [
    ("submit_mark", {"client_id": "short", "total": "80"}, "client_id", "8 到 64 个字母"),
    ("submit_mark", {"client_id": "sheet-float-2", "total": 80.5}, "total", "以文本发送"),
    ("submit_mark", {"client_id": "sheet-text-2", "total": "八十"}, "total", "2 位小数"),
    ("submit_mark", {"client_id": "sheet-extra-2", "total": "80", "x": 1}, "x", "不接受此项"),
    ("submit_mark", {"total": "80"}, "client_id", "缺少此项"),
    ("submit_mark", {"client_id": "sheet-both-2", "total": "80", "marks": {"1": "80"}},
     "payload", "total（总分）或 marks（分项分）之一"),
    ("director", {"action": "fly"}, "action", "须为以下之一：'select'"),
    ("director", {"action": "timer_extend", "seconds": 0}, "seconds", "须不小于 1"),
    ("director", {"action": "void_request", "reason": "长" * 201}, "reason", "最多 200 个字符"),
])
def test_a_bad_payload_is_refused_in_chinese_stating_the_rule(show, event, payload, field, rule):
    """The tablet and the console show an error ack's message as it comes: pydantic's English
    ("String should match pattern …") must not reach a Chinese screen."""
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    sender = director if event == "director" else judge
    if event == "submit_mark":
        payload = {"slot_id": show.slot_ids[0], **payload}
    ack = sender.emit(event, payload, namespace=NS, callback=True)
    assert ack["error"]["code"] == "invalid_payload" and ack["error"]["field"] == field
    assert rule in ack["error"]["message"]
    assert "should" not in ack["error"]["message"]


def test_non_object_payloads_are_refused(show):
    judge = show.judge(1)
    for payload in (None, "88", [1, 2], 42):
        ack = judge.emit("submit_mark", payload, namespace=NS, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"


def test_nothing_can_be_sent_while_scoring_is_closed(show, db):
    director, judge = show.director(), show.judge(1)
    command(director, "select", position=0)
    command(director, "next")  # report
    ack = submit(judge, show.slot_ids[0], "80", "sheet-too-early")
    assert ack["error"]["code"] == "scoring_closed" and _count(db, Score) == 0


def test_marks_for_an_agency_not_on_stage_are_refused(show):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    assert submit(judge, show.slot_ids[1], "80", "sheet-wrong-slot")["error"]["code"] == (
        "not_on_stage")


def test_roles_cannot_use_each_others_events(show, db, caplog):
    caplog.set_level("INFO", logger="pingyi.security")
    judge, overlay = show.judge(1), show.connect(show.overlay)
    assert command(judge, "next")["error"]["code"] == "forbidden"
    assert command(overlay, "next")["error"]["code"] == "forbidden"
    assert submit(overlay, show.slot_ids[0], "80", "sheet-overlay-1")["error"]["code"] == (
        "forbidden")
    director = show.director()
    assert submit(director, show.slot_ids[0], "80", "sheet-director-1")["error"]["code"] == (
        "forbidden")
    assert caplog.text.count("event=live_event_forbidden") == 4  # ASVS V16.3.2


def test_before_the_reveal_only_the_director_sees_marks(show):
    director, overlay, judge1, judge2 = (show.director(), show.connect(show.overlay),
                                         show.judge(1), show.judge(2))
    to_scoring(director)
    submit(judge1, show.slot_ids[0], "91", "sheet-secret-1")
    overlay_view = snapshots(overlay)[-1]["current"]
    judge_view = snapshots(judge2)[-1]["current"]
    director_view = snapshots(director)[-1]["current"]
    for view in (overlay_view, judge_view):
        assert view["progress"]["submitted"] == 1 and view["progress"]["expected"] == 5
        assert "result" not in view
        assert all("mark" not in seat for seat in view["seats"])
        assert "91" not in json.dumps(view)
    assert director_view["seats"][0]["mark"] == "91.00"
    assert director_view["seats"][0]["connected"] is True


def _all_mark(show, slot_index: int, marks: dict[int, str]) -> None:
    for seat_no, total in marks.items():
        ack = submit(show.judge(seat_no), show.slot_ids[slot_index], total,
                     f"sheet-{slot_index}-{seat_no}")
        assert ack["ok"], ack


def test_reveal_waits_for_every_present_seat(show, db):
    director = show.director()
    to_scoring(director)
    _all_mark(show, 0, {1: "90", 2: "85", 3: "80"})
    assert command(director, "next")["ok"]  # close scoring
    refused = command(director, "next")
    assert refused["error"]["code"] == "waiting_for_seats"
    assert refused["error"]["waiting_seats"] == [4, 5]
    refused = command(director, "reveal")
    assert refused["error"]["code"] == "reason_required" and refused["error"]["field"] == "reason"
    forced = command(director, "reveal", reason="4号、5号评委因故缺席")
    assert forced["ok"]
    notes = db.exec(select(AuditEvent).where(AuditEvent.action == "forced_reveal")).all()
    assert len(notes) == 1 and "缺席" in notes[0].payload


def test_reveal_shows_every_mark_the_dropped_ones_and_the_result(show):
    director, overlay = show.director(), show.connect(show.overlay)
    to_scoring(director)
    _all_mark(show, 0, {1: "95", 2: "88", 3: "88.5", 4: "78", 5: "90"})
    assert command(director, "next")["ok"]
    assert command(director, "next")["ok"]  # all in: reveal without a reason
    picture = snapshots(overlay)[-1]
    current = picture["current"]
    assert current["segment"] == "revealed"
    assert [seat["mark"] for seat in current["seats"]] == ["95.00", "88.00", "88.50", "78.00",
                                                           "90.00"]
    # Drop 95 (seat 1) and 78 (seat 4): (88 + 88.5 + 90) / 3 = 266.5 / 3 = 88.8333… → 88.83
    assert current["result"] == {"value": "88.83", "dropped_high": [1], "dropped_low": [4],
                                 "fallback": None, "kept_count": 3}
    board = picture["leaderboard"]
    assert board[0]["agency"] == current["agency"] and board[0]["value"] == "88.83"


def test_recused_seat_is_not_expected_and_cannot_mark(show):
    director = show.director()
    command(director, "select", position=1)
    for _ in range(3):
        command(director, "next")
    ack = submit(show.judge(5), show.slot_ids[1], "99", "sheet-own-agency")
    assert ack["error"]["code"] == "recused"
    view = snapshots(director)[-1]["current"]
    assert view["progress"]["expected"] == 4
    assert [s["recused"] for s in view["seats"]] == [False, False, False, False, True]


def test_revisions_only_grow(show):
    director, overlay = show.director(), show.connect(show.overlay)
    to_scoring(director)
    _all_mark(show, 0, {1: "80", 2: "81"})
    revisions = [picture["revision"] for picture in snapshots(overlay)]
    assert revisions == sorted(revisions) and len(set(revisions)) == len(revisions)


def test_a_publish_never_sends_an_older_revision_after_a_newer_one(show, monkeypatch):
    """Under gevent a publish's greenlet may yield between reading the revision and its last
    emit (a commit off the hub, the message queue); a second publish that read a newer
    revision meanwhile must not get its snapshot out first."""
    sent, first_read, second_done = [], threading.Event(), threading.Event()

    def publish(_db, live):  # stands in for what broadcast.publish does after the read
        if not first_read.is_set():
            first_read.set()
            second_done.wait(timeout=0.5)  # the second publish overtakes here, if it can
            sent.append(live.revision)
        else:
            sent.append(live.revision)
            second_done.set()

    monkeypatch.setattr(broadcast, "publish", publish)
    first = threading.Thread(target=broadcast._publish_now, args=(show.app, show.live_id))
    first.start()
    assert first_read.wait(timeout=5)
    with Session(show.app.extensions["pingyi_db"]) as other:  # a commit meanwhile
        newer = bump_revision(other, show.live_id)
        other.commit()
    second = threading.Thread(target=broadcast._publish_now, args=(show.app, show.live_id))
    second.start()
    first.join(timeout=5)
    second.join(timeout=5)
    assert sent == [newer - 1, newer]


def test_a_first_picture_is_never_older_than_the_session_row(show, monkeypatch):
    """A client joins its rooms before its first picture is sent: a publish may reach it in
    between, so that picture is read afresh, not from the row the handler read earlier."""
    engine, sent = show.app.extensions["pingyi_db"], []
    monkeypatch.setattr(broadcast.socketio, "emit",
                        lambda _event, picture, **_kw: sent.append(picture["revision"]))
    with Session(engine) as db:
        stale = db.get(LiveSession, show.live_id)
        with Session(engine) as other:
            newer = bump_revision(other, show.live_id)
            other.commit()
        with show.app.app_context():
            broadcast.send_snapshot(db, stale, OVERLAY, "some-sid")
    assert sent == [newer]


def test_no_going_back_after_the_reveal(show):
    director = show.director()
    to_scoring(director)
    _all_mark(show, 0, {n: "80" for n in range(1, 6)})
    command(director, "next")
    command(director, "next")
    assert command(director, "prev")["error"]["code"] == "no_way_back"


def test_cannot_switch_agency_mid_scoring(show):
    director = show.director()
    to_scoring(director)
    assert command(director, "select", position=1)["error"]["code"] == "slot_in_progress"


def test_timer_start_pause_extend(show):
    director = show.director()
    command(director, "select", position=0)
    command(director, "next")  # 履职汇报: 480 s planned
    timer = snapshots(director)[-1]["current"]["timer"]
    assert timer == {"running": False, "remaining_ms": 480_000}  # loaded, not yet running
    command(director, "timer_extend", seconds=60)
    assert snapshots(director)[-1]["current"]["timer"]["remaining_ms"] == 540_000
    command(director, "timer_start")
    assert snapshots(director)[-1]["current"]["timer"]["running"] is True
    command(director, "timer_pause")
    timer = snapshots(director)[-1]["current"]["timer"]
    assert timer["running"] is False and 530_000 < timer["remaining_ms"] <= 540_000
    assert command(director, "timer_extend")["error"]["code"] == "seconds_required"


def test_one_device_per_seat_until_the_director_releases_it(show, db):
    first = show.judge(2, device="ipad-a")
    second = show.judge(2, device="ipad-b")
    assert first.is_connected(NS) and not second.is_connected(NS)
    director = show.director()
    assert command(director, "release_seat", seat_no=2)["ok"]
    assert not first.is_connected(NS)
    assert show.judge(2, device="ipad-b").is_connected(NS)
    seat = db.exec(select(LiveSeat).where(LiveSeat.seat_no == 2)).one()
    db.refresh(seat)
    assert seat.device_id == "ipad-b"
    changes = [e for e in db.exec(select(AuditEvent).where(AuditEvent.object_type == "live_seat"))]
    assert len(changes) >= 3  # created, released, bound again


def test_organizer_login_directs_but_another_organization_does_not(show, app, db, web):
    import factories as f

    from evaluation.models import Role

    f.user(db, Role.ORGANIZER, show.organization, username="daobo")
    web.login("daobo")
    director = show.connect(flask_client=web.client)
    assert director.is_connected(NS) and command(director, "select", position=0)["ok"]
    other_web = web.__class__(app.test_client())
    f.user(db, Role.ORGANIZER, f.org(db), username="outsider")
    other_web.login("outsider")
    assert not show.connect(flask_client=other_web.client).is_connected(NS)


def test_per_connection_rate_limit(show):
    judge = show.judge(1)
    answers = [judge.emit("submit_mark", {}, namespace=NS, callback=True) for _ in range(30)]
    assert any(a["error"]["code"] == "rate_limited" for a in answers)


def test_a_judge_who_declared_a_conflict_is_recused_like_an_affiliated_one(show, db):
    # Seat 2 declared a conflict with the agency of the first slot (not its affiliation).
    seat = db.exec(select(LiveSeat).where(LiveSeat.session_id == show.live_id,
                                          LiveSeat.seat_no == 2)).one()
    organizer = f.user(db, Role.ORGANIZER, show.organization)
    db.add(ConflictDeclaration(campaign_id=db.get(Judge, seat.judge_id).campaign_id,
                               agency_id=show.agency_ids[0], judge_id=seat.judge_id,
                               reason="曾在该局任职", recorded_by=organizer.id))
    db.commit()
    director = show.director()
    to_scoring(director)
    ack = submit(show.judge(2), show.slot_ids[0], "99", "declared-conflict")
    assert ack["error"]["code"] == "recused"
    assert _count(db, Score) == 0
    view = snapshots(director)[-1]["current"]
    assert view["progress"]["expected"] == 4
    assert [s["recused"] for s in view["seats"]] == [False, True, False, False, False]
    # The other four marks complete the panel: reveal does not wait for seat 2.
    _all_mark(show, 0, {1: "80", 3: "82", 4: "84", 5: "86"})
    assert command(director, "next")["ok"]  # close scoring
    assert command(director, "next")["ok"]  # all present seats in: reveal without a reason
    current = snapshots(director)[-1]["current"]
    assert current["segment"] == "revealed" and current["result"]["kept_count"] == 2


@pytest.mark.parametrize("args", [(), ({"action": "next"}, "extra")], ids=["none", "two"])
def test_an_event_without_exactly_one_payload_gets_an_error_ack(show, args):
    """`socket.emit("submit_mark", ack)` sends no payload: the caller still gets an answer."""
    calls = ((show.judge(1), "submit_mark"), (show.director(), "director"),
             (show.judge(CHIEF_SEAT), "void_decision"))
    for client, event in calls:
        ack = client.emit(event, *args, namespace=NS, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload", (event, ack)


def test_refusals_a_page_can_show_are_in_chinese(show):
    """The console shows an ack's message as it is: a director clicking fast, or a page with
    another role's connection, must not see an English sentence on a Chinese screen."""
    director, judge = show.director(), show.judge(1)
    acks = [command(director, "timer_pause") for _ in range(40)]
    limited = [a for a in acks if not a["ok"] and a["error"]["code"] == "rate_limited"]
    assert limited
    messages = [limited[0]["error"]["message"]]
    messages.append(command(judge, "next")["error"]["message"])
    messages.append(submit(director, show.slot_ids[0], "80", "zh-message-1")["error"]["message"])
    messages.append(judge.emit("void_decision", {"request_id": 1, "approve": True},
                               namespace=NS, callback=True)["error"]["message"])
    for message in messages:
        assert not any("a" <= ch.lower() <= "z" for ch in message), message
