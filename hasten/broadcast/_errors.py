"""The errors of ``hasten.broadcast``."""

from __future__ import annotations


class BroadcastError(Exception):
    """Base class of the broadcast errors."""


class BroadcastUnavailable(BroadcastError):
    """The backend cannot be reached: raised by ``connect``, ``publish`` and ``subscribe``."""


class ConnectionLost(BroadcastError):
    """Raised by a subscription when the backend's connection broke.

    Messages published while it was down are missed. The broadcast reconnects by itself
    (with backoff); subscribe again to go on.
    """


class SlowConsumer(BroadcastError):
    """Raised by a subscription that fell ``max_queue`` messages behind (``overflow="disconnect"``).

    The subscription has already been removed and its queued messages discarded.
    """
