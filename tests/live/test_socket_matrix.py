"""Every Socket.IO event of /live against every kind of caller, from one table.

A handler registered without a row in EVENTS fails `test_every_event_is_in_the_table`, so no
event can be added without deciding who may send it. "refused" means the connection itself is
refused; "forbidden" an error ack with that code; "allowed" any other answer (the payloads are
chosen so an authorized caller gets a state or validation answer and nothing is written).
"""

from __future__ import annotations

import factories as f
import pytest
from conftest import CHIEF_SEAT, NS
from sqlmodel import select

from evaluation.extensions import socketio
from evaluation.models import (
    Campaign,
    LiveSeat,
    LiveSession,
    LiveSubmission,
    Role,
    Score,
    Stage,
)
from evaluation.services.live_sessions import create_session, issue_panel_codes, issue_seat_tokens

CALLERS = ["anonymous", "judge", "chief_judge", "judge_of_other_session", "director_token",
           "organizer_of_org", "organizer_of_other_org", "agency_contact", "overlay",
           "audience_member"]
REFUSED, FORBIDDEN, ALLOWED = "refused", "forbidden", "allowed"

# Connection: who gets in at all (in CALLERS order).
CONNECT = (REFUSED, ALLOWED, ALLOWED, REFUSED, ALLOWED, ALLOWED, REFUSED, REFUSED, ALLOWED,
           ALLOWED)
ANY_CONNECTED = tuple(REFUSED if c == REFUSED else ALLOWED for c in CONNECT)


def only(*callers: str) -> tuple[str, ...]:
    return tuple(REFUSED if CONNECT[i] == REFUSED else ALLOWED if name in callers else FORBIDDEN
                 for i, name in enumerate(CALLERS))


EVENTS = {  # event: (payload, expected per caller)
    "connect": (None, CONNECT),
    "disconnect": (None, CONNECT),
    "snapshot_request": ({}, ANY_CONNECTED),
    "submit_mark": ({"client_id": "matrix-mark-01", "slot_id": 1, "total": "80"},
                    only("judge", "chief_judge")),
    "director": ({"action": "prev"}, only("director_token", "organizer_of_org")),
    "void_decision": ({"request_id": 999999, "approve": True}, only("chief_judge")),
    "audience_vote": ({"client_id": "matrix-vote-01", "slot_id": 1, "level": "satisfied"},
                      only("audience_member")),
}


def test_every_event_is_in_the_table(app):
    registered = set(socketio.server.handlers[NS])
    assert registered == set(EVENTS), f"events without a row: {registered - set(EVENTS)}"


@pytest.fixture
def callers(show, app, db):
    """A connected test client per caller (None where the connection was refused)."""
    from webclient import Browserless

    live = db.get(LiveSession, show.live_id)
    stage = db.get(Stage, live.stage_id)
    other = create_session(db, stage, "另一场", [], [])
    other_judge = f.judge(db, db.get(Campaign, stage.campaign_id))
    db.add(LiveSeat(session_id=other.id, judge_id=other_judge.id, seat_no=1))
    db.commit()
    other_token = issue_seat_tokens(db, other)[1].token
    panel = issue_panel_codes(db, live, 1)

    def logged_in(role, organization, agency=None):
        user = f.user(db, role, organization, agency)
        web = Browserless(app.test_client())
        web.login(user.username)
        return web.client

    credentials = {
        "anonymous": {},
        "judge": {"token": show.seat_tokens[1].token, "device": "matrix-1"},
        "chief_judge": {"token": show.seat_tokens[CHIEF_SEAT].token, "device": "matrix-c"},
        "judge_of_other_session": {"token": other_token, "device": "matrix-o"},
        "director_token": {"token": show.control},
        "organizer_of_org": {"flask_client": logged_in(Role.ORGANIZER, show.organization)},
        "organizer_of_other_org": {"flask_client": logged_in(Role.ORGANIZER, f.org(db))},
        "agency_contact": {"flask_client": logged_in(
            Role.AGENCY_CONTACT, show.organization, f.agency(db, show.organization))},
        "overlay": {"token": show.overlay},
        "audience_member": {"token": panel[0][1]},
    }
    clients = {}
    for name, given in credentials.items():
        client = show.connect(**given)
        clients[name] = client if client.is_connected(NS) else None
    return clients


@pytest.mark.parametrize("event", sorted(set(EVENTS) - {"connect", "disconnect"}))
def test_event_against_every_caller(event, callers, db):
    payload, expected = EVENTS[event]
    for name, want in zip(CALLERS, expected, strict=True):
        client = callers[name]
        if want == REFUSED:
            assert client is None, f"{name} should not get in"
            continue
        assert client is not None, f"{name} should get in"
        ack = client.emit(event, payload, namespace=NS, callback=True)
        code = (ack.get("error") or {}).get("code") if isinstance(ack, dict) else None
        if want == FORBIDDEN:
            assert code == "forbidden", (event, name, ack)
        else:
            assert code not in ("forbidden", "unauthorized"), (event, name, ack)
    # Authorized or not, nothing was written by these probes.
    assert db.exec(select(LiveSubmission)).all() == [] and db.exec(select(Score)).all() == []


def test_connect_against_every_caller(callers):
    for name, want in zip(CALLERS, CONNECT, strict=True):
        assert (callers[name] is not None) == (want == ALLOWED), name
