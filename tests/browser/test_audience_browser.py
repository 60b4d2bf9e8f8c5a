"""An audience panel member votes on a phone: joins with the printed code, votes once."""

from __future__ import annotations

import pytest
import socketio
from playwright.sync_api import expect
from screens import snap
from serverproc import live_demo, run_cli

NS = "/live"


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    instance = tmp_path_factory.mktemp("audience-browser")
    with live_demo(instance) as (server, links):
        codes = run_cli(instance, "live", "panel-codes", "--demo", "--count", "3",
                        "--base-url", server.base)
        rows = [line.split(",") for line in codes.stdout.splitlines()[1:]]
        director = socketio.Client()
        director.connect(server.base, namespaces=[NS], transports=["websocket"],
                         auth={"session": links["session"], "token": links["control_token"]})
        director.call("director", {"action": "select", "position": 0}, namespace=NS)
        for _ in range(3):
            director.call("director", {"action": "next"}, namespace=NS)
        yield server, rows
        director.disconnect()


def test_member_joins_by_code_and_votes_once(show, page_for):
    server, rows = show
    number, code, _url = rows[0]
    phone = page_for(390, 844)
    phone.goto(server.base + "/live/join")
    phone.get_by_label("评委短码").fill(code)
    phone.get_by_role("button", name="进入评分").click()
    expect(phone.locator("#who")).to_have_text(f"大众评审团 {number} 号")
    expect(phone.locator("#panel-vote")).to_be_visible()
    snap(phone, "audience-phone-vote")
    phone.get_by_role("button", name="基本满意").click()
    expect(phone.locator("#panel-voted")).to_be_visible()
    phone.reload()  # the server remembers: no second vote from this phone
    expect(phone.locator("#panel-voted")).to_be_visible()
