"""The production server: Flask-SocketIO on gevent, bound to every address of the host.

`socketio.run` binds one address; "localhost" means both 127.0.0.1 and ::1, so each
extra address gets its own gevent server in a greenlet, built the way `socketio.run`
builds its own (pywsgi with the gevent-websocket handler).
"""

from __future__ import annotations

import gc
import socket

import click
import gevent
from flask import Flask
from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

from evaluation import ballot_trace
from evaluation.extensions import socketio
from evaluation.wal_checkpoints import checkpoint_in_background


def _addresses(host: str, port: int) -> list[str]:
    """Every address to bind. "localhost" is both loopbacks, whatever /etc/hosts says."""
    if host == "localhost":
        return ["127.0.0.1", "::1"]
    if "," in host:
        return [part.strip() for part in host.split(",") if part.strip()]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _url(address: str, port: int) -> str:
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


class LowLatencyHandler(WebSocketHandler):
    """gevent-websocket's handler with Nagle's algorithm off on each connection.

    With Nagle on, a small frame (an ack) written while an earlier frame on the same
    connection is still unacknowledged may wait for the client's delayed TCP ACK (up to
    40 ms). Each frame here is written whole, so there is nothing for Nagle to coalesce.
    (On the loopback bench it made no measurable difference; over venue Wi-Fi it can.)
    """

    def __init__(self, sock, address, server, rfile=None):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile)


# Container allocations between young-generation collections (CPython's default: 700).
GC_YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector's pauses off the judges' acks.

    Objects alive after start-up never need collecting: frozen, no collection scans them.
    Connections come later: with 1,050 of them, a full collection cost 100-290 ms of CPU
    (0.3-1.2 s of wall time on the loaded bench machine), and with CPython's default young
    threshold (700) the allocations of marks and publishes brought one about every 50 s,
    plus ~25 young collections every 10 s. At 10,000, full collections came while the
    clients connected and none in the 2.5 minutes of marks that followed; a young collection
    cost ~4 ms of CPU, and GC CPU per second halved (bench/live_bench.py, 2026-11-28).

    `pingyi serve` loads with collection off (evaluation.entry): it is turned on here, after
    the freeze. The few thousand cycles left over from loading are frozen with the rest
    rather than collected first: a full collection here costs ~0.14 s of start-up, for
    memory the allocator would keep anyway (the resident size was the same either way).
    """
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
    gc.enable()


def run_server(app: Flask, host: str, port: int) -> None:
    if socketio.async_mode != "gevent":
        raise click.ClickException(
            f"pingyi serve needs SOCKETIO_ASYNC_MODE=gevent (configured: {socketio.async_mode})"
        )
    addresses = _addresses(host, port)
    servers = [
        pywsgi.WSGIServer((address, port), app, handler_class=LowLatencyHandler, log=None)
        for address in addresses
    ]
    for server in servers:
        try:
            server.start()  # binds now: a port in use fails here, before we print URLs
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {_url(server.address[0], port)}: {exc.strerror}"
            ) from exc
    for address in addresses:
        base = _url(address, port)
        click.echo(f"pingyi listening on {base}  (admin: {base}/admin/  public: {base}/)")
    # SQLite's WAL checkpoints in a native thread of their own, not inside a request's
    # COMMIT (evaluation/wal_checkpoints.py); nothing to do on PostgreSQL.
    checkpoint_in_background(app.extensions["pingyi_db"])
    settle_garbage_collector()
    ballot_trace.serve(app)  # only with PINGYI_BALLOT_TRACE (a diagnosis, off by default)
    gevent.joinall([gevent.spawn(server.serve_forever) for server in servers])
