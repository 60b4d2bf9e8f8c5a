"""Polled data feeds (JSON, XML, CSV) and the overlay page shells."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

import pytest
from conftest import command, submit, to_scoring

from live import snapshot
from live.feeds import FeedCache, clock_text

# Drop 92 (seat 2) and 77 (seat 3): (81.5 + 86 + 88.5) / 3 = 85.33
MARKS = {1: "81.5", 2: "92", 3: "77", 4: "86", 5: "88.5"}
SHOWN = ["81.50", "92.00", "77.00", "86.00", "88.50"]


def _feed(client, show, fmt: str, token: str | None = "overlay", **params):
    if token is not None:
        params["token"] = getattr(show, token, token)
    return client.get(f"/live/{show.live_id}/feed.{fmt}", query_string=params)


def _score_first_agency(show, reveal: bool):
    director = show.director()
    to_scoring(director)
    for seat_no, total in MARKS.items():
        sheet = f"feed-sheet-{seat_no:02d}"
        assert submit(show.judge(seat_no), show.slot_ids[0], total, sheet)["ok"]
    assert command(director, "next")["ok"]  # scoring closed
    if reveal:
        assert command(director, "next")["ok"]  # revealed
    return director


def _csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_feeds_refuse_judges_and_strangers(show, client, fmt):
    for token in (None, "not-a-token", show.seat_tokens[1].token):
        response = _feed(client, show, fmt, token)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"


def test_feed_of_an_unknown_session_is_404(show, client):
    response = client.get(f"/live/{show.live_id + 99}/feed.json",
                          query_string={"token": show.overlay})
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_session"


def test_control_token_and_bearer_header_also_read_the_feed(show, client):
    assert _feed(client, show, "json", "control").status_code == 200
    response = client.get(f"/live/{show.live_id}/feed.json",
                          headers={"Authorization": f"Bearer {show.overlay}"})
    assert response.status_code == 200


def test_before_the_reveal_no_mark_appears_in_any_feed(show, client):
    _score_first_agency(show, reveal=False)
    bodies = {fmt: _feed(client, show, fmt) for fmt in ("json", "xml", "csv")}
    for response in bodies.values():
        assert response.status_code == 200
        text = response.data.decode("utf-8-sig")
        assert not any(mark in text for mark in SHOWN)
    feed = bodies["json"].json
    assert feed["progress"] == "5/5" and feed["revealed"] == 0 and feed["result"] == ""
    assert feed["segment"] == "closed" and feed["rank"] == ""
    assert [row["mark"] for row in feed["seats"]] == [""] * 5
    assert feed["leaderboard"] == []
    rows = _csv_rows(bodies["csv"])
    assert [row["seat_submitted"] for row in rows] == ["1"] * 5
    assert {row["agency"] for row in rows} == {feed["agency"]}


def test_after_the_reveal_marks_dropped_flags_result_and_rank(show, client):
    _score_first_agency(show, reveal=True)
    feed = _feed(client, show, "json").json
    assert [row["mark"] for row in feed["seats"]] == SHOWN
    assert [row["dropped"] for row in feed["seats"]] == ["", "high", "low", "", ""]
    assert feed["result"] == "85.33" and feed["rank"] == 1 and feed["revealed"] == 1
    assert feed["leaderboard"] == [
        {"rank": 1, "agency": feed["agency"], "value": "85.33", "shared": 0}]

    rows = _csv_rows(_feed(client, show, "csv"))
    assert [(r["seat"], r["mark"], r["dropped"]) for r in rows] == [
        ("1", "81.50", ""), ("2", "92.00", "high"), ("3", "77.00", "low"),
        ("4", "86.00", ""), ("5", "88.50", "")]
    first = rows[0]  # one row is enough to bind the whole scoreboard
    assert (first["mark_2"], first["dropped_2"], first["result"]) == ("92.00", "high", "85.33")
    assert first["segment_label"] == "亮分" and first["progress"] == "5/5"

    root = ElementTree.fromstring(_feed(client, show, "xml").data)
    assert root.findtext("summary/result") == "85.33"
    assert [row.findtext("dropped") for row in root.findall("seats/row")] == [
        "", "high", "low", "", ""]
    assert root.findtext("leaderboard/row/value") == "85.33"


def test_csv_leaderboard_table(show, client):
    _score_first_agency(show, reveal=True)
    rows = _csv_rows(_feed(client, show, "csv", table="leaderboard"))
    assert [(r["rank"], r["value"], r["shared"]) for r in rows] == [("1", "85.33", "0")]


def test_content_types_and_cache_headers(show, client):
    revision = _feed(client, show, "json").json["revision"]
    types = {"json": "application/json", "xml": "application/xml", "csv": "text/csv"}
    for fmt, content_type in types.items():
        response = _feed(client, show, fmt)
        assert response.content_type.startswith(content_type)
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["ETag"] == f'"{revision}"'


def test_a_second_poll_at_the_same_revision_builds_nothing(show, client, monkeypatch):
    builds = []
    real_build = snapshot.build

    def counting_build(db, live, role):
        builds.append(role)
        return real_build(db, live, role)

    monkeypatch.setattr(snapshot, "build", counting_build)
    first = _feed(client, show, "json")
    for fmt in ("json", "xml", "csv", "json"):
        assert _feed(client, show, fmt).status_code == 200
    assert builds == ["overlay"]
    director = show.director()  # connecting a director sends it a snapshot: a build
    command(director, "select", position=0)  # a new revision, published by this process
    builds.clear()
    second = _feed(client, show, "json")
    # The feed views the facts the publish gathered: building them again read every revealed
    # slot's marks once per revision, and more each slot (bench/soak.py's poll p99).
    assert builds == [] and second.json["revision"] > first.json["revision"]


def test_a_published_revision_feeds_what_a_fresh_build_would(show, app, client):
    _score_first_agency(show, reveal=True)  # marks, a result and a leaderboard in the feed
    command(show.director(), "next")  # the summary: a full gather, published
    published = {fmt: _feed(client, show, fmt).data for fmt in ("json", "xml", "csv")}
    app.extensions.pop("pingyi_feeds", None)  # forget the published facts: a build
    assert {fmt: _feed(client, show, fmt).data for fmt in published} == published
    assert json.loads(published["json"])["result"] == "85.33"


def test_if_none_match_at_the_same_revision_is_304(show, client):
    first = _feed(client, show, "json")
    etag = first.headers["ETag"]
    again = client.get(f"/live/{show.live_id}/feed.json", query_string={"token": show.overlay},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    command(show.director(), "select", position=0)
    changed = client.get(f"/live/{show.live_id}/feed.json", query_string={"token": show.overlay},
                         headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_running_timer_moves_without_a_new_revision():
    picture = {
        "revision": 7, "server_time_ms": 1_000_000, "session": {"title": "第一场"},
        "slots": [{}], "leaderboard": [],
        "current": {"position": 0, "agency": "甲局", "segment": "report",
                    "segment_label": "履职汇报", "timer": {"running": True, "remaining_ms": 2_500},
                    "progress": {"submitted": 0, "expected": 5}, "seats": []},
    }
    cache, builds = FeedCache(), []

    def load():
        builds.append(1)
        return picture

    now = 1_000_000
    first = cache.body((1, 7, "zh"), load, "json", "seats", now_ms=now)
    later = cache.body((1, 7, "zh"), load, "json", "seats", now_ms=now + 1_000)
    overtime = cache.body((1, 7, "zh"), load, "json", "seats", now_ms=now + 4_000)
    assert len(builds) == 1
    assert json.loads(first.content)["timer_remaining_s"] == 3
    assert json.loads(later.content)["timer_clock"] == "00:02"
    assert json.loads(overtime.content)["timer_clock"] == "-00:01"
    assert len({first.etag, later.etag, overtime.etag}) == 3


def test_clock_text():
    assert [clock_text(s) for s in (0, 59, 61, -5, 600)] == [
        "00:00", "00:59", "01:01", "-00:05", "10:00"]


@pytest.mark.parametrize("name", ["scoreboard", "lower-third", "timer", "leaderboard", "audience"])
def test_overlay_pages_are_shells(show, client, name):
    response = client.get(f"/overlay/{show.live_id}/{name}")
    assert response.status_code == 200
    html = response.data.decode()
    assert f'data-session="{show.live_id}"' in html and "<script>" not in html
    assert "socket.io.min.js" in html and "overlay/overlay.js" in html
    assert "background: transparent" in client.get("/static/overlay/overlay.css").data.decode()


@pytest.mark.parametrize("url", ["/overlay/{id}/ballot", "/overlay/{id}/../feed.json",
                                 "/overlay/{missing}/scoreboard"])
def test_unknown_overlays_are_404(show, client, url):
    response = client.get(url.format(id=show.live_id, missing=show.live_id + 99))
    assert response.status_code == 404


def test_names_stay_text_in_csv_and_pasted_control_characters_keep_the_xml_well_formed():
    # A title pasted from Word brings \x0b: ElementTree writes it as it is and every XML
    # parser (vMix, CasparCG clients) then refuses the whole feed. A name starting with "="
    # must not become a formula when an operator opens feed.csv in Excel; the clock's
    # "-00:05" is no name and stays as it is.
    picture = {
        "revision": 3, "server_time_ms": 1_000_000, "session": {"title": "第一场\x0b（晚间）"},
        "slots": [{}],
        "leaderboard": [{"rank": 1, "agency": "@甲局", "value": "85.33", "shared": False}],
        "current": {"position": 0, "agency": '=HYPERLINK("http://evil.example","甲局")',
                    "segment": "report", "segment_label": "履职汇报",
                    "timer": {"running": False, "remaining_ms": -5_000},
                    "progress": {"submitted": 0, "expected": 5}, "seats": []},
    }
    cache = FeedCache()

    def body(fmt, table="seats"):
        return cache.body((1, 3, "zh"), lambda: picture, fmt, table, now_ms=1_000_000).content

    root = ElementTree.fromstring(body("xml"))
    assert root.findtext("summary/title") == "第一场（晚间）"
    assert root.findtext("summary/agency") == '=HYPERLINK("http://evil.example","甲局")'
    row = next(csv.DictReader(io.StringIO(body("csv").decode("utf-8-sig"))))
    assert row["agency"] == '\'=HYPERLINK("http://evil.example","甲局")'
    assert row["timer_clock"] == "-00:05" and row["segment_label"] == "履职汇报"
    board = next(csv.DictReader(io.StringIO(body("csv", "leaderboard").decode("utf-8-sig"))))
    assert (board["agency"], board["value"]) == ("'@甲局", "85.33")
    assert json.loads(body("json"))["agency"].startswith("=HYPERLINK")  # JSON is data
