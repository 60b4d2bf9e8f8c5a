"""An agency contact revises a returned self-assessment in a real browser: a file with the
wrong content is refused, a PDF is accepted, the report is submitted; the organizer then
compares the two versions."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from screens import login, snap

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 300


def test_contact_submits_self_assessment_with_a_file(demo_server, page_for, tmp_path):
    base = demo_server.base
    page = page_for()
    login(page, base, "sifaju")
    page.get_by_role("link", name="评议通知").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("履职评议工作的通知")
    snap(page, "agency-notice")

    page.get_by_role("link", name="填写自查自评").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("自查自评")
    expect(page.get_by_text("第 1 版已退回修改")).to_be_visible()
    snap(page, "agency-self-assessment-returned")

    impostor = tmp_path / "普法台账.pdf"
    impostor.write_bytes(EXE)
    page.get_by_label("选择文件").set_input_files(str(impostor))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator("#file-error")).to_contain_text("不是允许的类型")
    snap(page, "agency-upload-refused")

    evidence = tmp_path / "年度计划审议纪要.pdf"
    evidence.write_bytes(PDF)
    page.get_by_label("选择文件").set_input_files(str(evidence))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_role("link", name="年度计划审议纪要.pdf")).to_be_visible()

    report = page.get_by_label("履职报告")
    report.fill(report.input_value() + "\n## 补充说明\n\n已附年度计划审议纪要。\n")
    page.get_by_label("A2 自评分").fill("4")
    page.get_by_label("A2 简要说明").fill("按意见调整，附审议纪要。")
    page.get_by_label("A1 自评分").fill("9")  # above A1's 5 points
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#points-" + _id_of(page, "A1") + "-error")).to_contain_text("超出")
    snap(page, "agency-score-above-max")

    page.get_by_label("A1 自评分").fill("5")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("status").first).to_contain_text("已提交第 2 版")
    expect(page.get_by_text("已提交，待审核").first).to_be_visible()
    assert page.locator("fieldset[disabled]").count() == 1  # no more edits
    snap(page, "agency-self-assessment-submitted")

    organizer = page_for()
    login(organizer, base, "organizer")
    organizer.goto(base + "/admin/campaigns/1/self-assessment")
    expect(organizer.get_by_text("尚未提交：")).to_be_visible()
    snap(organizer, "admin-self-assessment-completeness")
    organizer.get_by_role("row", name=re.compile("市司法局")).get_by_role(
        "link", name="查看 / 审核"
    ).click()
    organizer.get_by_role("button", name="比较").click()
    expect(organizer.get_by_role("heading", level=1)).to_contain_text("第 1 版 → 第 2 版")
    expect(organizer.locator(".diff .add").first).to_be_visible()
    snap(organizer, "admin-self-assessment-compare")


def _id_of(page, code: str) -> str:
    """The indicator id behind a code, read from the form's input names."""
    label = page.get_by_text(f"{code} 自评分", exact=True)
    return label.get_attribute("for").removeprefix("points-")


def test_organizer_pages_for_deployment_and_recusals(demo_server, page_for):
    base = demo_server.base
    page = page_for()
    login(page, base, "organizer")
    page.goto(base + "/admin/campaigns/1/deployment")
    expect(page.get_by_text(re.compile(r"已阅读：\d+ / \d+ 个单位"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile("市公安局"))
    row.get_by_text("邀请 / 重发").click()
    row.get_by_role("button", name="生成邀请链接").click()
    expect(page.locator("#invitation-link")).to_have_value(re.compile(r"/invite/[\w-]{40,}$"))
    snap(page, "admin-deployment")
    link = page.locator("#invitation-link").input_value()

    newcomer = page_for()
    newcomer.goto(link)
    newcomer.get_by_label("新密码", exact=True).fill("Gongan2024!ok")
    newcomer.get_by_label("确认新密码").fill("Gongan2024!ok")
    snap(newcomer, "invitation-set-password")
    newcomer.get_by_role("button", name="设置密码").click()
    expect(newcomer.get_by_role("status")).to_contain_text("密码已设置")
    assert newcomer.goto(link).status == 404  # single use

    page.goto(base + "/admin/campaigns/1/recusals")
    expect(page.get_by_role("cell", name="所属单位（自动回避）").first).to_be_visible()
    expect(page.get_by_role("cell", name="本人申报").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    snap(page, "admin-recusals")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
