"""The app the two-process tests serve (uvicorn) and work (``hasten worker tq_app:queue``).

Configured by the environment the fixtures set: TQ_BROKER_URL, TQ_STORE_URL, TQ_QUEUE, TQ_PREFIX.
The tasks talk to the test through Redis keys under the run's prefix: ``starts:<token>`` counts
the attempts that began, a task waits for ``gate:<token>`` before it finishes.
"""

from __future__ import annotations

import os
import time

import redis
import redis.asyncio

from hasten import BackgroundTasks, FastAPI
from hasten.taskqueue import TaskInfo, TaskQueue

STORE_URL = os.environ.get("TQ_STORE_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("TQ_PREFIX", "hasten:tq-test:")

queue = TaskQueue(
    os.environ.get("TQ_BROKER_URL") or None,
    store_url=os.environ.get("TQ_STORE_URL") or None,
    queue_name=os.environ.get("TQ_QUEUE", "hasten-tq-test"),
    key_prefix=PREFIX + "task:",
    heartbeat_interval=0.25,
    heartbeat_timeout=2.0,
    enqueue_timeout=4.0,
)


async def _gated(token: str) -> dict[str, object]:
    client = redis.asyncio.Redis.from_url(STORE_URL)
    try:
        starts = await client.incr(f"{PREFIX}starts:{token}")
        deadline = time.monotonic() + 30
        while not await client.exists(f"{PREFIX}gate:{token}"):
            if time.monotonic() > deadline:
                raise TimeoutError("the test never opened the gate")
            await _pause()
        return {"token": token, "starts": starts}
    finally:
        await client.aclose()


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


@queue.task(name="gated", retries=2, min_backoff=0.1, max_backoff=0.5)
async def gated(token: str) -> dict[str, object]:
    """Counts its start, waits for the gate, returns its start count."""
    return await _gated(token)


@queue.task(name="gated_once", retries=0, min_backoff=0.1, max_backoff=0.5)
async def gated_once(token: str) -> dict[str, object]:
    """`gated` without retries."""
    return await _gated(token)


@queue.task(name="always_fails", retries=1, min_backoff=0.1, max_backoff=0.2)
def always_fails(token: str) -> None:
    """A sync task that always raises."""
    redis.Redis.from_url(STORE_URL).incr(f"{PREFIX}starts:{token}")
    raise RuntimeError(f"boom {token}")


@queue.task(name="refuses", retries=3, min_backoff=0.1, throws=(ValueError,))
def refuses(token: str) -> None:
    """Raises an exception it ``throws``: never retried."""
    raise ValueError(f"bad input {token}")


@queue.task(name="mark", retries=0)
def mark(token: str) -> str:
    """Sets ``done:<token>``."""
    redis.Redis.from_url(STORE_URL).set(f"{PREFIX}done:{token}", "1")
    return token


TASKS = {task.name: task for task in queue.tasks.values()}

app = FastAPI()
app.include_router(queue.router())


@app.post("/jobs/{name}", status_code=202)
async def send(name: str, token: str) -> TaskInfo:
    return await TASKS[name].enqueue(token)


@app.post("/later/{name}")
async def later(name: str, token: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(TASKS[name], token)
    return {"status": "accepted"}
