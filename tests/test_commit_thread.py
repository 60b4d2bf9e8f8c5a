"""SQLite's COMMIT off the gevent hub (evaluation/db.py): through the hub's own commit thread,
gevent's pool only when that thread is busy. Run in a child process: the behaviour exists
only with gevent's monkey-patching, which the test process does not do."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import sys
    from gevent import monkey
    monkey.patch_all()
    import time
    import gevent
    from gevent import get_hub
    from sqlalchemy import text
    from sqlmodel import Session
    from evaluation import db, db_writes

    threadpool = get_hub().threadpool  # its workers start on its first task
    native_sleep = monkey.get_original("time", "sleep")

    engine = db.make_engine("sqlite:///" + sys.argv[1])
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER)"))

    def insert(n):
        def write(connection):
            connection.execute(text("INSERT INTO item (n) VALUES (:n)"), {"n": n})
            return n
        return write

    with Session(engine) as session:  # the group commit's COMMIT: the commit thread
        results = [db_writes.write_batched(session, insert(n)) for n in range(3)]
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT n FROM item ORDER BY n")).scalars().all()
    print("committed", results, stored, "pool workers", threadpool.size)

    try:  # an error in the thread is raised in the waiting greenlet
        db.off_the_hub(lambda x: 1 / x, 0)
    except ZeroDivisionError:
        print("error raised")

    def slow(x):
        native_sleep(0.05)
        return x

    # Two at once: the second goes to gevent's pool while the thread is busy.
    both = [gevent.spawn(db.off_the_hub, slow, n) for n in (1, 2)]
    gevent.joinall(both)
    print("both", [g.value for g in both], "pool workers", threadpool.size)

    # A caller killed while waiting: the call ends in the thread, which then serves again.
    killed = gevent.spawn(db.off_the_hub, slow, 3)
    gevent.sleep(0.01)
    killed.kill()
    print("after a kill", db.off_the_hub(lambda x: x * 2, 21))

    # An idle commit thread does not keep the hub's loop alive.
    started = time.monotonic()
    gevent.wait(timeout=5)
    print("idle", time.monotonic() - started < 1)
""")


def test_commits_go_through_the_hubs_commit_thread_and_the_pool_only_when_it_is_busy(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "commit.sqlite3")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "committed [0, 1, 2] [0, 1, 2] pool workers 0",  # the commit thread, not the pool
        "error raised",
        "both [1, 2] pool workers 1",
        "after a kill 42",
        "idle True",
    ], result.stdout + result.stderr[-3000:]
