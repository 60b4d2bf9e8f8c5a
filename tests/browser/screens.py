"""Screenshots for review: PINGYI_SCREENSHOTS=1 keeps them in ./screenshots."""

from __future__ import annotations

import os
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def snap(page, name: str) -> None:
    if os.environ.get("PINGYI_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
