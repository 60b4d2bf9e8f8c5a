"""An organizer imports agencies in a real browser against `pingyi serve` (gevent): a messy
workbook shows its problem list, a clean one is previewed and committed."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from screens import snap
from test_admin_browser import login
from workbooks import MESSY_AGENCIES, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLEAN = xlsx(
    (
        "单位",
        [
            ["单位名称", "类别", "地区", "分组", "顺序"],
            ["市浏览器测试局", "市直", "韶关市", "市直组", None],
            ["乳源县浏览器测试局", "县区部门", "乳源县", "县区组", None],
        ],
    )
)


def upload(page, data: bytes, name: str) -> None:
    card = page.locator("#import-agencies")
    card.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": XLSX, "buffer": data}]
    )
    card.get_by_role("button", name="上传并预览").click()


def test_organizer_imports_agencies_messy_then_clean(demo_server, page_for):
    base = demo_server.base
    page = page_for()
    login(page, base, "organizer")
    page.goto(base + "/admin/campaigns/1")
    page.get_by_role("link", name="导入").click()
    expect(page.get_by_role("heading", name="从 Excel 导入")).to_be_visible()
    snap(page, "admin-imports")

    upload(page, MESSY_AGENCIES, "单位名单（乱）.xlsx")
    # The worker reads the file; the page polls and reloads itself when it is done.
    expect(page.locator("#import-refused")).to_contain_text("发现 4 个问题", timeout=30000)
    problems = page.locator("table.problems").first
    expect(problems).to_contain_text("单位名单")
    expect(problems).to_contain_text("“央企”不是可选的值")
    expect(problems.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    snap(page, "admin-import-problems")

    page.get_by_role("link", name="重新上传").click()
    upload(page, CLEAN, "单位名单.xlsx")
    expect(page.get_by_role("button", name="确认导入")).to_be_visible(timeout=30000)
    expect(page.locator("table.preview")).to_contain_text("新建并加入本次评议")
    snap(page, "admin-import-preview")
    page.get_by_role("button", name="确认导入").click()
    expect(page).to_have_url(re.compile(r"/admin/campaigns/1/agencies$"))
    expect(page.get_by_role("status").first).to_contain_text("导入完成：新建 2 条")
    expect(page.get_by_role("cell", name="乳源县浏览器测试局")).to_be_visible()
    snap(page, "admin-import-done")
