"""The seat map's 'connected' across workers: each worker's seats in Redis, the union read
by every worker; a worker that dies drops off without anyone cleaning up."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from live import presence
from live.presence import LocalPresence, RedisPresence

REDIS = os.environ.get("PINGYI_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS, reason="needs PINGYI_TEST_REDIS_URL "
                                 "(e.g. redis://127.0.0.1:6379/0); .ci/run sets it")


def test_one_process_counts_its_own_tablets():
    local = LocalPresence()
    local.seat_connected(7)
    local.seat_connected(7)  # a reload: the new socket before the old one closed
    local.seat_disconnected(7)
    assert local.connected_seats() == {7}
    local.seat_disconnected(7)
    assert local.connected_seats() == set()


@pytest.fixture
def workers():
    prefix = f"pingyi-test-{uuid.uuid4().hex[:8]}:presence"
    pair = RedisPresence(REDIS, prefix), RedisPresence(REDIS, prefix)
    yield pair
    for key in pair[0].redis.scan_iter(f"{prefix}:*"):
        pair[0].redis.delete(key)


@needs_redis
def test_every_worker_sees_the_seats_of_all(workers):
    a, b = workers
    a.seat_connected(1)
    b.seat_connected(2)
    assert a.connected_seats() == b.connected_seats() == {1, 2}
    a.seat_disconnected(1)
    assert b.connected_seats() == {2}


@needs_redis
def test_a_dead_workers_seats_expire(workers, monkeypatch):
    a, b = workers
    monkeypatch.setattr(presence, "TTL_SECONDS", 1)
    a.seat_connected(5)  # then A dies: no heartbeat, no disconnect
    assert b.connected_seats() == {5}
    time.sleep(1.6)
    assert b.connected_seats() == set()
    b.seat_connected(6)
    b.heartbeat()  # the living keep theirs
    newcomer = RedisPresence(REDIS, b.prefix)
    assert newcomer.connected_seats() == {6}
