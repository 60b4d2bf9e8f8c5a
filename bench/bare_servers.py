"""Baselines for bench/live_bench.py: broadcast servers with no database and no logic.

    python bench/bare_servers.py flask-socketio PORT [--payload FILE]
    python bench/bare_servers.py websockets PORT [--payload FILE]

Both do exactly what pingyi does on a mark, minus the mark: on a judge's `submit`, take the
next sequence number, send the payload (tagged `"revision": seq`) to every viewer, then to
every judge, and acknowledge the sender with `{"ok": true, "revision": seq}`: the same
messages on the wire as pingyi (viewers + judges); pingyi acknowledges first (see
`--ack-first`).
`--ack-first` (flask-socketio only) acknowledges first and broadcasts from a greenlet: what
an ack costs when it does not wait behind the broadcast.

* flask-socketio: Flask-SocketIO with `async_mode="gevent"` after `monkey.patch_all()`,
  served by gevent's pywsgi with pingyi's gevent-websocket handler (TCP_NODELAY) and
  pingyi's garbage-collector settings (`settle_garbage_collector`) after start-up, as
  `evaluation/serve.py` does. Namespace `/live`, events `submit_mark` (ack =
  handler's return value) and `snapshot`, so the bench's Socket.IO clients are the same as
  for pingyi. A client's `auth` `{"role": "judge"}` puts it in the judges' room, anything
  else in the viewers' room.
* websockets: the `websockets` library (asyncio, `pip install websockets`), compression off
  (gevent-websocket has none either). Path `/viewer` or `/judge`; a judge sends any text
  message to submit. `websockets.broadcast` writes to every transport without awaiting.

The payload is a snapshot captured from pingyi by the bench (`--payload FILE`, JSON), or a
synthetic one of the same shape (50 seats, 4 slots).
"""

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "flask-socketio":
    # gevent must patch the standard library before anything else imports it.
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402 - after the monkey-patch, on purpose
import gc  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's evaluation/

NS = "/live"


def synthetic_payload(seats: int = 50, slots: int = 4) -> dict:
    """The shape of an overlay snapshot while scoring is open."""
    return {
        "revision": 0,
        "server_time_ms": 1764322000123,
        "session": {"id": 2, "title": "压测场次", "venue": "韶关市会议中心报告厅",
                    "broadcast_mode": "live", "score_max": "100.00", "score_step": "0.50"},
        "slots": [{"id": n, "position": n, "agency": f"市某某局{n}", "segment": "waiting"}
                  for n in range(slots)],
        "current": {
            "slot_id": 0, "position": 0, "agency": "市某某局0", "segment": "scoring",
            "segment_label": "现场评议", "scoring_open": True,
            "timer": {"running": False, "remaining_ms": 300000},
            "progress": {"submitted": 0, "expected": seats, "waiting_seats": list(range(seats))},
            "seats": [{"seat_no": n, "submitted": False, "recused": False}
                      for n in range(1, seats + 1)],
        },
        "leaderboard": [],
    }


def load_payload(path: str | None) -> dict:
    if not path:
        return synthetic_payload()
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def serve_flask_socketio(port: int, payload: dict, ack_first: bool = False) -> None:
    from flask import Flask
    from flask_socketio import SocketIO, join_room
    from gevent import pywsgi

    from evaluation.serve import LowLatencyHandler, settle_garbage_collector  # as pingyi

    app = Flask("bare-flask-socketio")
    socketio = SocketIO(app, async_mode="gevent")
    counter = {"seq": 0}

    def on_connect(auth):
        role = auth.get("role") if isinstance(auth, dict) else None
        join_room("judges" if role == "judge" else "viewers")

    def publish(seq: int) -> None:
        for room in ("viewers", "judges"):
            socketio.emit("snapshot", {**payload, "revision": seq}, to=room, namespace=NS)

    def on_submit(_data=None):
        counter["seq"] += 1
        seq = counter["seq"]
        if ack_first:  # the ack is queued when this returns, before the greenlet runs
            socketio.start_background_task(publish, seq)
        else:
            publish(seq)
        return {"ok": True, "revision": seq}

    socketio.on_event("connect", on_connect, namespace=NS)
    socketio.on_event("submit_mark", on_submit, namespace=NS)
    server = pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=LowLatencyHandler,
                               log=None)
    server.start()
    print(f"bare flask-socketio listening on 127.0.0.1:{port}", flush=True)
    settle_garbage_collector()
    server.serve_forever()


def serve_websockets(port: int, payload: dict) -> None:
    import asyncio

    from websockets.asyncio.server import broadcast, serve

    viewers, judges = set(), set()
    counter = {"seq": 0}

    async def handler(ws):
        path = ws.request.path
        group = judges if path.startswith("/judge") else viewers
        group.add(ws)
        try:
            async for _message in ws:
                if group is not judges:
                    continue
                counter["seq"] += 1
                seq = counter["seq"]
                for audience in (viewers, judges):
                    broadcast(audience, json.dumps({**payload, "revision": seq}))
                await ws.send(json.dumps({"ok": True, "revision": seq}))
        finally:
            group.discard(ws)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, compression=None, max_size=None,
                         backlog=1024):
            print(f"bare websockets listening on 127.0.0.1:{port}", flush=True)
            gc.freeze()
            await asyncio.Future()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description="bare broadcast servers for live_bench.py")
    parser.add_argument("kind", choices=["flask-socketio", "websockets"])
    parser.add_argument("port", type=int)
    parser.add_argument("--payload", help="JSON file: the snapshot to broadcast")
    parser.add_argument("--ack-first", action="store_true",
                        help="flask-socketio: acknowledge, then broadcast (in a greenlet)")
    args = parser.parse_args()
    payload = load_payload(args.payload)
    if args.kind == "flask-socketio":
        serve_flask_socketio(args.port, payload, args.ack_first)
    else:
        serve_websockets(args.port, payload)


if __name__ == "__main__":
    main()
