"""SQLite WAL checkpoints off the requests' commits (`pingyi serve` only).

By default SQLite checkpoints inside the COMMIT that takes the WAL past 1,000 pages: that
commit copies the pages into the database file and fsyncs it while the request (and, with
the group commit of evaluation/db_writes.py, every ballot queued behind it) waits. Under
`pingyi serve` the serving connections are told not to (`wal_autocheckpoint` raised to a
backstop far above the usual size) and a native thread of its own, with its own connection,
runs `PRAGMA wal_checkpoint(PASSIVE)`: every `interval` seconds when anything was written,
and at once when the WAL file passes `max_pages`. PASSIVE never blocks a reader or a writer
(nor waits for them); a commit's durability is unchanged (its own fsync of the WAL, with
synchronous=FULL).

The WAL stays bounded. SQLite starts the WAL file over (and `journal_size_limit` cuts it
back to `max_pages`) only when a writer begins while every frame is already in the database
file; under a steady stream of group commits the thread's checkpoint is always a few commits
behind, so that never happens by itself (measured: 3,700 pages after 1,500 commits, never
restarted). So when the file has passed `max_pages` the thread asks the next group commit
to `catch_up`: its leader checkpoints the few frames written since the thread's last
checkpoint (off the gevent hub, like its COMMIT), and its own write then restarts the WAL.
That is one short wait per `max_pages` pages instead of a full checkpoint in some commit;
should the thread die, SQLite's own checkpoint takes over at the backstop.
"""

from __future__ import annotations

import logging
import os
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# A checkpoint within this long of a write (seconds), and at once past this many WAL pages.
INTERVAL = 0.5
MAX_PAGES = 1000  # SQLite's default auto-checkpoint size
# How often the thread looks at the WAL file (a stat: microseconds).
TICK = 0.02
# SQLite checkpoints in the COMMIT only past this many pages: only if the thread cannot.
BACKSTOP_PAGES = 20 * MAX_PAGES


def database_path(engine: Engine) -> str | None:
    """The database file, or None for an in-memory database (nothing to checkpoint)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return os.path.abspath(database)


class Checkpointer:
    def __init__(self, path: str, *, interval: float = INTERVAL, max_pages: int = MAX_PAGES,
                 tick: float = TICK):
        self.path = path
        self.wal_path = path + "-wal"
        self.interval = interval
        self.max_pages = max_pages
        self.tick = tick
        self.checkpoints = 0  # how many ran (for the tests and the curious)
        self.stopped = False
        self.catch_up_wanted = False  # set by the thread, cleared by the next group commit
        self.caught_up = 0  # how many group commits caught up (see `catch_up`)
        self._sleep, self._monotonic = _native("time", "sleep"), _native("time", "monotonic")

    def start(self) -> Checkpointer:
        # A native thread even under gevent's monkey-patching: a greenlet would run the
        # checkpoint (and its fsync) on the hub, stopping every request meanwhile.
        _native("_thread", "start_new_thread")(self._run, ())
        return self

    def stop(self) -> None:
        self.stopped = True
        if _checkpointers.get(self.path) is self:
            del _checkpointers[self.path]

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA synchronous=FULL")
            limit = self.max_pages * connection.execute("PRAGMA page_size").fetchall()[0][0]
            seen, last = None, self._monotonic()
            while not self.stopped:
                self._sleep(self.tick)
                try:
                    stat = os.stat(self.wal_path)
                except FileNotFoundError:
                    continue
                now = self._monotonic()
                changed = (stat.st_mtime_ns, stat.st_size) != seen
                too_big = stat.st_size > limit
                if changed and (too_big or now - last >= self.interval):
                    # fetchall: a statement left unfinished would keep its locks (and the WAL)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                    self.catch_up_wanted = too_big
                    last = now
                    try:
                        stat = os.stat(self.wal_path)
                        seen = (stat.st_mtime_ns, stat.st_size)
                    except FileNotFoundError:
                        seen = None
            connection.close()
        except Exception:  # noqa: BLE001 - SQLite's own checkpoint (the backstop) takes over
            log.exception("background WAL checkpoints stopped; SQLite checkpoints at %d pages",
                          BACKSTOP_PAGES)


def _native(module: str, name: str):
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        import importlib

        return getattr(importlib.import_module(module), name)
    return monkey.get_original(module, name)


_checkpointers: dict[str, Checkpointer] = {}


def catch_up(connection) -> None:
    """Called by the group commit's leader before its BEGIN IMMEDIATE, holding the writer
    lock: if the thread asked for it, checkpoint what it has not yet (a few commits' frames),
    so that this write starts the WAL over (see the module's docstring)."""
    if not _checkpointers:
        return
    checkpointer = _checkpointers.get(database_path(connection.engine) or "")
    if checkpointer is None or not checkpointer.catch_up_wanted:
        return
    checkpointer.catch_up_wanted = False
    raw = connection.connection.dbapi_connection

    def checkpoint() -> None:
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    _off_the_hub(checkpoint)
    checkpointer.caught_up += 1


def _off_the_hub(work) -> None:
    """In a native thread under gevent (the checkpoint fsyncs the database file), as the
    COMMIT is (evaluation/db.py); directly otherwise."""
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        work()
        return
    if monkey.is_module_patched("threading"):
        get_hub().threadpool.apply(work)
    else:
        work()


def checkpoint_in_background(engine: Engine, **options) -> Checkpointer | None:
    """Take the engine's checkpoints off its commits (see the module's docstring); None for
    a database without a file. Pooled connections are dropped so that every connection the
    engine opens from now on has the setting."""
    path = database_path(engine)
    if path is None:
        return None
    checkpointer = Checkpointer(path, **options)
    limit_pages = checkpointer.max_pages

    @event.listens_for(engine, "connect")
    def _no_checkpoint_in_commit(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        page_size = cursor.execute("PRAGMA page_size").fetchall()[0][0]
        cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES:d}")
        cursor.execute(f"PRAGMA journal_size_limit={limit_pages * page_size:d}")
        cursor.close()

    engine.dispose()
    previous = _checkpointers.get(path)
    if previous is not None:
        previous.stop()
    _checkpointers[path] = checkpointer
    return checkpointer.start()
