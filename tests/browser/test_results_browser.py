"""Published results in a real browser: the public page on a 360-px phone (ranking, an
agency's explanation, the fingerprint, the agency's history), and the organizer's pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from screens import login, snap

TITLE_2023 = "2023年度国家机关“谁执法谁普法”履职评议"


def axe_violations(page) -> list[str]:
    """axe-core (vendored, MPL-2.0) on the page as shown; each violation with its nodes."""
    page.add_script_tag(url="/static/vendor/axe.min.js")
    return page.evaluate("""async () => {
        const result = await axe.run(document);
        return result.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}) `
            + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")


def fits(page, width: int) -> bool:
    wide = page.evaluate("""(width) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > width + 0.5)
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""", width)
    assert wide == [], f"wider than {width}px: {wide}"
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_public_results_on_a_phone(demo_server, page_for):
    page = page_for(360, 740)
    page.goto(demo_server.base + "/")
    page.get_by_role("link", name=TITLE_2023).click()
    page.get_by_role("link", name="查看评议结果").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/results$"))
    expect(page.get_by_role("heading", name=re.compile("市直组"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("县区组"))).to_be_visible()
    expect(page.get_by_role("table", name="市直组排名")).to_be_visible()
    snap(page, "public-results-phone")
    assert fits(page, 360), "the results page scrolls sideways on a 360-px phone"
    snap(page, "public-results-phone")

    summary = page.locator("summary", has_text="市司法局").first
    summary.click()
    details = summary.locator("xpath=..")
    expect(details.get_by_text("计分说明")).to_be_visible()
    expect(details.locator(".explanation li").first).to_contain_text("【市司法局】总分")
    expect(details.get_by_text(re.compile("位评委平均")).first).to_be_visible()
    expect(page.locator(".fingerprint code")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert fits(page, 360)
    assert axe_violations(page) == []
    snap(page, "public-results-phone-explained")

    details.get_by_role("link", name="历年评议结果").click()
    expect(page.get_by_role("heading", name="市司法局")).to_be_visible()
    rows = page.locator("table.results-table tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("2023")
    expect(rows.last).to_contain_text("2018")
    assert fits(page, 360)
    assert axe_violations(page) == []
    snap(page, "public-agency-history-phone")


def test_public_results_on_a_desktop_show_every_stage(demo_server, page_for):
    page = page_for()
    page.goto(demo_server.base + "/")
    page.get_by_role("link", name=TITLE_2023).click()
    page.get_by_role("link", name="查看评议结果").click()
    table = page.get_by_role("table", name="市直组排名")
    for stage in ("自查自评", "实地考察", "现场评议", "总分", "等次"):
        expect(table.get_by_role("columnheader", name=re.compile(stage))).to_be_visible()
    expect(page.get_by_text("关于" + TITLE_2023 + "结果的公示")).to_be_visible()
    assert axe_violations(page) == []
    snap(page, "public-results-desktop")


def test_organizer_version_and_what_if(demo_server, page_for):
    page = page_for()
    login(page, demo_server.base, "organizer")
    page.get_by_role("link", name=TITLE_2023).click()
    page.get_by_role("link", name="评议结果").click()
    expect(page.get_by_role("cell", name="已公布")).to_be_visible()
    snap(page, "admin-results")
    page.get_by_role("link", name="第 1 版").click()
    expect(page.get_by_text("经调阅考察评分表")).to_be_visible()  # the decided appeal
    snap(page, "admin-results-version")
    page.get_by_role("link", name="评议结果").click()
    page.get_by_role("link", name="模拟测算").click()
    page.get_by_label("现场评议 权重").fill("60")
    page.get_by_label("实地考察 权重").fill("10")
    page.get_by_role("button", name="试算").click()
    expect(page.get_by_role("columnheader", name="试算总分").first).to_be_visible()
    snap(page, "admin-results-what-if")
