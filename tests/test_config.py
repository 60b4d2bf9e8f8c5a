"""Configuration sources and the secret key rule."""

from __future__ import annotations

import pytest

from evaluation import create_app
from evaluation.config import ConfigError, from_environment, normalize_database_url


def _base(tmp_path) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
        "SOCKETIO_ASYNC_MODE": "threading",
    }


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PINGYI_ENV", "production")
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(_base(tmp_path))


def test_development_keeps_a_generated_key_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PINGYI_ENV", "development")
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    first = create_app(_base(tmp_path)).config["SECRET_KEY"]
    second = create_app(_base(tmp_path)).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_the_instance_file(tmp_path, monkeypatch):
    (tmp_path / "pingyi.cfg").write_text(
        "MAX_CONTENT_LENGTH = 111\nLOGIN_RATE_LIMIT = '1 per hour'\n"
    )
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("PINGYI_MAX_CONTENT_LENGTH", "2048")
    app = create_app(_base(tmp_path))
    assert app.config["MAX_CONTENT_LENGTH"] == 2048  # env beats file
    assert app.config["LOGIN_RATE_LIMIT"] == "1 per hour"  # file beats defaults
    assert app.config["SECRET_KEY"] == "from-env"


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x", "SOCKETIO_ASYNC_MODE": "threading"})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'pingyi.sqlite3'}"


def test_redis_url_moves_rate_limits_to_redis(tmp_path, monkeypatch):
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({**_base(tmp_path), "SECRET_KEY": "x"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(url, expected):
    assert normalize_database_url(url) == expected


def test_environment_parsing():
    found = from_environment(
        {
            "PINGYI_SESSION_COOKIE_SECURE": "true",
            "REDIS_URL": "redis://r",
            "PINGYI_ENV": "development",
            "HOME": "/root",
        }
    )
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "REDIS_URL": "redis://r",
        "PINGYI_ENV": "development",
    }


def test_an_app_without_redis_after_one_with_it_has_no_message_queue(tmp_path):
    """Flask-SocketIO's global keeps an earlier app's Redis manager unless told otherwise:
    a second app in one process (tests, tools) must not publish through the first one's queue."""
    from evaluation import create_app
    from evaluation.extensions import socketio

    base = {"TESTING": True, "SECRET_KEY": "k", "SOCKETIO_ASYNC_MODE": "threading",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}"}
    create_app({**base, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert type(socketio.server.manager).__name__ == "RedisManager"
    create_app(base)
    assert type(socketio.server.manager).__name__ == "Manager"
