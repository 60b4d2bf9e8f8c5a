"""A simulated judge tablet with the real tablet's delivery rules, over python-socketio:
every mark waits in an outbox until acknowledged, and the outbox is resent on reconnect,
which is retried with the real pages' delays (page_reconnection)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from pathlib import Path

import socketio

NS = "/live"
CONNECTION_JS = (Path(__file__).resolve().parents[2] / "evaluation" / "static" / "live"
                 / "connection.js")


def page_reconnection() -> dict:
    """The tablets', console's and overlays' reconnection settings (the `RECONNECT` line of
    evaluation/static/live/connection.js) as python-socketio Client arguments, so simulated
    clients come back after a restart as late as the real pages do, not sooner.

    Both clients double the delay from `reconnectionDelay` up to `reconnectionDelayMax`.
    socket.io's random part is relative (delay x (1 +/- randomizationFactor)), then capped at
    the maximum; python-socketio's is absolute (+/- randomization_factor seconds), uncapped.
    Setting it to factor x first delay gives the same range for the first retry (250-750 ms
    for 500 ms and 0.5) and the same mean for the later ones.
    """
    line = re.search(r"var RECONNECT = \{([^}]*)\}", CONNECTION_JS.read_text("utf-8"))
    values = dict(re.findall(r"(\w+): ([\d.]+)", line.group(1)))
    delay = float(values["reconnectionDelay"]) / 1000
    return {"reconnection": True, "reconnection_delay": delay,
            "reconnection_delay_max": float(values["reconnectionDelayMax"]) / 1000,
            "randomization_factor": float(values["randomizationFactor"]) * delay}


class SimTablet:
    def __init__(self, base: str, session: int, token: str, device: str):
        self.outbox: dict[str, dict] = {}
        self.acks: dict[str, dict] = {}
        self.refusals: list[dict] = []
        self.outcomes: Counter[str] = Counter()  # why sends failed: shown when a test fails
        self.lock = threading.Lock()
        self.client = self._new_client()
        self.auth = {"session": session, "token": token, "device": device}
        self.base = base

    def _new_client(self) -> socketio.Client:
        client = socketio.Client(**page_reconnection())
        client.on("connect", self._resend, namespace=NS)
        return client

    def connect(self) -> None:
        self._open()
        # Like the real tablet's 3-second flush: a send that failed after the reconnect had
        # already happened is retried without waiting for another reconnect.
        self._retrying = True
        threading.Thread(target=self._retry_loop, daemon=True).start()

    def _open(self) -> None:
        self.client.connect(self.base, namespaces=[NS], auth=self.auth, transports=["websocket"],
                            wait_timeout=10, retry=True)

    def _revive_if_stale(self) -> None:
        """python-socketio's client can end up 'connected' over a dead Engine.IO transport:
        when the server dies between the namespace handshake and the end of a reconnect
        attempt, the drop is seen while a reconnect task still runs (so none is started) and
        the attempt then marks the client connected. Its emits vanish for good. A browser's
        socket.io client has no such state; here a fresh client stands in for the reload."""
        if not (self.client.connected and self.client.eio.state != "connected"):
            return
        self.outcomes["stale client replaced"] += 1
        self.client = self._new_client()
        try:
            self._open()
        except socketio.exceptions.ConnectionError:
            self.outcomes["reopen failed"] += 1

    def _retry_loop(self) -> None:
        while self._retrying:
            time.sleep(1.0)
            self._revive_if_stale()
            if self.client.connected and self.pending():
                try:
                    self._send_all()
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any one send
                    self.outcomes[f"raised {exc!r}"] += 1

    def submit(self, client_id: str, slot_id: int, total: str) -> None:
        with self.lock:
            self.outbox[client_id] = {"client_id": client_id, "slot_id": slot_id,
                                      "total": total}
        self._send(client_id)

    def _resend(self) -> None:
        # In a thread: the connect handler must return before acks can arrive.
        threading.Thread(target=self._send_all, daemon=True).start()

    def _send_all(self) -> None:
        for client_id in list(self.outbox):
            self._send(client_id)

    def _send(self, client_id: str) -> None:
        with self.lock:
            payload = self.outbox.get(client_id)
        if payload is None:
            return
        try:
            ack = self.client.call("submit_mark", payload, namespace=NS, timeout=5)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError) as exc:
            self.outcomes[type(exc).__name__] += 1
            return  # still in the outbox: sent again on the next connect
        with self.lock:
            if ack.get("ok"):
                self.acks[client_id] = ack
                self.outbox.pop(client_id, None)
            elif ack["error"]["code"] == "rate_limited":
                self.outcomes["rate_limited"] += 1
            else:
                self.refusals.append(ack["error"])
                self.outbox.pop(client_id, None)

    def diagnosis(self) -> dict:
        return {"pending": self.pending(), "connected": self.client.connected,
                "transport": self.client.eio.state,
                "namespaces": dict(self.client.namespaces), "outcomes": dict(self.outcomes),
                "refusals": self.refusals}

    def pending(self) -> int:
        with self.lock:
            return len(self.outbox)

    def close(self) -> None:
        self._retrying = False
        self.client.disconnect()
