"""An audience panel member votes on a phone: joins with the printed code, votes once; the
panel phone and the judge's tablet pass axe-core's WCAG 2.1 A/AA rules."""

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
        yield server, rows, links
        director.disconnect()


def test_member_joins_by_code_and_votes_once(show, page_for):
    server, rows, _links = show
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


def wcag_violations(page) -> list[str]:
    """axe-core's WCAG 2.0/2.1 level A and AA rules (its best-practice rules left aside)."""
    page.add_script_tag(url="/static/vendor/axe.min.js")
    return page.evaluate("""async () => {
        const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return result.violations.map(v => `${v.id}: ${v.help} `
            + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")


def test_panel_phone_and_judge_tablet_can_be_zoomed_and_pass_wcag_aa(show, page_for):
    # The live pages' viewport said maximum-scale=1, user-scalable=no: on an Android phone an
    # elderly panel member could not pinch-zoom (WCAG 1.4.4). Buttons already take
    # touch-action: manipulation, so taps on the keypad still do not zoom.
    server, rows, links = show
    number, code, _url = rows[1]
    phone = page_for(360, 740)
    phone.goto(f"{server.base}/live/{links['session']}/audience#token={code}")
    expect(phone.locator("#panel-vote")).to_be_visible()
    assert wcag_violations(phone) == []
    tablet = page_for(1024, 768)
    tablet.goto(links["seats"]["3"]["url"])
    expect(tablet.locator("#status")).to_have_text("已连接")
    assert wcag_violations(tablet) == []
