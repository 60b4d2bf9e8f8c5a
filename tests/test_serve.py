"""`pingyi serve`, `pingyi db upgrade`, `pingyi demo`, `pingyi user create` as a user runs them."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
import socketio
from serverproc import Server, environment, run_cli

from evaluation.serve import GC_YOUNG_THRESHOLD, settle_garbage_collector


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("instance")
    assert run_cli(path, "db", "upgrade").returncode == 0
    demo = run_cli(path, "demo")
    assert demo.returncode == 0, demo.stderr
    return path, demo.stdout


def test_demo_prints_the_logins_and_is_idempotent(instance):
    path, first_output = instance
    assert "demo campaign loaded" in first_output
    assert "admin" in first_output and "pingyi-demo-2024" in first_output
    again = run_cli(path, "demo")
    assert "already present" in again.stdout


def test_serve_answers_on_ipv4_and_ipv6_loopback_with_websockets(instance):
    path, _ = instance
    with Server(path) as server:
        for base in (f"http://127.0.0.1:{server.port}", f"http://[::1]:{server.port}"):
            with urllib.request.urlopen(base + "/") as response:
                assert response.status == 200
                assert "履职评议" in response.read().decode()
        client = socketio.Client(reconnection=False)
        # WebSocket only: the gevent server must upgrade (no long-polling fallback).
        client.connect(server.base, transports=["websocket"], wait_timeout=10)
        assert client.transport() == "websocket"
        client.disconnect()
        output = server.stop()
    assert f"http://127.0.0.1:{server.port}" in output and f"http://[::1]:{server.port}" in output
    assert "/admin/" in output


def test_serve_refuses_a_port_in_use_with_a_clear_message(instance):
    path, _ = instance
    with Server(path) as server:
        clash = run_cli(path, "serve", "--host", "127.0.0.1", "--port", str(server.port))
    assert clash.returncode != 0 and "cannot listen on" in clash.stderr


def test_serve_insists_on_gevent(instance):
    path, _ = instance
    result = run_cli(path, "serve", "--port", "1", PINGYI_SOCKETIO_ASYNC_MODE="threading")
    assert result.returncode != 0 and "needs SOCKETIO_ASYNC_MODE=gevent" in result.stderr


def test_production_serve_without_secret_key_fails_clearly(instance):
    path, _ = instance
    result = run_cli(path, "serve", PINGYI_ENV="production")
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_user_create_reads_the_password_from_stdin(instance):
    path, _ = instance
    made = run_cli(path, "user", "create", "root2", "--role", "admin", stdin="strong pass 123\n")
    assert made.returncode == 0 and "created admin root2" in made.stdout
    weak = run_cli(path, "user", "create", "root3", stdin="short\n")
    assert weak.returncode != 0 and "12" in weak.stderr


def _exchange(port: int, raw: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        connection.sendall(raw)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


@pytest.mark.parametrize("framing", [
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",  # CL.TE
    b"Transfer-Encoding: chunked\r\nContent-Length: 60\r\n",  # TE.CL
])
def test_a_request_with_both_lengths_is_framed_by_transfer_encoding(instance, framing):
    """ASVS V4.2.1 (request smuggling): with Transfer-Encoding present, pywsgi ignores
    Content-Length (RFC 9112 §6.3), so the request after the chunked body is read as a request
    of its own, as a proxy framing by the same rule sees it; never hidden in a body (CL.TE)
    nor swallowed into one (TE.CL). nginx in front re-frames bodies anyway (README)."""
    import re

    path, _ = instance
    smuggled = b"GET /smuggled-path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with Server(path) as server:
        answer = _exchange(server.port, b"POST /live/999999/marks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           + framing + b"\r\n0\r\n\r\n" + smuggled)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", answer)
    assert statuses in ([b"400"], [b"404", b"404"]), answer[:300]
    if statuses == [b"404", b"404"]:  # the second answer is for the second request
        assert b"/smuggled-path" in answer.split(b"HTTP/1.1 404", 2)[2]


# What `pingyi serve` loads (evaluation.entry, then the app), with the report and analysis
# libraries a restarted server does not need: each is paid by every restart mid-show.
SERVING_IMPORTS = textwrap.dedent("""
    import gc, sys
    import werkzeug.security
    hashes = []
    real = werkzeug.security.generate_password_hash
    werkzeug.security.generate_password_hash = lambda *a, **k: hashes.append(1) or real(*a, **k)
    from gevent import monkey
    monkey.patch_all()
    from evaluation.cli import cli
    from evaluation import create_app
    create_app()
    import evaluation.serve
    print(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:])), len(hashes))
""")


def test_serving_imports_no_report_libraries_and_hashes_no_password(tmp_path):
    heavy = ["openpyxl", "matplotlib", "numpy", "pandas", "hypothesis", "schemathesis"]
    result = subprocess.run([sys.executable, "-c", SERVING_IMPORTS, *heavy],
                            env=environment(tmp_path), cwd=Path(__file__).parents[1],
                            capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["[]", "0"], result.stdout


def test_settling_the_collector_turns_it_back_on_after_a_start_without_it():
    threshold = gc.get_threshold()
    gc.disable()  # as evaluation.entry does for `pingyi serve`
    try:
        settle_garbage_collector()
        assert gc.isenabled()
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        gc.enable()
