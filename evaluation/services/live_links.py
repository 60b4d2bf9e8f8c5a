"""What the organizer hands out for a live session: page links and QR codes."""

from __future__ import annotations

import segno

OVERLAY_PAGES = ("scoreboard", "lower-third", "timer", "leaderboard", "audience")


def session_urls(base: str, session_id: int, links) -> dict:
    """Console and tablet links carry their token in the fragment (`#token=`), which a browser
    never sends to the server, so it is in no access log or Referer (ASVS V14.2.1). Overlay
    and feed links keep `?token=`: OBS, vMix and feed pollers are configured with one URL and
    cannot send a header (see docs/security.md, V14.2.1)."""
    overlay = links.overlay.token
    pages = {"console": f"{base}/live/{session_id}/console#token={links.control.token}"}
    for name in OVERLAY_PAGES:
        pages[name] = f"{base}/overlay/{session_id}/{name}?token={overlay}"
    pages["feed.json"] = f"{base}/live/{session_id}/feed.json?token={overlay}"
    seats = {
        seat_no: {
            "url": f"{base}/live/{session_id}/tablet#token={issued.token}",
            "token": issued.token,
            "short_code": issued.short_code,
        }
        for seat_no, issued in links.seats.items()
    }
    return {
        "session": session_id,
        "pages": pages,
        "control_token": links.control.token,
        "overlay_token": overlay,
        "seats": seats,
    }


def qr_svg(url: str) -> str:
    """An inline SVG QR code (no script, no external request): judges scan it to join."""
    return segno.make(url, error="m").svg_inline(scale=3, dark="#1d1d1d", light="#ffffff")
