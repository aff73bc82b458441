"""The algorithms' semantics on an injected clock (no sleeps), the same on both backends.

The memory backend and the Redis backend (real Redis, the scripts given the same clock) must
answer every step identically: one arithmetic, two implementations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from conftest import REDIS_URL, Clock

from hasten.ratelimit import (
    Decision,
    Limiter,
    MemoryBackend,
    RedisBackend,
    SlidingWindow,
    TokenBucket,
)

# A step: ("hit", expected allowed, expected remaining, expected seconds) or ("at", time).
Step = tuple[Any, ...]


def _run(backend_kind: str, clock: Clock, prefix: str, policy: Any, steps: list[Step]) -> None:
    async def run() -> None:
        if backend_kind == "memory":
            backend: Any = MemoryBackend(clock=clock)
        else:
            backend = RedisBackend(REDIS_URL, prefix=prefix, clock=clock)
        limiter = Limiter(policy, backend=backend)
        try:
            for number, step in enumerate(steps):
                if step[0] == "at":
                    clock.now = 1000.0 + step[1]
                    continue
                _, allowed, remaining, seconds = step
                got = await limiter.hit("client")
                expected = Decision(allowed, remaining, pytest.approx(seconds, abs=1e-5))
                assert got == expected, f"step {number} at t={clock.now - 1000:g}"
        finally:
            if isinstance(backend, RedisBackend):
                await backend.aclose()

    asyncio.run(run())


@pytest.fixture(params=["memory", "redis"])
def run_steps(request: pytest.FixtureRequest, clock: Clock) -> Callable[[Any, list[Step]], None]:
    prefix = ""
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
    return lambda policy, steps: _run(request.param, clock, prefix, policy, steps)


def test_sliding_window_counts_exactly_within_the_first_window(run_steps: Any) -> None:
    """``limit`` requests from the key's first request on, then refusals that say how long
    to wait: the whole window here (the 3 requests keep their full weight until it ends)."""
    run_steps(
        SlidingWindow(3, 10),
        [
            ("at", 0.0),
            ("hit", True, 2, 10.0),
            ("hit", True, 1, 10.0),
            ("at", 4.0),
            ("hit", True, 0, 6.0),
            ("hit", False, 0, 6.0),  # (10 - 4) + the previous window's share: nothing left
            ("at", 9.999),
            ("hit", False, 0, 0.001),
        ],
    )


def test_sliding_window_slides_across_the_boundary(run_steps: Any) -> None:
    """No double burst at a window boundary: the previous window's requests still count,
    weighted by how much of it still overlaps the last ``window`` seconds."""
    run_steps(
        SlidingWindow(4, 10),
        [
            ("at", 0.0),
            ("hit", True, 3, 10.0),
            ("at", 9.9),
            ("hit", True, 2, 0.1),
            ("hit", True, 1, 0.1),
            ("hit", True, 0, 0.1),
            # From the boundary on, floor(4 * share) = 3 (share < 1) leaves one place.
            ("hit", False, 0, 0.1),
            # A fixed window would allow 4 again here; floor(4 * 0.99) = 3 still count.
            ("at", 10.1),
            ("hit", True, 0, 9.9),
            ("hit", False, 0, 10 - 0.1 - 3 * 10 / 4),  # until floor(4 * share) = 2
            ("at", 15.0),  # share 0.5: floor(2.0) + 1 = 3 used
            ("hit", True, 0, 5.0),
            ("hit", False, 0, 0.0),  # any moment later floor(4 * share) = 1: one place
            # Two windows after the last window start with hits: everything is forgotten.
            ("at", 30.0),
            ("hit", True, 3, 10.0),
        ],
    )


def test_sliding_window_wait_is_when_a_request_is_accepted_again(run_steps: Any) -> None:
    """The refusal's wait is exact: just before it, refused; just after, accepted."""
    wait = 10 - 0.5 - 2 * 10 / 3  # prev 3 weighted by (10 - e)/10 must fall below 2
    run_steps(
        SlidingWindow(3, 10),
        [
            ("at", 0.0),
            ("hit", True, 2, 10.0),
            ("hit", True, 1, 10.0),
            ("hit", True, 0, 10.0),
            ("at", 10.5),
            ("hit", True, 0, 9.5),  # floor(3 * 0.95) = 2 used, one place
            ("hit", False, 0, wait),
            ("at", 10.5 + wait - 0.01),
            ("hit", False, 0, 0.01),
            ("at", 10.5 + wait + 0.01),
            ("hit", True, 0, 10 - 0.5 - wait - 0.01),
        ],
    )


def test_token_bucket_bursts_then_refills_at_its_rate(run_steps: Any) -> None:
    """``capacity`` at once, then one token every ``1 / rate`` seconds; never above capacity."""
    run_steps(
        TokenBucket(3, 0.5),
        [
            ("at", 0.0),
            ("hit", True, 2, 2.0),  # seconds: until the bucket is full again
            ("hit", True, 1, 4.0),
            ("hit", True, 0, 6.0),
            ("hit", False, 0, 2.0),  # one token in 2 s
            ("at", 1.0),
            ("hit", False, 0, 1.0),  # half a token so far
            ("at", 2.0),
            ("hit", True, 0, 6.0),
            ("at", 100.0),  # refilled to 3, not 49
            ("hit", True, 2, 2.0),
            ("hit", True, 1, 4.0),
            ("hit", True, 0, 6.0),
            ("hit", False, 0, 2.0),
        ],
    )


def test_a_cost_takes_several_units(clock: Clock) -> None:
    async def run() -> list[Decision]:
        limiter = Limiter(TokenBucket(5, 1.0), backend=MemoryBackend(clock=clock), cost=2)
        return [await limiter.hit("k") for _ in range(3)] + [await limiter.hit("k", cost=1)]

    allowed = [decision.allowed for decision in asyncio.run(run())]
    assert allowed == [True, True, False, True]


def test_keys_and_limiters_are_independent(clock: Clock) -> None:
    backend = MemoryBackend(clock=clock)

    async def run() -> list[bool]:
        first = Limiter(SlidingWindow(1, 60), backend=backend, name="first")
        second = Limiter(SlidingWindow(1, 60), backend=backend, name="second")
        return [
            (await first.hit("a")).allowed,
            (await first.hit("a")).allowed,
            (await first.hit("b")).allowed,
            (await second.hit("a")).allowed,
        ]

    assert asyncio.run(run()) == [True, False, True, True]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SlidingWindow(0, 1), "limit"),
        (lambda: SlidingWindow(1, 0), "window"),
        (lambda: TokenBucket(0, 1), "capacity"),
        (lambda: TokenBucket(1, -1), "rate"),
        (lambda: Limiter(SlidingWindow(1, 1), on_backend_error="maybe"), "on_backend_error"),
        (lambda: Limiter(SlidingWindow(1, 1), name='a"b'), "name"),
    ],
)
def test_bad_parameters_are_refused_when_declared(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
