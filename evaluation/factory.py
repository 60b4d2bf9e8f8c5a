"""The application factory.

`create_app` only assembles: configuration, extensions, blueprints, error handlers and
the CLI. It creates no tables and runs no migrations (`pingyi db upgrade` does).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from evaluation import (
    audit,
    ballot_lane,
    config,
    db,
    display,
    errors,
    i18n,
    security,
    security_log,
)
from evaluation.extensions import csrf, limiter, login_manager, socketio
from evaluation.services import tokens
from evaluation.url_converters import DatabaseIntegerConverter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PingyiFlask(Flask):
    """Flask, with `ensure_sync` (which Flask documents for overriding) remembering its answer
    per function: Flask asks it for every hook and the view of every request, a dozen
    `inspect.iscoroutinefunction` checks each time (a hundredth of a public ballot's CPU,
    bench/ballots_cpu.py, 2026-11-28); a function does not change from sync to async."""

    def ensure_sync(self, func):
        synced = self.__dict__.setdefault("_ensured_sync", {})
        try:
            return synced[func]
        except KeyError:
            if len(synced) > 4096:  # functions made per call would otherwise pile up
                synced.clear()
            found = synced[func] = super().ensure_sync(func)
            return found
        except TypeError:  # not hashable
            return super().ensure_sync(func)


def create_app(test_config: dict | None = None) -> Flask:
    app = PingyiFlask(
        "evaluation",
        instance_path=os.environ.get("PINGYI_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    _configure(app, test_config)
    # Before any blueprint: every <int:...> in a route is bounded by the database's integers.
    app.url_map.converters["int"] = DatabaseIntegerConverter
    _init_extensions(app)
    _register_blueprints(app)
    from evaluation.ballot_limits import skip_limiter_hooks

    skip_limiter_hooks(app)  # the ballot POSTs count their own limits
    ballot_lane.install(app)  # before ProxyFix (security.init_app) wraps it
    errors.init_app(app)
    security.init_app(app)
    tokens.init_app(app)
    security_log.init_app(app)
    from evaluation.cli import register_commands

    register_commands(app)
    return app


def _configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_pyfile("pingyi.cfg", silent=True)
    app.config.update(config.from_environment(os.environ))
    if test_config:
        app.config.update(test_config)
    config.ensure_secret_key(app.config, Path(app.instance_path))
    # The instance file may give the fallbacks as one string, like the environment.
    app.config["SECRET_KEY_FALLBACKS"] = config.key_list(app.config.get("SECRET_KEY_FALLBACKS"))
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = config.default_database_url(Path(app.instance_path))
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    audit.install()
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    display.init_app(app)
    from evaluation.auth import init_login

    init_login(app, login_manager)
    # Flask-SocketIO keeps the Redis client manager of an earlier init_app in its options and
    # reuses it when this app has no queue: start from none (a second app in one process).
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        # Set explicitly, never auto-detected: gevent serves; tests use threading.
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE", "gevent"),
        message_queue=app.config.get("REDIS_URL"),
        # Deployments sharing one Redis keep their broadcasts apart by channel.
        channel=app.config.get("SOCKETIO_CHANNEL", "pingyi"),
        cors_allowed_origins=app.config.get("SOCKETIO_ALLOWED_ORIGINS"),
    )


def _register_blueprints(app: Flask) -> None:
    from evaluation.views import (
        account_sessions,  # noqa: F401  (its routes register on auth.bp)
        admin,
        agency_portal,
        agency_publicity,  # noqa: F401  (its routes register on agency_portal.bp)
        api,
        auth,
        display_prefs,
        inspector_portal,
        invitation,
        public,
        public_ballots,
        public_publicity,
        two_factor,  # noqa: F401  (its routes register on auth.bp)
    )

    for blueprint in (auth.bp, public.bp, admin.bp, agency_portal.bp, inspector_portal.bp,
                      public_ballots.bp, public_publicity.bp, display_prefs.bp, api.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(invitation.bp)
    import live  # evaluation depends on live only here, where the app is assembled

    live.init_app(app)
