"""Writes to SQLite: one writer at a time, and one fsync for everyone waiting (group commit).

SQLite's own busy-retry produced a 169 ms p99 under load on this machine; one application
lock for every writer (the live marks and the public ballots alike) brought it to 22 ms.
With `synchronous=FULL` every commit is an fsync (2-8 ms on this disk), so one commit per
public ballot caps the rate at a few hundred a second. `write_batched` lets one request
commit every write queued behind it in one transaction, each in its own SAVEPOINT; the
others wait for their own write to be done, and the turn to commit passes to the oldest
waiting request (first come, first served). A write that fails (a duplicate ballot hitting
the UNIQUE constraint) is undone alone and raises in its own request; the others are
committed, durably, before any of them is acknowledged. Under gevent the commit runs off
the hub (see evaluation/db.py), which is when the queue fills. PostgreSQL needs none of
this: each request commits its own.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from contextlib import contextmanager, nullcontext, suppress
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from evaluation import audit, ballot_trace, wal_checkpoints

T = TypeVar("T")

sqlite_writer = threading.Lock()
_queue: list[_Ticket] = []
_queue_guard = threading.Lock()


def is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def writer_lock(db: Session):
    """The lock to hold around a write transaction on this database."""
    return sqlite_writer if is_sqlite(db) else nullcontext()


class _Ticket:
    __slots__ = ("write", "context", "result", "error", "done", "leads", "wake")

    def __init__(self, write: Callable[[Connection], object]):
        self.write = write
        # Whichever request commits the batch, each write runs in its own request's context:
        # its audit events name its own actor, and a refusal it raises (a duplicate ballot) is
        # worded in its own voter's language, not in the committing request's.
        self.context = contextvars.copy_context()
        self.result: object = None
        self.error: BaseException | None = None
        self.done = False
        self.leads = False  # this request commits the queue (its own write included)
        self.wake = threading.Event()  # set when done, or when it is this request's turn


# A request is committing the queue, or has been handed the turn: the others wait for their
# own ticket, not for the lock. (They used to wait for `sqlite_writer` even once committed by
# another request; the lock is not fair, so a request arriving meanwhile took it first, again
# and again: 31 committed ballots waited 0.7-1.4 s behind batches of one, bench 2026-11-28.)
_leading = False


def write_batched(db: Session, write: Callable[[Connection], T]) -> T:
    """Run `write(connection)` and commit it; returns its result or raises its exception.

    `write` writes with Core statements through the connection it is given, never through
    `db` (on SQLite the connection is the one committing the whole batch), and never
    commits. An exception it raises undoes its own statements only (a savepoint). It runs in
    a copy of its caller's context (contextvars: the request, the audit actor, the language),
    whichever request commits the batch."""
    global _leading
    if not is_sqlite(db):
        try:
            result = write(db.connection())
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return result
    # End this request's read transaction: its connection goes back to the pool while it
    # waits for the writer (32 requests waiting, each holding one, starved the pool of 15).
    # A session that never began one (its reads went through `raw_sql.reads`) has nothing
    # to commit: nothing can be pending in it without a transaction.
    if db.in_transaction():
        db.commit()
    ballot_trace.mark("enq")
    ticket = _Ticket(write)
    with _queue_guard:
        _queue.append(ticket)
        if not _leading:
            _leading = ticket.leads = True
    if not ticket.leads:
        _await_turn(ticket)
    ballot_trace.mark("woken")
    ballot_trace.put("led", not ticket.done)
    if not ticket.done:  # our turn: commit everything queued, in arrival order
        try:
            with sqlite_writer:  # still taken: the live marks write under it too
                with _queue_guard:
                    batch = _queue[:]
                    _queue.clear()
                _commit(db, batch)
        finally:
            with _queue_guard:
                _withdraw(ticket)
                _hand_off()
    if ticket.error is not None:
        raise ticket.error
    return ticket.result  # type: ignore[return-value]


def _await_turn(ticket: _Ticket) -> None:
    try:
        ticket.wake.wait()
    except BaseException:  # the request is gone (killed, timed out) before its write ran
        with _queue_guard:
            _withdraw(ticket)
            if ticket.leads and not ticket.done:
                _hand_off()
        raise


def _withdraw(ticket: _Ticket) -> None:
    """Under `_queue_guard`: a write not taken into a batch is not committed by anyone."""
    if not ticket.done and ticket in _queue:
        _queue.remove(ticket)


def _hand_off() -> None:
    """Under `_queue_guard`: the oldest waiting request commits next (first come, first
    served), or nobody leads until the next write arrives."""
    global _leading
    if _queue:
        _queue[0].leads = True
        _queue[0].wake.set()
    else:
        _leading = False


@contextmanager
def _savepoint(raw):
    """A write's own savepoint, on the driver: SQLAlchemy's nested transaction cost more CPU
    than the ballot's INSERT (py-spy, bench/ballots_bench.py, 2026-11-28). Inside BEGIN
    IMMEDIATE, so RELEASE does not commit; a refused write is rolled back to it alone."""
    raw.execute("SAVEPOINT pingyi_write")
    try:
        yield
    except BaseException:
        raw.execute("ROLLBACK TO pingyi_write")
        raw.execute("RELEASE pingyi_write")
        raise
    raw.execute("RELEASE pingyi_write")


def _commit(db: Session, batch: list[_Ticket]) -> None:
    """Under `sqlite_writer`: the batch's writes in one transaction, one COMMIT."""
    engine = db.get_bind()
    try:
        connection, kept = _writer(engine)
    except BaseException as failed:  # no connection (the disk, the file): nothing written
        _finish(batch, failed)
        raise
    raw = connection.connection.dbapi_connection
    failed_with: BaseException | None = None
    # The audit head is read once for the batch and its events inserted at its end
    # (evaluation/audit.py): BEGIN IMMEDIATE keeps every other writer out meanwhile.
    audit.begin_batch(connection)
    t0 = ballot_trace.now()
    try:
        wal_checkpoints.catch_up(connection)  # rarely: the WAL has passed its size
        t1 = ballot_trace.now()
        # On the driver: pysqlite opens transactions lazily, before the first INSERT; a
        # SAVEPOINT outside a transaction would start one that its RELEASE commits (one fsync
        # per write). SQLAlchemy's execute around it cost ~8 us a batch.
        raw.execute("BEGIN IMMEDIATE")
        for ticket in batch:
            mark = audit.batch_mark(connection)
            try:
                with _savepoint(raw):
                    ticket.result = ticket.context.run(ticket.write, connection)
            except Exception as refused:  # noqa: BLE001 - handed to its own request
                audit.batch_undo(connection, mark)
                ticket.error = refused
        audit.flush_batch(connection)
        t2 = ballot_trace.now()
        # A write through `connection.execute` began SQLAlchemy's transaction (over the one
        # begun above): it commits it. Writes on the driver alone (a ballot's) leave SQLAlchemy
        # none: the dialect commits the driver's, off the hub like any commit (evaluation/db.py).
        if connection.in_transaction():
            connection.commit()
        else:
            connection.dialect.do_commit(raw)
        if ballot_trace.ON:  # PINGYI_BALLOT_TRACE: what the queue behind it waited for
            ballot_trace.event("batch", t=t0, n=len(batch), catch=t1 - t0, writes=t2 - t1,
                               commit=ballot_trace.now() - t2)
    except BaseException as failed:
        failed_with = failed
        _roll_back(connection, raw)
        raise
    finally:
        audit.end_batch(connection)
        if not kept:
            connection.close()
        elif failed_with is not None:
            _drop_writer(engine)  # whatever state it is in: the next batch opens a fresh one
        _finish(batch, failed_with)


