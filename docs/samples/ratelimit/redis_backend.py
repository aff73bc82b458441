"""A limit shared by every worker through Redis (docs/ratelimit.md)."""

import os
import uuid
from typing import Any

from hasten import FastAPI
from hasten.ratelimit import RateLimitMiddleware, RedisBackend, SlidingWindow

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = f"docs-sample:{uuid.uuid4().hex}:"  # the docs test's own keys

# --8<-- [start:app]
app = FastAPI()
app.add_middleware(
    RateLimitMiddleware,
    policy=SlidingWindow(100, 60),
    backend=RedisBackend(REDIS_URL, prefix=PREFIX, timeout=0.5),
    on_backend_error="allow",  # Redis down: serve unlimited ("deny": 503) - logged once
)
# --8<-- [end:app]


@app.get("/")
async def home() -> str:
    return "home"


def check(client: Any) -> None:
    import pytest
    import redis

    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        probe.ping()
    except redis.RedisError:
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    try:
        answers = [client.get("/") for _ in range(101)]
        assert [a.status_code for a in answers] == [200] * 100 + [429]
        assert answers[-1].headers["ratelimit-policy"] == '"default";q=100;w=60'
        assert probe.pttl(f"{PREFIX}default:testclient") > 0  # counted in Redis, with a TTL
    finally:
        for key in probe.scan_iter(match=f"{PREFIX}*"):
            probe.delete(key)
        probe.close()
