"""Broadcast over Redis: every worker's subscribers, and what happens when Redis goes (docs/broadcast.md)."""

import os
import uuid

import anyio

from hasten.broadcast import Broadcast, BroadcastUnavailable

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# --8<-- [start:settings]
broadcast = Broadcast(
    REDIS_URL,
    max_queue=1000,  # messages a subscriber may fall behind…
    overflow="disconnect",  # …before it gets SlowConsumer ("drop_oldest": lose the oldest)
    timeout=5.0,  # connecting, and every publish, within this
    health_check_interval=15.0,  # a quiet connection is pinged; no answer in 15 s more: lost
    reconnect_delay=0.1,  # after a loss: 0.1 s, 0.2 s, 0.4 s… between attempts
    reconnect_max_delay=5.0,
    reconnect_attempts=None,  # None: keep trying; a number: give up after that many
)
# --8<-- [end:settings]


def _need_redis() -> None:
    import pytest
    import redis

    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        probe.ping()
    except redis.RedisError:
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    finally:
        probe.close()


def test_two_workers_share_a_channel() -> None:
    _need_redis()
    channel = f"docs-sample:{uuid.uuid4().hex}"  # a channel of this test's own

    # --8<-- [start:workers]
    async def two_workers() -> None:
        # Two Broadcasts on one Redis: as two worker processes would be.
        async with Broadcast(REDIS_URL) as worker_a, Broadcast(REDIS_URL) as worker_b:
            async with worker_b.subscribe(channel) as subscription:
                await worker_a.publish(channel, "from worker A")
                message = await anext(subscription)
                assert (message.channel, message.text) == (channel, "from worker A")

    # --8<-- [end:workers]
    anyio.run(two_workers)


def test_an_unreachable_redis_fails_at_startup() -> None:
    # --8<-- [start:unreachable]
    async def start() -> None:
        unreachable = Broadcast("redis://127.0.0.1:1/0", timeout=1.0)
        try:
            await unreachable.connect()  # what the lifespan does: the app does not start
        except BroadcastUnavailable as exc:
            assert "cannot reach Redis" in str(exc)
        else:
            raise AssertionError("connected to nothing")

    # --8<-- [end:unreachable]
    anyio.run(start)
