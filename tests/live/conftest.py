"""A small on-site show: 3 agencies on stage, 5 judges (judge 5 belongs to the second agency)."""

from __future__ import annotations

from dataclasses import dataclass

import factories as f
import pytest
from sqlmodel import select

from evaluation.extensions import socketio
from evaluation.models import LiveSeat, LiveSlot, StageKind, TokenKind
from evaluation.services.live_sessions import create_session, issue_device_token, issue_seat_tokens

NS = "/live"
CHIEF_SEAT = 3


@dataclass
class Show:
    app: object
    live_id: int
    slot_ids: list[int]
    agency_ids: list[int]
    seat_tokens: dict
    control: str
    overlay: str
    organization: object

    def connect(self, token: str | None = None, device: str | None = None, flask_client=None,
                session: int | None = None):
        auth = {"session": session or self.live_id}
        if token is not None:
            auth["token"] = token
        if device is not None:
            auth["device"] = device
        return socketio.test_client(self.app, namespace=NS, auth=auth,
                                    flask_test_client=flask_client)

    def judge(self, seat_no: int, device: str | None = None):
        return self.connect(self.seat_tokens[seat_no].token, device or f"tablet-{seat_no}")

    def director(self):
        return self.connect(self.control)


def command(client, action: str, **fields) -> dict:
    return client.emit("director", {"action": action, **fields}, namespace=NS, callback=True)


def submit(client, slot_id: int, total: str, client_id: str) -> dict:
    return client.emit("submit_mark", {"client_id": client_id, "slot_id": slot_id,
                                       "total": total}, namespace=NS, callback=True)


def snapshots(client) -> list[dict]:
    return [event["args"][0] for event in client.get_received(NS) if event["name"] == "snapshot"]


def to_scoring(director) -> None:
    command(director, "select", position=0)
    for _ in range(3):  # waiting -> report -> showcase -> scoring
        assert command(director, "next")["ok"]


@pytest.fixture
def show(app, db) -> Show:
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agencies = [f.agency(db, organization) for _ in range(3)]
    judges = [f.judge(db, campaign) for _ in range(5)]
    judges[4].affiliation_agency_id = agencies[1].id
    db.add(judges[4])
    db.commit()
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    live = create_session(db, stage, "第一场", [a.id for a in agencies], [j.id for j in judges])
    chief = db.exec(select(LiveSeat).where(LiveSeat.session_id == live.id,
                                           LiveSeat.seat_no == CHIEF_SEAT)).one()
    chief.is_chief = True
    db.add(chief)
    db.commit()

    slots = db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id)
                    .order_by(LiveSlot.position)).all()
    return Show(
        app=app, live_id=live.id, slot_ids=[s.id for s in slots],
        agency_ids=[a.id for a in agencies], seat_tokens=issue_seat_tokens(db, live),
        control=issue_device_token(db, live, TokenKind.CONTROL).token,
        overlay=issue_device_token(db, live, TokenKind.OVERLAY).token,
        organization=organization)
