"""The foundation as a newcomer meets it: the two commands, the pinned security floors, and
one database session per request."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from flask import g

ROOT = Path(__file__).resolve().parent.parent
# Releases below these have published advisories (issue 2): never allow them back in.
SECURITY_FLOORS = {"python-socketio": (5, 16, 3), "python-engineio": (4, 13, 2)}


def _dry_run(target: str) -> list[str]:
    """What `make TARGET` would run on a fresh clone, without running it (`make -n -B`:
    every target out of date, as when .venv does not exist yet)."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


@pytest.mark.parametrize("package, floor", SECURITY_FLOORS.items())
def test_security_floors_are_pinned_and_installed(package, floor):
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if re.match(rf"{package}\s*>=", d)]
    assert pins, f"{package} has no >= floor in pyproject.toml"
    assert _version_tuple(pins[0].split(">=")[1]) >= floor
    assert _version_tuple(version(package)) >= floor


def test_make_run_migrates_loads_the_demo_and_serves_both_loopbacks():
    commands = [line for line in _dry_run("run") if "pingyi " in line]
    steps = [line.split("pingyi ", 1)[1].split(" --")[0] for line in commands]
    assert steps == ["db upgrade", "demo", "live links", "serve"], commands
    serve = commands[-1]
    # "localhost" is both 127.0.0.1 and ::1 (evaluation.serve), on port 5000.
    assert "--host localhost --port 5000" in serve and "PINGYI_ENV=development" in serve
    assert not any("flask run" in line for line in _dry_run("run"))


def test_make_test_installs_test_extras_and_browser_deps_then_runs_pytest():
    lines = _dry_run("test")
    text = "\n".join(lines)
    assert "pip install --quiet -e '.[test]'" in text
    assert "apt-get install -y -q chromium" in text
    assert lines[-1].startswith(".venv/bin/python -m pytest")


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]
    assert readme.index("make run") < readme.index("## The `pingyi` command")


def test_one_database_session_per_request_closed_at_teardown(app, monkeypatch):
    from evaluation.db import get_session

    closed = []
    seen = {}

    @app.get("/_probe_session")
    def probe():
        first = get_session()
        seen["same"] = first is get_session()  # every helper of a request shares it
        first.connection()     # the request reads: its session now holds a connection
        monkeypatch.setattr(first, "close", lambda: closed.append(first))
        seen.setdefault("sessions", []).append(first)
        return "ok"

    client = app.test_client()
    assert client.get("/_probe_session").status_code == 200
    assert client.get("/_probe_session").status_code == 200
    first, second = seen["sessions"]
    assert seen["same"] and first is not second  # nothing carries over between requests
    assert closed == [first, second]  # each closed (its connection returned) at the end
    with app.app_context():
        assert "db_session" not in g


def test_the_async_mode_is_set_explicitly_to_gevent(tmp_path, monkeypatch):
    """Never auto-detected: Flask-SocketIO would pick threading wherever gevent is missing
    or unpatched, and threading collapsed at 1,000 viewers (DESIGN.md §5)."""
    from evaluation import create_app
    from evaluation.extensions import socketio

    passed = {}
    original = socketio.init_app

    def spy(app, **kwargs):
        passed.update(kwargs)
        return original(app, **kwargs)

    monkeypatch.setattr(socketio, "init_app", spy)
    monkeypatch.delenv("PINGYI_SOCKETIO_ASYNC_MODE", raising=False)
    create_app({"TESTING": True, "SECRET_KEY": "k",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"})
    assert passed["async_mode"] == "gevent" and socketio.async_mode == "gevent"
