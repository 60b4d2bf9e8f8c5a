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
from sqlalchemy import MetaData, text
from sqlmodel import Session
from werkzeug.routing import Rule

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from webclient import Browserless  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.db import make_engine  # noqa: E402
from evaluation.migrate import upgrade  # noqa: E402


def _share_url_builders_between_apps() -> None:
    """Most tests create an app, and Werkzeug compiles two Python functions per URL rule for
    every app (about 0.3 s for our ~350 rules, more than many tests take). A builder depends
    only on the rule's parts, its defaults and its converters' types, so apps share them."""
    compile_builder = Rule._compile_builder
    builders: dict = {}

    def shared_builder(rule: Rule, append_unknown: bool = True):
        key = (
            tuple(rule._trace),
            repr(sorted((rule.defaults or {}).items())),
            tuple((name, type(converter)) for name, converter in rule._converters.items()),
            append_unknown,
        )
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    Rule._compile_builder = shared_builder


_share_url_builders_between_apps()


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
    """A private schema, migrated once; emptied before each test."""

    def __init__(self, base_url: str):
        self.schema = f"pingyi_test_{uuid.uuid4().hex[:10]}"
        self.admin = make_engine(base_url)
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        separator = "&" if "?" in base_url else "?"
        self.url = f"{base_url}{separator}options=-csearch_path%3D{self.schema}"
        self.engine = make_engine(self.url)
        upgrade(self.engine)
        # Children before parents, so that deleting table by table satisfies the foreign keys.
        reflected = MetaData()
        reflected.reflect(bind=self.engine)
        self.tables = [
            table.name
            for table in reversed(reflected.sorted_tables)
            if table.name != "alembic_version"
        ]
        self.used_tables_query = " UNION ALL ".join(
            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in self.tables
        )

    def fresh_url(self, _directory: Path) -> str:
        # TRUNCATE of every table costs about a second per test (new files for each table and
        # index); most tests touch a handful of tables, so empty only those, in an order the
        # foreign keys accept, and restart the sequences that were used.
        with self.engine.begin() as connection:
            used = set(connection.execute(text(self.used_tables_query)).scalars())
            for table in self.tables:
                if table in used:
                    connection.execute(text(f'DELETE FROM "{table}"'))
            sequences = connection.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s "
                     "AND last_value IS NOT NULL"),
                {"s": self.schema},
            ).scalars().all()
            if sequences:
                restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in sequences)
                connection.execute(text(f"SELECT {restarts}"))
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


def make_test_app(backend, directory: Path, **settings):
    """An application on a fresh database of `backend` (files under `directory`)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": backend.fresh_url(directory),
            "SOCKETIO_ASYNC_MODE": "threading",
            "RATELIMIT_STORAGE_URI": "pingyi-memory://",
            "LIVE_SWEEP_SECONDS": 0,
            "FILES_FOLDER": str(directory / "files"),
            "PRERENDER_CHARTS": False,  # no chart worker per composed version
            **settings,
        }
    )


@pytest.fixture
def new_app(backend):
    """Makes applications in one test, each on a fresh database (files under the directory
    given), disposed after the test. On PostgreSQL each new one empties the same schema: use
    them one after the other."""
    made = []

    def make(directory: Path, **settings):
        made.append(make_test_app(backend, directory, **settings))
        return made[-1]

    yield make
    for application in made:
        application.extensions["pingyi_db"].dispose()


@pytest.fixture
def app(backend, tmp_path):
    application = make_test_app(backend, tmp_path)
    yield application
    application.extensions["pingyi_db"].dispose()


@pytest.fixture
def sqlite_app(tmp_path):
    """An application on SQLite whichever backends the run tests (for what only SQLite has:
    the group commit)."""
    (tmp_path / "template").mkdir()
    application = make_test_app(SqliteTemplate(tmp_path / "template"), tmp_path)
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


@pytest.fixture
def scratch_sqlite(tmp_path):
    """An engine on a fresh SQLite file with one table of the caller's (`create` SQL), made
    the way the application makes its engines; disposed after the test."""
    engines = []

    def make(filename: str, create: str):
        engine = make_engine(f"sqlite:///{tmp_path / filename}")
        with engine.begin() as connection:
            connection.execute(text(create))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
