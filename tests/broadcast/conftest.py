"""Fixtures of the broadcast tests: the asyncio backend, Redis, unique channels, a TCP proxy.

Redis is ``BROADCAST_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); its cases are
skipped, saying so, when it does not answer. Every test gets its own channel prefix, so
parallel workers and other users of that Redis never share a channel. Helpers live in
``broadcast_support``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from broadcast_support import REDIS_URL, Proxy, need_redis


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis-py's client is asyncio only


@pytest.fixture
def prefix() -> str:
    """A channel prefix no other test (or process) uses."""
    return f"bt:{os.getpid()}:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=["memory", "redis"])
def url(request: pytest.FixtureRequest) -> str:
    """The broadcast URL of each backend."""
    if request.param == "memory":
        return "memory://"
    need_redis()
    return REDIS_URL


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    need_redis()
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    need_redis()
    proxy = Proxy(REDIS_URL)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
