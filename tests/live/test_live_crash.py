"""kill -9 in the middle of scoring, a few times: every acknowledged mark survives exactly once,
every tablet's outbox gets delivered, and the overlay's picture after a restart is the same."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest
import socketio
from serverproc import Server, demo_instance, run_cli
from simtablet import NS, SimTablet

KILLS = 3


def _links(path, base):
    result = run_cli(path, "live", "links", "--demo", "--json", "--base-url", base)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _call(client, payload):
    return client.call("director", payload, namespace=NS, timeout=10)


def _restart(server: Server, instance) -> Server:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server.log.close()
    return Server(instance, port=server.port)


def _stored(instance) -> list[tuple]:
    with sqlite3.connect(instance / "pingyi.sqlite3") as db:
        return db.execute("SELECT s.client_id, s.seat_id, sc.value FROM live_submission s "
                          "JOIN score sc ON sc.id = s.score_id").fetchall()


def _overlay_picture(base, session, token) -> dict:
    received = []
    client = socketio.Client(reconnection=False)
    client.on("snapshot", received.append, namespace=NS)
    client.connect(base, namespaces=[NS], auth={"session": session, "token": token},
                   transports=["websocket"], wait_timeout=10)
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    return received[-1]


def _comparable(picture: dict) -> dict:
    return {key: picture[key] for key in ("slots", "current", "leaderboard", "session")}


@pytest.fixture
def instance(tmp_path):
    return demo_instance(tmp_path)


def test_kill_9_mid_scoring_loses_nothing_and_counts_nothing_twice(instance):
    server = Server(instance)
    links = _links(instance, server.base)
    session = links["session"]
    director = socketio.Client(reconnection=True, reconnection_delay=0.2)
    director.connect(server.base, namespaces=[NS], transports=["websocket"], retry=True,
                     auth={"session": session, "token": links["control_token"]})
    assert _call(director, {"action": "select", "position": 0})["ok"]
    for _ in range(3):
        assert _call(director, {"action": "next"})["ok"]
    slot_id = _overlay_picture(server.base, session, links["overlay_token"])["current"]["slot_id"]
    tablets = {int(n): SimTablet(server.base, session, seat["token"], f"sim-{n}")
               for n, seat in links["seats"].items()}
    try:
        for tablet in tablets.values():
            tablet.connect()
        seats = sorted(tablets)
        batches = [seats[i::KILLS] for i in range(KILLS)]
        for round_no, batch in enumerate(batches):
            for n in batch:  # submit without waiting: some are in flight at the kill
                tablets[n].client.start_background_task(
                    tablets[n].submit, f"crash-{n:02d}", slot_id, f"{80 + n}.5")
            time.sleep(0.05 * (round_no + 1))
            server = _restart(server, instance)
        deadline = time.monotonic() + 120  # generous: CI machines are shared and noisy
        while any(t.pending() for t in tablets.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        stuck = {n: t.diagnosis() for n, t in tablets.items() if t.pending()}
        assert not stuck, f"outboxes not delivered: {stuck}\n{server.output()[-3000:]}"
        acked = {cid: ack for t in tablets.values() for cid, ack in t.acks.items()}
        refused = [r for t in tablets.values() for r in t.refusals]
        stored = _stored(instance)
        stored_ids = [row[0] for row in stored]
        # Recused seats are refused for good; everyone else was acknowledged exactly once.
        assert all(r["code"] == "recused" for r in refused)
        assert len(acked) + len(refused) == len(tablets)
        assert sorted(stored_ids) == sorted(acked)  # lost = 0, nothing unacknowledged kept
        assert len(stored_ids) == len(set(stored_ids))  # duplicates = 0

        before = _overlay_picture(server.base, session, links["overlay_token"])
        server = _restart(server, instance)
        after = _overlay_picture(server.base, session, links["overlay_token"])
        assert after["revision"] >= before["revision"]
        assert _comparable(after) == _comparable(before)
    finally:
        for tablet in tablets.values():
            tablet.close()
        director.disconnect()
        server.stop()
