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


# Secrets from files (ASVS V13.3.1): NAME_FILE and systemd credentials ($CREDENTIALS_DIRECTORY).

SECRET_VARIABLES = ["SECRET_KEY", "SECRET_KEY_FALLBACKS", "DATABASE_URL", "REDIS_URL",
                    "PINGYI_CODE_DIGEST_KEY", "PINGYI_PHONE_DIGEST_KEY"]


def _secret(path, text: str, mode: int = 0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def clean_environ(tmp_path, monkeypatch):
    """No secret, file or credential of the machine running the tests leaks in."""
    for name in [*SECRET_VARIABLES, "CREDENTIALS_DIRECTORY"]:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("PINGYI_ENV", "production")
    monkeypatch.setenv("PINGYI_INSTANCE_PATH", str(tmp_path))
    return monkeypatch


def test_every_secret_setting_can_come_from_a_file(tmp_path):
    environ = {"PINGYI_ENV": "production"}
    for name, text in [
        ("SECRET_KEY", "s3cret\n"),  # `openssl rand -hex 32 > file`: the newline is dropped
        ("SECRET_KEY_FALLBACKS", "old-1\nold-2\n"),  # one key per line
        ("DATABASE_URL", "postgresql://app:pw@db/pingyi\n"),
        ("REDIS_URL", "redis://pingyi:pw@127.0.0.1:6379/0"),
        ("PINGYI_CODE_DIGEST_KEY", "code-key\n"),
        ("PINGYI_PHONE_DIGEST_KEY", "phone-key\r\n"),
        ("PINGYI_SMS_API_SECRET", "gateway secret"),  # any setting, e.g. an SMS gateway's
    ]:
        environ[f"{name}_FILE"] = str(_secret(tmp_path / name.lower(), text))
    assert from_environment(environ) == {
        "PINGYI_ENV": "production",
        "SECRET_KEY": "s3cret",
        "SECRET_KEY_FALLBACKS": ["old-1", "old-2"],
        "DATABASE_URL": "postgresql://app:pw@db/pingyi",
        "REDIS_URL": "redis://pingyi:pw@127.0.0.1:6379/0",
        "CODE_DIGEST_KEY": "code-key",
        "PHONE_DIGEST_KEY": "phone-key",
        "SMS_API_SECRET": "gateway secret",
    }


def test_the_app_takes_its_keys_from_files(tmp_path, clean_environ):
    clean_environ.setenv("SECRET_KEY_FILE", str(_secret(tmp_path / "key", "from-file\n", 0o400)))
    clean_environ.setenv("PINGYI_CODE_DIGEST_KEY_FILE", str(_secret(tmp_path / "code", "ck\n")))
    app = create_app(_base(tmp_path))
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["CODE_DIGEST_KEY"] == "ck"
    assert not any(key.endswith("_FILE") for key in app.config)


def test_systemd_credentials_are_read_from_the_credentials_directory(tmp_path, clean_environ):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    _secret(credentials / "SECRET_KEY", "from-systemd\n", 0o400)
    _secret(credentials / "PINGYI_PHONE_DIGEST_KEY", "pk", 0o400)
    _secret(credentials / "tls.key", "not ours", 0o400)  # another credential of the unit
    clean_environ.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    app = create_app(_base(tmp_path))
    assert app.config["SECRET_KEY"] == "from-systemd"
    assert app.config["PHONE_DIGEST_KEY"] == "pk"
    assert "tls.key" not in app.config


def test_a_secret_given_twice_refuses_to_start(tmp_path, clean_environ):
    clean_environ.setenv("SECRET_KEY", "from-env")
    clean_environ.setenv("SECRET_KEY_FILE", str(_secret(tmp_path / "key", "from-file")))
    with pytest.raises(ConfigError, match=r"SECRET_KEY is given twice .*SECRET_KEY_FILE"):
        create_app(_base(tmp_path))


def test_a_file_and_a_credential_for_one_name_refuse_to_start(tmp_path, clean_environ):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    _secret(credentials / "SECRET_KEY", "from-systemd", 0o400)
    clean_environ.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    clean_environ.setenv("SECRET_KEY_FILE", str(_secret(tmp_path / "key", "from-file")))
    with pytest.raises(ConfigError, match="SECRET_KEY is given twice"):
        create_app(_base(tmp_path))
    clean_environ.delenv("SECRET_KEY_FILE")
    clean_environ.setenv("SECRET_KEY", "from-env")
    with pytest.raises(ConfigError, match=r"SECRET_KEY is given twice .*CREDENTIALS_DIRECTORY"):
        create_app(_base(tmp_path))


def test_an_unreadable_secret_file_refuses_to_start(tmp_path, clean_environ):
    clean_environ.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"SECRET_KEY_FILE: cannot read .*missing"):
        create_app(_base(tmp_path))
    clean_environ.setenv("SECRET_KEY_FILE", str(_secret(tmp_path / "empty", "\n")))
    with pytest.raises(ConfigError, match="SECRET_KEY_FILE: .* is empty"):
        create_app(_base(tmp_path))


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602], ids=["644", "604", "602"])
def test_a_secret_file_open_to_other_users_refuses_to_start_in_production(
        tmp_path, clean_environ, mode):
    key = _secret(tmp_path / "key", "k", mode)
    clean_environ.setenv("SECRET_KEY_FILE", str(key))
    with pytest.raises(ConfigError, match=rf"accessible to other users \(mode 0{mode:o}\)"):
        create_app(_base(tmp_path))
    # A developer's checkout may keep a loose file: only development lets it pass.
    clean_environ.setenv("PINGYI_ENV", "development")
    assert create_app(_base(tmp_path)).config["SECRET_KEY"] == "k"


def test_a_credential_open_to_other_users_refuses_to_start(tmp_path, clean_environ):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    _secret(credentials / "SECRET_KEY", "k", 0o444)  # e.g. a Kubernetes secret's default mode
    clean_environ.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    with pytest.raises(ConfigError, match="credential SECRET_KEY .* accessible to other users"):
        create_app(_base(tmp_path))


def test_the_command_refuses_with_the_message_and_no_traceback(tmp_path, clean_environ, capsys):
    from evaluation.entry import main

    clean_environ.setenv("SECRET_KEY", "from-env")
    clean_environ.setenv("SECRET_KEY_FILE", str(_secret(tmp_path / "key", "from-file")))
    clean_environ.setattr("sys.argv", ["pingyi", "audit", "verify"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert str(stopped.value).startswith("pingyi: SECRET_KEY is given twice")
    assert "Traceback" not in capsys.readouterr().err
