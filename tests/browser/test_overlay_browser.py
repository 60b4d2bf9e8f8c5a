"""Broadcast overlays in Chromium at 1920x1080, against a real `pingyi serve`: the show is run by
python-socketio clients (director, judges) while the overlay pages follow it.

PINGYI_SCREENSHOTS=1 keeps each overlay over a dark and over a light background.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from decimal import Decimal

import pytest
import socketio
from playwright.sync_api import expect
from screens import snap
from serverproc import live_demo, run_cli

NS = "/live"
ENGINE_OPEN = '0{"sid":"cut","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
BACKGROUNDS = {  # stand-ins for the programme picture behind the key
    "dark": "radial-gradient(circle at 30% 40%, #3a4656, #0b0e13 70%)",
    "light": "linear-gradient(135deg, #f7f4ec 0%, #dfe7ef 60%, #ffffff 100%)",
}


class Socket:
    """A python-socketio client that keeps the newest snapshot."""

    def __init__(self, base: str, session: int, token: str, device: str):
        self.client = socketio.Client(reconnection=False)
        self.latest: dict | None = None
        self.changed = threading.Condition()
        self.client.on("snapshot", self._keep, namespace=NS)
        self.client.connect(base, namespaces=[NS], transports=["websocket"], wait_timeout=10,
                            auth={"session": session, "token": token, "device": device})

    def _keep(self, picture):
        with self.changed:
            if self.latest is None or picture["revision"] >= self.latest["revision"]:
                self.latest = picture
            self.changed.notify_all()

    def wait_for(self, predicate) -> dict:
        with self.changed:
            assert self.changed.wait_for(lambda: self.latest and predicate(self.latest), 10)
            return self.latest

    def call(self, event: str, payload: dict) -> dict:
        ack = self.client.call(event, payload, namespace=NS, timeout=10)
        assert ack["ok"], ack
        return ack

    def direct(self, action: str, **fields) -> dict:
        return self.call("director", {"action": action, **fields})


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    with live_demo(tmp_path_factory.mktemp("overlay-browser")) as (server, links):
        director = Socket(server.base, links["session"], links["control_token"], "console")
        yield server, links, director
        director.client.disconnect()


def overlay_page(page_for, url: str):
    page = page_for(1920, 1080)
    page.goto(url)
    return page


def over_backgrounds(page, name: str) -> None:
    """Screenshots of the overlay keyed over a dark and over a light picture."""
    page.wait_for_timeout(1600)  # let the transitions (and 15 staggered seats) settle
    root_style = "background => { document.documentElement.style.background = background; }"
    for shade, background in BACKGROUNDS.items():
        # Through the CSSOM: the CSP refuses an inline <style> (ASVS V3.4.3).
        page.evaluate(root_style, background)
        snap(page, f"overlay-{name}-{shade}")
    page.evaluate(root_style, "")


def _marks_for(seats: list[int]) -> dict[int, str]:
    # Four distinct marks: the first seat is dropped high, the last dropped low.
    return dict(zip(seats, ["90", "84.5", "88", "79"], strict=True))


def test_scoreboard_shows_progress_then_the_revealed_marks(stage, page_for):
    server, links, director = stage
    page = overlay_page(page_for, links["pages"]["scoreboard"])
    marker = page.locator(".live-marker")
    expect(marker).to_have_css("opacity", "1")

    director.direct("select", position=0)
    for _ in range(3):  # report, showcase, scoring
        director.direct("next")
    current = director.wait_for(lambda p: p["current"]["segment"] == "scoring")["current"]
    expected = [s["seat_no"] for s in current["seats"] if not s["recused"]]
    expect(page.locator("h1.agency")).to_have_text(current["agency"])
    expect(page.locator(".progress-line")).to_contain_text(f"评委已提交 0/{len(expected)}")

    # Three members of the audience panel vote in the same window (for the audience graphic).
    codes = run_cli(server.instance, "live", "panel-codes", "--demo", "--count", "3")
    for number, line in enumerate(codes.stdout.splitlines()[1:], start=1):
        member = Socket(server.base, links["session"], line.split(",")[1], f"phone-{number}")
        member.call("audience_vote", {"client_id": f"overlay-vote-{number:02d}",
                                      "slot_id": current["slot_id"],
                                      "level": "dissatisfied" if number == 3 else "satisfied"})
        member.client.disconnect()

    marks = _marks_for(expected[:4])
    for seat_no, total in marks.items():
        judge = Socket(server.base, links["session"], links["seats"][str(seat_no)]["token"],
                       f"tablet-{seat_no}")
        judge.call("submit_mark", {"client_id": f"overlay-test-{seat_no:02d}",
                                   "slot_id": current["slot_id"], "total": total})
        judge.client.disconnect()
    expect(page.locator(".progress-line")).to_contain_text(f"4/{len(expected)}")
    expect(page.locator(".pips li.in")).to_have_count(4)
    assert "90.00" not in page.locator("body").inner_text()  # no mark before the reveal
    expect(page.locator("#seats .seat")).to_have_count(0)
    over_backgrounds(page, "scoreboard-progress")

    director.direct("next")  # scoring closed
    director.direct("reveal", reason="浏览器测试：其余评委未到场")
    expect(page.locator(".result")).to_have_text("86.25")  # (84.5 + 88) / 2
    expect(page.locator(".rank")).to_have_text("当前第 1 名")
    expect(page.locator("[data-show=progress]")).to_have_class(re.compile("is-hidden"))
    seats = page.locator("#seats .seat")
    expect(seats).to_have_count(len(current["seats"]))
    high, low = expected[0], expected[3]
    expect(page.locator("#seats .seat.dropped")).to_have_count(2)
    for seat_no in expected[:4]:
        mark = page.locator(f'#seats .seat[data-seat="{seat_no}"] .mark')
        expect(mark).to_have_text(f"{Decimal(marks[seat_no]):.2f}")
        struck = mark.evaluate("e => getComputedStyle(e).textDecorationLine")
        assert ("line-through" in struck) == (seat_no in (high, low)), (seat_no, struck)
    expect(page.locator(f'#seats .seat[data-seat="{high}"] .tag')).to_have_text("去掉最高分")
    expect(page.locator(f'#seats .seat[data-seat="{low}"] .tag')).to_have_text("去掉最低分")
    over_backgrounds(page, "scoreboard-revealed")


def test_live_marker_hides_while_the_connection_is_cut(stage, page_for):
    _server, links, _director = stage
    cut = threading.Event()
    routes = []

    def through(route):
        if cut.is_set():
            # While the cable is out, each reconnect attempt opens and drops at once. (Dropped
            # before Engine.IO's open packet, the client would wait 20 s for a timeout.)
            route.send(ENGINE_OPEN)
            route.close()
            return
        route.connect_to_server()
        routes.append(route)

    page = page_for(1920, 1080)
    page.route_web_socket(re.compile(r".*/socket\.io/.*"), through)
    page.goto(links["pages"]["scoreboard"])
    marker = page.locator(".live-marker")
    expect(marker).to_have_css("opacity", "1")
    shown = page.locator("h1.agency").inner_text()

    cut.set()
    for route in routes:
        route.close()
    expect(marker).to_have_css("opacity", "0")
    expect(page.locator("h1.agency")).to_have_text(shown)  # the last picture stays up
    snap(page, "overlay-scoreboard-disconnected")

    cut.clear()
    expect(marker).to_have_css("opacity", "1", timeout=15000)


def test_lower_third_timer_and_leaderboard_follow_the_show(stage, page_for):
    _server, links, director = stage
    if director.latest["current"]["segment"] == "revealed":
        director.direct("next")  # 总结点评: a timed segment
    director.direct("timer_start")
    current = director.wait_for(lambda p: p["current"]["timer"]["running"])["current"]

    lower = overlay_page(page_for, links["pages"]["lower-third"])
    expect(lower.locator("h1.agency")).to_have_text(current["agency"])
    expect(lower.locator(".subtitle")).to_contain_text("总结点评")
    expect(lower.locator(".order")).to_contain_text("出场顺序 1/")
    over_backgrounds(lower, "lower-third")

    timer = overlay_page(page_for, links["pages"]["timer"])
    clock = timer.locator(".clock")
    expect(clock).to_have_text(re.compile(r"^0[23]:\d\d$"))
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=3000)  # counting down here, between snapshots
    expect(timer.locator("#graphic")).not_to_have_class(re.compile("overtime"))
    over_backgrounds(timer, "timer")



def test_full_screen_graphics_go_to_air_on_the_directors_command(stage, page_for):
    _server, links, director = stage
    agency = director.latest["current"]["agency"]
    board = overlay_page(page_for, links["pages"]["leaderboard"])
    expect(board.locator(".lb-rows li")).to_have_count(1)
    expect(board.locator(".lb-rows li .name")).to_have_text(agency)
    expect(board.locator(".lb-rows li .value")).to_have_text("86.25")
    expect(board.locator("#graphic")).to_have_css("opacity", "0")  # not on air yet
    director.direct("take_to_air", graphic="leaderboard")
    expect(board.locator("#graphic")).to_have_css("opacity", "1")
    over_backgrounds(board, "leaderboard-on-air")

    audience = overlay_page(page_for, links["pages"]["audience"])
    expect(audience.locator(".au-value").first).to_have_text("66.67")  # (2×100 + 0) / 3
    expect(audience.locator("#graphic")).to_have_css("opacity", "0")
    director.direct("take_to_air", graphic="audience")  # replaces the leaderboard
    expect(audience.locator("#graphic")).to_have_css("opacity", "1")
    expect(board.locator("#graphic")).to_have_css("opacity", "0")
    expect(audience.locator("h1.agency")).to_have_text(agency)
    expect(audience.locator('#levels li[data-level="satisfied"] .au-count')).to_have_text("2")
    expect(audience.locator('#levels li[data-level="dissatisfied"] .au-count')).to_have_text("1")
    expect(audience.locator(".au-foot")).to_contain_text("共 3 位评审团成员投票")
    over_backgrounds(audience, "audience-on-air")
    director.direct("take_off_air")
    expect(audience.locator("#graphic")).to_have_css("opacity", "0")


def _feed(base: str, links: dict) -> dict:
    url = f"{base}/live/{links['session']}/feed.json?token={links['overlay_token']}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_a_template_host_drives_the_page_with_update_play_next(stage, page_for):
    server, links, _director = stage
    base = f"{server.base}/overlay/{links['session']}"
    feed = _feed(server.base, links)

    board = overlay_page(page_for, f"{base}/leaderboard?host=1")
    expect(board.locator(".live-marker")).to_have_css("opacity", "0")  # not live: host-fed
    feed["leaderboard"] = [
        {"rank": n, "agency": f"测试单位{n:02d}", "value": f"{95 - n * 0.75:.2f}", "shared": 0}
        for n in range(1, 13)
    ]
    board.evaluate("feed => { update(JSON.stringify(feed)); play(); }", feed)
    expect(board.locator(".lb-rows li")).to_have_count(8)
    expect(board.locator(".lb-head .page")).to_have_text("1 / 2")
    over_backgrounds(board, "leaderboard")
    board.evaluate("() => next()")
    expect(board.locator(".lb-rows li")).to_have_count(4)
    xml = ('<templateData><componentData id="title"><data id="text" value="市直组排名"/>'
           '</componentData><componentData id="page"><data id="text" value="1"/>'
           "</componentData></templateData>")
    board.evaluate("xml => update(xml)", xml)
    expect(board.locator(".lb-head h1")).to_have_text("市直组排名")
    expect(board.locator(".lb-rows li")).to_have_count(8)
    board.evaluate("() => stop()")
    expect(board.locator("#graphic")).to_have_css("opacity", "0")

    scoreboard = overlay_page(page_for, f"{base}/scoreboard?host=1")
    scoreboard.evaluate("feed => { update(feed); play(); }", _feed(server.base, links))
    expect(scoreboard.locator(".result")).to_have_text("86.25")
    expect(scoreboard.locator("#seats .seat.dropped")).to_have_count(2)

    timer = overlay_page(page_for, f"{base}/timer?host=1")
    overtime = {**feed, "timer_running": 0, "timer_remaining_s": -75}
    timer.evaluate("feed => { update(feed); play(); }", overtime)
    expect(timer.locator(".clock")).to_have_text("-01:15")
    expect(timer.locator("#graphic")).to_have_class(re.compile("overtime"))
    over_backgrounds(timer, "timer-overtime")
