"""An organizer in a real browser: create a campaign, get the weights wrong, then right;
the other organization's organizer cannot open it."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from screens import login, snap


def test_organizer_sets_stage_weights_and_other_org_is_kept_out(demo_server, page_for):
    base = demo_server.base
    page = page_for()
    login(page, base, "organizer")
    expect(page.get_by_role("heading", name="评议活动")).to_be_visible()
    snap(page, "admin-dashboard")

    page.get_by_role("link", name="新建评议活动").click()
    page.get_by_label("活动名称").fill("2025年度浏览器测试评议")
    page.get_by_label("评议年度").fill("2025")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/admin/campaigns/\d+/stages$"))
    campaign_url = page.url.removesuffix("/stages")

    expect(page.locator("#weight-total")).to_have_text("当前合计：100.00")
    # No total while a weight breaks its own rule (30 digits showed "1e+30", 500 a sum).
    for bad in ("1" + "0" * 30, "500"):
        page.get_by_label("互评 权重").fill(bad)
        expect(page.locator("#weight-total")).to_have_text("当前合计：—")
    page.get_by_label("互评 权重").fill("9")
    expect(page.locator("#weight-total")).to_have_text("当前合计：99.00")  # before sending
    page.get_by_role("button", name="保存阶段设置").click()
    expect(page.locator("#total-error")).to_contain_text("合计为 99.00")
    expect(page.get_by_label("互评 权重")).to_have_value("9")  # kept what was typed
    snap(page, "admin-stages-error")

    # Full-width digits and point, as a Chinese input method types them: the server takes
    # them, so the running total counts them too.
    page.get_by_label("互评 权重").fill("１０．００")
    expect(page.locator("#weight-total")).to_have_text("当前合计：100.00")
    page.get_by_role("button", name="保存阶段设置").click()
    expect(page.get_by_role("status")).to_contain_text("阶段设置已保存")
    expect(page.get_by_label("互评 权重")).to_have_value("10.00")
    snap(page, "admin-stages-saved")

    other = page_for()
    login(other, base, "ruyuan")
    response = other.goto(campaign_url)
    assert response.status == 404
    expect(other.get_by_text("页面不存在")).to_be_visible()
    snap(other, "other-org-404")


def test_admin_pages_render_chinese_and_fit(demo_server, page_for):
    base = demo_server.base
    page = page_for()
    login(page, base, "organizer")
    for path, name in [
        ("/admin/campaigns/1", "admin-campaign"),
        ("/admin/campaigns/1/indicators", "admin-indicators"),
        ("/admin/campaigns/1/judges", "admin-judges"),
        ("/admin/campaigns/1/agencies", "admin-campaign-agencies"),
        ("/admin/users/new", "admin-user-new"),
    ]:
        assert page.goto(base + path).status == 200
        # Nothing spills sideways at a desktop width.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        snap(page, name)
    page.goto(base + "/admin/campaigns/1/indicators")
    expect(page.get_by_text("分值已平衡")).to_be_visible()


def test_public_home_and_language_switch(demo_server, page_for):
    page = page_for(390, 844)  # a phone
    page.goto(demo_server.base + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("履职评议")
    snap(page, "public-home-phone")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Performance Evaluation")
    snap(page, "public-home-phone-en")


CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def test_no_page_breaks_the_content_security_policy(demo_server, page_for):
    """ASVS V3.4.3: the CSP has no 'unsafe-inline' for styles; no page relies on one (a
    blocked inline style is silent: it only shows as a violation event)."""
    base = demo_server.base
    page = page_for()
    page.add_init_script(CSP_WATCH)
    login(page, base, "organizer")
    paths = [
        "/", "/login", "/live/join", "/admin/campaigns/1", "/admin/campaigns/1/indicators",
        "/admin/campaigns/1/judges", "/admin/campaigns/1/agencies", "/admin/campaigns/1/stages",
        "/admin/campaigns/1/reports", "/live/1/console", "/overlay/1/scoreboard",
        "/live/1/tablet", "/live/1/audience",
    ]
    for path in paths:
        page.goto(base + path)
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == [], path
    page.goto(base + "/admin/campaigns/1/indicators")
    pads = page.evaluate("""[...document.querySelectorAll('table.tree td[class^="depth-"]')]
        .map(td => [td.className, parseFloat(getComputedStyle(td).paddingLeft)])""")
    depths = {name: pad for name, pad in pads}
    assert depths["depth-0"] < depths["depth-1"]  # the tree still shows its levels
    snap(page, "admin-indicators-csp")
