"""`make audit`: every package of requirements.lock checked against PyPI (ASVS V15.1.1, V15.2.1).

Only PyPI's project JSON (`https://pypi.org/pypi/NAME/json`) is reachable from our build and CI
machines: the per-version JSON that pip-audit asks for answers 404 and OSV does not resolve.
The project JSON gives every release with its upload times and Python range, and the
advisories of the *latest* release, each with `fixed_in`. So, per locked pin:

- advisories: those PyPI lists, judged against the locked version with `fixed_in`. When the
  pin is the latest release the list is the pin's own; when it is not, an advisory fixed in a
  release between the pin and the latest is invisible from here, and the update window
  below is what bounds that blind spot.
- staleness: the date the pin was first superseded by a release that serves the same
  Pythons (a numpy pinned for Python 3.11 is not superseded by releases needing 3.12).

The rules and time frames are in docs/security.md, "Third-party components". A finding can be
accepted for a while in audit-exceptions.toml (package, version, rule, reason, expiry).
Exit status: 0 all pass, 1 a rule is broken, 2 something could not be checked (network,
unknown package or version, a malformed exception): never a silent pass.

Runs on the project's own venv (it needs `packaging`, a locked runtime dependency) and is no
part of the served application.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
PYPI_JSON = "https://pypi.org/pypi/{name}/json"
# Days a locked release may stay behind a newer one serving the same Pythons (docs/security.md,
# update time frame). A security release is usually just "a newer release" seen from here (its
# advisory names the old versions, and PyPI shows the latest's), so this is also the longest a
# fixed advisory can go unnoticed: the medium remediation time frame.
UPDATE_DAYS = 30
# An accepted finding is looked at again within this many days.
MAX_EXCEPTION_DAYS = 90
# The lowest Python the lock serves (pyproject.toml requires-python).
PYTHON_FLOOR = Version("3.11")

Fetch = Callable[[str], dict]


class CheckError(Exception):
    """A package (or the whole run) could not be checked: never reported as a pass."""


# --- the lock ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str = ""

    @property
    def python_floor(self) -> Version:
        """The lowest Python this pin serves: the project's floor, raised by a marker such as
        `python_full_version >= '3.12'` (uv splits a pin by Python when a release drops one)."""
        floor = PYTHON_FLOOR
        for op, value in re.findall(r"python(?:_full)?_version\s*(>=|>)\s*'([^']+)'",
                                    self.marker):
            bound = Version(value)
            if op == ">":
                bound = Version(f"{bound.major}.{bound.minor}.{(bound.micro or 0) + 1}")
            floor = max(floor, bound)
        return floor


def read_lock(path: Path) -> list[Pin]:
    """The pins of a `uv pip compile --generate-hashes` lock (continuations, hashes and
    comments dropped)."""
    text = "\n".join(line for line in path.read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    pins = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = re.split(r"\s+--hash=", line.strip())[0]
        if not line:
            continue
        requirement = Requirement(line)
        specifier = str(requirement.specifier)
        if not specifier.startswith("=="):
            raise CheckError(f"{path.name}: {requirement.name} is not pinned with == ({line})")
        pins.append(Pin(canonicalize_name(requirement.name), specifier[2:],
                        str(requirement.marker or "")))
    return pins


# --- accepted findings ------------------------------------------------------------------------

@dataclass(frozen=True)
class Accepted:
    package: str
    version: str
    rule: str
    reason: str
    expires: date

    def covers(self, pin: Pin, finding: Finding) -> bool:
        return (self.package == pin.name and self.version == pin.version
                and self.rule.lower() in {name.lower() for name in finding.names})


def read_exceptions(path: Path, today: date) -> list[Accepted]:
    if not path.exists():
        return []
    try:
        entries = tomllib.loads(path.read_text()).get("exception", [])
    except tomllib.TOMLDecodeError as error:
        raise CheckError(f"{path.name}: {error}") from error
    found = []
    for number, entry in enumerate(entries, 1):
        where = f"{path.name}, exception {number}"
        missing = [key for key in ("package", "version", "rule", "reason", "expires")
                   if not entry.get(key)]
        if missing:
            raise CheckError(f"{where}: {', '.join(missing)} missing (every exception names "
                             "package, version, rule, reason and expiry)")
        if not isinstance(entry["expires"], date) or isinstance(entry["expires"], datetime):
            raise CheckError(f"{where}: expires must be a date, e.g. expires = 2027-01-31")
        if (entry["expires"] - today).days > MAX_EXCEPTION_DAYS:
            raise CheckError(f"{where}: expires {entry['expires']} is more than "
                             f"{MAX_EXCEPTION_DAYS} days away: accept a finding for a while, "
                             "not for good")
        found.append(Accepted(canonicalize_name(entry["package"]), str(entry["version"]),
                                str(entry["rule"]), str(entry["reason"]), entry["expires"]))
    return found


# --- PyPI -------------------------------------------------------------------------------------

def fetch_from_pypi(name: str, *, url: str = PYPI_JSON, attempts: int = 3,
                    timeout: float = 30) -> dict:
    """The project JSON, retried on network errors (a 404 is an answer, not retried)."""
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url.format(name=name), timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise CheckError(f"{name}: not found on PyPI ({error.code})") from error
            last = error
        except (urllib.error.URLError, OSError, ValueError) as error:
            last = error
        if attempt + 1 < attempts:
            time.sleep(2 ** attempt)
    raise CheckError(f"{name}: PyPI could not be asked ({url.format(name=name)}): {last}")


@dataclass
class Release:
    version: Version
    uploaded: datetime
    yanked: bool
    requires_python: str


def releases(project: dict) -> dict[Version, Release]:
    found = {}
    for text, files in project.get("releases", {}).items():
        if not files:
            continue
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        found[version] = Release(
            version,
            min(datetime.fromisoformat(f["upload_time_iso_8601"].replace("Z", "+00:00"))
                for f in files),
            all(f.get("yanked") for f in files),
            next((f["requires_python"] for f in files if f.get("requires_python")), ""),
        )
    return found


def serves(release: Release, python: Version) -> bool:
    try:
        return SpecifierSet(release.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # an unreadable range: assume it serves us (counts as a successor)


# --- advisories -------------------------------------------------------------------------------

@dataclass
class Advisory:
    id: str
    aliases: list[str]
    fixed_in: list[str]
    affects_pin: bool

    @property
    def label(self) -> str:
        names = ", ".join(a for a in self.aliases if a != self.id)
        return f"{self.id} ({names})" if names else self.id


def affects(pinned: Version, fixed_in: Iterable[str]) -> bool:
    """Whether an advisory with these fixed releases reaches the pin. PyPI gives fixes, not the
    affected ranges, so this is conservative: the pin is safe only at or above every fix, or
    at or above a fix of its own release series (a backport, e.g. fixed in 2.0.5 and 3.1.2 for a
    pin 2.0.7). No fix at all means affected."""
    fixes = []
    for text in fixed_in:
        try:
            fixes.append(Version(text))
        except InvalidVersion:
            continue
    if not fixes:
        return True
    if pinned >= max(fixes):
        return False
    return not any(fix <= pinned and fix.release[:2] == pinned.release[:2] for fix in fixes)


# --- the verdict for one pin ------------------------------------------------------------------

@dataclass
class Finding:
    rule: str      # "advisory:<id>", "stale", "yanked"
    message: str
    aliases: tuple[str, ...] = ()
    accepted_by: Accepted | None = None

    @property
    def kind(self) -> str:
        return self.rule.split(":")[0]

    @property
    def names(self) -> set[str]:
        """What an exception's `rule` may say to accept it: the rule, or an advisory's id or
        one of its aliases (a CVE)."""
        return {self.rule, self.rule.removeprefix("advisory:"), *self.aliases}


@dataclass
class Result:
    pin: Pin
    latest: str = ""
    latest_uploaded: date | None = None
    newest_usable: str = ""
    superseded_since: date | None = None
    advisories_complete: bool = False
    advisories: list[Advisory] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: str = ""

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.accepted_by is None]


def judge(pin: Pin, project: dict, today: date, *, update_days: int = UPDATE_DAYS) -> Result:
    result = Result(pin)
    pinned = Version(pin.version)
    known = releases(project)
    if pinned not in known:
        raise CheckError(f"{pin.name}=={pin.version}: PyPI lists no such release")
    latest = Version(project["info"]["version"])
    result.latest = str(latest)
    result.latest_uploaded = known[latest].uploaded.date() if latest in known else None

    python = pin.python_floor
    successors = sorted((r for v, r in known.items()
                         if v > pinned and not v.is_prerelease and not r.yanked
                         and serves(r, python)), key=lambda r: r.version)
    result.newest_usable = str(successors[-1].version) if successors else pin.version
    if successors:
        first = min(successors, key=lambda r: r.uploaded)
        result.superseded_since = first.uploaded.date()
        days = (today - result.superseded_since).days
        if days > update_days:
            result.findings.append(Finding(
                "stale", f"{pin.name}=={pin.version} superseded since "
                f"{result.superseded_since} ({first.version}; {days} days > {update_days}); "
                f"newest for Python {python}: {result.newest_usable}"))

    if known[pinned].yanked:
        result.findings.append(Finding(
            "yanked", f"{pin.name}=={pin.version} has been yanked from PyPI"))

    # PyPI's list is the latest release's; when the pin is the latest, it is the pin's own.
    result.advisories_complete = pinned == latest
    for entry in project.get("vulnerabilities") or []:
        if entry.get("withdrawn"):
            continue
        advisory = Advisory(entry.get("id") or "?", list(entry.get("aliases") or []),
                            list(entry.get("fixed_in") or []), False)
        advisory.affects_pin = affects(pinned, advisory.fixed_in)
        result.advisories.append(advisory)
        if advisory.affects_pin:
            fixed = ", ".join(advisory.fixed_in) or "no fixed release yet"
            result.findings.append(Finding(
                f"advisory:{advisory.id}",
                f"{pin.name}=={pin.version} has advisory {advisory.label} (fixed in: {fixed})",
                tuple(advisory.aliases)))
    return result


def accept(result: Result, exceptions: list[Accepted], today: date) -> list[str]:
    """Marks findings covered by an unexpired exception; returns notes on expired ones."""
    notes = []
    for finding in result.findings:
        for exception in exceptions:
            if exception.covers(result.pin, finding):
                if exception.expires >= today:
                    finding.accepted_by = exception
                else:
                    notes.append(f"exception for {exception.package}=={exception.version} "
                                 f"{exception.rule} expired on {exception.expires}")
    return notes


# --- the run ----------------------------------------------------------------------------------

def audit(pins: list[Pin], fetch: Fetch, today: date, *, update_days: int = UPDATE_DAYS,
          workers: int = 8) -> list[Result]:
    names = sorted({pin.name for pin in pins})

    def ask(name: str) -> tuple[str, dict | str]:
        try:
            return name, fetch(name)
        except CheckError as error:
            return name, str(error)
        except Exception as error:  # noqa: BLE001 - any failure is "could not check"
            return name, f"{name}: {type(error).__name__}: {error}"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = dict(pool.map(ask, names))
    results = []
    for pin in pins:
        answer = answers[pin.name]
        if isinstance(answer, str):
            results.append(Result(pin, error=answer))
            continue
        try:
            results.append(judge(pin, answer, today, update_days=update_days))
        except (CheckError, KeyError, TypeError, ValueError) as error:
            results.append(Result(pin, error=str(error) if isinstance(error, CheckError)
                                  else f"{pin.name}: unreadable PyPI answer ({error!r})"))
    return results


def table(results: list[Result], today: date) -> str:
    head = ("package", "locked", "latest (uploaded)", "newest usable", "superseded since",
            "advisories (PyPI)", "verdict")
    rows = []
    for r in results:
        name = r.pin.name + (" *" if r.pin.marker else "")
        if r.error:
            rows.append((name, r.pin.version, "?", "?", "?", "?", "CANNOT CHECK"))
            continue
        since = (f"{r.superseded_since} ({(today - r.superseded_since).days} d)"
                 if r.superseded_since else "-")
        scope = "" if r.advisories_complete else " [latest's only]"
        listed = "; ".join(f"{a.id}{'' if a.affects_pin else ' (fixed)'}"
                           for a in r.advisories) or "none"
        failed = {f.kind for f in r.failed}
        accepted = {f.kind for f in r.findings if f.accepted_by}
        verdict = ("FAIL " + ",".join(sorted(failed))) if failed else (
            "ok (accepted: " + ",".join(sorted(accepted)) + ")" if accepted else "ok")
        rows.append((name, r.pin.version, f"{r.latest} ({r.latest_uploaded or '?'})",
                     r.newest_usable, since, listed + scope, verdict))
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    line = "  ".join
    out = [line(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip(),
           line("-" * w for w in widths)]
    out += [line(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None, *, fetch: Fetch = fetch_from_pypi,
         today: date | None = None, out=None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--exceptions", type=Path, default=ROOT / "audit-exceptions.toml")
    parser.add_argument("--update-days", type=int, default=UPDATE_DAYS)
    parser.add_argument("--stale", choices=("fail", "warn"), default="fail",
                        help="warn: a stale pin is reported but does not fail (CI on a merge)")
    args = parser.parse_args(argv)
    today = today or datetime.now(UTC).date()

    def say(text: str = "") -> None:
        print(text, file=out)

    try:
        pins = read_lock(args.lock)
        exceptions = read_exceptions(args.exceptions, today)
    except (CheckError, OSError) as error:
        say(f"audit: cannot check: {error}")
        return 2
    results = audit(pins, fetch, today, update_days=args.update_days)
    notes = []
    for result in results:
        notes += accept(result, exceptions, today)

    say(f"Dependency audit of {args.lock.name} against PyPI on {today} "
        f"(update window {args.update_days} days; * = pin for some Pythons/platforms only)")
    say(table(results, today))
    say()
    say("PyPI lists the advisories of each project's latest release only: for a pin behind it, "
        "an advisory fixed in between is not visible here (marked [latest's only]).")

    errors = [r.error for r in results if r.error]
    broken, warned = [], []
    for result in results:
        for finding in result.failed:
            (warned if finding.kind == "stale" and args.stale == "warn" else broken).append(
                f"{finding.kind}: {finding.message}")
        for finding in result.findings:
            if finding.accepted_by:
                say(f"accepted until {finding.accepted_by.expires}: {finding.message} "
                    f"({finding.accepted_by.reason})")
    used = {id(f.accepted_by) for r in results for f in r.findings if f.accepted_by}
    for exception in exceptions:
        if id(exception) not in used and exception.expires >= today:
            say(f"unused exception (remove it): {exception.package}=={exception.version} "
                f"{exception.rule}")
    for note in notes:
        say(note)
    recent = [r for r in results if r.superseded_since and not any(
        f.kind == "stale" for f in r.findings)]
    for r in recent:
        say(f"new release to triage: {r.pin.name}=={r.pin.version} superseded on "
            f"{r.superseded_since} (newest {r.newest_usable}); read its notes for security "
            "fixes (critical/high: 7 days)")
    for message in warned:
        say(f"WARNING {message}")
    for message in broken:
        say(f"FAIL {message}")
    for message in errors:
        say(f"CANNOT CHECK {message}")
    if errors:
        say(f"audit: {len(errors)} package(s) could not be checked: this is not a pass")
        return 2
    if broken:
        say(f"audit: {len(broken)} rule(s) broken")
        return 1
    say(f"audit: {len(results)} pins pass" + (f" ({len(warned)} warning(s))" if warned else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
