"""Group commit on SQLite (evaluation/db_writes.py): one request commits the queue; the
others wait for their own write, not for the writer lock, and the turn passes in order."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from evaluation import db_writes
from evaluation.db import make_engine


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
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'writes.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER UNIQUE)"))
    yield engine
    engine.dispose()


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
