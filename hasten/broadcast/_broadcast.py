"""`Broadcast`: publish/subscribe channels over a memory or Redis backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

from ._errors import BroadcastUnavailable, ConnectionLost
from ._memory import MemoryBackend
from ._message import Message, encode
from ._subscription import Overflow, Subscription


class _Backend(Protocol):
    @property
    def available(self) -> bool: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def publish(self, channel: str, data: bytes) -> None: ...

    async def watch(self, channel: str) -> None: ...

    def unwatch(self, channel: str) -> None: ...


class Broadcast:
    """Publish/subscribe channels for WebSocket and SSE fan-out.

    ``Broadcast("memory://")`` reaches the subscribers of this process;
    ``Broadcast("redis://host:6379/0")`` those of every process on that Redis, through one
    pub/sub connection per process (a channel is subscribed on Redis while this process has
    a subscriber for it). Connect it in the app's lifespan (``async with broadcast:`` or
    ``Hasten(lifespan=broadcast.lifespan)``); it is bound to the event loop it connected in.

    Every subscriber has its own queue of at most ``max_queue`` messages; ``overflow`` says
    what happens when it is full: ``"disconnect"`` (the default) ends that subscription with
    `SlowConsumer`, ``"drop_oldest"`` forgets its oldest message (counted in ``dropped``).

    Redis only: ``timeout`` bounds connecting and every command; a pub/sub connection quiet
    for ``health_check_interval`` seconds is pinged, and declared lost when the PING is not
    answered within another interval. When the connection is lost every subscription raises
    `ConnectionLost`, and the broadcast reconnects in the background, waiting
    ``reconnect_delay`` seconds, doubled after each failure up to ``reconnect_max_delay``;
    after ``reconnect_attempts`` failures (``None``: never) it gives up. Until reconnected,
    ``subscribe`` and ``publish`` raise `BroadcastUnavailable` at once.
    """

    def __init__(
        self,
        url: str = "memory://",
        *,
        max_queue: int = 1000,
        overflow: Overflow = "disconnect",
        timeout: float = 5.0,
        health_check_interval: float = 15.0,
        reconnect_delay: float = 0.1,
        reconnect_max_delay: float = 5.0,
        reconnect_attempts: int | None = None,
    ) -> None:
        self.url = url
        self.max_queue = max_queue
        self.overflow: Overflow = overflow
        Subscription(self, "", max_queue, overflow)  # validates both now
        self._channels: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = False
        scheme = urlsplit(url).scheme
        self._backend: _Backend
        if scheme == "memory":
            self._backend = MemoryBackend(self)
        elif scheme in ("redis", "rediss", "unix"):
            from ._redis import RedisBackend

            self._backend = RedisBackend(
                self,
                url,
                timeout=timeout,
                health_check_interval=health_check_interval,
                reconnect_delay=reconnect_delay,
                reconnect_max_delay=reconnect_max_delay,
                reconnect_attempts=reconnect_attempts,
            )
        else:
            raise ValueError(f"unknown broadcast backend {scheme!r}: use memory:// or redis://")

    def __repr__(self) -> str:
        return f"Broadcast({_safe_url(self.url)!r})"

    # --- lifetime ---------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the backend; `BroadcastUnavailable` (within ``timeout``) if it cannot be reached."""
        if self._connected:
            raise RuntimeError(f"{self!r} is already connected")
        self._loop = asyncio.get_running_loop()
        await self._backend.connect()
        self._connected = True

    async def disconnect(self) -> None:
        """End every subscription (their iteration stops) and close the backend."""
        if not self._connected:
            return
        self._connected = False
        self._end_all(None)
        await self._backend.disconnect()

    async def __aenter__(self) -> Broadcast:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    @asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """A lifespan (``Hasten(lifespan=broadcast.lifespan)``) connecting it for the app's life."""
        async with self:
            yield

    def __call__(self) -> Broadcast:
        """``Depends(broadcast)`` injects it (and ``dependency_overrides[broadcast]`` replaces it)."""
        return self

    @property
    def is_connected(self) -> bool:
        """Connected and, for Redis, its pub/sub connection up (``False`` while reconnecting)."""
        return self._connected and self._backend.available

    # --- publish / subscribe ----------------------------------------------------------

    async def publish(self, channel: str, message: Any) -> None:
        """Send ``message`` (``bytes``, ``str`` as UTF-8, or JSON) to the channel's subscribers.

        Redis: `BroadcastUnavailable` if Redis does not take it within ``timeout``.
        """
        data = encode(message)
        self._check_open()
        await self._backend.publish(channel, data)

    def subscribe(
        self, channel: str, *, max_queue: int | None = None, overflow: Overflow | None = None
    ) -> Subscription:
        """``async with broadcast.subscribe(channel) as sub: async for message in sub: ...``

        Entering returns once the subscription is live (Redis: confirmed by the server), so
        a message published after that reaches it. ``max_queue`` and ``overflow`` default to
        the broadcast's.
        """
        return Subscription(
            self,
            channel,
            self.max_queue if max_queue is None else max_queue,
            self.overflow if overflow is None else overflow,
        )

    def subscriber_count(self, channel: str | None = None) -> int:
        """Live subscriptions in this process, of ``channel`` or of all channels."""
        if channel is not None:
            return len(self._channels.get(channel, ()))
        return sum(len(subs) for subs in self._channels.values())

    @property
    def channels(self) -> frozenset[str]:
        """The channels this process has subscribers for."""
        return frozenset(self._channels)

    # --- used by subscriptions and backends -------------------------------------------

    def _check_open(self) -> None:
        if not self._connected:
            raise BroadcastUnavailable(f"{self!r} is not connected")
        if self._loop is not asyncio.get_running_loop():
            raise RuntimeError(f"{self!r} is used from another event loop than its own")
        if not self._backend.available:
            raise BroadcastUnavailable(f"{self!r} is reconnecting")

    async def _join(self, subscription: Subscription) -> None:
        self._check_open()
        channel = subscription.channel
        subs = self._channels.get(channel)
        if subs is None:
            subs = self._channels[channel] = set()
        subs.add(subscription)
        try:
            await self._backend.watch(channel)
        except BaseException:
            subscription._close(None)
            raise

    def _leave(self, subscription: Subscription) -> None:
        channel = subscription.channel
        subs = self._channels.get(channel)
        if subs is None or subscription not in subs:
            return
        subs.discard(subscription)
        if not subs:
            del self._channels[channel]
            self._backend.unwatch(channel)

    def _deliver(self, channel: str, data: bytes) -> None:
        subs = self._channels.get(channel)
        if subs:
            message = Message(channel, data)
            for subscription in tuple(subs):
                subscription._put(message)

    def _connection_lost(self, reason: BaseException) -> None:
        self._end_all(f"{self!r} lost its connection: {reason}")

    def _end_all(self, lost: str | None) -> None:
        for subs in tuple(self._channels.values()):
            for subscription in tuple(subs):
                subscription._close(None if lost is None else ConnectionLost(lost))
        self._channels.clear()


def _safe_url(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{netloc}").geturl()
