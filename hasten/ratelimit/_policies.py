"""The two algorithms: their parameters, and their arithmetic on one key's state.

Both the memory and the Redis backend run exactly this arithmetic (the Redis one as Lua), so a
limit means the same thing whichever backend keeps it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SlidingWindow:
    """At most ``limit`` requests per ``window`` seconds, counted by a sliding-window counter.

    The approximate two-window counter: each key keeps the count of its current window and of
    the previous one (windows start at the key's first request). A request is accepted while
    ``floor(previous * (1 - elapsed / window)) + current + cost <= limit``: the previous
    window's count weighs less as the current one goes on. O(1) memory per key; exact within
    a key's first window, and never more than ``limit`` plus the rounding of the previous
    window's share over any ``window`` seconds.
    """

    limit: int
    window: float

    def __post_init__(self) -> None:
        if type(self.limit) is not int or self.limit < 1:
            raise ValueError("SlidingWindow limit must be a positive integer")
        if not self.window > 0:
            raise ValueError("SlidingWindow window must be a positive number of seconds")

    @property
    def quota(self) -> int:
        """The requests one key may make (``q`` of ``RateLimit-Policy``)."""
        return self.limit

    @property
    def period(self) -> float:
        """The seconds the quota is for (``w`` of ``RateLimit-Policy``)."""
        return self.window

    def describe(self) -> str:
        return f"{_requests(self.limit)} per {self.window:g} seconds"


@dataclass(frozen=True)
class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second.

    A request takes ``cost`` tokens (1 by default) and is refused while the bucket holds fewer:
    bursts up to ``capacity``, then ``rate`` requests per second on average.
    """

    capacity: int
    rate: float

    def __post_init__(self) -> None:
        if type(self.capacity) is not int or self.capacity < 1:
            raise ValueError("TokenBucket capacity must be a positive integer")
        if not self.rate > 0:
            raise ValueError("TokenBucket rate must be a positive number of tokens per second")

    @property
    def quota(self) -> int:
        return self.capacity

    @property
    def period(self) -> float:
        """Seconds an empty bucket takes to fill."""
        return self.capacity / self.rate

    def describe(self) -> str:
        return f"{_requests(self.capacity)}, refilled at {self.rate:g} per second"


Policy = SlidingWindow | TokenBucket


def _requests(count: int) -> str:
    return "1 request" if count == 1 else f"{count} requests"


#: Added to a sliding window's wait: at the computed instant itself the rounded share is still
#: too large, a moment later it is not.
WINDOW_EPSILON = 1e-6


def window_wait(
    limit: int, window: float, prev: int, curr: int, elapsed: float, cost: int
) -> float:
    """Seconds until a refused sliding-window request of ``cost`` would be accepted."""
    if curr + cost <= limit:  # the previous window's share must shrink below the room left
        room = limit - curr - cost
        return max(0.0, window - elapsed - (room + 1) * window / prev) + WINDOW_EPSILON
    room = limit - cost  # wait for this window to become the previous one, then for its share
    return (window - elapsed) + max(0.0, window - (room + 1) * window / curr) + WINDOW_EPSILON


def reset_seconds(seconds: float) -> int:
    """Whole seconds for the ``t`` parameter of ``RateLimit`` (rounded up)."""
    return max(0, math.ceil(seconds - 1e-9))


def retry_seconds(seconds: float) -> int:
    """Whole seconds for ``Retry-After`` (rounded up, at least 1)."""
    return max(1, math.ceil(seconds - 1e-9))
