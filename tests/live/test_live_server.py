"""The real thing: `pingyi serve` (gevent) in a subprocess, python-socketio clients for the
director, an overlay and every judge, one agency through all segments to the reveal."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
import serverproc
import socketio
from serverproc import Server, run_cli

from scoring import PanelRule

NS = "/live"


@pytest.fixture(scope="module")
def demo_instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("live-instance")
    return serverproc.demo_instance(path)


def links(path, base: str) -> dict:
    result = run_cli(path, "live", "links", "--demo", "--json", "--base-url", base)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class Watcher:
    """A client that keeps the newest snapshot it was sent, ignoring older revisions."""

    def __init__(self, base: str, session: int, token: str, device: str | None = None):
        self.client = socketio.Client(reconnection=False)
        self.latest: dict | None = None
        self.revisions: list[int] = []  # in the order the server sent them
        self.changed = threading.Condition()
        self.client.on("snapshot", self._on_snapshot, namespace=NS)
        self._record_wire_order()
        auth = {"session": session, "token": token, "device": device or token[:12]}
        self.client.connect(base, namespaces=[NS], auth=auth, transports=["websocket"],
                            wait_timeout=10)

    def _record_wire_order(self) -> None:
        """python-engineio's client runs each message's handler in a thread of its own, so
        handlers may run out of the order the server sent; its read loop receives them in
        order, one at a time: the revisions are noted there."""
        receive = self.client.eio._receive_packet
        prefix = f"2{NS},"  # a Socket.IO EVENT packet of this namespace

        def noted(pkt):
            if isinstance(pkt.data, str) and pkt.data.startswith(prefix):
                name, *args = json.loads(pkt.data[len(prefix):])
                if name == "snapshot":
                    self.revisions.append(args[0]["revision"])
            return receive(pkt)

        self.client.eio._receive_packet = noted

    def _on_snapshot(self, picture):
        with self.changed:
            if self.latest is None or picture["revision"] > self.latest["revision"]:
                self.latest = picture
            self.changed.notify_all()

    def wait_for(self, predicate, timeout: float = 10) -> dict:
        with self.changed:
            assert self.changed.wait_for(lambda: self.latest and predicate(self.latest), timeout)
            return self.latest

    def call(self, event: str, payload: dict) -> dict:
        return self.client.call(event, payload, namespace=NS, timeout=10)


def test_one_agency_from_waiting_to_done_over_real_websockets(demo_instance):
    with Server(demo_instance) as server:
        urls = links(demo_instance, server.base)
        session = urls["session"]
        director = Watcher(server.base, session, urls["control_token"])
        overlay = Watcher(server.base, session, urls["overlay_token"])
        judges = {int(n): Watcher(server.base, session, seat["token"], f"tablet-{n}")
                  for n, seat in urls["seats"].items()}
        try:
            assert director.call("director", {"action": "select", "position": 0})["ok"]
            for _ in range(3):
                assert director.call("director", {"action": "next"})["ok"]
            current = director.wait_for(lambda p: p["current"]["segment"] == "scoring")["current"]
            expected = [s["seat_no"] for s in current["seats"] if not s["recused"]]
            marks = {seat: Decimal(80) + Decimal(seat) / 2 for seat in expected}
            for seat, mark in marks.items():
                ack = judges[seat].call("submit_mark", {
                    "client_id": f"server-test-{seat:02d}", "slot_id": current["slot_id"],
                    "total": str(mark)})
                assert ack["ok"] and ack["score_id"] > 0, ack
            progress = overlay.wait_for(
                lambda p: p["current"]["progress"]["submitted"] == len(expected))
            assert all("mark" not in seat for seat in progress["current"]["seats"])
            for _ in range(4):  # close, reveal, summary, done
                assert director.call("director", {"action": "next"})["ok"]
            done = overlay.wait_for(lambda p: p["current"]["segment"] == "done")
            rule = PanelRule(drop_high=1, drop_low=1, combine="mean", places=2)
            want = rule.apply([(seat, mark) for seat, mark in marks.items()])
            assert done["current"]["result"]["value"] == f"{want.value:.2f}"
            assert done["leaderboard"][0]["value"] == f"{want.value:.2f}"
            assert done["revision"] in overlay.revisions  # what the wire order is made of
            assert overlay.revisions == sorted(overlay.revisions)
        finally:
            for watcher in (director, overlay, *judges.values()):
                watcher.client.disconnect()
