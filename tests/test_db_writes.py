"""Group commit on SQLite (evaluation/db_writes.py): one request commits the queue; the
others wait for their own write, not for the writer lock, and the turn passes in order."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from evaluation import db_writes


class CountingLock:
    """The writer lock, counting who took it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.taken = 0

    def __enter__(self):
        self.lock.acquire()
        self.taken += 1
        return self

    def __exit__(self, *exc):
        self.lock.release()


@pytest.fixture
def engine(scratch_sqlite):
    return scratch_sqlite("writes.sqlite3",
                          "CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER UNIQUE)")


def _queued(count: int) -> None:
    deadline = time.monotonic() + 10
    while len(db_writes._queue) < count:
        assert time.monotonic() < deadline, "the writes never queued"
        time.sleep(0.005)


def _insert(n: int):
    def write(connection) -> int:
        connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
        return n

    return write


def test_requests_committed_by_another_do_not_wait_for_the_writer_lock(engine, monkeypatch):
    lock = CountingLock()
    monkeypatch.setattr(db_writes, "sqlite_writer", lock)
    results: dict[int, object] = {}

    def request(index: int) -> None:
        with Session(engine) as db:
            try:
                results[index] = db_writes.write_batched(db, _insert(index % 11))
            except Exception as refused:  # noqa: BLE001 - compared below
                results[index] = refused

    with lock:  # another writer (the live marks) holds the lock while 12 ballots queue
        threads = [threading.Thread(target=request, args=(index,)) for index in range(12)]
        for thread in threads:
            thread.start()
        _queued(12)
    for thread in threads:
        thread.join(10)
    # One commit for all twelve; the duplicate (n = 0 twice) refused alone, in its request.
    assert lock.taken == 2  # the test's and the one committing request's, not 13
    assert sum(isinstance(r, Exception) for r in results.values()) == 1
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT n FROM item ORDER BY n")).scalars().all()
    assert stored == list(range(11))
    assert not db_writes._queue and not db_writes._leading


def test_the_turn_passes_to_the_oldest_waiting_request(engine):
    order: list[int] = []
    first_writing, release_first = threading.Event(), threading.Event()

    def slow_first(connection) -> int:
        first_writing.set()
        release_first.wait(10)  # the first batch is still committing when the others arrive
        order.append(0)
        return 0

    def request(write) -> None:
        with Session(engine) as db:
            db_writes.write_batched(db, write)

    def recorded(n: int):
        def write(connection) -> int:
            order.append(n)
            return _insert(n)(connection)

        return write

    first = threading.Thread(target=request, args=(slow_first,))
    first.start()
    first_writing.wait(10)
    later = []
    for n in (1, 2, 3):
        later.append(threading.Thread(target=request, args=(recorded(n),)))
        later[-1].start()
        _queued(n)
    release_first.set()
    for thread in [first, *later]:
        thread.join(10)
    assert order == [0, 1, 2, 3]
    assert not db_writes._queue and not db_writes._leading


def test_a_failed_commit_reaches_every_request_of_its_batch_and_frees_the_turn(engine, monkeypatch):
    def broken_commit(db, batch):
        for ticket in batch:
            ticket.error, ticket.done = RuntimeError("disk full"), True
            ticket.wake.set()
        raise RuntimeError("disk full")

    monkeypatch.setattr(db_writes, "_commit", broken_commit)
    with Session(engine) as db, pytest.raises(RuntimeError):
        db_writes.write_batched(db, _insert(1))
    assert not db_writes._leading  # the next write leads again instead of waiting forever
    monkeypatch.undo()
    with Session(engine) as db:
        assert db_writes.write_batched(db, _insert(2)) == 2


def _audited(n: int, *, fail_after_event: bool = False):
    """A write that records an audit event, as a ballot does (and maybe fails afterwards)."""
    from evaluation import audit

    def write(connection) -> int:
        connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
        audit.append_events(connection, [("create", "item", n, {"n": n})])
        if fail_after_event:
            raise ValueError(f"write {n} refused")
        return n

    return write


