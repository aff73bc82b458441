"""A subscriber's end of a channel: a bounded queue read with ``async for``."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Literal

from ._errors import SlowConsumer
from ._hub import Hub
from ._message import Message

Overflow = Literal["disconnect", "drop_oldest"]
"""What a full subscriber queue does with one more message: end the subscription with
``SlowConsumer`` (``"disconnect"``) or forget its oldest message (``"drop_oldest"``)."""


class Subscription:
    """Messages of one channel, in publishing order, from ``async with`` enter to exit.

    ``async for message in subscription`` yields `Message` objects; it stops when the
    broadcast disconnects, and raises `ConnectionLost` or `SlowConsumer` when the
    subscription ends for those reasons. Leaving the ``async with`` block (normally, by an
    error or by cancellation) unsubscribes at once, without awaiting anything.
    """

    __slots__ = (
        "_broadcast",
        "_closed",
        "_entered",
        "_error",
        "_loop",
        "_queue",
        "_waiter",
        "channel",
        "dropped",
        "max_queue",
        "overflow",
    )

    def __init__(self, broadcast: Hub, channel: str, max_queue: int, overflow: Overflow) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if overflow not in ("disconnect", "drop_oldest"):
            raise ValueError(f"overflow must be 'disconnect' or 'drop_oldest', not {overflow!r}")
        self.channel = channel
        self.max_queue = max_queue
        self.overflow: Overflow = overflow
        self.dropped = 0
        """How many messages ``overflow="drop_oldest"`` has discarded."""
        self._broadcast = broadcast
        self._queue: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._entered = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Subscription:
        if self._entered:
            raise RuntimeError("a subscription can be entered only once")
        self._entered = True
        self._loop = asyncio.get_running_loop()
        await self._broadcast._join(self)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._close(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        queue = self._queue
        while not queue:
            if self._error is not None:
                raise self._error
            if self._closed:
                raise StopAsyncIteration
            if self._loop is None:
                raise RuntimeError("use the subscription inside 'async with'")
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return queue.popleft()

    @property
    def pending(self) -> int:
        """Messages received and not read yet."""
        return len(self._queue)

    def _put(self, message: Message) -> None:
        queue = self._queue
        if len(queue) >= self.max_queue:
            if self.overflow == "drop_oldest":
                queue.popleft()
                self.dropped += 1
            else:
                queue.clear()
                error = SlowConsumer(
                    f"the subscriber of {self.channel!r} fell {self.max_queue} messages behind"
                )
                self._close(error)
                return
        queue.append(message)
        self._wake()

    def _close(self, error: BaseException | None) -> None:
        """End the subscription: unsubscribed now; ``error`` is raised once the queue is read."""
        if not self._closed:
            self._closed = True
            self._error = error
            self._broadcast._leave(self)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
