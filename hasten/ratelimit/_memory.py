"""The per-process backend: one ordered dict per limiter, idle keys expired in O(1) amortised.

Each key's state is a small list whose last item is the time it stops mattering (its counts
have all left the window, or its bucket is full again). Keys are kept in the order that time was
last pushed back (a sliding window's when its window rolls over, a bucket's on every hit), so
the idle ones gather at the front: a check looks at the front only when the earliest known
expiry has passed, forgets what has expired there, and stops at the first live key. A key is
forgotten once; no check scans every key. Beyond ``max_keys`` the key at the front (the oldest
window, the least recently hit bucket) is forgotten, so memory is bounded whatever the number
of clients.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ._policies import Policy, SlidingWindow, TokenBucket, window_wait

#: (allowed, remaining, seconds): seconds until the quota resets when allowed, until a retry
#: can succeed when refused.
Outcome = tuple[bool, int, float]
#: What ``hit(..., detail=False)`` answers for an allowed request: counted, its remaining
#: quota and seconds not worked out (the caller only asks whether it may pass).
COUNTED: Outcome = (True, 0, 0.0)


class MemoryBackend:
    """Keeps limits in this process's memory (each worker process counts on its own).

    ``max_keys`` bounds the keys kept per limiter; ``clock`` (monotonic seconds) can be
    replaced in tests.
    """

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.clock = clock

    def store(self, policy: Policy, name: str) -> _WindowStore | _BucketStore:
        """A fresh store for one limiter (``name`` is unused: each store has its own keys)."""
        if isinstance(policy, SlidingWindow):
            return _WindowStore(policy, self.max_keys, self.clock)
        return _BucketStore(policy, self.max_keys, self.clock)


class _Store:
    __slots__ = ("_clock", "_entries", "_max_keys", "_sweep_at")

    def __init__(self, max_keys: int, clock: Callable[[], float]) -> None:
        self._entries: OrderedDict[str, list[Any]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock
        self._sweep_at = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)

    def _sweep(self, now: float) -> None:
        """Forget the expired keys at the front; remember when the first live one expires."""
        entries = self._entries
        while entries:
            first = entries[next(iter(entries))]
            if first[-1] > now:
                self._sweep_at = first[-1]
                return
            entries.popitem(last=False)
        self._sweep_at = float("inf")

    def _insert(self, key: str, entry: list[Any]) -> None:
        entries = self._entries
        entries[key] = entry
        if len(entries) == 1:
            self._sweep_at = entry[-1]
        elif len(entries) > self._max_keys:
            entries.popitem(last=False)


class _WindowStore(_Store):
    """Sliding-window counter: ``[start, previous, current, expires]`` per key.

    A key's expiry only changes when its window rolls over, so the key moves to the back of
    the table then (not on every hit): the table stays ordered by window start, and so by
    expiry, and an allowed hit within the window only reads and writes its own entry.
    """

    __slots__ = ("_limit", "_window")

    def __init__(self, policy: SlidingWindow, max_keys: int, clock: Callable[[], float]) -> None:
        super().__init__(max_keys, clock)
        self._limit = policy.limit
        self._window = policy.window

    def hit(self, key: str, cost: int = 1, detail: bool = True) -> Outcome:
        """Count ``cost`` for ``key`` if the quota allows it (``detail=False``: ``COUNTED``
        when it does)."""
        # The clock read from its slot, then called, and the entry looked up by subscript: a
        # method call on either (``self._clock()``, ``entries.get``) takes CPython's generic
        # method lookup on every request (about 0.4k instructions of the limiter's 4k).
        clock = self._clock
        now = clock()
        if now >= self._sweep_at:
            self._sweep(now)
        try:
            entry = self._entries[key]
        except KeyError:  # a new key (or one forgotten): about 0.1 µs more than ``get``
            return self._first(key, now, cost)
        start, prev, curr, _ = entry
        window = self._window
        elapsed = now - start
        if elapsed >= window:
            elapsed = self._roll(key, entry, now, elapsed)
            _, prev, curr, _ = entry
        used = int(prev * (window - elapsed) / window) + curr if prev else curr
        limit = self._limit
        if used + cost <= limit:
            entry[2] = curr + cost
            return (True, limit - used - cost, window - elapsed) if detail else COUNTED
        if cost > limit:
            return False, max(0, limit - used), window
        wait = window_wait(limit, window, int(prev), int(curr), elapsed, cost)
        return False, max(0, limit - used), wait

    def _first(self, key: str, now: float, cost: int) -> Outcome:
        limit, window = self._limit, self._window
        if cost > limit:
            return False, limit, window
        self._insert(key, [now, 0, cost, now + 2 * window])
        return True, limit - cost, window

    def _roll(self, key: str, entry: list[Any], now: float, elapsed: float) -> float:
        """Start the key's next window (or a fresh one after a whole idle window); the key
        goes to the back of the table, whose order is the windows' start. The new elapsed."""
        window = self._window
        start = entry[0]
        if elapsed < 2 * window:
            start, prev, curr, elapsed = start + window, entry[2], 0, elapsed - window
        else:
            start, prev, curr, elapsed = now, 0, 0, 0.0
        entry[:] = start, prev, curr, start + 2 * window
        self._entries.move_to_end(key)
        return elapsed


class _BucketStore(_Store):
    """Token bucket: ``[tokens, updated, full_at]`` per key."""

    __slots__ = ("_capacity", "_rate")

    def __init__(self, policy: TokenBucket, max_keys: int, clock: Callable[[], float]) -> None:
        super().__init__(max_keys, clock)
        self._capacity = policy.capacity
        self._rate = policy.rate

    def hit(self, key: str, cost: int = 1, detail: bool = True) -> Outcome:
        """Take ``cost`` tokens for ``key`` if there are enough (``detail=False``:
        ``COUNTED`` when there are)."""
        clock = self._clock  # as in ``_WindowStore.hit``: no generic method lookups
        now = clock()
        if now >= self._sweep_at:
            self._sweep(now)
        capacity, rate = self._capacity, self._rate
        entries = self._entries
        try:
            entry = entries[key]
        except KeyError:
            entry = None
        if entry is None:
            tokens = float(capacity)
        else:
            entries.move_to_end(key)
            elapsed = now - entry[1]
            tokens = entry[0] + elapsed * rate if elapsed > 0 else entry[0]
            if tokens > capacity:
                tokens = float(capacity)
        if tokens >= cost:
            tokens -= cost
            refill = (capacity - tokens) / rate
            if entry is None:
                self._insert(key, [tokens, now, now + refill])
            else:
                entry[0] = tokens
                entry[1] = now
                entry[2] = now + refill
            return (True, int(tokens), refill) if detail else COUNTED
        if cost > capacity:
            return False, int(tokens), capacity / rate
        return False, int(tokens), (cost - tokens) / rate
