"""An inspector on a tablet fills the 市司法局 sheet, loses the network, reloads the page
without it, comes back: the draft reaches the server exactly once. Screenshots of the
inspection pages at tablet (1024x768) and phone (360 px) sizes."""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal

from playwright.sync_api import expect
from screens import login, snap


def _stored(instance, sheet_id: int) -> tuple[int, int]:
    """(draft saves stored, the sheet's version) straight from the database."""
    with sqlite3.connect(instance / "pingyi.sqlite3") as db:
        saves = db.execute(
            "SELECT count(*) FROM inspection_save WHERE sheet_id = ?", (sheet_id,)
        ).fetchone()[0]
        version = db.execute(
            "SELECT version FROM inspection_sheet WHERE id = ?", (sheet_id,)
        ).fetchone()[0]
    return saves, version


def _refuse(route) -> None:
    route.abort("internetdisconnected")


def _network(context, *, up: bool) -> None:
    """The tablet's network goes down or comes back. Playwright's offline emulation alone
    leaks: once (in CI) the document a reload got from the service worker sent its save
    before the emulation reached it. So every request, the page's and the service worker's,
    is refused as well, the way a dead Wi-Fi refuses them."""
    if up:
        context.unroute("**/*", _refuse)
        context.set_offline(False)
    else:
        context.set_offline(True)
        context.route("**/*", _refuse)


def _points(instance, sheet_id: int, code: str) -> Decimal | None:
    with sqlite3.connect(instance / "pingyi.sqlite3") as db:
        row = db.execute(
            "SELECT l.points FROM inspection_line l JOIN indicator i ON i.id = l.indicator_id "
            "WHERE l.sheet_id = ? AND i.code = ?", (sheet_id, code)
        ).fetchone()
    return None if row is None or row[0] is None else Decimal(str(row[0]))


def test_offline_reload_then_back_saves_the_draft_exactly_once(demo_server, page_for):
    base, instance = demo_server.base, demo_server.instance
    tablet = page_for(1024, 768)
    login(tablet, base, "inspector")
    tablet.goto(f"{base}/inspector/")
    expect(tablet.get_by_role("link", name="确认 何志远 的考察表")).to_be_visible()
    snap(tablet, "inspector-home-tablet")
    tablet.get_by_role("link", name="市司法局").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("实地考察：市司法局")
    expect(tablet.locator("html[data-offline-ready=true]")).to_be_attached(timeout=15_000)
    sheet_id = int(tablet.locator("#sheet-form").get_attribute("data-sheet"))
    before = _stored(instance, sheet_id)
    snap(tablet, "inspector-sheet-tablet")

    _network(tablet.context, up=False)
    tablet.get_by_label("B1 得分", exact=True).fill("4.5")
    notes = "制度文本齐全，已印发执行。"
    tablet.get_by_label("B1 考察记录", exact=True).fill(notes)
    expect(tablet.locator("#sync")).to_contain_text("离线", timeout=10_000)
    tablet.reload()  # no network: the service worker's copy, with the draft from localStorage
    expect(tablet.get_by_label("B1 得分", exact=True)).to_have_value("4.5")
    expect(tablet.get_by_label("B1 考察记录", exact=True)).to_have_value(notes)
    expect(tablet.locator("#sync")).to_contain_text("离线", timeout=10_000)
    snap(tablet, "inspector-sheet-offline")
    assert tablet.evaluate("navigator.serviceWorker.controller !== null")
    assert _stored(instance, sheet_id) == before

    _network(tablet.context, up=True)
    expect(tablet.locator("#sync")).to_contain_text("草稿已保存到服务器", timeout=20_000)
    assert _stored(instance, sheet_id) == (before[0] + 1, before[1] + 1)
    assert _points(instance, sheet_id, "B1") == Decimal("4.5")
    tablet.reload()
    expect(tablet.get_by_label("B1 得分", exact=True)).to_have_value("4.50")
    tablet.wait_for_timeout(1500)  # a stray resend would land here
    assert _stored(instance, sheet_id) == (before[0] + 1, before[1] + 1)

    # A second device saves meanwhile: this one's next save is a conflict, shown, not merged.
    other = page_for(1024, 768)
    login(other, base, "inspector")
    other.goto(f"{base}/inspector/sheets/{sheet_id}")
    other.get_by_label("C1 得分", exact=True).fill("8")
    expect(other.locator("#sync")).to_contain_text("草稿已保存到服务器", timeout=10_000)
    tablet.get_by_label("C2 得分", exact=True).fill("7")
    conflict = tablet.get_by_role("alertdialog")
    expect(conflict).to_contain_text("另一台设备修改了这份考察表", timeout=10_000)
    expect(conflict.get_by_role("row", name=re.compile("C1"))).to_contain_text("8")
    snap(tablet, "inspector-sheet-conflict")
    conflict.get_by_role("button", name="保留本设备的草稿").click()
    expect(tablet.locator("#sync")).to_contain_text("草稿已保存到服务器", timeout=10_000)
    expect(conflict).to_be_hidden()
    assert _points(instance, sheet_id, "C2") == Decimal(7)
    assert _points(instance, sheet_id, "C1") is None  # this device's draft was kept, whole

    # Points above the indicator's maximum: refused by the server, named, nothing stored.
    tablet.get_by_label("B2 得分", exact=True).fill("9")
    expect(tablet.locator(f"#points-{_indicator(tablet, 'B2')}-error")).to_contain_text("超出")
    assert _stored(instance, sheet_id)[0] == before[0] + 3  # + the two conflict saves

    phone = page_for(360, 740)
    login(phone, base, "inspector")
    phone.goto(f"{base}/inspector/sheets/{sheet_id}")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("市司法局")
    snap(phone, "inspector-sheet-phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the sheet scrolls sideways on a phone ({width}px)"
    phone.get_by_role("link", name="查看并确认").click()  # 何志远's submitted sheet
    expect(phone.get_by_role("button", name="确认无误")).to_be_visible()
    snap(phone, "inspector-confirm-phone")

    organizer = page_for(1024, 768)
    login(organizer, base, "organizer")
    organizer.goto(f"{base}/admin/campaigns/1/inspection")
    expect(organizer.get_by_role("heading", name="实地考察分组")).to_be_visible()
    snap(organizer, "admin-inspection-teams")


def _indicator(page, code: str) -> str:
    return page.get_by_label(f"{code} 得分", exact=True).get_attribute("data-indicator")
