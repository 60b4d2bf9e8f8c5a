"""Fixtures: a fresh, migrated database per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL runs when PINGYI_TEST_POSTGRES_URL is set (CI sets it: see .ci/run), e.g.
    PINGYI_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test make test
Each run migrates a private schema once; each test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from webclient import Browserless  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.db import make_engine  # noqa: E402
from evaluation.migrate import upgrade  # noqa: E402

POSTGRES_ENV = "PINGYI_TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"PostgreSQL tests need {POSTGRES_ENV}, e.g. "
    f"{POSTGRES_ENV}=postgresql://postgres@127.0.0.1:5432/test make test"
)
BACKENDS = ["sqlite", "postgresql"]


class SqliteTemplate:
    """A migrated database file, copied for each test (much faster than migrating)."""

    def __init__(self, directory: Path):
        self.template = directory / "template.sqlite3"
        engine = make_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

    def fresh_url(self, directory: Path) -> str:
        target = directory / "pingyi.sqlite3"
        shutil.copy(self.template, target)
        return f"sqlite:///{target}"

    def close(self) -> None:
        pass


class PostgresSchema:
    """A private schema, migrated once; truncated before each test."""

    def __init__(self, base_url: str):
        self.schema = f"pingyi_test_{uuid.uuid4().hex[:10]}"
        self.admin = make_engine(base_url)
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        separator = "&" if "?" in base_url else "?"
        self.url = f"{base_url}{separator}options=-csearch_path%3D{self.schema}"
        self.engine = make_engine(self.url)
        upgrade(self.engine)
        with self.engine.connect() as connection:
            self.tables = [
                row[0]
                for row in connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                        "AND tablename != 'alembic_version'"
                    ),
                    {"s": self.schema},
                )
            ]

    def fresh_url(self, _directory: Path) -> str:
        quoted = ", ".join(f'"{name}"' for name in self.tables)
        with self.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        return self.url

    def close(self) -> None:
        self.engine.dispose()
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory):
    if request.param == "postgresql":
        url = os.environ.get(POSTGRES_ENV)
        if not url:
            pytest.skip(POSTGRES_SKIP)
        database = PostgresSchema(url)
    else:
        database = SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))
    yield database
    database.close()


@pytest.fixture
def app(backend, tmp_path):
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": backend.fresh_url(tmp_path),
            "SOCKETIO_ASYNC_MODE": "threading",
            "RATELIMIT_STORAGE_URI": "memory://",
        "LIVE_SWEEP_SECONDS": 0,
            "FILES_FOLDER": str(tmp_path / "files"),
        }
    )
    yield application
    application.extensions["pingyi_db"].dispose()


@pytest.fixture
def db(app):
    with Session(app.extensions["pingyi_db"], expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def web(client):
    return Browserless(client)
