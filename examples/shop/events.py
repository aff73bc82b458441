"""Live updates on ``hasten.broadcast``: numbered order events (SSE) and a chat room per order.

The broadcast is ``memory://`` by default (one process, ``./scripts/serve`` needs nothing);
with ``SHOP_BROADCAST_URL`` (or else ``SHOP_REDIS_URL``) it is Redis pub/sub, and events and
chat messages reach the clients of every worker and host. Event ids and the short history
that ``Last-Event-ID`` replays live in Redis too then, so every worker numbers and replays
the same events.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hasten.broadcast import Broadcast, BroadcastError, BroadcastUnavailable, Subscription

logger = logging.getLogger("examples.shop")

HISTORY = 1000
"""Events kept for ``Last-Event-ID`` replays."""


@dataclass(frozen=True)
class OrderEvent:
    id: int
    type: str
    order_id: int
    user_id: int
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> OrderEvent:
        return cls(**json.loads(raw))


class EventLog(Protocol):
    """Where event ids come from and the recent events are kept."""

    async def next_id(self) -> int: ...

    async def record(self, event: OrderEvent) -> None: ...

    async def after(self, event_id: int) -> list[OrderEvent]: ...


class MemoryEventLog:
    """Ids and history of one process."""

    def __init__(self, history: int = HISTORY) -> None:
        self._last_id = 0
        self._history: deque[OrderEvent] = deque(maxlen=history)

    async def next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    async def record(self, event: OrderEvent) -> None:
        self._history.append(event)

    async def after(self, event_id: int) -> list[OrderEvent]:
        return [event for event in self._history if event.id > event_id]


class RedisEventLog:
    """Ids from ``INCR``, history in a sorted set scored by id: shared by every worker."""

    def __init__(self, redis: Redis, prefix: str, history: int = HISTORY) -> None:
        self._redis = redis
        self._id_key = f"{prefix}order-events:id"
        self._history_key = f"{prefix}order-events:history"
        self._history = history

    async def next_id(self) -> int:
        return int(await self._redis.incr(self._id_key))

    async def record(self, event: OrderEvent) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._history_key, {event.to_json(): event.id})
            pipe.zremrangebyrank(self._history_key, 0, -self._history - 1)
            await pipe.execute()

    async def after(self, event_id: int) -> list[OrderEvent]:
        found = await self._redis.zrangebyscore(self._history_key, f"({event_id}", "+inf")
        return [OrderEvent.from_json(raw) for raw in found]  # type: ignore[arg-type]


class EventBus:
    """Order events: numbered, kept for replays, and broadcast to every live stream."""

    def __init__(self, broadcast: Broadcast, log: EventLog, channel: str) -> None:
        self._broadcast = broadcast
        self._log = log
        self._channel = channel

    async def publish(
        self, type: str, order_id: int, user_id: int, data: dict[str, Any]
    ) -> OrderEvent | None:
        """Number, record and broadcast an event; ``None`` (logged) if the broadcast is down.

        The order it reports is already committed: a lost event is not worth a 500.
        """
        try:
            event = OrderEvent(await self._log.next_id(), type, order_id, user_id, data)
            await self._log.record(event)
            await self._broadcast.publish(self._channel, event.to_json())
        except (BroadcastError, RedisError, OSError) as exc:
            logger.warning("order event %s of order %s not broadcast: %s", type, order_id, exc)
            return None
        return event

    @property
    def subscriber_count(self) -> int:
        """Live event streams in this process."""
        return self._broadcast.subscriber_count(self._channel)

    @asynccontextmanager
    async def subscribe(self, after: int | None = None) -> AsyncIterator[AsyncIterator[OrderEvent]]:
        """Events published from now on, preceded by the recorded ones after event ``after``.

        Raises `hasten.broadcast.BroadcastError` when the broadcast is (or goes) down.
        """
        async with self._broadcast.subscribe(self._channel) as subscription:
            try:
                backlog = await self._log.after(after) if after is not None else []
            except (RedisError, OSError) as exc:
                raise BroadcastUnavailable(f"the event history cannot be read: {exc}") from exc
            yield _events(backlog, subscription)


async def _events(
    backlog: list[OrderEvent], subscription: Subscription
) -> AsyncIterator[OrderEvent]:
    replayed = {event.id for event in backlog}
    for event in backlog:
        yield event
    async for message in subscription:
        event = OrderEvent.from_json(message.data)
        if event.id not in replayed:  # subscribed before reading the backlog: seen twice
            yield event


class ChatRooms:
    """A chat room per order: a broadcast channel each, so its members may be on any worker."""

    def __init__(self, broadcast: Broadcast, prefix: str) -> None:
        self._broadcast = broadcast
        self._prefix = prefix

    def _channel(self, order_id: int) -> str:
        return f"{self._prefix}{order_id}"

    async def say(self, order_id: int, message: dict[str, Any]) -> None:
        """Send ``message`` to every member of the room (wherever connected)."""
        await self._broadcast.publish(self._channel(order_id), message)

    @asynccontextmanager
    async def join(self, order_id: int, username: str) -> AsyncIterator[Subscription]:
        """Be in the room: its messages (JSON text) from entry to exit, with join/leave notices.

        The leave notice is sent even when the member's task is being cancelled (bounded
        to two seconds).
        """
        joined = False
        try:
            async with self._broadcast.subscribe(self._channel(order_id)) as room:
                joined = True
                await self.say(order_id, {"type": "join", "user": username})
                yield room
        finally:
            if joined:
                with (
                    anyio.CancelScope(shield=True),
                    anyio.move_on_after(2),
                    suppress(BroadcastError),
                ):
                    await self.say(order_id, {"type": "leave", "user": username})


def broadcast_url(redis_url: str | None, configured: str | None) -> str:
    """``SHOP_BROADCAST_URL``, else the shop's Redis, else one process's memory."""
    return configured or redis_url or "memory://"


@asynccontextmanager
async def live_updates(url: str, prefix: str) -> AsyncIterator[tuple[EventBus, ChatRooms]]:
    """Connect the broadcast (and the Redis event log) for the app's life."""
    broadcast = Broadcast(url)
    async with broadcast:
        if url.startswith("memory:"):
            yield (
                EventBus(broadcast, MemoryEventLog(), f"{prefix}order-events"),
                ChatRooms(broadcast, f"{prefix}chat:"),
            )
            return
        redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            log = RedisEventLog(redis, prefix)
            yield (
                EventBus(broadcast, log, f"{prefix}order-events"),
                ChatRooms(broadcast, f"{prefix}chat:"),
            )
        finally:
            await redis.aclose()
