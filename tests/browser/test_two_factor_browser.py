"""Two-step verification in Chromium, as production has it (PINGYI_REQUIRE_2FA=true): an
organizer enrols at the first login by QR code, keeps the recovery codes, and the next
login asks for the authenticator's code. On a tablet and on a phone, without CSP errors."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect
from screens import login, snap
from serverproc import Server, demo_instance


@pytest.fixture(scope="module")
def server_with_2fa(tmp_path_factory):
    instance = tmp_path_factory.mktemp("browser-2fa")
    demo_instance(instance)
    with Server(instance, PINGYI_REQUIRE_2FA="true") as server:
        yield server


@pytest.mark.parametrize("username, width", [("organizer", 1024), ("reviewer", 360)])
def test_enrol_at_first_login_then_log_in_with_the_code(server_with_2fa, page_for, username,
                                                         width):
    base = server_with_2fa.base
    page = page_for(width, 768)
    refused = []  # what the Content-Security-Policy blocked (an inline style or script)
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else 0)

    login(page, base, username)
    expect(page.get_by_role("heading", name="设置两步验证")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    snap(page, f"2fa-setup-{width}")
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="完成设置").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    snap(page, f"2fa-recovery-codes-{width}")
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page.get_by_role("heading", name="评议活动")).to_be_visible()

    page.get_by_role("button", name="退出").click()
    login(page, base, username)
    expect(page.get_by_role("heading", name="两步验证")).to_be_visible()
    snap(page, f"2fa-code-{width}")
    page.get_by_label("验证码").fill(pyotp.TOTP(secret).at(time.time() + 30))  # the next step
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("heading", name="评议活动")).to_be_visible()
    assert refused == []
