"""The live show in Chromium: the director's console and a judge's tablet at 1024x768."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from screens import snap
from serverproc import live_demo, run_cli


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with live_demo(tmp_path_factory.mktemp("live-browser")) as (server, links):
        yield server, links


def _judge_seat(links, console_page) -> tuple[str, dict]:
    """A seat that is not recused for the first agency on stage."""
    recused = console_page.locator(".seat.recused .no").all_inner_texts()
    recused_numbers = {text.split()[0] for text in recused}
    for number, seat in links["seats"].items():
        if number not in recused_numbers:
            return number, seat
    raise AssertionError("every seat recused")


def test_director_runs_the_show_and_a_tablet_scores_by_touch(live_server, page_for):
    server, links = live_server
    console = page_for(1366, 900)
    console.goto(links["pages"]["console"])
    expect(console.locator("#status")).to_have_text("已连接")
    assert "token=" not in console.url  # the token left the address bar
    console.locator("#slots button").first.click()
    for label in ("开始汇报", "开始展示", "开始评分"):
        expect(console.locator("#next")).to_have_text(label)
        console.locator("#next").click()
    expect(console.locator("#segment")).to_have_text("现场评议")

    number, seat = _judge_seat(links, console)
    tablet = page_for(1024, 768)
    tablet.goto(seat["url"])
    expect(tablet.locator("#who")).to_contain_text(f"{number} 号评委席")
    expect(tablet.locator("#panel-entry")).to_be_visible()
    box = tablet.locator(".key").first.bounding_box()
    assert box["width"] >= 64 and box["height"] >= 64  # touch-sized
    for key in ("8", "8", ".", "5"):
        tablet.locator(f'.key[data-key="{key}"]').click()
    expect(tablet.locator("#entry")).to_have_text("88.5")
    snap(tablet, "tablet-entry-1024")
    tablet.locator("#review").click()
    expect(tablet.locator("#confirm-mark")).to_have_text("88.5 分")
    snap(tablet, "tablet-confirm-1024")
    tablet.locator("#send").click()
    expect(tablet.locator("#panel-done")).to_be_visible()
    expect(tablet.locator("#done-mark")).to_have_text("88.50 分")
    snap(tablet, "tablet-done-1024")
    assert tablet.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 2")

    expect(console.locator(".seat.submitted")).to_have_count(1)
    expect(console.locator(".seat.submitted .mark")).to_have_text("88.50")
    snap(console, "console-scoring")
    # On a 1366x768 laptop the director sees every seat while scoring, marks in, no scrolling.
    console.set_viewport_size({"width": 1366, "height": 768})
    last = console.locator(".seat").last.bounding_box()
    assert last["y"] + last["height"] <= 768, f"the last seat ends at {last['y'] + last['height']}"
    snap(console, "console-scoring-1366x768")


def test_tablet_refuses_a_bad_mark_before_sending(live_server, page_for):
    server, links = live_server
    tablet = page_for(1024, 768)
    seat = links["seats"]["2"]
    tablet.goto(seat["url"])
    expect(tablet.locator("#status")).to_have_text("已连接")
    if tablet.locator("#panel-entry").is_visible():
        for key in ("1", "0", "1"):
            tablet.locator(f'.key[data-key="{key}"]').click()
        tablet.locator("#review").click()
        expect(tablet.locator("#entry-error")).to_contain_text("0 到 100")


def test_join_by_short_code(live_server, page_for):
    server, links = live_server
    page = page_for(1024, 768)
    page.goto(server.base + "/live/join")
    page.get_by_label("评委短码").fill("WRONG-CODE")
    page.get_by_role("button", name="进入评分").click()
    expect(page.locator(".error")).to_contain_text("短码无效")
    code = links["seats"]["3"]["short_code"]
    page.get_by_label("评委短码").fill(code.lower())
    page.get_by_role("button", name="进入评分").click()
    expect(page.locator("#status")).to_have_text("已连接")
    expect(page.locator("#who")).to_contain_text("3 号评委席")


CHIEF_SEAT = "7"  # 吴海涛, the demo's chief judge


def test_void_needs_the_chief_judge_and_the_seat_marks_again(live_server, page_for):
    """Continues the show of the first test: a seat has marked 88.5 on slot 1."""
    server, links = live_server
    console = page_for(1366, 900)
    console.goto(links["pages"]["console"])
    marked = console.locator(".seat.submitted .no").first.inner_text().split()[0]
    # The first test's tablet held that seat: the director releases it for this new device.
    console.locator(f'button[data-command="release_seat"][data-seat="{marked}"]').click()
    judge = page_for(1024, 768)
    judge.goto(links["seats"][marked]["url"])
    expect(judge.locator("#panel-done")).to_be_visible()
    chief = page_for(1024, 768)
    chief.goto(links["seats"][CHIEF_SEAT]["url"])
    expect(chief.locator("#panel-void")).to_be_hidden()

    console.locator(f'button[data-void-seat="{marked}"]').click()
    console.locator("#void-reason").fill("评委误触，申请更正")
    console.locator("#void-submit").click()
    expect(console.locator("#void-pending")).to_contain_text("评委误触")
    expect(chief.locator("#void-list li")).to_contain_text("评委误触")
    snap(chief, "tablet-chief-void-request")
    chief.get_by_role("button", name="同意作废").click()
    expect(chief.locator("#panel-void")).to_be_hidden()
    expect(judge.locator("#panel-entry")).to_be_visible()  # the seat marks again
    expect(console.locator(".seat.submitted")).to_have_count(0)


def _sheet_session_links(server) -> dict:
    import json
    import sqlite3

    with sqlite3.connect(server.instance / "pingyi.sqlite3") as db:
        (session_id,) = db.execute("SELECT id FROM live_session WHERE sheet_indicator_id "
                                   "IS NOT NULL AND rehearsal_of_id IS NULL").fetchone()
    result = run_cli(server.instance, "live", "links", str(session_id), "--json",
                     "--base-url", server.base)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_tablet_marks_each_indicator_of_a_per_indicator_sheet(live_server, page_for):
    server, _links = live_server
    links = _sheet_session_links(server)
    console = page_for(1366, 900)
    console.goto(links["pages"]["console"])
    console.locator("#slots button").first.click()
    for label in ("开始汇报", "开始展示", "开始评分"):
        expect(console.locator("#next")).to_have_text(label)
        console.locator("#next").click()
    number, seat = _judge_seat(links, console)

    tablet = page_for(1024, 768)
    tablet.goto(seat["url"])
    lines = tablet.locator("#sheet-lines .line")
    expect(lines).to_have_count(2)
    expect(lines.first).to_contain_text("宣传活动（30）")
    assert lines.first.bounding_box()["height"] >= 48  # touch-sized
    for key in ("2", "5", ".", "5"):
        tablet.locator(f'.key[data-key="{key}"]').click()
    lines.nth(1).click()
    for key in ("3", "1"):
        tablet.locator(f'.key[data-key="{key}"]').click()
    tablet.locator("#review").click()
    expect(tablet.locator("#entry-error")).to_contain_text("以案释法")  # 31 > 30
    tablet.locator('.key[data-key="⌫"]').click()
    tablet.locator('.key[data-key="⌫"]').click()
    for key in ("2", "8"):
        tablet.locator(f'.key[data-key="{key}"]').click()
    expect(tablet.locator("#entry-hint")).to_contain_text("合计 53.50 分")
    snap(tablet, "tablet-sheet-entry-1024")
    assert tablet.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 2")
    tablet.locator("#review").click()
    expect(tablet.locator("#confirm-lines li")).to_have_count(2)
    expect(tablet.locator("#confirm-mark")).to_have_text("53.50 分")
    snap(tablet, "tablet-sheet-confirm-1024")
    tablet.locator("#send").click()
    expect(tablet.locator("#done-mark")).to_have_text("53.50 分")
    expect(console.locator(".seat.submitted .mark")).to_have_text("53.50")


def test_the_live_pages_headings_are_read_out_not_shown(live_server, page_for):
    # Each page got an <h1> for screen readers; the tablet has no room for a visible title.
    server, links = live_server
    base = links["pages"]["console"].split("/console")[0]
    for path, heading in (("/tablet", "评委评分"), ("/audience", "大众评审团"),
                          ("/console", "导播台")):
        page = page_for(1024, 768)
        page.goto(base + path)
        h1 = page.get_by_role("heading", level=1, name=heading)
        expect(h1).to_have_count(1)
        box = h1.bounding_box()
        assert box is not None and box["width"] <= 1 and box["height"] <= 1
        page.close()
