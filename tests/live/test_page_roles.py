"""The pages say which role they are (`auth.role`); a link of another role opened on a page
is refused before anything is bound, and a control token on an overlay page is read-only."""

from __future__ import annotations

from conftest import NS, command, snapshots, submit, to_scoring
from sqlmodel import select

from evaluation.extensions import socketio
from evaluation.models import LiveSeat


def _page(show, token: str, role, device: str | None = None):
    auth = {"session": show.live_id, "token": token, "role": role}
    if device is not None:
        auth["device"] = device
    return socketio.test_client(show.app, namespace=NS, auth=auth)


def test_a_control_token_on_an_overlay_page_puts_no_mark_on_air_before_the_reveal(show):
    director = show.director()
    to_scoring(director)
    assert submit(show.judge(1), show.slot_ids[0], "88", "page-role-mark-1")["ok"]

    overlay_page = _page(show, show.control, "overlay")
    assert overlay_page.is_connected(NS)
    current = snapshots(overlay_page)[-1]["current"]
    assert current["progress"]["submitted"] == 1
    assert "result" not in current
    assert all("mark" not in seat and "judge" not in seat for seat in current["seats"])
    # Read-only there, as on the feeds.
    ack = overlay_page.emit("director", {"action": "next"}, namespace=NS, callback=True)
    assert ack["error"]["code"] == "forbidden"


def test_a_judges_link_on_the_console_is_refused_and_leaves_the_seat_free(show, db):
    console = _page(show, show.seat_tokens[2].token, "director")
    assert not console.is_connected(NS)
    seat = db.exec(select(LiveSeat).where(LiveSeat.seat_no == 2)).one()
    db.refresh(seat)
    assert seat.device_id is None
    assert show.judge(2, device="ipad-of-judge-2").is_connected(NS)


def test_an_overlay_link_on_a_tablet_is_refused(show):
    assert not _page(show, show.overlay, "judge", device="tablet-x").is_connected(NS)
    assert not _page(show, show.control, "judge", device="tablet-x").is_connected(NS)


def test_a_judges_link_on_an_overlay_page_is_refused(show):
    assert not _page(show, show.seat_tokens[1].token, "overlay").is_connected(NS)


def test_each_page_with_its_own_link_connects(show):
    assert _page(show, show.seat_tokens[1].token, "judge", device="tablet-1").is_connected(NS)
    director = _page(show, show.control, "director")
    assert director.is_connected(NS)
    assert command(director, "select", position=0)["ok"]
    assert _page(show, show.overlay, "overlay").is_connected(NS)


def test_an_unknown_page_role_is_refused(show):
    assert not _page(show, show.overlay, "admin").is_connected(NS)
    assert not _page(show, show.overlay, ["overlay"]).is_connected(NS)
