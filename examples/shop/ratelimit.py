"""Sliding-window rate limiting as a dependency: in memory, or in Redis across workers.

A window keeps the time of each accepted request; a request is accepted while fewer than
``limit`` requests fell in the last ``window`` seconds. A refused request learns how long to
wait until the oldest one leaves the window (``Retry-After``).
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from typing import Protocol

from redis.asyncio import Redis

from hasten import HTTPException, Request, status


class Limiter(Protocol):
    """Records a hit for ``key``; returns ``None`` if allowed, else seconds to wait."""

    limit: int
    window: float

    async def hit(self, key: str) -> float | None: ...


class MemoryLimiter:
    """Per-process sliding window: a deque of timestamps per key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str) -> float | None:
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window - now
        hits.append(now)
        if len(self._hits) > 10_000:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


# KEYS[1] = the window's sorted set; ARGV = limit, window (ms), a unique member.
# Uses the Redis server clock so every worker agrees on "now".
_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window)
    return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now
"""


class RedisLimiter:
    """Shared sliding window: one sorted set per key, updated atomically by a Lua script."""

    def __init__(self, redis: Redis, limit: int, window: float, prefix: str) -> None:
        self.limit = limit
        self.window = window
        self.prefix = prefix
        self._script = redis.register_script(_SLIDING_WINDOW_LUA)

    async def hit(self, key: str) -> float | None:
        result = await self._script(
            keys=[f"{self.prefix}ratelimit:{key}"],
            args=[self.limit, int(self.window * 1000), uuid.uuid4().hex],
        )
        wait_ms = int(result)
        return None if wait_ms < 0 else wait_ms / 1000


def client_key(request: Request) -> str:
    """The client's IP address (behind a proxy, run uvicorn with ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


async def rate_limit(request: Request) -> None:
    """Dependency: 429 with ``Retry-After`` once the client exceeded the limit."""
    limiter: Limiter = request.app.state.limiter
    wait = await limiter.hit(client_key(request))
    if wait is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Rate limit exceeded: {limiter.limit} requests per {limiter.window:g} seconds",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
