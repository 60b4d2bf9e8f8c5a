"""A link opened on the wrong page: `pingyi live links` prints a dozen of them, and the one a
broadcast operator or a director pastes may be another role's. Each page says which role it is;
a link of another role is refused with a clear message, and a control token on an overlay is
read-only there (no mark on air before the reveal)."""

from __future__ import annotations

import pytest
import socketio
from playwright.sync_api import expect
from screens import snap
from serverproc import live_demo

NS = "/live"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with live_demo(tmp_path_factory.mktemp("live-links-browser")) as (server, links):
        yield server, links


def _client(server, links, token: str, device: str) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(server.base, namespaces=[NS], transports=["websocket"], wait_timeout=10,
                   auth={"session": links["session"], "token": token, "device": device})
    return client


def _call(client, event: str, payload: dict) -> dict:
    ack = client.call(event, payload, namespace=NS, timeout=10)
    assert ack["ok"], ack
    return ack


def _overlay_url(links, name: str, token: str) -> str:
    return links["pages"][name].split("?")[0] + "?token=" + token


def test_an_overlay_with_the_control_token_shows_no_mark_before_the_reveal(live_server,
                                                                            page_for):
    server, links = live_server
    director = _client(server, links, links["control_token"], "console")
    _call(director, "director", {"action": "select", "position": 0})
    for _ in range(3):  # report, showcase, scoring
        _call(director, "director", {"action": "next"})
    slot_id = _call(director, "snapshot_request", {})["snapshot"]["current"]["slot_id"]
    seats = _call(director, "snapshot_request", {})["snapshot"]["current"]["seats"]
    seat_no = next(str(s["seat_no"]) for s in seats if not s["recused"])
    judge = _client(server, links, links["seats"][seat_no]["token"], "tablet-links")
    _call(judge, "submit_mark", {"client_id": "links-test-mark-1", "slot_id": slot_id,
                                 "total": "77.5"})
    judge.disconnect()

    page = page_for(1920, 1080)
    page.goto(_overlay_url(links, "scoreboard", links["control_token"]))
    expect(page.locator(".progress-line")).to_contain_text("评委已提交 1/")
    expect(page.locator(".pips li.in")).to_have_count(1)
    snap(page, "overlay-scoreboard-control-token-scoring")
    assert "77.50" not in page.locator("body").inner_text()
    expect(page.locator("#seats .seat")).to_have_count(0)
    director.disconnect()


def test_a_tablet_opened_with_the_overlay_link_says_it_is_not_a_judges_link(live_server,
                                                                            page_for):
    server, links = live_server
    tablet = page_for(1024, 768)
    tablet.goto(server.base + f"/live/{links['session']}/tablet#token={links['overlay_token']}")
    expect(tablet.locator("#panel-refused")).to_be_visible()
    expect(tablet.locator("#refused-text")).to_contain_text("不是评委席链接")
    expect(tablet.locator("#keypad")).to_be_hidden()
    snap(tablet, "tablet-overlay-link")


def test_the_console_opened_with_a_judges_link_leaves_the_seat_to_the_judge(live_server,
                                                                           page_for):
    server, links = live_server
    seat = links["seats"]["12"]
    console = page_for(1366, 768)
    console.goto(server.base + f"/live/{links['session']}/console#token={seat['token']}")
    expect(console.locator("#message")).to_contain_text("不是导播台链接")
    snap(console, "console-judge-link")
    # The judge's own tablet still gets its seat.
    judge = _client(server, links, seat["token"], "tablet-of-judge-12")
    assert judge.connected
    judge.disconnect()


def _scoring_open(server, links) -> None:
    """The show's first agency in 现场评议 (scoring open), from wherever it is."""
    director = _client(server, links, links["control_token"], "console")
    current = _call(director, "snapshot_request", {})["snapshot"]["current"]
    if current is None:
        _call(director, "director", {"action": "select", "position": 0})
        current = {"segment": "waiting"}
    for _ in range(["waiting", "report", "showcase", "scoring"].index(current["segment"]), 3):
        _call(director, "director", {"action": "next"})
    director.disconnect()


def test_the_tablet_names_the_rule_a_typed_mark_breaks(live_server, page_for):
    """A mark typed but malformed is not answered "请输入分数" (enter a mark) as if empty."""
    server, links = live_server
    _scoring_open(server, links)
    tablet = page_for(1024, 768)
    tablet.goto(links["seats"]["13"]["url"])
    expect(tablet.locator("#panel-entry")).to_be_visible()

    def typed(keys: str):
        for _ in range(8):
            tablet.locator('.key[data-key="⌫"]').click()
        for key in keys:
            tablet.locator(f'.key[data-key="{key}"]').click()

    typed("123456")
    tablet.locator("#review").click()
    expect(tablet.locator("#entry-error")).to_have_text("分数须在 0 到 100 之间。")
    typed("88.255")  # a third decimal is not taken
    expect(tablet.locator("#entry")).to_have_text("88.25")
    tablet.locator("#review").click()
    expect(tablet.locator("#entry-error")).to_have_text("分数须为 0.5 的整数倍。")
    typed("88.")  # a trailing point is 88
    tablet.locator("#review").click()
    expect(tablet.locator("#confirm-mark")).to_have_text("88 分")
    tablet.locator("#send").click()
    expect(tablet.locator("#done-mark")).to_have_text("88.00 分")
