"""The shared backend: one atomic Lua script per check in Redis (redis-py's asyncio client).

Each key is a hash with a TTL (it disappears once its counts stop mattering). The scripts run
the same arithmetic as the memory backend, on the Redis server's clock (``TIME``), so every
worker and host agrees on "now". A check is one ``EVALSHA`` round trip (redis-py loads the
script once per server, on the first ``NOSCRIPT``).

Redis unreachable or slow: a check gives up after ``timeout`` seconds (socket timeouts and an
overall deadline), the limiter applies its ``on_backend_error`` policy, one warning is logged,
and for ``retry_interval`` seconds no check waits on Redis again; the first check that gets an
answer afterwards logs that Redis is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from ._memory import Outcome
from ._policies import Policy, SlidingWindow

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("hasten.ratelimit")

# KEYS[1]: the key's hash. ARGV: limit, window (s), cost, now (s; "" = the server's TIME).
# Returns {allowed, remaining, seconds as a string} (Lua numbers would be truncated).
_WINDOW_LUA = """
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 's', 'p', 'c')
local s, p, c = tonumber(h[1]), tonumber(h[2]) or 0, tonumber(h[3]) or 0
if not s then s, p, c = now, 0, 0 end
local e = now - s
if e >= window then
  if e < 2 * window then s, p, c, e = s + window, c, 0, e - window
  else s, p, c, e = now, 0, 0, 0 end
end
local used = math.floor(p * (window - e) / window) + c
if used + cost <= limit then
  redis.call('HSET', KEYS[1], 's', string.format('%.17g', s), 'p', p, 'c', c + cost)
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((s + 2 * window - now) * 1000)))
  return {1, limit - used - cost, string.format('%.17g', window - e)}
end
local remaining = math.max(0, limit - used)
if cost > limit then return {0, remaining, string.format('%.17g', window)} end
local wait
if c + cost <= limit then
  wait = math.max(0, window - e - (limit - c - cost + 1) * window / p)
else
  wait = (window - e) + math.max(0, window - (limit - cost + 1) * window / c)
end
return {0, remaining, string.format('%.17g', wait + 1e-6)}
"""

# KEYS[1]: the key's hash. ARGV: capacity, rate (tokens/s), cost, now (s; "" = TIME).
_BUCKET_LUA = """
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local capacity, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'k', 'u')
local tokens, updated = tonumber(h[1]), tonumber(h[2])
if not tokens then tokens = capacity
else tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate) end
if tokens >= cost then
  tokens = tokens - cost
  local refill = (capacity - tokens) / rate
  redis.call('HSET', KEYS[1], 'k', string.format('%.17g', tokens), 'u', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(refill * 1000)))
  return {1, math.floor(tokens), string.format('%.17g', refill)}
end
if cost > capacity then return {0, math.floor(tokens), string.format('%.17g', capacity / rate)} end
return {0, math.floor(tokens), string.format('%.17g', (cost - tokens) / rate)}
"""


class BackendUnavailable(Exception):
    """The backend could not answer a check (the limiter applies ``on_backend_error``)."""


class RedisBackend:
    """Keeps limits in Redis, shared by every worker and host that uses the same server.

    ``redis`` is a ``redis.asyncio.Redis`` client or a URL (the backend then makes a client
    with ``timeout`` as its socket timeouts and no retries, and closes it in ``aclose()``).
    Keys are ``{prefix}{limiter name}:{key}``. ``clock`` (seconds) replaces the server's
    ``TIME``: for tests only (every process must then share the clock).
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        prefix: str = "ratelimit:",
        timeout: float = 0.5,
        retry_interval: float = 1.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(redis, str):
            from .._redis_client import redis_from_url

            self.redis = redis_from_url(redis, timeout=timeout)
            self._owned = True
        else:
            self.redis = redis
            self._owned = False
        self.prefix = prefix
        self.timeout = timeout
        self.retry_interval = retry_interval
        self._clock = clock
        from redis.exceptions import RedisError

        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
        self._scripts: dict[bool, Any] = {}
        self._down_until = float("-inf")
        self._down = False

    def store(self, policy: Policy, name: str) -> _RedisStore:
        """A store for one limiter: its keys start with ``{prefix}{name}:``."""
        window = isinstance(policy, SlidingWindow)
        script = self._scripts.get(window)
        if script is None:
            script = self._scripts[window] = self.redis.register_script(
                _WINDOW_LUA if window else _BUCKET_LUA
            )
        if isinstance(policy, SlidingWindow):
            params: tuple[float, float] = (policy.limit, policy.window)
        else:
            params = (policy.capacity, policy.rate)
        return _RedisStore(self, script, f"{self.prefix}{name}:", params)

    async def run(self, script: Any, key: str, args: list[Any]) -> Outcome:
        """Run one check; ``BackendUnavailable`` when Redis does not answer in time."""
        if self._down and time.monotonic() < self._down_until:
            raise BackendUnavailable("Redis was unreachable moments ago")
        if self._clock is not None:
            args[3] = repr(self._clock())
        try:
            with anyio.fail_after(self.timeout):
                allowed, remaining, seconds = await script(keys=[key], args=args)
        except self._errors as exc:  # refused, reset, killed, timed out
            self._went_down(exc)
            raise BackendUnavailable(str(exc)) from exc
        if self._down:
            self._down = False
            logger.info("rate limiting: Redis answers again; limits are enforced")
        return bool(allowed), int(remaining), float(seconds)

    def _went_down(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_interval
        if not self._down:
            self._down = True
            logger.warning(
                "rate limiting: Redis is unreachable (%s: %s); limiters apply their "
                "on_backend_error policy until it answers",
                type(exc).__name__,
                exc or "no answer within the timeout",
            )

    async def aclose(self) -> None:
        """Close the client if this backend made it (from a URL)."""
        if self._owned:
            await self.redis.aclose()


class _RedisStore:
    __slots__ = ("_backend", "_params", "_prefix", "_script")

    def __init__(
        self, backend: RedisBackend, script: Any, prefix: str, params: tuple[float, float]
    ) -> None:
        self._backend = backend
        self._script = script
        self._prefix = prefix
        self._params = params

    async def hit(self, key: str, cost: int = 1) -> Outcome:
        first, second = self._params
        return await self._backend.run(
            self._script, self._prefix + key, [first, repr(float(second)), cost, ""]
        )
