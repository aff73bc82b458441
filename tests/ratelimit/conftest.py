"""Fixtures of the rate-limit tests: a fake clock, and the real Redis with a unique prefix.

Redis (``HASTEN_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``): each test gets its own
key prefix, deleted afterwards; where Redis is not reachable its tests are skipped, saying so.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("HASTEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@functools.cache
def redis_reachable() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test (or worker) uses; its keys are deleted afterwards."""
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"hasten-rl-test:{os.getpid()}:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
