"""Sliding-window rate limiting as a dependency: in memory, or in Redis across workers.

A window keeps the time of each accepted request; a request is accepted while fewer than
``limit`` requests fell in the last ``window`` seconds. A refused request learns how long to
wait until the oldest one leaves the window (``Retry-After``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from hasten import HTTPException, Request, status


class Limiter(Protocol):
    """Records a hit for ``key``; returns ``None`` if allowed, else seconds to wait."""

    limit: int
    window: float

    async def hit(self, key: str) -> float | None: ...


class MemoryLimiter:
    """Per-process sliding window: a deque of timestamps per key.

    The keys are kept in the order they were last hit (an ``OrderedDict``), so the idle ones
    are at the front: each hit forgets the keys whose newest hit left the window by looking at
    the front only (amortised O(1): a key is forgotten once; no scan of all keys), and beyond
    ``max_keys`` the least recently seen key is forgotten, so memory stays bounded whatever
    the number of clients.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    async def hit(self, key: str) -> float | None:
        now = self._clock()
        horizon = now - self.window
        self._forget_idle(horizon)
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            if len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        while hits and hits[0] <= horizon:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window - now
        hits.append(now)
        return None

    def _forget_idle(self, horizon: float) -> None:
        entries = self._hits
        while entries:
            oldest = next(iter(entries.values()))
            if oldest and oldest[-1] > horizon:
                return
            entries.popitem(last=False)


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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``SHOP_TRUSTED_PROXIES`` entries (addresses or CIDR networks) as networks."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: list[str], trusted: Sequence[Network]) -> str:
    """The client's address: the direct peer, unless the peer is a trusted proxy.

    Behind trusted proxies it is the right-most ``X-Forwarded-For`` entry that is not itself
    a trusted proxy: entries left of it were written by the client and prove nothing.
    """
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


def client_key(request: Request) -> str:
    """The client's address (``X-Forwarded-For`` only from ``SHOP_TRUSTED_PROXIES``)."""
    peer = request.client.host if request.client else "unknown"
    trusted: Sequence[Network] = request.app.state.trusted_proxies
    if not trusted:
        return peer
    return client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


def too_many(detail: str, wait: float) -> HTTPException:
    """A 429 telling when to come back (``Retry-After``, whole seconds, at least 1)."""
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=detail,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


async def rate_limit(request: Request) -> None:
    """Dependency: 429 with ``Retry-After`` once the client exceeded the limit."""
    limiter: Limiter = request.app.state.limiter
    wait = await limiter.hit(client_key(request))
    if wait is not None:
        detail = f"Rate limit exceeded: {limiter.limit} requests per {limiter.window:g} seconds"
        raise too_many(detail, wait)


@dataclass(frozen=True)
class LoginLimiters:
    """Brute-force limits of logging in: attempts per client address and per username.

    Every attempt counts (whether it succeeds or not), per client first: guessing many
    passwords of one account, or one password for many accounts, ends in 429.
    """

    per_username: Limiter
    per_client: Limiter

    async def check(self, request: Request, username: str) -> None:
        """Record an attempt; 429 with ``Retry-After`` once a limit is reached."""
        wait = await self.per_client.hit(client_key(request))
        if wait is not None:
            raise too_many("Too many login attempts from this address", wait)
        account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        wait = await self.per_username.hit(account)
        if wait is not None:
            raise too_many("Too many login attempts for this account", wait)