def _finish(batch: list[_Ticket], failed: BaseException | None = None) -> None:
    """Every request of the batch learns its outcome (`failed`: the whole batch's)."""
    for ticket in batch:
        if failed is not None:
            ticket.result, ticket.error = None, ticket.error or failed
        ticket.done = True
        ticket.wake.set()


# The group commit's connection, kept from batch to batch: checking one out of the pool and
# back (SQLAlchemy's Connection, pool events, the reset on return) and SQLAlchemy's BEGIN and
# COMMIT around the driver's cost a single-ballot commit 9-15% of its process CPU (in-process
# A/B of bench/ballots_cpu.py --concurrency 1; bench/benchmarks_notes.md, "Ballots (session
# 7)"), and paced ballots (1,000/s and less) commit one or two at a time. Used only under
# `sqlite_writer`, so by one request at a time; out of the pool for good (detached), opened
# by the engine's connect hooks like any other (the pragmas: WAL, synchronous=FULL; the
# checkpoint thread's settings). Stored with the pool it came from: `engine.dispose()` (e.g.
# `checkpoint_in_background`, to give every connection its settings) replaces the pool, and
# the next batch opens a new one. A batch that fails drops it.
_WRITER = "_pingyi_group_writer"


def _writer(engine) -> tuple[Connection, bool]:
    """Under `sqlite_writer`: the connection to commit a batch through, and whether it is
    the kept one (False: an in-memory database's one shared connection, from its pool)."""
    if isinstance(engine.pool, StaticPool):
        return engine.connect(), False
    found = getattr(engine, _WRITER, None)
    if found is not None:
        pool, connection = found
        if pool is engine.pool:
            return connection, True
        _drop_writer(engine)
    connection = engine.connect()
    connection.detach()
    setattr(engine, _WRITER, (engine.pool, connection))
    return connection, True


def _drop_writer(engine) -> None:
    found = getattr(engine, _WRITER, None)
    if found is None:
        return
    delattr(engine, _WRITER)
    with suppress(Exception):  # a connection already broken is closed enough
        found[1].close()  # detached: closes the driver's connection


def _roll_back(connection: Connection, raw) -> None:
    with suppress(Exception):  # the batch's own error is the one to report
        if connection.in_transaction():
            connection.rollback()
        if raw.in_transaction:
            raw.rollback()
