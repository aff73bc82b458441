"""Rate limiting: sliding-window and token-bucket limits per route, router or app.

- ``RateLimit(policy, ...)``: a dependency for ``dependencies=[...]`` of a route, a router or
  the app (``Limiter(...)`` is the object behind it, usable directly).
- ``RateLimitMiddleware``: one limit for every request, before routing (pure ASGI).
- Policies: ``SlidingWindow(limit, window)`` (approximate two-window counter) and
  ``TokenBucket(capacity, rate)``.
- Keys: ``by_client(trusted_proxies=...)`` (the default), ``by_header("X-API-Key")``,
  ``by_user(get_current_user)``, or any function of the request.
- Backends: ``MemoryBackend()`` (per process, the default) and ``RedisBackend(url_or_client)``
  (shared by every worker; one Lua round trip per check).

Refusals are ``HTTPException(429)`` with ``Retry-After`` and the ``RateLimit`` /
``RateLimit-Policy`` headers of draft-ietf-httpapi-ratelimit-headers-09.
"""

from ._keys import by_client, by_header, by_user, forwarded_client, parse_networks
from ._limiter import Decision, Limiter, RateLimit
from ._memory import MemoryBackend
from ._middleware import RateLimitMiddleware
from ._policies import SlidingWindow, TokenBucket
from ._redis import BackendUnavailable, RedisBackend

__all__ = [
    "BackendUnavailable",
    "Decision",
    "Limiter",
    "MemoryBackend",
    "RateLimit",
    "RateLimitMiddleware",
    "RedisBackend",
    "SlidingWindow",
    "TokenBucket",
    "by_client",
    "by_header",
    "by_user",
    "forwarded_client",
    "parse_networks",
]
