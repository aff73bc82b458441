"""The shop's rate limits: configuration of ``hasten.ratelimit`` from the settings.

Every API router depends on ``rate_limit`` (requests per client per window); logging in also
counts attempts per client and per username (``LoginLimiters``). The limiters are built at
startup: in memory, or in Redis (shared by every worker) when ``REDIS_URL`` is set. Client
addresses come from ``X-Forwarded-For`` only behind ``SHOP_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from hasten import Request, Response
from hasten.ratelimit import Limiter, MemoryBackend, RedisBackend, SlidingWindow, by_client

from .settings import Settings


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
        await self.per_client.enforce(request, detail="Too many login attempts from this address")
        account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        await self.per_username.enforce(
            request, key=account, detail="Too many login attempts for this account"
        )


def make_limiters(settings: Settings, redis: Redis | None) -> tuple[Limiter, LoginLimiters]:
    """The request limiter and the login limiters, in Redis when there is one."""
    backend: MemoryBackend | RedisBackend
    if redis is not None:
        backend = RedisBackend(redis, prefix=f"{settings.redis_prefix}ratelimit:")
    else:
        backend = MemoryBackend(max_keys=settings.rate_limit_max_keys)
    key = by_client(settings.trusted_proxies)
    window = settings.login_window_seconds
    requests = Limiter(
        SlidingWindow(settings.rate_limit_per_minute, settings.rate_limit_window_seconds),
        key=key,
        backend=backend,
        name="requests",
    )
    login = LoginLimiters(
        per_username=Limiter(
            SlidingWindow(settings.login_attempts_per_username, window),
            key=key,
            backend=backend,
            name="login-user",
        ),
        per_client=Limiter(
            SlidingWindow(settings.login_attempts_per_client, window),
            key=key,
            backend=backend,
            name="login-client",
        ),
    )
    return requests, login


async def rate_limit(request: Request, response: Response) -> None:
    """Dependency: 429 with ``Retry-After`` and the ``RateLimit``/``RateLimit-Policy``
    headers once the client exceeded the limit (allowed answers carry none: the default)."""
    limiter: Limiter = request.app.state.limiter
    await limiter.enforce(request, response)
