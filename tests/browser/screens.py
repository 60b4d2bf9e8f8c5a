"""What the browser tests share: screenshots for review (PINGYI_SCREENSHOTS=1 keeps them in
./screenshots) and logging in as a demo account."""

from __future__ import annotations

import os
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def snap(page, name: str) -> None:
    if os.environ.get("PINGYI_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


PASSWORD = "pingyi-demo-2024"  # the demo accounts' (evaluation/services/passwords.py)


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
