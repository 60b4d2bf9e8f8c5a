"""PINGYI_BALLOT_TRACE (evaluation/ballot_trace.py): off by default; on, a ballot's phases,
its group commit and the COMMIT's thread times are recorded for bench/ballots_trace.py."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlmodel import Session

from evaluation import ballot_trace, db_writes
from evaluation.db import make_engine


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'trace.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER UNIQUE)"))
    return engine


def _write(connection):
    connection.execute(text("INSERT INTO item (n) VALUES (1)"))
    return 1


def _one_traced_write(engine):
    ballot_trace.begin()
    ballot_trace.mark("pre")
    ballot_trace.mark("view")
    with Session(engine) as db:
        assert db_writes.write_batched(db, _write) == 1
    ballot_trace.end()


def test_off_by_default_nothing_is_recorded(tmp_path, monkeypatch):
    monkeypatch.setattr(ballot_trace, "_records", [])
    assert not ballot_trace.ON  # the test run sets no PINGYI_BALLOT_TRACE
    engine = _engine(tmp_path)
    _one_traced_write(engine)
    engine.dispose()
    assert ballot_trace._records == []


def test_on_a_write_records_its_phases_and_its_group_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(ballot_trace, "ON", True)
    monkeypatch.setattr(ballot_trace, "_records", [])
    engine = _engine(tmp_path)
    _one_traced_write(engine)
    engine.dispose()
    kinds = {kind: values for kind, values in ballot_trace._records}
    request = kinds["req"]
    assert request["t0"] <= request["pre"] <= request["view"] <= request["enq"]
    assert request["enq"] <= request["woken"] <= request["end"]
    assert request["led"] is True  # alone: it committed its own write
    batch = kinds["batch"]
    assert batch["n"] == 1 and batch["commit"] >= 0 and batch["catch"] >= 0
    out = tmp_path / "trace.jsonl"
    ballot_trace.flush(str(out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [kind for kind, _values in lines] == ["batch", "req"]
    assert ballot_trace._records == []


def test_a_request_that_never_reached_a_ballot_view_is_not_kept(monkeypatch):
    monkeypatch.setattr(ballot_trace, "ON", True)
    monkeypatch.setattr(ballot_trace, "_records", [])
    ballot_trace.begin()
    ballot_trace.end()
    assert ballot_trace._records == []


def test_on_a_feed_poll_is_kept_with_its_lane_status_and_size(monkeypatch):
    """bench/soak.py --trace: a poll's wait for a FeedLane lane and its answer."""
    from live.overlays import FeedLane

    monkeypatch.setattr(ballot_trace, "ON", True)
    monkeypatch.setattr(ballot_trace, "_records", [])

    def feed(environ, start_response):
        start_response("200 OK", [("Content-Length", "5")])
        return [b"hello"]

    app = ballot_trace.traced(FeedLane(feed))
    assert app({"PATH_INFO": "/live/3/feed.json"}, lambda *_args: None) == [b"hello"]
    assert app({"PATH_INFO": "/live/3/sheet"}, lambda *_args: None) == [b"hello"]
    [(kind, poll)] = ballot_trace._records  # the other request reached no ballot view
    assert kind == "feed" and poll["status"] == 200 and poll["bytes"] == 5
    assert poll["t0"] <= poll["lane"] <= poll["end"]
