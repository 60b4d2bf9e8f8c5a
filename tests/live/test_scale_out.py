"""Two `pingyi serve` workers sharing PostgreSQL and a Redis message queue: a mark submitted
through worker A reaches an overlay connected to worker B, and B's director drives A's judges."""

from __future__ import annotations

import json
import os
import uuid

import pytest
import socketio
from serverproc import Server, run_cli
from simtablet import NS
from sqlalchemy import text

from evaluation.db import make_engine

POSTGRES = os.environ.get("PINGYI_TEST_POSTGRES_URL")
REDIS = os.environ.get("PINGYI_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not (POSTGRES and REDIS),
    reason="scale-out needs PINGYI_TEST_POSTGRES_URL and PINGYI_TEST_REDIS_URL "
           "(e.g. redis://127.0.0.1:6379/0); .ci/run sets both")


@pytest.fixture
def shared_database():
    schema = f"pingyi_scale_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES else "?"
    yield f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


class Snapshots:
    def __init__(self, base, session, token):
        self.pictures: list[dict] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", self.pictures.append, namespace=NS)
        self.client.connect(base, namespaces=[NS], transports=["websocket"],
                            auth={"session": session, "token": token, "device": token[:10]})

    def wait_for(self, predicate, timeout=10.0):
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pictures and predicate(self.pictures[-1]):
                return self.pictures[-1]
            time.sleep(0.05)
        raise AssertionError(f"no matching snapshot; last: {self.pictures[-1:]}")

    def call(self, event, payload):
        return self.client.call(event, payload, namespace=NS, timeout=10)


def test_a_mark_through_worker_a_reaches_an_overlay_on_worker_b(tmp_path, shared_database):
    env = {"DATABASE_URL": shared_database, "REDIS_URL": REDIS,
           "PINGYI_SOCKETIO_CHANNEL": f"pingyi-test-{uuid.uuid4().hex[:8]}",
           "SECRET_KEY": "shared-by-both-workers"}
    assert run_cli(tmp_path, "db", "upgrade", **env).returncode == 0
    assert run_cli(tmp_path, "demo", **env).returncode == 0
    with Server(tmp_path, **env) as worker_a, Server(tmp_path, **env) as worker_b:
        links = json.loads(run_cli(tmp_path, "live", "links", "--demo", "--json",
                                   "--base-url", worker_a.base, **env).stdout)
        session = links["session"]
        director = Snapshots(worker_b.base, session, links["control_token"])
        overlay = Snapshots(worker_b.base, session, links["overlay_token"])
        judge = Snapshots(worker_a.base, session, links["seats"]["1"]["token"])
        try:
            assert director.call("director", {"action": "select", "position": 0})["ok"]
            for _ in range(3):
                assert director.call("director", {"action": "next"})["ok"]
            # Worker B's command reached the judge on worker A.
            on_a = judge.wait_for(lambda p: p["current"] and p["current"]["scoring_open"])
            ack = judge.call("submit_mark", {"client_id": "scale-out-0001",
                                             "slot_id": on_a["current"]["slot_id"],
                                             "total": "90"})
            assert ack["ok"]
            seen_on_b = overlay.wait_for(
                lambda p: p["current"]["progress"]["submitted"] == 1)
            assert seen_on_b["revision"] >= ack["revision"]
            # B's director sees seat 1 connected although its tablet is on A.
            seat = director.wait_for(lambda p: p["current"]["seats"][0]["connected"])
            assert seat["current"]["seats"][0]["seat_no"] == 1
            judge.client.disconnect()
            director.wait_for(lambda p: not p["current"]["seats"][0]["connected"])
        finally:
            for client in (director, overlay, judge):
                client.client.disconnect()
