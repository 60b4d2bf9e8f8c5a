"""The database: one engine per application, one session per request.

The engine lives in `app.extensions["pingyi_db"]`; a request's session lives in `g`
and is closed at teardown, so nothing leaks from one request into the next.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from evaluation.config import normalize_database_url


def make_engine(url: str) -> Engine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # synchronous_commit stays on (the server default): an acknowledged mark is durable.
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    _commit_off_the_hub(engine)
    return engine


def _commit_off_the_hub(engine: Engine) -> None:
    """Under gevent (`pingyi serve`), run SQLite's COMMIT in a native thread.

    With synchronous=FULL a commit waits for an fsync (2-8 ms on this machine's disk); on the
    hub it would stop every greenlet: no socket read, no ack, no broadcast meanwhile. sqlite3
    releases the GIL while it syncs, so in a thread it stops only the request committing, and
    the writes queued behind it are committed together next (evaluation/db_writes.py). The
    connection is never used by two threads at once: its greenlet waits for the result. A
    write that does not take the writer lock and meets this commit waits for it in SQLite's
    busy handler (milliseconds), as it used to wait for the hub."""
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return
    if not monkey.is_module_patched("threading"):
        return
    commit = engine.dialect.do_commit

    from evaluation import ballot_trace

    def timed(dbapi_connection):
        t = ballot_trace.now()
        commit(dbapi_connection)
        return t, ballot_trace.now()

    def do_commit(dbapi_connection) -> None:
        if dbapi_connection.in_transaction:  # otherwise there is nothing to sync
            if ballot_trace.ON:
                t0 = ballot_trace.now()
                a, b = get_hub().threadpool.apply(timed, (dbapi_connection,))
                ballot_trace.event("commit", t=t0, start=a - t0, sync=b - a,
                                   back=ballot_trace.now() - b)
                return
            get_hub().threadpool.apply(commit, (dbapi_connection,))
        else:
            commit(dbapi_connection)

    engine.dialect.do_commit = do_commit


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; the integrity rules depend on them.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed (acknowledged) write survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def init_app(app: Flask) -> None:
    app.extensions["pingyi_db"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)


def engine() -> Engine:
    return current_app.extensions["pingyi_db"]


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    # A session that never began a transaction holds no connection and no object (adding
    # one begins it): closing it would only clear empty maps, a fiftieth of a public
    # ballot's CPU (its reads bypass the session, evaluation/raw_sql.py).
    if session is not None and (session.in_transaction() or session.identity_map):
        session.close()
