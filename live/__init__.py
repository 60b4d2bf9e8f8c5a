"""The live on-site review (现场评议): run-of-show, judges' marks, director, overlays.

Writes go through evaluation's models (as `live.operations` / `live.direction`), numbers come
from scoring/, and `live.broadcast` is the only module that emits.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from live import events, http, overlays, pages

    events.register()
    from live import presence, sweeper

    presence.init_app(app)

    app.extensions["live_connections"] = {}
    sweeper.disconnect_on_logout(app, app.extensions["live_connections"], events.NS)
    for blueprint in (http.bp, pages.bp, overlays.bp):
        app.register_blueprint(blueprint)
    # Feed polls behind the judges' acks (see live.overlays.FeedLane).
    app.wsgi_app = overlays.FeedLane(app.wsgi_app)
