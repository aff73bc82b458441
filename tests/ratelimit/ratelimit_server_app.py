"""The app the two-process test serves: 100 requests per minute per client, in Redis.

``RL_REDIS_URL`` and ``RL_PREFIX`` (the test's unique key prefix) come from the environment.
"""

from __future__ import annotations

import os

from hasten import FastAPI
from hasten.ratelimit import RateLimitMiddleware, RedisBackend, SlidingWindow

app = FastAPI()


@app.get("/x")
async def x() -> dict[str, int]:
    return {"pid": os.getpid()}


app.add_middleware(
    RateLimitMiddleware,
    policy=SlidingWindow(100, 60),
    backend=RedisBackend(os.environ["RL_REDIS_URL"], prefix=os.environ["RL_PREFIX"]),
    exclude={"/health"},
    headers=True,
)


@app.get("/health")
async def health() -> str:
    return "ok"
