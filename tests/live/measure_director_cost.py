"""Not a test (not collected): CPU of one director command and of one full gather at slot 5
and slot 40 of a 41-agency, 11-judge show (bench/benchmarks_notes.md, "a director command at
slot 40"). Run it by name:
  pytest tests/live/measure_director_cost.py -k sqlite -s -p no:cacheprovider
"""

from __future__ import annotations

import statistics
import time

import factories as f
from conftest import NS, command, submit
from sqlmodel import select

import live.events
from evaluation.extensions import socketio
from evaluation.models import LiveSession, LiveSlot, StageKind, TokenKind
from evaluation.services.live_sessions import (
    create_session,
    issue_device_token,
    issue_seat_tokens,
)
from live import snapshot

AGENCIES, JUDGES, MEASURED_AT, REPEAT = 41, 11, (5, 40), 30


def _cpu_ms(action, prepare=lambda: None, repeat: int = REPEAT) -> tuple[float, float]:
    times = []
    for i in range(repeat):
        prepared = prepare()
        started = time.thread_time()
        action(prepared if prepared is not None else i)
        times.append((time.thread_time() - started) * 1000)
    return round(statistics.median(times), 2), round(min(times), 2)


def test_director_command_cpu(app, db, monkeypatch):
    monkeypatch.setattr(live.events, "allow", lambda _sid: True)  # no rate limit here
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agencies = [f.agency(db, organization) for _ in range(AGENCIES)]
    judges = [f.judge(db, campaign) for _ in range(JUDGES)]
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    show = create_session(db, stage, "m", [a.id for a in agencies], [j.id for j in judges])
    slots = db.exec(select(LiveSlot).where(LiveSlot.session_id == show.id)
                    .order_by(LiveSlot.position)).all()
    tokens = issue_seat_tokens(db, show)

    def connect(**auth):
        return socketio.test_client(app, namespace=NS, auth={"session": show.id, **auth})

    director = connect(token=issue_device_token(db, show, TokenKind.CONTROL).token)
    tablets = {n: connect(token=tokens[n].token, device=f"t{n}") for n in range(1, JUDGES + 1)}

    def timer(i):
        assert command(director, "timer_pause" if i % 2 else "timer_start")["ok"]

    def fresh_row():
        db.expire_all()  # the test's session sees the commands' commits
        return db.get(LiveSession, show.id)

    measured = {}
    for position, slot in enumerate(slots):
        assert command(director, "select", position=position)["ok"]
        for _ in range(3):
            assert command(director, "next")["ok"]
        if position in MEASURED_AT:
            with app.app_context():
                measured[position] = {
                    "command": _cpu_ms(timer),
                    "gather": _cpu_ms(lambda row: snapshot.gather(db, row), fresh_row),
                }
        for n, tablet in tablets.items():
            total = str(50 + (n * 7 + position) % 40)
            assert submit(tablet, slot.id, total, f"sheet-{position:03d}-{n:03d}")["ok"]
        for action in ("next", "reveal", "next", "next"):
            assert command(director, action)["ok"]
        for client in (director, *tablets.values()):
            client.get_received(NS)
    print("\nCPU ms (median, min) by slot:", measured)
