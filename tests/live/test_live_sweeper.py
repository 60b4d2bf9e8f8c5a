"""Sockets end with their credentials: revoked tokens, logged-out or changed-password users."""

from __future__ import annotations

import factories as f
from conftest import NS
from sqlmodel import select
from webclient import Browserless

from evaluation.models import LiveSession, Role
from evaluation.services.live_sessions import revoke_session_tokens
from live.sweeper import sweep


def test_revoked_tokens_lose_their_sockets(show, db, app):
    overlay, judge, director = show.connect(show.overlay), show.judge(1), show.director()
    assert all(c.is_connected(NS) for c in (overlay, judge, director))
    with app.app_context():
        assert sweep(db, dict(app.extensions["live_connections"]), NS) == []  # nothing ended yet
        revoke_session_tokens(db, db.exec(select(LiveSession)).one())
        ended = sweep(db, dict(app.extensions["live_connections"]), NS)
    assert len(ended) == 3
    assert not any(c.is_connected(NS) for c in (overlay, judge, director))


def test_logout_disconnects_the_organizers_console(show, db, app):
    f.user(db, Role.ORGANIZER, show.organization, username="daoboyuan")
    web = Browserless(app.test_client())
    web.login("daoboyuan")
    console = show.connect(flask_client=web.client)
    assert console.is_connected(NS)
    web.logout()
    assert not console.is_connected(NS)


def test_password_change_elsewhere_ends_the_console(show, db, app):
    user = f.user(db, Role.ORGANIZER, show.organization, username="daobo2")
    web = Browserless(app.test_client())
    web.login("daobo2")
    console = show.connect(flask_client=web.client)
    other = Browserless(app.test_client())
    other.login("daobo2")
    other.post("/account/password", {"current_password": f.PASSWORD,
                                     "new_password": "brand new pass 77",
                                     "confirm": "brand new pass 77"})
    with app.app_context():
        ended = sweep(db, dict(app.extensions["live_connections"]), NS)
    assert ended and not console.is_connected(NS)
    assert user.id


def test_ending_the_browser_session_from_the_sessions_page_ends_the_console(show, db, app):
    from evaluation.models import UserSession

    user = f.user(db, Role.ORGANIZER, show.organization, username="daobo3")
    venue = Browserless(app.test_client())
    venue.login("daobo3")
    console = show.connect(flask_client=venue.client)
    office = Browserless(app.test_client())
    office.login("daobo3")
    with app.app_context():
        assert sweep(db, dict(app.extensions["live_connections"]), NS) == []
    venue_row = db.exec(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    ).first()
    assert office.post(f"/account/sessions/{venue_row.id}/end", {}).status_code == 302
    with app.app_context():
        ended = sweep(db, dict(app.extensions["live_connections"]), NS)
    assert ended and not console.is_connected(NS)
    assert office.client.get("/admin/").status_code == 200  # the office session goes on
