"""The database: one engine per application, one session per request.

The engine lives in `app.extensions["pingyi_db"]`; a request's session lives in `g`
and is closed at teardown, so nothing leaks from one request into the next.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from evaluation.config import normalize_database_url

T = TypeVar("T")


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
        from gevent import monkey
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
                a, b = off_the_hub(timed, dbapi_connection)
                ballot_trace.event("commit", t=t0, start=a - t0, sync=b - a,
                                   back=ballot_trace.now() - b)
                return
            off_the_hub(commit, dbapi_connection)
        else:
            commit(dbapi_connection)

    engine.dialect.do_commit = do_commit


def off_the_hub(work: Callable[[Any], T], argument: Any) -> T:
    """`work(argument)` in a native thread, the calling greenlet waiting for it (under
    gevent; the caller checks). The hub's commit thread when it is free (one commit at a time:
    the group commit and the live marks commit under the writer lock), else gevent's pool."""
    from gevent import get_hub

    hub = get_hub()
    thread = _commit_threads.get(hub)
    if thread is None or thread.pid != os.getpid():
        thread = _commit_threads[hub] = _CommitThread(hub)
    if thread.busy:
        return hub.threadpool.apply(work, (argument,))
    return thread.run(work, argument)


class _CommitThread:
    """One native thread running one call at a time for the hub, in place of gevent's
    `threadpool.apply` (a result object with an async watcher made, started and closed per
    call, a Python-level queue and condition, a greenlet hub in the worker thread): a
    single-ballot group commit cost 3-9% less process CPU through it (six in-process A/B runs
    of bench/ballots_cpu.py --concurrency 1; bench/benchmarks_notes.md, "Ballots (session
    7)"), at one COMMIT per ballot or two when ballots are paced. The thread sleeps on a native
    lock; it wakes the hub through one async watcher kept for good, referenced only while a
    call runs (an idle thread does not keep the hub's loop alive). A caller killed while
    waiting leaves the call to finish in the thread, which stays busy (callers use gevent's
    pool meanwhile) until it has."""

    def __init__(self, hub) -> None:
        from gevent import monkey

        self.pid = os.getpid()  # a forked child has no such thread: it starts its own
        self.busy = False
        self._job: tuple | None = None
        self._outcome: tuple | None = None
        self._waiter = None
        self._go = monkey.get_original("_thread", "allocate_lock")()
        self._go.acquire()
        self._done = hub.loop.async_()
        self._done.start(self._finished)
        self._done.ref = False
        monkey.get_original("_thread", "start_new_thread")(self._serve, ())

    def _serve(self) -> None:
        while True:
            self._go.acquire()  # native: sleeps without the GIL
            work, argument = self._job
            try:
                self._outcome = (work(argument), None)
            except BaseException as error:  # noqa: BLE001 - raised in the waiting greenlet
                self._outcome = (None, error)
            self._done.send()

    def _finished(self) -> None:  # in the hub
        self.busy = False
        self._done.ref = False
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.switch(None)

    def run(self, work, argument):
        from gevent.hub import Waiter

        waiter = Waiter()
        self.busy, self._waiter, self._job = True, waiter, (work, argument)
        self._done.ref = True
        self._go.release()
        try:
            waiter.get()
        except BaseException:  # killed while waiting: see the class
            if self._waiter is waiter:
                self._waiter = None
            raise
        (result, error), self._outcome, self._job = self._outcome, None, None
        if error is not None:
            raise error
        return result


_commit_threads: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
