"""Data feeds for graphics systems that poll (vMix Data Sources, Singular, CasparCG clients).

`/live/<session>/feed.json|feed.xml|feed.csv?token=<overlay or control token>` carries what
the scoreboard overlay shows: the overlay-role snapshot, flattened. Before the reveal there
are no marks in it anywhere, only progress (n of m judges submitted).

The shape, chosen for vMix (which binds a title's fields to the columns of one row of a table)
and Singular (which binds to flat keys):

* Summary columns: `title, revision, order, slots, agency, segment, segment_label,
  timer_running, timer_remaining_s, timer_clock, submitted, expected, progress, revealed,
  result, rank, rank_shared, on_air` (the graphic the director has on air: `leaderboard`,
  `audience` or empty), `rehearsal` (1 in a rehearsal session), `audience_votes`,
  `audience_index`, `audience_rate` (the audience panel; index and rate after the reveal).
* Per-seat columns: `seat, seat_submitted, recused, mark, dropped` (`high`, `low` or empty).
* Wide columns `mark_<n>` and `dropped_<n>` for every seat n, so one title can show the whole
  panel from a single row.

CSV (`feed.csv`): one row per seat, every row carrying the summary and the wide columns, so
"row 1" is enough to bind a whole scoreboard and walking the rows gives one seat each. UTF-8
with a byte-order mark (Excel and vMix then read the Chinese correctly). `?table=leaderboard`
gives the leaderboard instead: `rank, agency, value, shared`. A title or agency name that
starts with `= + - @` gets a leading apostrophe there (Excel would otherwise run it as a
formula when an operator opens the file; no real name starts that way).
XML (`feed.xml`): `<feed>` holding `<summary>` (summary columns as child elements),
`<seats><row>…</row></seats>` (the CSV rows) and `<leaderboard><row>…</row></leaderboard>`;
pick a table in vMix with the XPath `/feed/seats/row` or `/feed/leaderboard/row`. Characters
XML cannot hold (control characters pasted from Word) are left out, so the feed always parses.
JSON (`feed.json`): the summary keys at the top level, `seats` (the CSV rows) and
`leaderboard`.

Booleans are `1`/`0` and empty values are empty strings in every format, so the three agree.
A session with no agency on stage, or no seats, still gives one row (summary only).

Nothing is recomputed on a poll, and a poll does not touch the database: 2,000 pollers every
5 s are 400 requests a second, and with two queries each (the token, the revision) they took
most of the server's CPU and starved the judges' acks (bench/soak.py, 2026-11-28). Instead:
* the session's revision is the one the last publish of this process sent (live/broadcast.py
  tells the cache), read again from the database when that is older than
  `LIVE_FEED_REVISION_SECONDS` (another worker's commits reach this one's pollers that late);
* a token that was admitted is admitted again without a query for `LIVE_FEED_TOKEN_SECONDS`
  (never past its expiry): a revoked token stops reading a feed as late as a revoked tablet's
  socket is closed (live/sweeper.py, `LIVE_SWEEP_SECONDS`). Refusals are not cached.
The snapshot is flattened once per (revision, language), and each format encoded once. It
is not built again for the feed when this process published that revision: the facts the
publish gathered (or patched, live/increments.py) are kept with the revision and viewed as
the overlay role. Building it again read every revealed slot's marks, once per revision
(a mark, a command) and more each slot: in a 10-minute soak it was the feed's slow 1%,
growing from minute to minute (bench/benchmarks_notes.md, 2026-11-28, "poll p99").
While a timer runs the clock columns move every second without a new revision: the body
is then re-encoded (from the cached flattening, no database) at most once a second, and the
ETag says which second.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from xml.etree import ElementTree

from evaluation.spreadsheet_text import csv_cell, xml_text

SUMMARY_COLUMNS = (
    "title", "revision", "order", "slots", "agency", "segment", "segment_label",
    "timer_running", "timer_remaining_s", "timer_clock", "submitted", "expected", "progress",
    "revealed", "result", "rank", "rank_shared", "on_air", "rehearsal",
    "audience_votes", "audience_index", "audience_rate",
)
SEAT_COLUMNS = ("seat", "seat_submitted", "recused", "mark", "dropped")
LEADERBOARD_COLUMNS = ("rank", "agency", "value", "shared")
CLOCK_COLUMNS = ("timer_remaining_s", "timer_clock")
TEXT_COLUMNS = ("title", "agency")  # typed by people; the other columns are ours
FORMATS = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
CACHE_SIZE = 64  # bodies; a few sessions × formats × languages × timer seconds
TOKEN_CACHE_SIZE = 256  # admitted (session, token) pairs: overlays and control tokens
REVISION_SECONDS = 1.0
TOKEN_SECONDS = 5.0


@dataclass(frozen=True)
class Flat:
    """One revision's feed content, before the clock is applied and before encoding."""

    summary: dict
    seat_rows: list[dict]  # seat columns + wide columns; summary is added at encoding
    leaderboard: list[dict]
    timer_running: bool
    timer_remaining_ms: int | None  # as of `server_time_ms`
    server_time_ms: int

    def clock(self, now_ms: int) -> dict:
        """The clock columns as of now (a running timer moves between revisions)."""
        remaining = self.timer_remaining_ms
        if remaining is None:
            return {"timer_remaining_s": "", "timer_clock": ""}
        if self.timer_running:
            remaining -= now_ms - self.server_time_ms
        seconds = math.ceil(remaining / 1000) if remaining >= 0 else -(-remaining // 1000)
        return {"timer_remaining_s": seconds, "timer_clock": clock_text(seconds)}


def clock_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    minutes, rest = divmod(abs(seconds), 60)
    return f"{sign}{minutes:02d}:{rest:02d}"


def _flag(value: bool) -> int:
    return 1 if value else 0


def flatten(picture: dict) -> Flat:
    """The overlay-role snapshot as the rows and columns described above."""
    current = picture["current"] or {}
    result = current.get("result") or {}
    dropped = {seat: "high" for seat in result.get("dropped_high", [])}
    dropped.update({seat: "low" for seat in result.get("dropped_low", [])})
    standing = next(
        (row for row in picture["leaderboard"] if row["agency"] == current.get("agency")), {}
    )
    progress = current.get("progress", {"submitted": "", "expected": ""})
    timer = current.get("timer") or {}
    audience = current.get("audience") or {}
    summary = {
        "title": picture["session"]["title"],
        "revision": picture["revision"],
        "order": current["position"] + 1 if current else "",
        "slots": len(picture["slots"]),
        "agency": current.get("agency", ""),
        "segment": current.get("segment", ""),
        "segment_label": current.get("segment_label", ""),
        "timer_running": _flag(timer.get("running")),
        "submitted": progress["submitted"],
        "expected": progress["expected"],
        "progress": f"{progress['submitted']}/{progress['expected']}" if current else "",
        "revealed": _flag("result" in current),
        "result": result.get("value", ""),
        "rank": standing.get("rank", ""),
        "rank_shared": _flag(standing.get("shared")) if standing else "",
        "on_air": picture.get("on_air") or "",
        "rehearsal": _flag(picture["session"].get("rehearsal")),
        "audience_votes": audience.get("votes", ""),
        "audience_index": audience.get("index", ""),
        "audience_rate": audience.get("rate", ""),
    }
    seats = current.get("seats", [])
    wide = {}
    for seat in seats:
        wide[f"mark_{seat['seat_no']}"] = seat.get("mark", "")
        wide[f"dropped_{seat['seat_no']}"] = dropped.get(seat["seat_no"], "")
    rows = [
        {
            "seat": seat["seat_no"],
            "seat_submitted": _flag(seat["submitted"]),
            "recused": _flag(seat["recused"]),
            "mark": seat.get("mark", ""),
            "dropped": dropped.get(seat["seat_no"], ""),
            **wide,
        }
        for seat in seats
    ] or [{column: "" for column in SEAT_COLUMNS}]
    leaderboard = [
        {"rank": row["rank"], "agency": row["agency"], "value": row["value"],
         "shared": _flag(row["shared"])}
        for row in picture["leaderboard"]
    ]
    return Flat(summary, rows, leaderboard, bool(timer.get("running")),
                timer.get("remaining_ms"), picture["server_time_ms"])


def _ordered_summary(flat: Flat, clock: dict) -> dict:
    merged = {**flat.summary, **clock}
    return {column: merged[column] for column in SUMMARY_COLUMNS}


def _full_rows(flat: Flat, summary: dict) -> list[dict]:
    return [{**summary, **row} for row in flat.seat_rows]


def encode_json(flat: Flat, clock: dict, table: str) -> bytes:
    summary = _ordered_summary(flat, clock)
    body = {**summary, "seats": _full_rows(flat, summary), "leaderboard": flat.leaderboard}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _xml_row(parent, row: dict) -> None:
    element = ElementTree.SubElement(parent, "row")
    for column, value in row.items():
        ElementTree.SubElement(element, column).text = xml_text(str(value))


def encode_xml(flat: Flat, clock: dict, table: str) -> bytes:
    summary = _ordered_summary(flat, clock)
    root = ElementTree.Element("feed", revision=str(summary["revision"]))
    summary_element = ElementTree.SubElement(root, "summary")
    for column, value in summary.items():
        ElementTree.SubElement(summary_element, column).text = xml_text(str(value))
    seats = ElementTree.SubElement(root, "seats")
    for row in _full_rows(flat, summary):
        _xml_row(seats, row)
    board = ElementTree.SubElement(root, "leaderboard")
    for row in flat.leaderboard:
        _xml_row(board, row)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def encode_csv(flat: Flat, clock: dict, table: str) -> bytes:
    if table == "leaderboard":
        rows, columns = flat.leaderboard, LEADERBOARD_COLUMNS
    else:
        rows = _full_rows(flat, _ordered_summary(flat, clock))
        columns = list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: csv_cell(value) if column in TEXT_COLUMNS else value
                      for column, value in row.items()} for row in rows)
    return out.getvalue().encode("utf-8-sig")


