"""Random and broken payloads for every /live event: an ack always (ok, or a refusal with a
code, a message and the field at fault), never an exception, nothing stored when refused."""

from __future__ import annotations

import pytest
from conftest import NS, to_scoring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from socket_strategies import payloads
from sqlalchemy import func
from sqlmodel import Session, select

from evaluation.models import (
    AudienceVote,
    AuditEvent,
    LiveSession,
    LiveSheetLine,
    LiveSubmission,
    Score,
    VoidRequest,
)
from evaluation.services.live_sessions import issue_panel_codes

STORED = (Score, LiveSubmission, LiveSheetLine, VoidRequest, AudienceVote, AuditEvent)
EVENTS = ["submit_mark", "director", "void_decision", "audience_vote", "snapshot_request"]


def stored(engine) -> tuple[int, ...]:
    with Session(engine) as db:
        return tuple(db.exec(select(func.count()).select_from(model)).one() for model in STORED)


def assert_clear_ack(ack) -> None:
    assert isinstance(ack, dict), f"no ack, or not an object: {ack!r}"
    if ack.get("ok") is True:
        return
    assert ack.get("ok") is False, ack
    error = ack["error"]
    assert isinstance(error["code"], str) and error["code"], ack
    assert isinstance(error["message"], str) and error["message"].strip(), ack
    if error["code"] == "invalid_payload":
        assert isinstance(error.get("field"), str) and error["field"], ack


@pytest.fixture
def clients(show, db, monkeypatch):
    # Hundreds of messages from one socket: the per-connection rate limit is not under test.
    monkeypatch.setattr("live.ratelimit.CAPACITY", 10**9)
    panel = issue_panel_codes(db, db.get(LiveSession, show.live_id), 2)
    director = show.director()
    to_scoring(director)
    return {"director": director, "judge": show.judge(1), "chief": show.judge(3),
            "audience": show.connect(panel[0][1]), "overlay": show.connect(show.overlay)}


SENDERS = {"submit_mark": ["judge"], "director": ["director"], "void_decision": ["chief"],
           "audience_vote": ["audience"],
           "snapshot_request": ["judge", "director", "overlay", "audience"]}


# Payload validation does not depend on the database: SQLite alone keeps `make test` quick.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("event", EVENTS)
def test_every_payload_gets_a_clear_ack_and_refusals_store_nothing(event, show, clients):
    engine = show.app.extensions["pingyi_db"]
    outcomes = {"ok": 0, "refused": 0}

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(payload=payloads(event, show.slot_ids),
           sender=st.sampled_from(SENDERS[event] + ["overlay", "judge"]))
    def send(payload, sender):
        before = stored(engine)
        ack = clients[sender].emit(event, payload, namespace=NS, callback=True)
        assert_clear_ack(ack)
        outcomes["ok" if ack["ok"] else "refused"] += 1
        if not ack["ok"]:
            assert stored(engine) == before, (payload, ack)

    send()
    # Every connected client may ask for its snapshot, whatever it sends along.
    assert outcomes["ok" if event == "snapshot_request" else "refused"] > 0
