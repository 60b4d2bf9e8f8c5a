"""`make audit` (ASVS V15.1.1, V15.2.1): the lock checked against PyPI's project JSON, offline.

PyPI's answers are fabricated in the shape of `https://pypi.org/pypi/NAME/json` (releases with
upload times, Python ranges and yanked flags; the latest release's advisories with `fixed_in`)
and handed to the audit as its fetch function, or served by a local HTTP server to exercise
the real fetch. The rules and time frames are docs/security.md's, "Third-party components"."""

from __future__ import annotations

import functools
import http.server
import io
import json
import re
import shutil
import socket
import subprocess
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from tools import dependency_audit as audit

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 28)


def _release(uploaded: date, requires_python: str = ">=3.9", yanked: bool = False) -> list[dict]:
    return [{"upload_time_iso_8601": f"{uploaded.isoformat()}T10:00:00.000000Z",
             "requires_python": requires_python, "yanked": yanked}]


def _project(releases: dict[str, list[dict]], vulnerabilities: list[dict] | None = None,
             latest: str | None = None) -> dict:
    return {"info": {"version": latest or list(releases)[-1]}, "releases": releases,
            "vulnerabilities": vulnerabilities or []}


def _advisory(id_: str, fixed_in: list[str], aliases: list[str] | None = None) -> dict:
    return {"id": id_, "aliases": aliases or [], "fixed_in": fixed_in, "withdrawn": None,
            "summary": "…", "details": "…", "link": f"https://osv.dev/vulnerability/{id_}",
            "source": "osv"}


def _days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def _run(tmp_path, lock: str, projects: dict, *args: str, exceptions: str = "",
         fetch=None) -> tuple[int, str]:
    (tmp_path / "requirements.lock").write_text(lock)
    (tmp_path / "exceptions.toml").write_text(exceptions)
    out = io.StringIO()
    code = audit.main(["--lock", str(tmp_path / "requirements.lock"),
                       "--exceptions", str(tmp_path / "exceptions.toml"), *args],
                      fetch=fetch or projects.__getitem__, today=TODAY, out=out)
    return code, out.getvalue()


FLASK_CURRENT = _project({"3.1.2": _release(_days_ago(200)), "3.1.3": _release(_days_ago(90))})


def test_an_up_to_date_pin_without_advisories_passes(tmp_path):
    code, out = _run(tmp_path, "flask==3.1.3 \\\n    --hash=sha256:" + "a" * 64 + "\n",
                     {"flask": FLASK_CURRENT})
    assert code == 0, out
    assert re.search(r"^flask\s+3\.1\.3\s+3\.1\.3 \(2026-08-30\)\s+3\.1\.3\s+-\s+none\s+ok$", out,
                     re.M), out
    assert "audit: 1 pins pass" in out


def test_an_advisory_reaching_the_locked_version_fails_naming_package_and_advisory(tmp_path):
    project = _project({"2.2.0": _release(_days_ago(100))},
                       [_advisory("GHSA-aaaa-bbbb-cccc", [], ["CVE-2026-1234"])])
    code, out = _run(tmp_path, "itsdangerous==2.2.0\n", {"itsdangerous": project})
    assert code == 1, out
    assert ("FAIL advisory: itsdangerous==2.2.0 has advisory GHSA-aaaa-bbbb-cccc "
            "(CVE-2026-1234) (fixed in: no fixed release yet)") in out
    assert "audit: 1 rule(s) broken" in out


@pytest.mark.parametrize(("locked", "fixed_in", "fails"), [
    ("1.4.2", ["1.4.0"], False),           # fixed at or below the pin
    ("1.4.2", ["1.4.2"], False),
    ("2.0.0", ["1.3.7", "1.4.3"], False),  # above every fix
    ("1.4.2", ["1.4.3"], True),            # fixed only above it
    ("1.3.9", ["1.3.7", "1.4.3"], False),  # a backport on the pin's own series
    ("1.2.0", ["1.1.5", "1.4.3"], True),   # a fix of another series says nothing for 1.2
    ("1.4.2", ["not-a-version"], True),    # nothing readable: affected
])
def test_fixed_in_decides_whether_the_locked_version_is_affected(tmp_path, locked, fixed_in,
                                                                 fails):
    project = _project({locked: _release(_days_ago(10))}, [_advisory("PYSEC-2026-7", fixed_in)])
    code, out = _run(tmp_path, f"mako=={locked}\n", {"mako": project})
    assert code == (1 if fails else 0), out
    assert ("FAIL advisory: mako==" in out) is fails
    assert "PYSEC-2026-7" in out  # listed either way, "(fixed)" when it does not reach the pin
    assert ("PYSEC-2026-7 (fixed)" in out) is not fails


def test_a_withdrawn_advisory_does_not_fail(tmp_path):
    withdrawn = dict(_advisory("PYSEC-2020-1", []), withdrawn="2021-01-01T00:00:00Z")
    project = _project({"1.0": _release(_days_ago(10))}, [withdrawn])
    assert _run(tmp_path, "segno==1.0\n", {"segno": project})[0] == 0


