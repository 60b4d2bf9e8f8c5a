"""The JSON summary every benchmark can write (`--json PATH`), read by bench/run_all.py.

    {"bench": "ballots", "settings": {...}, "figures": [
        {"name": "ballots/s", "value": 1234.5, "unit": "/s", "target": ">= 1000",
         "pass": true, "note": "..."}, ...]}

`target` and `pass` are null for a figure that is reported without a target (a baseline).
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def figure(name: str, value, unit: str = "", target: str | None = None,
           passed: bool | None = None, note: str = "") -> dict:
    if isinstance(value, float) and not math.isfinite(value):
        value = None  # JSON has no NaN
    return {"name": name, "value": value, "unit": unit, "target": target,
            "pass": passed, "note": note}


def write(path: Path | str | None, bench: str, figures: list[dict],
          settings: dict | None = None) -> None:
    if not path:
        return
    Path(path).write_text(json.dumps(
        {"bench": bench, "settings": settings or {}, "figures": figures},
        ensure_ascii=False, indent=1), "utf-8")
