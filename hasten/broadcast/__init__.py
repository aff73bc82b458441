"""Publish/subscribe channels for WebSocket and SSE fan-out, in one process or across many.

``Broadcast("memory://")`` or ``Broadcast("redis://127.0.0.1:6379/0")``; connect it in the
lifespan, ``await broadcast.publish(channel, message)``, and
``async with broadcast.subscribe(channel) as sub: async for message in sub: ...``.
See docs/broadcast.md.
"""

from ._broadcast import Broadcast
from ._errors import BroadcastError, BroadcastUnavailable, ConnectionLost, SlowConsumer
from ._message import Message
from ._subscription import Overflow, Subscription

__all__ = [
    "Broadcast",
    "BroadcastError",
    "BroadcastUnavailable",
    "ConnectionLost",
    "Message",
    "Overflow",
    "SlowConsumer",
    "Subscription",
]
