"""The reader's display choices on public pages: elder mode and 简体 / 繁體 (cookies)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request

from evaluation import display
from evaluation.views.auth import _safe_next

bp = Blueprint("display", __name__)


@bp.post("/display")
def choose():
    elder, chosen_script = request.form.get("elder"), request.form.get("script")
    if elder not in (None, "0", "1") or chosen_script not in (None, *display.SCRIPTS):
        abort(400)
    if elder is None and chosen_script is None:
        abort(400)
    target = _safe_next(request.form.get("next")) or "/"
    return display.remember(redirect(target, 303), elder, chosen_script)
