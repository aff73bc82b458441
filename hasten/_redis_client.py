"""redis-py asyncio clients as Hasten's parts make them (rate limits, broadcast): one place for
the timeouts and the retry policy of a client built from a URL."""

from __future__ import annotations

from typing import Any


def redis_from_url(url: str, *, timeout: float, retries: int = 0, **options: Any) -> Any:
    """A ``redis.asyncio.Redis`` for ``url`` whose connects and reads give up after
    ``timeout`` seconds, retrying a failed command ``retries`` times (short exponential backoff:
    50 ms doubling, at most 0.5 s; none when ``retries`` is 0). ``options`` go to ``from_url``."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff, NoBackoff

    backoff = ExponentialBackoff(cap=0.5, base=0.05) if retries else NoBackoff()
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(backoff, retries),
        **options,
    )
