"""Run `pingyi` commands and a real `pingyi serve` in a subprocess, against a temp instance."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PINGYI = str(Path(sys.executable).with_name("pingyi"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")}
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    env.update({"PINGYI_ENV": "development", "PINGYI_INSTANCE_PATH": str(instance), **extra})
    return env


def run_cli(
    instance: Path, *args: str, stdin: str = "", **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PINGYI, *args],
        env=environment(instance, **extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Server:
    """`pingyi serve` on a free port; stopped on exit.

    Its output goes to a file, not a pipe: nobody reads a pipe while a test runs, and a
    server whose pipe is full blocks on its next log line (with every client waiting).
    """

    def __init__(self, instance: Path, host: str = "localhost", port: int | None = None,
                 **extra: str):
        self.port = port or free_port()
        self.instance = instance
        self.log_path = instance / f"server-{self.port}-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [PINGYI, "serve", "--host", host, "--port", str(self.port)],
            env=environment(instance, **extra),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not come up")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        return self.log_path.read_text(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


_demo_cache: Path | None = None


def demo_instance(instance: Path) -> Path:
    """`instance` holds a migrated database with the demo loaded (`pingyi db upgrade` and
    `pingyi demo`, run once per test run in a folder of its own and copied from there:
    loading the demo takes many seconds, copying it a few milliseconds)."""
    global _demo_cache
    if _demo_cache is None:
        cache = Path(tempfile.mkdtemp(prefix="pingyi-demo-"))
        assert run_cli(cache, "db", "upgrade").returncode == 0
        result = run_cli(cache, "demo")
        assert result.returncode == 0, result.stderr
        _demo_cache = cache
    shutil.copytree(_demo_cache, instance, dirs_exist_ok=True)
    return instance


@contextmanager
def live_demo(instance: Path):
    """A migrated demo instance served by `pingyi serve`, with fresh live links.

    Yields (server, links): links as printed by `pingyi live links --demo --json`.
    """
    demo_instance(instance)
    with Server(instance) as server:
        result = run_cli(instance, "live", "links", "--demo", "--json", "--base-url", server.base)
        assert result.returncode == 0, result.stderr
        yield server, json.loads(result.stdout)