ENCODERS = {"json": encode_json, "xml": encode_xml, "csv": encode_csv}


class _Bounded(OrderedDict):
    """A small least-recently-used dict: old revisions fall out on their own."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_fresh(self, key):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return None

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass(frozen=True)
class Body:
    content: bytes
    etag: str


class FeedCache:
    """Per application (tests run several, each with its own database and session ids).

    `revision_seconds` / `token_seconds`: how long a revision seen / a token admitted is
    trusted without asking the database (0: ask every time)."""

    def __init__(self, size: int = CACHE_SIZE, revision_seconds: float = REVISION_SECONDS,
                 token_seconds: float = TOKEN_SECONDS, clock=time.monotonic):
        self.flats = _Bounded(size)
        self.bodies = _Bounded(size)
        self.admitted = _Bounded(TOKEN_CACHE_SIZE)
        self.revisions: dict[int, tuple[int, float]] = {}  # session id -> (revision, seen at)
        self.published: dict[int, tuple[int, object]] = {}  # session id -> (revision, facts)
        self.revision_seconds, self.token_seconds, self.clock = (
            revision_seconds, token_seconds, clock)

    def saw_revision(self, session_id: int, revision: int, facts=None) -> None:
        """A revision this process published (or read): the newest one wins. `facts`: what
        the publish showed (live.snapshot.Facts), for `published_facts`."""
        known = self.revisions.get(session_id)
        if known is None or revision >= known[0]:
            self.revisions[session_id] = (revision, self.clock())
            if facts is not None:
                self.published[session_id] = (revision, facts)

    def published_facts(self, session_id: int, revision: int):
        """The facts this process published at `revision`, or None (not the last one it
        published, or another worker's)."""
        known = self.published.get(session_id)
        return known[1] if known is not None and known[0] == revision else None

    def revision(self, session_id: int, read) -> int | None:
        """The session's revision; `read()` asks the database (None: no such session) when
        this process has not seen one for `revision_seconds`."""
        known = self.revisions.get(session_id)
        if known is not None and self.clock() - known[1] < self.revision_seconds:
            return known[0]
        revision = read()
        if revision is None:
            self.revisions.pop(session_id, None)
            return None
        self.saw_revision(session_id, revision)
        return max(revision, known[0]) if known else revision

    def admits(self, session_id: int, token: str, check) -> bool:
        """Whether `token` may read this session's feed; `check()` asks the database and
        returns the seconds the token has left, or None when it is refused."""
        if not token:
            return False
        key = (session_id, hashlib.sha256(token.encode("utf-8")).digest())
        now = self.clock()
        until = self.admitted.get_fresh(key)
        if until is not None and now < until:
            return True
        left = check()
        if left is None or left <= 0:
            self.admitted.pop(key, None)
            return False
        if self.token_seconds > 0:
            self.admitted.put(key, now + min(self.token_seconds, left))
        return True

    def body(self, key: tuple, load_picture, fmt: str, table: str, now_ms=None) -> Body:
        """`key` is (session id, revision, language); `load_picture` builds the snapshot,
        called only when this revision was not seen before."""
        flat = self.flats.get_fresh(key) or self.flats.put(key, flatten(load_picture()))
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        clock = flat.clock(now_ms)
        second = clock["timer_remaining_s"] if flat.timer_running else None
        body_key = (*key, fmt, table, second)
        cached = self.bodies.get_fresh(body_key)
        if cached is not None:
            return cached
        revision = key[1]
        etag = f'"{revision}"' if second is None else f'"{revision}.{second}"'
        return self.bodies.put(body_key, Body(ENCODERS[fmt](flat, clock, table), etag))
