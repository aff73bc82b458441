"""Helpers of the broadcast tests, imported as ``broadcast_support`` (``from conftest import``
would find another folder's conftest when the whole suite runs in one process)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

REDIS_URL = os.environ.get("BROADCAST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@functools.cache
def redis_reachable() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def need_redis() -> None:
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


def numsub(client: redis.Redis, channel: str) -> int:
    """Subscribers of ``channel`` on the Redis server, from every process."""
    return int(dict(client.pubsub_numsub(channel))[channel.encode()])


class Proxy:
    """A TCP proxy in front of Redis that a test can stop, start and freeze.

    Stopping closes the listening socket and every connection (Redis "went away");
    freezing keeps the connections open but forwards nothing (a silent network).
    """

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db = parts.path or "/0"
        self.port = 0
        self.frozen = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self.db}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # no new connections
        for writer in list(self._writers):  # (3.12's wait_closed waits for these)
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                if self.frozen:
                    continue  # swallowed: neither side hears from the other
                sink.write(data)
                await sink.drain()
        sink.close()


async def eventually(predicate: Any, what: str, within: float = 10.0) -> None:
    """Poll ``predicate`` (sync or async) until true; fail saying ``what`` after ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.01)
