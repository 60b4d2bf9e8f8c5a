"""WAL checkpoints off the commits under `pingyi serve` (evaluation/wal_checkpoints.py): a
request's COMMIT no longer copies the WAL into the database file; a native thread does, on a
timer and when the WAL passes its size, and the WAL stays bounded."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from evaluation import db_writes, wal_checkpoints
from evaluation.db import make_engine

PAGE = 4096


@pytest.fixture
def engine(scratch_sqlite):
    return scratch_sqlite("wal.sqlite3", "CREATE TABLE blob (id INTEGER PRIMARY KEY, body BLOB)")


def _insert(connection) -> None:
    connection.execute(text("INSERT INTO blob (body) VALUES (:b)"), {"b": b"x" * PAGE})


def _write(engine, transactions: int, sizes: list[int] | None = None) -> None:
    """Three pages per transaction, each a group commit of its own, back to back (the
    checkpoint thread never sees the writer idle)."""
    wal = engine.url.database + "-wal"
    with Session(engine) as db:
        for _ in range(transactions):
            db_writes.write_batched(db, _insert)
            if sizes is not None:
                sizes.append(os.path.getsize(wal))


def test_commits_do_not_checkpoint(engine):
    """With the thread idle (a long timer, a large size), SQLite's own checkpoint at 1,000
    pages would have restarted the WAL inside some commit; the serving connections don't."""
    checkpointer = wal_checkpoints.checkpoint_in_background(
        engine, interval=3600, max_pages=100_000
    )
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
                wal_checkpoints.BACKSTOP_PAGES
            )
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        _write(engine, 1300)
        assert checkpointer.checkpoints == 0
        assert os.path.getsize(engine.url.database + "-wal") > 3 * 1300 * PAGE * 0.9
    finally:
        checkpointer.stop()


def test_the_thread_checkpoints_and_the_wal_stays_bounded(engine):
    checkpointer = wal_checkpoints.checkpoint_in_background(
        engine, interval=0.05, max_pages=200, tick=0.005
    )
    sizes: list[int] = []
    try:
        _write(engine, 1500, sizes)
        deadline = time.monotonic() + 5
        while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        checkpointer.stop()
    assert checkpointer.checkpoints >= 2
    assert checkpointer.caught_up >= 1  # the thread alone never lets the WAL start over
    # 1,500 transactions of three pages each: 4,500 pages without checkpoints. The WAL
    # starts over after the group commit catches up and is cut back to max_pages.
    assert max(sizes) < 1000 * PAGE
    assert sizes[-1] < 1000 * PAGE
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM blob").scalar() == 1500


def test_an_in_memory_database_has_nothing_to_checkpoint():
    engine = make_engine("sqlite://")
    assert wal_checkpoints.checkpoint_in_background(engine) is None