def test_a_pin_superseded_longer_than_the_update_window_fails(tmp_path):
    project = _project({"0.16.0": _release(_days_ago(400)), "0.16.1": _release(_days_ago(31)),
                        "0.17.0": _release(_days_ago(5))})
    code, out = _run(tmp_path, "h11==0.16.0\n", {"h11": project})
    assert code == 1, out
    assert (f"FAIL stale: h11==0.16.0 superseded since {_days_ago(31)} (0.16.1; 31 days > 30); "
            "newest for Python 3.11: 0.17.0") in out
    # and the advisories it sees are the latest's only: the table says so
    assert "none [latest's only]" in out


def test_within_the_window_a_new_release_is_listed_for_triage_and_passes(tmp_path):
    project = _project({"0.16.0": _release(_days_ago(400)), "0.16.1": _release(_days_ago(30))})
    code, out = _run(tmp_path, "h11==0.16.0\n", {"h11": project})
    assert code == 0, out
    assert f"new release to triage: h11==0.16.0 superseded on {_days_ago(30)}" in out


def test_ci_mode_warns_on_a_stale_pin_but_still_fails_on_an_advisory(tmp_path):
    projects = {
        "h11": _project({"0.16.0": _release(_days_ago(400)), "0.17.0": _release(_days_ago(90))}),
        "mako": _project({"1.4.3": _release(_days_ago(9))}, [_advisory("GHSA-m", ["1.4.4"])]),
    }
    code, out = _run(tmp_path, "h11==0.16.0\n", projects, "--stale", "warn")
    assert code == 0, out
    assert "WARNING stale: h11==0.16.0" in out and "(1 warning(s))" in out
    code, out = _run(tmp_path, "h11==0.16.0\nmako==1.4.3\n", projects, "--stale", "warn")
    assert code == 1 and "FAIL advisory: mako==1.4.3 has advisory GHSA-m" in out, out


def test_a_pin_for_older_pythons_is_not_stale_behind_releases_that_dropped_them(tmp_path):
    """uv splits numpy by Python; 2.5 needs 3.12, so 2.4.6 is the newest for 3.11."""
    lock = ("numpy==2.4.6 ; python_full_version < '3.12'\n"
            "numpy==2.5.5 ; python_full_version >= '3.12'\n")
    releases = {"2.4.6": _release(_days_ago(300), ">=3.11"),
                "2.5.0": _release(_days_ago(200), ">=3.12"),
                "2.5.5": _release(_days_ago(20), ">=3.12")}
    code, out = _run(tmp_path, lock, {"numpy": _project(releases)})
    assert code == 0, out
    releases["2.4.7"] = _release(_days_ago(45), ">=3.11")
    code, out = _run(tmp_path, lock, {"numpy": _project(releases, latest="2.5.5")})
    assert code == 1 and "FAIL stale: numpy==2.4.6 superseded since" in out, out
    assert "numpy==2.5.5" not in out.split("FAIL", 1)[1]


def test_prereleases_and_yanked_releases_do_not_supersede_but_a_yanked_pin_fails(tmp_path):
    releases = {"3.3.2": _release(_days_ago(200)), "3.4.0rc1": _release(_days_ago(100)),
                "3.3.3": _release(_days_ago(90), yanked=True)}
    assert _run(tmp_path, "wtforms==3.3.2\n",
                {"wtforms": _project(releases, latest="3.3.2")})[0] == 0
    releases["3.3.2"] = _release(_days_ago(200), yanked=True)
    code, out = _run(tmp_path, "wtforms==3.3.2\n", {"wtforms": _project(releases, latest="3.3.2")})
    assert code == 1 and "FAIL yanked: wtforms==3.3.2 has been yanked from PyPI" in out, out


def test_an_exception_accepts_a_finding_until_its_expiry_and_no_longer(tmp_path):
    projects = {"h11": _project({"0.16.0": _release(_days_ago(400)),
                                 "0.17.0": _release(_days_ago(90))})}
    accepted = ('[[exception]]\npackage = "h11"\nversion = "0.16.0"\nrule = "stale"\n'
                'reason = "0.17 breaks websockets, fix in issue 12"\nexpires = {}\n')
    code, out = _run(tmp_path, "h11==0.16.0\n", projects,
                     exceptions=accepted.format(TODAY + timedelta(days=10)))
    assert code == 0, out
    assert "accepted until 2026-12-08: h11==0.16.0 superseded" in out
    assert "(0.17 breaks websockets, fix in issue 12)" in out
    code, out = _run(tmp_path, "h11==0.16.0\n", projects,
                     exceptions=accepted.format(TODAY - timedelta(days=1)))
    assert code == 1, out
    assert "exception for h11==0.16.0 stale expired on 2026-11-27" in out