def test_a_group_commit_reads_the_audit_head_once_and_keeps_the_chain(engine):
    """The head is read once per batch, not once per write; a write undone by its savepoint
    takes its event with it; the chain verifies and holds the committed writes' events, in
    order, after an event committed earlier (bench/benchmarks_notes.md, Public ballots)."""
    from sqlalchemy import event as sa_event
    from sqlmodel import SQLModel

    from evaluation import audit

    SQLModel.metadata.create_all(engine)
    with Session(engine) as db:
        db_writes.write_batched(db, _audited(1))  # a head to continue from
    statements: list[str] = []

    # Every statement the driver runs (the head is read on the driver, not through
    # SQLAlchemy's execute: its cursor events would not see it), on whichever connection the
    # group commit uses (kept from batch to batch: it was opened by the write above).
    db_writes._drop_writer(engine)
    sa_event.listen(engine, "connect", _traced(statements))
    tickets = [
        db_writes._Ticket(_audited(2)),
        db_writes._Ticket(_audited(3, fail_after_event=True)),
        db_writes._Ticket(_audited(4)),
        db_writes._Ticket(_audited(5)),
    ]
    with Session(engine) as db:
        db_writes._commit(db, tickets)
    db_writes._drop_writer(engine)
    head_reads = [sql for sql in statements if "FROM audit_event" in sql]
    assert len(head_reads) == 1, statements
    assert [t.result for t in tickets] == [2, None, 4, 5]
    assert isinstance(tickets[1].error, ValueError)
    with Session(engine) as db:
        report = audit.verify_chain(db)
        assert report.ok, report.reason
        ids = db.execute(text("SELECT object_id FROM audit_event ORDER BY seq")).scalars().all()
        assert ids == [1, 2, 4, 5]
        items = db.execute(text("SELECT n FROM item ORDER BY n")).scalars().all()
        assert items == [1, 2, 4, 5]
    # Nothing of the batch is left on the connection for the next batch.
    with Session(engine) as db:
        connection, _kept = db_writes._writer(engine)
        assert "pingyi_audit_batch" not in connection.info


def _traced(statements: list[str]):
    def trace(dbapi_connection, *_args):
        dbapi_connection.set_trace_callback(statements.append)

    return trace


def test_the_group_commit_keeps_one_connection_with_the_engines_settings(engine):
    """No pool checkout per batch (its cost was a tenth of a paced ballot's commit path); the
    kept connection is opened by the engine's connect hooks (synchronous=FULL), is never left
    in a transaction, and is opened anew after `engine.dispose()` (the checkpoint thread's
    settings reach every connection opened from then on)."""
    from sqlalchemy import event as sa_event

    checkouts, connects = [], []
    sa_event.listen(engine, "checkout", lambda *args: checkouts.append(1))
    sa_event.listen(engine, "connect", lambda *args: connects.append(1))
    with Session(engine) as db:
        for n in range(3):
            assert db_writes.write_batched(db, _insert(n)) == n
    assert len(checkouts) <= 1, "a pooled connection checked out per batch"
    connection, kept = db_writes._writer(engine)
    raw = connection.connection.dbapi_connection
    assert kept and not raw.in_transaction
    assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opened = len(connects)
    engine.dispose()
    with Session(engine) as db:
        assert db_writes.write_batched(db, _insert(3)) == 3
    assert len(connects) == opened + 1
    assert db_writes._writer(engine)[0] is not connection
    with engine.connect() as reader:
        stored = reader.execute(text("SELECT n FROM item ORDER BY n")).scalars().all()
    assert stored == [0, 1, 2, 3]


def test_a_failed_batch_is_rolled_back_and_the_next_one_commits_on_a_fresh_connection(
    engine, monkeypatch
):
    from evaluation import audit

    with Session(engine) as db:
        db_writes.write_batched(db, _insert(1))
    before, _kept = db_writes._writer(engine)

    def broken_flush(connection):
        raise OSError("disk full")

    monkeypatch.setattr(audit, "flush_batch", broken_flush)
    with Session(engine) as db, pytest.raises(OSError):
        db_writes.write_batched(db, _insert(2))
    monkeypatch.undo()
    assert not db_writes._leading
    with Session(engine) as db:
        assert db_writes.write_batched(db, _insert(3)) == 3
    assert db_writes._writer(engine)[0] is not before
    with engine.connect() as reader:
        stored = reader.execute(text("SELECT n FROM item ORDER BY n")).scalars().all()
    assert stored == [1, 3]  # the failed batch's write was not committed


def test_a_batch_without_a_connection_fails_every_request_in_it(engine, monkeypatch):
    """The connection could not be had (the disk, the file): every request of the batch
    learns it, none waits forever for a commit that will not come."""
    def no_connection(engine):
        raise OSError("unable to open database file")

    monkeypatch.setattr(db_writes, "_writer", no_connection)
    tickets = [db_writes._Ticket(_insert(1)), db_writes._Ticket(_insert(2))]
    with Session(engine) as db, pytest.raises(OSError):
        db_writes._commit(db, tickets)
    assert all(t.done and t.wake.is_set() and isinstance(t.error, OSError) for t in tickets)
