"""Hot-path statements run straight on the SQLite driver, compiled once.

A public ballot's write runs a few small statements; through SQLAlchemy's Connection.execute
each cost ~3x its own execution in CPU (the execution context, result set-up and events:
py-spy on `pingyi serve`, bench/ballots_bench.py, 2026-11-28). `Prepared` compiles a Core
statement once per dialect and keeps SQLAlchemy's own bind and result processors for its
columns (a date is stored and read exactly as the ORM stores and reads it), then executes it
on the DB-API connection. SQLite only: other databases run the statement through SQLAlchemy
as before (`Prepared.execute` falls back). The driver's exceptions are the driver's
(sqlite3.IntegrityError): `INTEGRITY_ERRORS` names both kinds.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections import namedtuple
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

INTEGRITY_ERRORS = (IntegrityError, sqlite3.IntegrityError)


class DriverConnection:
    """A pooled DB-API connection and its dialect: what `Prepared` reads through, without
    a SQLAlchemy Connection or an ORM session's transaction around it (`reads`). `lock`:
    held around each statement when requests share the connection."""

    __slots__ = ("dialect", "connection", "lock")

    def __init__(self, dialect, pooled, lock=None):
        self.dialect = dialect
        self.connection = pooled  # SQLAlchemy's pooled connection: `.dbapi_connection`
        self.lock = lock


@contextmanager
def reads(db) -> Iterator:
    """A connection for a request's few reads with `Prepared`, without the ORM session's
    transaction: its begin, commit and pooled connection cost a public ballot more CPU than
    its reads (bench/ballots_cpu.py, 2026-11-28). pysqlite runs a SELECT outside any
    transaction either way, so each read sees the latest commit, as through the session.

    On a SQLite file, one driver connection per engine kept for these reads (taking one from
    the pool and returning it, with its reset, cost as much again), shared by the requests
    one statement at a time (its lock is held for a statement and its rows, never while a
    request waits for anything else); in memory (one shared connection), one from the pool.
    Elsewhere the session's own connection."""
    bind = db.get_bind()
    if bind.dialect.name != "sqlite":
        yield db.connection()
        return
    if isinstance(bind.pool, StaticPool):
        pooled = bind.raw_connection()
        try:
            yield DriverConnection(bind.dialect, pooled)
        finally:
            pooled.close()
        return
    reader = _readers.get(bind)
    if reader is None:
        reader = _readers.setdefault(bind, _reader(bind))
    yield reader


def _reader(engine) -> DriverConnection:
    # Out of the pool for good (detached), set up by the engine's connect hooks (pragmas).
    pooled = engine.raw_connection()
    pooled.detach()
    return DriverConnection(engine.dialect, pooled, threading.Lock())  # gevent's when served


_readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextmanager
def _cursor(connection) -> Iterator:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _fetch(connection, sql: str, arguments: list) -> list:
    with _cursor(connection) as cursor:
        return cursor.execute(sql, arguments).fetchall()


def _arguments(binds: tuple, defaults: dict, params: dict) -> list:
    """The statement's positional arguments from `params` (and the values written into
    it), each converted by its bind processor as SQLAlchemy would."""
    if defaults:
        params = {**defaults, **params}
    return [params[key] if process is None else process(params[key]) for key, process in binds]


class Prepared:
    __slots__ = ("statement", "column_keys", "_compiled", "_row")

    def __init__(self, statement, column_keys: Sequence[str] | None = None):
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, tuple] = {}
        self._row = None  # a named tuple of the selected columns (`first`)

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            column_keys = self.column_keys
            compiled = self.statement.compile(dialect=dialect, column_keys=column_keys)
            processors = compiled._bind_processors
            binds = tuple((key, processors.get(key)) for key in compiled.positiontup)
            # Values written into the statement (`kind == StageKind.PUBLIC_REVIEW`, LIMIT 1)
            # are bound parameters with a value of their own.
            defaults = {
                key: compiled.binds[key].value
                for key in compiled.positiontup
                if not compiled.binds[key].required and key not in (column_keys or ())
            }
            results = tuple(
                column.type._cached_result_processor(dialect, None)
                for column in compiled._result_columns
            )
            found = self._compiled[dialect.name] = (compiled.string, binds, results, defaults)
        return found

    def rows(self, connection, params: dict) -> list[tuple]:
        """Every row, each column converted as SQLAlchemy converts it."""
        if connection.dialect.name != "sqlite":
            return [tuple(row) for row in connection.execute(self.statement, params)]
        sql, binds, results, defaults = self._for(connection.dialect)
        arguments = _arguments(binds, defaults, params)
        lock = connection.lock if type(connection) is DriverConnection else None
        if lock is None:
            fetched = _fetch(connection, sql, arguments)
        else:
            with lock:
                fetched = _fetch(connection, sql, arguments)
        if any(results):
            return [
                tuple(value if process is None else process(value)
                      for value, process in zip(row, results, strict=True))
                for row in fetched
            ]
        return fetched

    def execute_many(self, connection, rows: list[dict]) -> None:
        """One statement for each of `rows` (an INSERT's executemany), nothing returned."""
        if connection.dialect.name != "sqlite":
            connection.execute(self.statement, rows)
            return
        sql, binds, _results, defaults = self._for(connection.dialect)
        with _cursor(connection) as cursor:
            cursor.executemany(sql, [_arguments(binds, defaults, row) for row in rows])

    def first(self, connection, params: dict):
        """The first row, its columns by name (as a Row's), or None."""
        if connection.dialect.name != "sqlite":
            return connection.execute(self.statement, params).first()
        rows = self.rows(connection, params)
        if not rows:
            return None
        if self._row is None:
            self._row = namedtuple("Row", [c.key for c in self.statement.selected_columns])
        return self._row(*rows[0])

    def scalar_one(self, connection, params: dict):
        rows = self.rows(connection, params)
        if len(rows) != 1:
            raise RuntimeError(f"expected one row, got {len(rows)}")
        return rows[0][0]

    def scalars(self, connection, params: dict) -> list:
        return [row[0] for row in self.rows(connection, params)]
