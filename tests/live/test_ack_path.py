"""What a judge's ack and a feed poll cost the server, counted so that it cannot creep back.

A judge's mark is acknowledged after its commit; every SQL statement before that is paid by
the judge (and holds the writer lock). 2,000 graphics systems polling a feed every 5 s are
400 requests a second: a poll must not read the database (bench/soak.py, 2026-11-28).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import factories as f
import pytest
from conftest import command, submit, to_scoring
from sqlalchemy import event
from sqlmodel import select

from evaluation.models import AccessToken, ConflictDeclaration, Judge, Role
from evaluation.models.base import utcnow
from evaluation.raw_sql import Prepared
from live import broadcast, snapshot
from live.feeds import FeedCache
from live.identity import AUDIENCE, CHIEF, DIRECTOR, JUDGE, OVERLAY
from live.overlays import feed_cache


@contextmanager
def statements(app):
    """Every SQL statement sent to the application's database meanwhile: through
    SQLAlchemy, and on SQLite also those `raw_sql.Prepared` runs on the driver (the audit
    chain's head, a ballot's reads), which SQLAlchemy's cursor events do not see."""
    engine, seen = app.extensions["pingyi_db"], []

    def before(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    def noted(method):
        def run(self, connection, *args):
            if connection.dialect.name == "sqlite":  # elsewhere SQLAlchemy executes it
                seen.append(" ".join(self._for(connection.dialect)[0].split()))
            return method(self, connection, *args)
        return run

    originals = {name: getattr(Prepared, name) for name in ("rows", "execute_many")}
    event.listen(engine, "before_cursor_execute", before)
    for name, method in originals.items():
        setattr(Prepared, name, noted(method))
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        for name, method in originals.items():
            setattr(Prepared, name, method)


def _kinds(seen: list[str]) -> list[str]:
    """'SELECT live_submission', 'INSERT score', … : what each statement reads or writes."""
    kinds = []
    for statement in seen:
        if "pg_advisory_xact_lock" in statement:
            continue  # PostgreSQL: each audit append serializes on it (evaluation/audit.py)
        while re.search(r"\([^()]*\)", statement):  # subqueries out: the main table is left
            statement = re.sub(r"\([^()]*\)", "", statement)
        verb = statement.split()[0].upper()
        table = re.search(r"(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
        kinds.append(f"{verb} {table.group(1) if table else ''}".strip())
    return kinds


def _unpublished(monkeypatch) -> None:
    """The test client publishes inline; the ack path is what comes before."""
    monkeypatch.setattr(broadcast, "publish_after_ack", lambda _session_id: None)


def test_a_mark_is_acknowledged_after_eight_statements(show, app, monkeypatch):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    _unpublished(monkeypatch)
    with statements(app) as seen:
        ack = submit(judge, show.slot_ids[0], "88.5", "ack-path-0001")
    assert ack["ok"]
    assert _kinds(seen) == [
        "SELECT live_submission",  # a resend? (before the writer lock)
        "SELECT live_session",  # session, slot on stage, judge, recusal, seat's sheet: one
        "INSERT score",
        "SELECT audit_event", "INSERT audit_event",  # the chain's head, the score's event
        "INSERT live_submission",
        "SELECT audit_event", "INSERT audit_event",
        "UPDATE live_session",  # the revision
    ], seen


def test_a_resend_is_answered_with_two_reads_and_no_write(show, app, monkeypatch):
    director, judge = show.director(), show.judge(1)
    to_scoring(director)
    first = submit(judge, show.slot_ids[0], "88.5", "ack-path-0002")
    _unpublished(monkeypatch)
    with statements(app) as seen:
        again = submit(judge, show.slot_ids[0], "88.5", "ack-path-0002")
    assert again["duplicate"] and again["submission_id"] == first["submission_id"]
    assert _kinds(seen) == ["SELECT live_submission", "SELECT live_session"]


def test_the_one_context_query_still_refuses_what_it_must(show, db):
    """Not on stage, closed, recused (a declaration counts for its own agency only, and one
    made during the show counts at once), already marked."""
    director = show.director()
    assert submit(show.judge(1), show.slot_ids[0], "80", "ack-path-0003")["error"][
        "code"] == "not_on_stage"  # nothing on stage yet
    command(director, "select", position=0)
    assert submit(show.judge(1), show.slot_ids[0], "80", "ack-path-0004")["error"][
        "code"] == "scoring_closed"
    for _ in range(3):
        command(director, "next")
    assert submit(show.judge(1), show.slot_ids[1], "80", "ack-path-0005")["error"][
        "code"] == "not_on_stage"  # another agency
    judge_2 = db.get(Judge, show.seat_tokens[2].record.judge_id)
    judge_3 = db.get(Judge, show.seat_tokens[3].record.judge_id)
    organizer = f.user(db, Role.ORGANIZER, show.organization)
    for judge, agency_id in ((judge_2, show.agency_ids[0]), (judge_3, show.agency_ids[1])):
        db.add(ConflictDeclaration(campaign_id=judge.campaign_id, agency_id=agency_id,
                                   judge_id=judge.id, reason="曾在该局任职",
                                   recorded_by=organizer.id))
    db.commit()
    assert submit(show.judge(2), show.slot_ids[0], "80", "ack-path-0006")["error"][
        "code"] == "recused"
    assert submit(show.judge(3), show.slot_ids[0], "80", "ack-path-0007")["ok"]
    assert submit(show.judge(1), show.slot_ids[0], "80", "ack-path-0008")["ok"]
    assert submit(show.judge(1), show.slot_ids[0], "81", "ack-path-0009")["error"][
        "code"] == "already_submitted"


def test_the_affiliated_judge_is_recused_by_the_context_query(show):
    director = show.director()
    command(director, "select", position=1)  # judge 5 belongs to the second agency
    for _ in range(3):
        command(director, "next")
    assert submit(show.judge(5), show.slot_ids[1], "80", "ack-path-0010")["error"][
        "code"] == "recused"


# ---------------------------------------------------------------------------- the publish


def test_every_role_is_sent_a_picture_once():
    sent = [role for _made, roles in broadcast.EMITS for role in roles]
    assert sorted(sent) == sorted([OVERLAY, JUDGE, CHIEF, AUDIENCE, DIRECTOR])
    assert sent[0] == OVERLAY  # on air: first


@pytest.mark.parametrize("moment", ["waiting", "scoring", "marked", "revealed"])
def test_the_roles_sharing_one_picture_would_each_get_the_same(show, app, db, moment):
    """One emit for overlays, judges and the audience is right only while `view` makes them
    the same picture, marks hidden until the reveal included."""
    from evaluation.models import LiveSession

    director = show.director()
    if moment != "waiting":
        to_scoring(director)
    if moment in ("marked", "revealed"):
        for seat_no in range(1, 6):
            assert submit(show.judge(seat_no), show.slot_ids[0], "85",
                          f"same-pic-{seat_no:04d}")["ok"]
    if moment == "revealed":
        assert command(director, "next")["ok"]  # closed
        assert command(director, "next")["ok"]  # revealed
    with app.app_context():
        facts = snapshot.gather(db, db.get(LiveSession, show.live_id))
    shared = snapshot.view(facts, OVERLAY)
    for role in snapshot.SAME_PICTURE:
        assert snapshot.view(facts, role) == shared
    seats = (shared["current"] or {}).get("seats", [])
    assert any("mark" in seat for seat in seats) == (moment == "revealed")


def test_a_publish_emits_three_times_for_five_roles(show, app, monkeypatch):
    emitted = []
    real_emit = broadcast.socketio.emit

    def counting(event_name, data, to=None, **kwargs):
        emitted.append(to)
        return real_emit(event_name, data, to=to, **kwargs)

    director, judge = show.director(), show.judge(1)
    monkeypatch.setattr(broadcast.socketio, "emit", counting)
    command(director, "select", position=0)
    publishes = [to for to in emitted if isinstance(to, list)]
    assert len(publishes) == 3
    assert publishes[0] == [broadcast.room(show.live_id, role) for role in snapshot.SAME_PICTURE]
    judge_pictures = [e for e in judge.get_received("/live") if e["name"] == "snapshot"]
    assert judge_pictures and "void_requests" not in judge_pictures[-1]["args"][0]


# ---------------------------------------------------------------------------- feed polls


def _poll(client, show, token=None):
    return client.get(f"/live/{show.live_id}/feed.json",
                      query_string={"token": token or show.overlay})


def test_a_feed_poll_reads_no_database_once_its_token_was_admitted(show, app, client):
    app.extensions.pop("pingyi_feeds", None)
    app.config["LIVE_FEED_TOKEN_SECONDS"] = 5
    command(show.director(), "select", position=0)  # a publish: the feed knows the revision
    first = _poll(client, show)
    assert first.status_code == 200
    with statements(app) as seen:
        again = _poll(client, show)
    assert again.status_code == 200 and again.data == first.data
    assert seen == []


def test_the_first_poll_of_a_published_revision_reads_no_database(show, app, client):
    """Every mark and command is a new revision; the feed must not gather what the publish
    just gathered (it read every revealed slot's marks: more each slot)."""
    app.extensions.pop("pingyi_feeds", None)
    app.config["LIVE_FEED_TOKEN_SECONDS"] = 5
    director = show.director()
    assert _poll(client, show).status_code == 200  # the token admitted
    for action, fields in (("select", {"position": 0}), ("next", {})):
        assert command(director, action, **fields)["ok"]
        with statements(app) as seen:
            polled = _poll(client, show)
        assert polled.json["revision"] == feed_cache(app).revisions[show.live_id][0]
        assert seen == []


def test_a_new_revision_reaches_the_feed_with_the_publish(show, app, client):
    before = _poll(client, show).json["revision"]
    command(show.director(), "select", position=0)
    assert _poll(client, show).json["revision"] > before


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def recording(calls: list):
    """`answer(value)`: a callable that notes `value` in `calls` and returns it."""
    def answer(value):
        def call():
            calls.append(value)
            return value
        return call
    return answer


def test_a_revision_committed_elsewhere_is_read_after_revision_seconds():
    clock, reads = FakeClock(), []
    cache = FeedCache(revision_seconds=1.0, clock=clock)
    read = recording(reads)

    assert cache.revision(7, read(3)) == 3
    assert cache.revision(7, read(4)) == 3 and reads == [3]  # trusted for a second
    clock.now += 1.0
    assert cache.revision(7, read(4)) == 4 and reads == [3, 4]
    cache.saw_revision(7, 6)  # this process published 6
    clock.now += 5
    assert cache.revision(7, read(5)) == 6  # a lagging read never goes back
    assert cache.revision(8, read(None)) is None  # no such session


def test_an_admitted_token_is_asked_again_after_token_seconds_and_refusals_never_stick():
    clock, checks = FakeClock(), []
    cache = FeedCache(token_seconds=5.0, clock=clock)
    check = recording(checks)

    assert cache.admits(1, "tok", check(3600))
    assert cache.admits(1, "tok", check(None)) and len(checks) == 1
    assert not cache.admits(2, "tok", check(None))  # another session: its own check
    clock.now += 5
    assert not cache.admits(1, "tok", check(None))  # revoked meanwhile: refused now
    assert not cache.admits(1, "tok", check(None)) and len(checks) == 4
    assert cache.admits(1, "tok", check(2))  # expires in 2 s: trusted 2 s, not 5
    clock.now += 2
    assert cache.admits(1, "tok", check(3600)) and len(checks) == 6
    assert not cache.admits(1, "", check(3600))


def test_a_revoked_overlay_token_stops_reading_within_token_seconds(show, app, client, db):
    app.extensions.pop("pingyi_feeds", None)
    app.config["LIVE_FEED_TOKEN_SECONDS"] = 5
    clock = FakeClock()
    feed_cache(app).clock = clock
    assert _poll(client, show).status_code == 200
    record = db.exec(select(AccessToken).where(AccessToken.scope == f"live:{show.live_id}",
                                               AccessToken.kind == "overlay")).one()
    record.revoked_at = utcnow()
    db.add(record)
    db.commit()
    assert _poll(client, show).status_code == 200  # as a tablet's socket stays a moment
    clock.now += 5
    assert _poll(client, show).status_code == 401


def test_without_a_sweep_interval_every_poll_checks_its_token(show, app, client, db):
    """Tests (and deployments) with LIVE_SWEEP_SECONDS = 0 never trust an earlier check."""
    app.extensions.pop("pingyi_feeds", None)
    app.config.pop("LIVE_FEED_TOKEN_SECONDS", None)
    assert _poll(client, show).status_code == 200
    record = db.exec(select(AccessToken).where(AccessToken.scope == f"live:{show.live_id}",
                                               AccessToken.kind == "overlay")).one()
    record.revoked_at = utcnow()
    db.add(record)
    db.commit()
    assert _poll(client, show).status_code == 401


# ---------------------------------------------------------------------------- increments


def _without_clock(picture: dict) -> dict:
    return {key: value for key, value in picture.items() if key != "server_time_ms"}


def _last_snapshot(client) -> dict:
    return [e for e in client.get_received("/live") if e["name"] == "snapshot"][-1]["args"][0]


def test_a_publish_after_marks_only_patches_the_last_facts_and_shows_the_same(
        show, app, db, monkeypatch):
    """While judges mark, a publish reads the session row only, and every role's picture is
    the one a full gather would make (the director's marks and result included)."""
    from evaluation.models import LiveSession

    director, overlay = show.director(), show.connect(show.overlay)
    judges = {seat_no: show.judge(seat_no) for seat_no in range(1, 6)}
    to_scoring(director)
    gathers = []
    real_gather = snapshot.gather
    monkeypatch.setattr(snapshot, "gather",
                        lambda db, live: gathers.append(live.revision) or real_gather(db, live))
    for seat_no, total in ((1, "81.5"), (2, "92"), (3, "77"), (4, "86"), (5, "88.5")):
        with statements(app) as seen:
            assert submit(judges[seat_no], show.slot_ids[0], total, f"incr-{seat_no:04d}")["ok"]
        assert _kinds(seen)[-1] == "SELECT live_session"  # the publish's one read
        assert _kinds(seen).count("SELECT live_slot") == 0
        with app.app_context():
            live = db.get(LiveSession, show.live_id)
            db.refresh(live)
            full = real_gather(db, live)
        for client, role in ((director, DIRECTOR), (overlay, OVERLAY),
                             (judges[3], CHIEF), (judges[1], JUDGE)):
            published = _last_snapshot(client)
            assert _without_clock(published) == _without_clock(snapshot.view(full, role))
        assert published["current"]["progress"]["submitted"] == seat_no
    assert gathers == []
    assert command(director, "next")["ok"]  # a director's command: gathered again
    assert len(gathers) == 1


def test_a_revision_this_process_has_no_mark_for_is_gathered_again(show, app, db, monkeypatch):
    """Another worker's commit (here: a revision taken behind the server's back) in between:
    the facts are read again, not patched past it."""
    from sqlalchemy import text

    director = show.director()
    to_scoring(director)
    assert submit(show.judge(1), show.slot_ids[0], "80", "incr-0101")["ok"]
    db.execute(text("UPDATE live_session SET revision = revision + 1 WHERE id = :id"),
               {"id": show.live_id})
    db.commit()
    gathers = []
    real_gather = snapshot.gather
    monkeypatch.setattr(snapshot, "gather",
                        lambda db, live: gathers.append(live.revision) or real_gather(db, live))
    assert submit(show.judge(2), show.slot_ids[0], "90", "incr-0102")["ok"]
    assert len(gathers) == 1
    seats = _last_snapshot(director)["current"]["seats"]
    assert [seat.get("mark") for seat in seats][:2] == ["80.00", "90.00"]


def test_feed_polls_take_turns_in_their_own_lanes_and_nothing_else_waits_for_them():
    import threading

    from live.overlays import FeedLane

    inside, most, release = [], [], threading.Event()

    def app(environ, _start_response):
        inside.append(environ["PATH_INFO"])
        most.append(len(inside))
        if environ["PATH_INFO"].endswith(".json"):
            release.wait(5)
        inside.remove(environ["PATH_INFO"])
        return [b""]

    lane = FeedLane(app, lanes=2)
    polls = [threading.Thread(target=lane, args=({"PATH_INFO": "/live/1/feed.json"}, None))
             for _ in range(4)]
    for poll in polls:
        poll.start()
    for _ in range(100):
        if len(inside) == 2:
            break
        threading.Event().wait(0.01)
    assert len(inside) == 2  # two lanes busy, two polls waiting
    lane({"PATH_INFO": "/socket.io/"}, None)  # a judge's socket does not queue behind them
    lane({"PATH_INFO": "/live/1/feed.json.bak"}, None)
    release.set()
    for poll in polls:
        poll.join(5)
    assert max(most) == 3 and not inside  # 2 polls + the socket request, never 3 polls
