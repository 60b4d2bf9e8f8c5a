"""The supply chain (ASVS V15.1.2): `requirements.lock` pins every runtime dependency with
its hashes, and `make sbom` turns it into a CycloneDX SBOM. A dependency added to
pyproject.toml, or a floor raised there, without `make lock` fails here."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
DEPENDENCIES = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def _locked_entries() -> list[tuple[Requirement, list[str]]]:
    """Each entry of the lock: the pinned requirement (with its marker) and its hashes."""
    lines = [line for line in LOCK.read_text().splitlines() if not line.lstrip().startswith("#")]
    logical = re.sub(r"\\\n", " ", "\n".join(lines))
    entries = []
    for line in filter(str.strip, logical.splitlines()):
        requirement, *hashes = re.split(r"\s+--hash=", line.strip())
        entries.append((Requirement(requirement), hashes))
    return entries


def _locked() -> dict[str, list[str]]:
    """Package name -> the versions pinned for it (a universal lock may pin two, by marker)."""
    found: dict[str, list[str]] = {}
    for requirement, _hashes in _locked_entries():
        found.setdefault(canonicalize_name(requirement.name), []).append(
            str(requirement.specifier).removeprefix("==")
        )
    return found


def _dry_run(target: str) -> str:
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                            text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_locked_package_is_pinned_exactly_with_hashes():
    entries = _locked_entries()
    assert len(entries) >= len(DEPENDENCIES)
    for requirement, hashes in entries:
        assert re.fullmatch(r"==[^,*]+", str(requirement.specifier)), requirement
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (
            f"{requirement.name} has no sha256 hash: pip --require-hashes would refuse it"
        )


@pytest.mark.parametrize("dependency", DEPENDENCIES)
def test_the_lock_covers_each_dependency_of_pyproject(dependency):
    """Run `make lock` after changing [project] dependencies in pyproject.toml."""
    wanted = Requirement(dependency)
    locked = _locked()
    name = canonicalize_name(wanted.name)
    assert name in locked, f"{wanted.name} is not in requirements.lock: run `make lock`"
    for pinned in locked[name]:
        assert wanted.specifier.contains(pinned, prereleases=True), (
            f"requirements.lock pins {wanted.name}=={pinned}, outside {wanted.specifier}: "
            "run `make lock`"
        )
    # An extra (psycopg[binary]) brings packages of its own: they are locked too.
    for extra in wanted.extras:
        for item in map(Requirement, requires(wanted.name) or []):
            if item.marker and item.marker.evaluate({"extra": extra}) and not item.marker.evaluate(
                    {"extra": ""}):
                assert canonicalize_name(item.name) in locked, (
                    f"{item.name} ({wanted.name}[{extra}]) is not in requirements.lock"
                )


def test_make_sbom_builds_a_cyclonedx_sbom_from_the_lock_in_its_own_venv():
    commands = _dry_run("sbom")
    assert "-m venv .venv-sbom" in commands
    assert ".venv-sbom/bin/pip install --quiet cyclonedx-bom" in commands
    assert re.search(r"\.venv-sbom/bin/cyclonedx-py requirements .*requirements\.lock",
                     commands.replace("\\\n", " "))
    assert ".venv/bin/pip" not in commands  # the SBOM tool's dependencies are not ours


def test_make_lock_generates_hashes_from_pyproject_with_its_own_uv():
    commands = _dry_run("lock").replace("\\\n", " ")
    assert ".venv-lock/bin/pip install --quiet uv" in commands
    assert re.search(r"\.venv-lock/bin/uv pip compile pyproject\.toml .*--generate-hashes"
                     r".*-o requirements\.lock", commands)


@pytest.mark.parametrize("target", ["run", "test"])
def test_make_run_and_make_test_do_not_depend_on_the_lock(target):
    """A fresh clone installs from pyproject.toml (DESIGN: the project's own files)."""
    assert "requirements.lock" not in _dry_run(target)


def test_the_readme_says_how_to_install_from_the_lock_and_regenerate_it():
    readme = (ROOT / "README.md").read_text()
    for needle in ("make lock", "make sbom", "--require-hashes -r requirements.lock"):
        assert needle in readme, needle
