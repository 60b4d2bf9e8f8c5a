"""互评 in a real browser: the demo contact of 市司法局 (reopened by the organizer) marks an
assigned agency, an off-step mark is refused naming the mark, the sheet is submitted; the
organizer's page shows completion, the late agency and the demo's bloc."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from screens import login, snap


def test_contact_submits_a_peer_review(demo_server, page_for):
    base = demo_server.base
    page = page_for(1024, 768)
    login(page, base, "sifaju")
    page.goto(base + "/agency/")
    page.get_by_role("link", name="互评").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("互评")
    expect(page.get_by_role("status").first).to_contain_text("重新开放")
    rows = page.locator("#peer-list tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#peer-list")).not_to_contain_text("市司法局")  # never itself
    snap(page, "agency-peer-review-list")

    first = rows.first
    target = first.locator("td").first.inner_text()
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(target)
    mark = page.get_by_label("总分 评分")
    expect(mark).to_have_value("86")  # the draft saved before the deadline
    mark.fill("86.3")  # the sheet is marked in half points
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator("#mark-total-error")).to_contain_text("总分“86.3”无效")
    expect(page.locator("#mark-total-error")).to_contain_text("0.5 的整数倍")
    snap(page, "agency-peer-sheet-refused")

    page.get_by_label("总分 评分").fill("86.5")
    page.get_by_role("button", name="提交评分").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已提交对{target}的互评")
    expect(page.locator("#peer-list tbody tr").first).to_contain_text("已提交")
    snap(page, "agency-peer-review-submitted")

    page.locator("#peer-list tbody tr").first.get_by_role("link").click()
    assert page.locator("fieldset[disabled]").count() == 1  # no more edits
    phone = page_for(360, 740)
    login(phone, base, "sifaju")
    phone.goto(page.url)
    snap(phone, "agency-peer-sheet-phone")

    organizer = page_for(1024, 768)
    login(organizer, base, "organizer")
    organizer.goto(base + "/admin/campaigns/1/peer-review")
    assert organizer.locator("fieldset[disabled]").count() == 1  # reviewers started: final
    expect(organizer.locator("#blocs")).to_contain_text("人民政府")
    expect(organizer.locator("p.late")).to_contain_text("市水务局")
    justice = organizer.locator("#progress").get_by_role("row", name=re.compile("市司法局"))
    expect(justice.locator("td").nth(3)).to_have_text("1")
    snap(organizer, "admin-peer-review")
