"""The HTTP fallback for marks: same payload, same semantics as the socket event."""

from __future__ import annotations

from conftest import NS, command, snapshots, to_scoring
from sqlmodel import select

from evaluation.models import Score


def _post(client, show, token, payload):
    return client.post(f"/live/{show.live_id}/marks", json=payload,
                       headers={"Authorization": f"Bearer {token}"})


def test_fallback_stores_once_and_answers_like_the_socket(show, client, db):
    director, overlay = show.director(), show.connect(show.overlay)
    to_scoring(director)
    payload = {"client_id": "http-sheet-0001", "slot_id": show.slot_ids[0], "total": "87.5"}
    first = _post(client, show, show.seat_tokens[1].token, payload)
    assert first.status_code == 201 and first.json["ok"] and not first.json["duplicate"]
    again = _post(client, show, show.seat_tokens[1].token, payload)
    assert again.status_code == 200 and again.json["submission_id"] == first.json["submission_id"]
    assert len(db.exec(select(Score)).all()) == 1
    # The socket clients heard about it (committed first, then published).
    assert snapshots(overlay)[-1]["current"]["progress"]["submitted"] == 1


def test_fallback_and_socket_share_idempotency(show, client, db):
    director, judge = show.director(), show.judge(2)
    to_scoring(director)
    ack = judge.emit("submit_mark", {"client_id": "mixed-sheet-01", "slot_id": show.slot_ids[0],
                                     "total": "80"}, namespace="/live", callback=True)
    resent = _post(client, show, show.seat_tokens[2].token,
                   {"client_id": "mixed-sheet-01", "slot_id": show.slot_ids[0], "total": "80"})
    assert resent.json["submission_id"] == ack["submission_id"]


def test_fallback_refusals(show, client, db):
    director = show.director()
    to_scoring(director)
    good = {"client_id": "http-sheet-0002", "slot_id": show.slot_ids[0], "total": "80"}
    assert _post(client, show, "wrong", good).status_code == 401
    assert _post(client, show, show.overlay, good).status_code == 403
    bad = _post(client, show, show.seat_tokens[1].token, {**good, "total": 80.5})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "total"
    assert client.post(f"/live/{show.live_id}/marks", data="not json",
                       headers={"Authorization": f"Bearer {show.seat_tokens[1].token}"}
                       ).status_code == 422
    command(director, "next")  # close scoring
    closed = _post(client, show, show.seat_tokens[1].token, good)
    assert closed.status_code == 422 and closed.json["error"]["code"] == "scoring_closed"
    assert db.exec(select(Score)).all() == []


def test_a_short_code_is_accepted_only_at_join(show, client, web):
    """ASVS V7.2.3: the 49.5-bit short code is refused by socket connect and the HTTP fallback;
    /live/join (rate limited) exchanges it for the seat's 256-bit token, in the fragment."""
    director = show.director()
    to_scoring(director)
    seat = show.seat_tokens[1]
    payload = {"client_id": "join-sheet-0001", "slot_id": show.slot_ids[0], "total": "81"}
    assert not show.connect(seat.short_code, "tablet-1").is_connected(NS)
    assert _post(client, show, seat.short_code, payload).status_code == 401

    joined = web.post("/live/join", {"code": seat.short_code.lower()})
    assert joined.status_code == 302
    page, _, fragment = joined.headers["Location"].partition("#token=")
    assert page.endswith(f"/live/{show.live_id}/tablet") and "?" not in page
    assert fragment != seat.short_code and len(fragment) > 40
    assert show.connect(fragment, "tablet-1").is_connected(NS)
    assert _post(client, show, fragment, payload).status_code == 201


def test_the_tablet_audience_and_console_pages_each_have_a_heading(show, client):
    # A screen reader's heading list was empty on all three (they had a title bar, no <h1>).
    pages = (("tablet", "评委评分"), ("audience", "大众评审团"), ("console", "导播台"))
    for page, heading in pages:
        html = client.get(f"/live/{show.live_id}/{page}").get_data(as_text=True)
        assert html.count("<h1") == 1
        assert f'<h1 class="visually-hidden">{heading}</h1>' in html
