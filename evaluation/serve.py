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

from evaluation.extensions import socketio


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


def run_server(app: Flask, host: str, port: int) -> None:
    if socketio.async_mode != "gevent":
        raise click.ClickException(
            f"pingyi serve needs SOCKETIO_ASYNC_MODE=gevent (configured: {socketio.async_mode})"
        )
    addresses = _addresses(host, port)
    servers = [
        pywsgi.WSGIServer((address, port), app, handler_class=WebSocketHandler, log=None)
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
    # Objects alive after start-up never need collecting; freezing them cuts GC pauses.
    gc.freeze()
    gevent.joinall([gevent.spawn(server.serve_forever) for server in servers])
