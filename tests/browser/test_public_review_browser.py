"""The public on their phones: a ballot with a vote code, a second one refused; and axe-core
on every public page (normal, elder mode, Traditional Chinese) with zero violations."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from screens import login, snap
from serverproc import Server, demo_instance
from sqlmodel import Session, select

from evaluation import create_app
from evaluation.demo_data import CITY_CAMPAIGN
from evaluation.models import Agency, Campaign, Stage, StageKind, StageStatus
from evaluation.models.base import utcnow
from evaluation.services import ballot_setup, vote_codes

AXE = Path(__file__).resolve().parents[2] / "evaluation" / "static" / "vendor" / "axe.min.js"


@pytest.fixture(scope="module")
def voting(tmp_path_factory):
    """The demo with its public review (three fresh vote codes) and its publicity (comments)
    reopened until tomorrow."""
    instance = tmp_path_factory.mktemp("public-review-browser")
    demo_instance(instance)
    key_file = instance / "secret_key"  # the served instance's key: codes are keyed with it
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": key_file.read_text().strip(),
            "DATABASE_URL": f"sqlite:///{instance / 'pingyi.sqlite3'}",
        }
    )
    with app.test_request_context(), Session(app.extensions["pingyi_db"]) as db:
        campaign = db.exec(select(Campaign).where(Campaign.title == CITY_CAMPAIGN)).one()
        stage = db.exec(
            select(Stage).where(
                Stage.campaign_id == campaign.id, Stage.kind == StageKind.PUBLIC_REVIEW
            )
        ).one()
        stage.opens_at, stage.closes_at = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
        db.add(stage)
        db.commit()
        ballot_setup.open_voting(db, stage)
        publicity = db.exec(
            select(Stage).where(
                Stage.campaign_id == campaign.id, Stage.kind == StageKind.MEDIA_PUBLICITY
            )
        ).one()
        publicity.status, publicity.closes_at = StageStatus.OPEN, stage.closes_at
        db.add(publicity)
        db.commit()
        codes = [c.code for c in vote_codes.issue_batch(db, stage, 3, "browser-test")]
        agency = db.exec(select(Agency).where(Agency.name == "市司法局")).one()
        ids = {"campaign": campaign.id, "agency": agency.id}
    app.extensions["pingyi_db"].dispose()
    with Server(instance) as server:
        yield server, ids, codes


def test_a_member_of_the_public_votes_on_a_phone_and_cannot_vote_twice(voting, page_for):
    server, ids, codes = voting
    phone = page_for(360, 740)
    phone.goto(f"{server.base}/review/{ids['campaign']}")
    snap(phone, "public-review-phone-list")
    phone.get_by_role("link", name="市司法局").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("市司法局")
    no_horizontal_scroll(phone)
    phone.get_by_label("基本满意").check()
    phone.get_by_label("投票码").fill(codes[0].lower().replace("-", " "))
    phone.wait_for_timeout(3200)  # a person reads before voting: no quarantine
    snap(phone, "public-review-phone-ballot")
    phone.get_by_role("button", name="提交评议").click()
    expect(phone.locator(".flash.success")).to_contain_text("已收到您对“市司法局”的评议")
    snap(phone, "public-review-phone-thanks")

    phone.get_by_role("link", name="市司法局").click()
    phone.get_by_label("满意", exact=True).check()
    phone.get_by_label("投票码").fill(codes[0])
    phone.get_by_role("button", name="提交评议").click()
    expect(phone.locator("#code-error")).to_contain_text("已经对该单位投过票")
    expect(phone.get_by_label("投票码")).to_have_attribute("aria-invalid", "true")
    snap(phone, "public-review-phone-refused")


def no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


def public_pages(ids) -> list[str]:
    """Every public page; the ballot page last (the error check below reuses it)."""
    return [
        "/",
        f"/campaigns/{ids['campaign']}",
        f"/publicity/{ids['campaign']}",
        f"/publicity/{ids['campaign']}/agencies/{ids['agency']}",
        f"/review/{ids['campaign']}",
        f"/review/{ids['campaign']}/agencies/{ids['agency']}",
    ]


def axe_violations(page) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe.min.js")
    found = page.evaluate("""async () => {
        const result = await axe.run(document);
        return result.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}) `
            + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return found


def choose(page, button_name: str) -> None:
    page.locator(".display-switch").get_by_role("button", name=button_name).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("mode", ["normal", "elder", "traditional"])
@pytest.mark.parametrize("width", [1366, 360])
def test_axe_finds_no_violation_on_public_pages(voting, page_for, mode, width):
    server, ids, codes = voting
    page = page_for(width, 900)
    page.goto(server.base + "/")
    if mode == "elder":
        choose(page, "长者模式")
    elif mode == "traditional":
        choose(page, "繁體")
    failures = {}
    for path in public_pages(ids):
        page.goto(server.base + path)
        if width == 360:
            no_horizontal_scroll(page)
        violations = axe_violations(page)
        if violations:
            failures[path] = violations
        name = path.strip("/").replace("/", "-") or "home"
        snap(page, f"public-{mode}-{width}-{name}")
    # A refused ballot shows its errors: that page is checked too.
    page.goto(server.base + public_pages(ids)[-1])
    page.locator("input[name=level]").first.check()
    page.locator("#vote-code").fill("12345")
    page.locator("#ballot-form button[type=submit]").click()
    page.wait_for_load_state()
    violations = axe_violations(page)
    if violations:
        failures["ballot with errors"] = violations
    assert failures == {}


def test_traditional_and_elder_choices_are_remembered_and_switch_back(voting, page_for):
    server, ids, _codes = voting
    page = page_for(1366, 900)
    page.goto(f"{server.base}/review/{ids['campaign']}")
    choose(page, "繁體")
    expect(page.get_by_role("heading", level=1)).to_have_text("社會評議")
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    choose(page, "長者模式")
    assert page.evaluate("document.documentElement.className") == "elder"
    font = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert font == "22px"
    page.goto(f"{server.base}/campaigns/{ids['campaign']}")  # remembered on the next page
    assert "評議階段" in page.content()
    snap(page, "public-traditional-elder-desktop-campaign")
    choose(page, "簡體")
    choose(page, "标准字号")
    assert "评议阶段" in page.content()
    assert page.evaluate("document.documentElement.className") == ""


def test_organizer_watches_turnout_and_decides_a_quarantined_ballot(voting, page_for):
    server, ids, _codes = voting
    page = page_for(1366, 900)
    login(page, server.base, "organizer")
    page.goto(f"{server.base}/admin/campaigns/{ids['campaign']}/public-review")
    expect(page.locator("#turnout")).to_contain_text("市司法局")
    expect(page.locator("#turnout")).to_contain_text("满意度指数")
    snap(page, "admin-public-review")
    page.get_by_role("link", name="3", exact=True).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("待审核选票（3）")
    snap(page, "admin-ballot-quarantine")
    first = page.locator("section.quarantined").first
    first.get_by_label("处理结果").select_option("reject")
    first.get_by_label("理由").fill("同一网络每 2 秒一张，经电话核实为代投。")
    first.get_by_role("button", name="提交处理").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("待审核选票（2）")
    expect(page.locator("table.grid")).to_contain_text("经电话核实为代投")
    page.goto(f"{server.base}/admin/campaigns/{ids['campaign']}/publicity")
    expect(page.locator("h2").first).to_contain_text("留言审核（1）")
    snap(page, "admin-publicity")


def _luminance(rgb: str) -> float:
    def channel(value: str) -> float:
        c = int(value) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("elder", [False, True])
def test_the_focus_ring_in_the_red_header_stands_out(voting, page_for, elder):
    # The ring was the blue of the links (#1a5fb4), 1.2:1 on the header's red; in elder mode
    # black on dark red, 2.2:1: a keyboard user could hardly tell which header control had
    # the focus. WCAG 1.4.11 asks 3:1 for what shows a control's state.
    server, ids, _codes = voting
    page = page_for(1366, 900)
    page.goto(f"{server.base}/review/{ids['campaign']}")
    if elder:
        choose(page, "长者模式")
    header = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    seen = 0
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {inHeader: !!e.closest('.topbar') && !e.classList.contains('skip'),
                    name: e.textContent.trim(), style: s.outlineStyle, color: s.outlineColor};
        }""")
        if not focused["inHeader"]:
            continue
        seen += 1
        assert focused["style"] != "none", focused
        ratio = _contrast(focused["color"], header)
        ring = f"{focused['name']}: ring {focused['color']} on {header}"
        assert ratio >= 3, f"{ring}: {ratio:.2f}"
    assert seen >= 4  # the home link, the display switch, the languages, 登录