def test_an_advisory_is_accepted_by_its_cve_alias(tmp_path):
    project = _project({"2.2.0": _release(_days_ago(100))},
                       [_advisory("GHSA-x", [], ["CVE-2026-9"])])
    accepted = ('[[exception]]\npackage = "ItsDangerous"\nversion = "2.2.0"\n'
                'rule = "CVE-2026-9"\nreason = "not reachable: we never call loads()"\n'
                'expires = 2026-12-05\n')
    code, out = _run(tmp_path, "itsdangerous==2.2.0\n", {"itsdangerous": project},
                     exceptions=accepted)
    assert code == 0 and "accepted until 2026-12-05: itsdangerous==2.2.0 has advisory" in out
    # once the pin moves on, the entry matches nothing and is reported for removal
    project["releases"]["2.3.0"] = _release(_days_ago(1))
    project["info"]["version"], project["vulnerabilities"] = "2.3.0", []
    code, out = _run(tmp_path, "itsdangerous==2.3.0\n", {"itsdangerous": project},
                     exceptions=accepted)
    assert code == 0 and "unused exception (remove it): itsdangerous==2.2.0 CVE-2026-9" in out


@pytest.mark.parametrize(("entry", "message"), [
    ('package = "h11"\nversion = "0.16.0"\nrule = "stale"\nexpires = 2026-12-01\n',
     "exception 1: reason missing"),
    ('package = "h11"\nversion = "0.16.0"\nrule = "stale"\nreason = "x"\nexpires = 2027-06-01\n',
     "more than 90 days away"),
    ('package = "h11"\nversion = "0.16.0"\nrule = "stale"\nreason = "x"\nexpires = "soon"\n',
     "expires must be a date"),
])
def test_a_malformed_exception_stops_the_audit(tmp_path, entry, message):
    code, out = _run(tmp_path, "h11==0.16.0\n", {}, exceptions="[[exception]]\n" + entry)
    assert code == 2 and "audit: cannot check:" in out and message in out, out


class _RecordedPyPI(http.server.BaseHTTPRequestHandler):
    """Answers /pypi/flask/json with a recorded project; anything else fails with 503."""

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/pypi/flask/json":
            body = json.dumps(FLASK_CURRENT).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404 if "unknown" in self.path else 503)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorded_pypi():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordedPyPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pypi/{{name}}/json"
    server.shutdown()
    server.server_close()


def test_the_real_fetch_reads_a_recorded_answer_over_http(tmp_path, recorded_pypi):
    fetch = functools.partial(audit.fetch_from_pypi, url=recorded_pypi, attempts=1)
    code, out = _run(tmp_path, "flask==3.1.3\n", {}, fetch=fetch)
    assert code == 0 and "audit: 1 pins pass" in out, out


def test_an_unreachable_or_failing_index_is_never_a_pass(tmp_path, recorded_pypi):
    fetch = functools.partial(audit.fetch_from_pypi, url=recorded_pypi, attempts=1)
    code, out = _run(tmp_path, "flask==3.1.3\nredis==8.1.0\nunknown-pkg==1.0\n", {}, fetch=fetch)
    assert code == 2, out
    assert re.search(r"^redis\s+8\.1\.0\s+\?.*CANNOT CHECK$", out, re.M), out
    assert "CANNOT CHECK redis: PyPI could not be asked" in out and "503" in out
    assert "CANNOT CHECK unknown-pkg: not found on PyPI (404)" in out
    assert "audit: 2 package(s) could not be checked: this is not a pass" in out
    assert "pins pass" not in out

    with socket.socket() as closed:  # a port nobody listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    fetch = functools.partial(audit.fetch_from_pypi, url=f"http://127.0.0.1:{port}/{{name}}",
                              attempts=1, timeout=5)
    code, out = _run(tmp_path, "flask==3.1.3\n", {}, fetch=fetch)
    assert code == 2 and "CANNOT CHECK flask: PyPI could not be asked" in out, out


def test_a_locked_version_pypi_does_not_list_cannot_be_checked(tmp_path):
    code, out = _run(tmp_path, "flask==9.9.9\n", {"flask": FLASK_CURRENT})
    assert code == 2 and "CANNOT CHECK flask==9.9.9: PyPI lists no such release" in out, out


def test_the_repositorys_lock_and_exceptions_are_readable():
    pins = audit.read_lock(ROOT / "requirements.lock")
    assert len(pins) >= 30 and all(re.fullmatch(r"[0-9][^ ]*", pin.version) for pin in pins)
    assert {pin.python_floor for pin in pins if pin.name == "numpy"} >= {audit.PYTHON_FLOOR}
    audit.read_exceptions(ROOT / "audit-exceptions.toml", TODAY)


def _dry_run(*target: str) -> str:
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-n", "-B", *target], cwd=ROOT, capture_output=True,
                            text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_audit_runs_the_pypi_check_and_ci_runs_it_after_the_tests():
    assert ".venv/bin/python tools/dependency_audit.py --stale fail" in _dry_run("audit")
    assert "--stale warn" in _dry_run("audit", "AUDIT_STALE=warn")
    assert "pip-audit" not in _dry_run("audit")  # cannot reach its services from here
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith("#")]
    assert ci[-2:] == ["make test", "make audit AUDIT_STALE=warn"]
    assert (ROOT / ".ci" / "weekly").read_text().rstrip().endswith("\nmake audit")
