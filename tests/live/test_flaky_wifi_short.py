"""A small run of bench/flaky_wifi.py: tablets drop off the Wi-Fi (some reload while offline)
and keep scoring; every mark entered is stored exactly once."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import flaky_wifi  # noqa: E402


def test_every_mark_entered_on_flaky_wifi_is_stored_exactly_once():
    figures = flaky_wifi.run(tablets=12, agencies=2, min_drop=5, max_drop=60, scale=0.02,
                             seed=3, log=lambda _line: None)
    assert figures.drops > 0 and figures.reloads > 0  # the Wi-Fi really was flaky
    assert figures.entered == 24 and figures.stored == figures.entered
    assert figures.lost == 0 and figures.duplicates == 0
