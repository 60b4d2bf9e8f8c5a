"""Which seats have a tablet connected, across every worker.

One process: a counter in memory. Several workers (REDIS_URL): each worker keeps the seats
of its own connections in a Redis set of its own, refreshed by a heartbeat; the seat map is
the union of the sets of the workers still alive. A worker that dies stops refreshing, and its
seats drop off the map within `TTL_SECONDS` (no counter is left behind to correct by hand).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

from flask import Flask, current_app

TTL_SECONDS = 30
HEARTBEAT_SECONDS = 10


class LocalPresence:
    def __init__(self) -> None:
        self._connected: Counter[int] = Counter()
        self._guard = threading.Lock()

    def seat_connected(self, seat_id: int) -> None:
        with self._guard:
            self._connected[seat_id] += 1

    def seat_disconnected(self, seat_id: int) -> None:
        with self._guard:
            self._connected[seat_id] -= 1
            if self._connected[seat_id] <= 0:
                del self._connected[seat_id]

    def local_seats(self) -> set[int]:
        with self._guard:
            return set(self._connected)

    def connected_seats(self) -> set[int]:
        return self.local_seats()


class RedisPresence(LocalPresence):
    """This worker's seats in `<prefix>:seats:<worker>`; `<prefix>:workers` lists workers."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        super().__init__()
        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self.worker = uuid.uuid4().hex
        self._heartbeat_started = False

    def _key(self, worker: str) -> str:
        return f"{self.prefix}:seats:{worker}"

    def _write(self) -> None:
        """This worker's whole set, replaced: a lost update cannot leave a stale seat."""
        seats = self.local_seats()
        key = self._key(self.worker)
        with self.redis.pipeline() as pipe:
            pipe.delete(key)
            if seats:
                pipe.sadd(key, *seats)
                pipe.expire(key, TTL_SECONDS)
            pipe.sadd(f"{self.prefix}:workers", self.worker)
            pipe.execute()

    def seat_connected(self, seat_id: int) -> None:
        super().seat_connected(seat_id)
        self._write()

    def seat_disconnected(self, seat_id: int) -> None:
        super().seat_disconnected(seat_id)
        self._write()

    def connected_seats(self) -> set[int]:
        workers = [w.decode() for w in self.redis.smembers(f"{self.prefix}:workers")]
        with self.redis.pipeline() as pipe:
            for worker in workers:
                pipe.smembers(self._key(worker))
            sets = pipe.execute()
        # A worker without a set holds no seats (or died): off the list until it writes again.
        gone = [w for w, members in zip(workers, sets, strict=True)
                if not members and w != self.worker]
        if gone:
            self.redis.srem(f"{self.prefix}:workers", *gone)
        return {int(seat) for members in sets for seat in members} | self.local_seats()

    def heartbeat(self) -> None:
        if self.local_seats():
            self.redis.expire(self._key(self.worker), TTL_SECONDS)


def init_app(app: Flask) -> None:
    if app.config.get("REDIS_URL"):
        prefix = f"{app.config.get('SOCKETIO_CHANNEL', 'pingyi')}:presence"
        app.extensions["live_presence"] = RedisPresence(app.config["REDIS_URL"], prefix)
    else:
        app.extensions["live_presence"] = LocalPresence()


def current() -> LocalPresence:
    return current_app.extensions["live_presence"]


def start_heartbeat(app: Flask, start_background_task, sleep) -> None:
    """Once per process with Redis: keep this worker's seats alive while it runs."""
    presence = app.extensions["live_presence"]
    if not isinstance(presence, RedisPresence) or presence._heartbeat_started:
        return
    presence._heartbeat_started = True

    def loop():
        while True:
            sleep(HEARTBEAT_SECONDS)
            presence.heartbeat()

    start_background_task(loop)


def seat_connected(seat_id: int) -> None:
    current().seat_connected(seat_id)


def seat_disconnected(seat_id: int) -> None:
    current().seat_disconnected(seat_id)


def connected_seats() -> set[int]:
    return current().connected_seats()
