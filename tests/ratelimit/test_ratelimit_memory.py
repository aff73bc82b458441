"""The memory backend's bounds (issue 14, finding 7): work per check and keys kept; and the
brief check the app-wide limiter's default step makes (``hit(..., detail=False)``).

Work is counted (the keys whose state a check reads), never timed.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import pytest
from conftest import Clock

from hasten.ratelimit import Limiter, MemoryBackend, SlidingWindow, TokenBucket


class _Counting(OrderedDict[str, Any]):
    """A store's key table that records which keys' states are read."""

    looked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        _Counting.looked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        _Counting.looked.add(key)
        return super().__getitem__(key)


def _counted(limiter: Limiter) -> Any:
    store = limiter._store
    store._entries = _Counting(store._entries)  # type: ignore[union-attr]
    return store


@pytest.mark.parametrize("policy", [SlidingWindow(100, 60), TokenBucket(100, 0.01)])
def test_a_check_reads_a_bounded_number_of_keys_among_12000(clock: Clock, policy: Any) -> None:
    """The attack: above 10,000 client keys every limited request rescanned all of them
    (throughput -38 to -58 %). Here a check reads at most 2 keys' states (its own, and the
    front of the table when an expiry may be due), whatever the number of keys."""
    limiter = Limiter(policy, backend=MemoryBackend(clock=clock))
    store = _counted(limiter)

    async def run() -> int:
        worst = 0
        for n in range(12_000):
            clock.advance(0.001)
            await limiter.hit(f"client-{n}")
        assert len(store) == 12_000
        for n in range(500):
            clock.advance(0.001)
            _Counting.looked = set()
            assert (await limiter.hit(f"client-{n * 37 % 13_000}")).allowed
            worst = max(worst, len(_Counting.looked))
        return worst

    assert asyncio.run(run()) <= 2


@pytest.mark.parametrize(
    ("policy", "idle_after"),
    [(SlidingWindow(5, 10.0), 20.0), (TokenBucket(5, 0.5), 2.0)],
)
def test_idle_keys_are_forgotten_in_amortised_constant_work(
    clock: Clock, policy: Any, idle_after: float
) -> None:
    """A key is forgotten once its state no longer matters (two windows after its window
    started; a bucket once full again). Over any run, the keys read are at most 2 per check
    plus one per key forgotten."""
    limiter = Limiter(policy, backend=MemoryBackend(clock=clock))
    store = _counted(limiter)

    async def run() -> tuple[int, int]:
        looked = checks = 0
        for step in range(40):
            clock.now = 1000.0 + step
            for n in range(500):
                _Counting.looked = set()
                await limiter.hit(f"c{step}-{n}")
                looked += len(_Counting.looked)
                checks += 1
        return looked, checks

    looked, checks = asyncio.run(run())
    alive_steps = int(idle_after)  # keys of the steps within idle_after of the last one
    assert len(store) == 500 * alive_steps
    forgotten = checks - len(store)
    assert looked <= 2 * checks + forgotten


def test_memory_is_bounded_by_max_keys(clock: Clock) -> None:
    """Beyond ``max_keys`` the least recently hit key is forgotten (the recent ones stay)."""
    limiter = Limiter(SlidingWindow(1, 60), backend=MemoryBackend(max_keys=500, clock=clock))

    async def run() -> list[bool]:
        for n in range(2000):
            await limiter.hit(f"k{n}")
        assert len(limiter._store) == 500
        return [(await limiter.hit(k)).allowed for k in ("k1999", "k1500", "k0")]

    # k1999 and k1500 are remembered (refused); k0 was forgotten (allowed again).
    assert asyncio.run(run()) == [False, False, True]


def test_a_returning_key_after_a_long_idle_starts_afresh(clock: Clock) -> None:
    limiter = Limiter(SlidingWindow(2, 10), backend=MemoryBackend(clock=clock))

    async def run() -> list[bool]:
        out = [(await limiter.hit("a")).allowed for _ in range(3)]
        clock.advance(25)
        out += [(await limiter.hit("b")).allowed]  # sweeps "a" away
        assert len(limiter._store) == 1
        out += [(await limiter.hit("a")).allowed for _ in range(3)]
        return out

    assert asyncio.run(run()) == [True, True, False, True, True, True, False]


@pytest.mark.parametrize("policy", [SlidingWindow(3, 10), TokenBucket(3, 0.5)])
def test_a_check_without_detail_decides_and_counts_the_same(clock: Clock, policy: Any) -> None:
    """``hit(..., detail=False)`` (the app-wide limiter's default step) answers ``COUNTED``
    for an allowed request and counts it as ``hit`` does; refusals are the same."""
    from hasten.ratelimit._memory import COUNTED

    detailed = Limiter(policy, backend=MemoryBackend(clock=clock))._store
    brief = Limiter(policy, backend=MemoryBackend(clock=clock))._store
    for step in range(12):
        clock.advance(0.7 if step % 4 else 11.0)  # refills and whole windows rolling over
        for key in ("a", "b"):
            full, short = detailed.hit(key), brief.hit(key, 1, False)
            assert short[0] == full[0]
            if full[0] and short is not COUNTED:  # a key's first hit answers in full
                assert short == full
            if not full[0]:
                assert short == full
    assert detailed.hit("a") == brief.hit("a")  # the same counts were kept
    assert COUNTED[0] is True


def test_the_default_app_wide_step_is_the_general_one(clock: Clock) -> None:
    """The default limiter's ``enter`` (keyed by the peer, nothing excluded, no headers on
    allowed answers) allows, counts and refuses as the general ``enter`` does."""
    from hasten.ratelimit import RateLimitMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a step does not call the app")

    def middleware() -> RateLimitMiddleware:
        limiter = Limiter(SlidingWindow(2, 60), backend=MemoryBackend(clock=clock))
        return RateLimitMiddleware(app, limiter=limiter)

    fast, general = middleware(), middleware()
    assert fast.enter is not RateLimitMiddleware.enter.__get__(fast)  # the closure
    scopes = [
        {"type": "http", "path": "/", "client": ("10.0.0.1", 5000)},
        {"type": "http", "path": "/", "client": None},
        {"type": "http", "path": "/"},  # no client at all: the key "unknown"
    ]
    answers = []
    for scope in scopes * 2:
        one, other = fast.enter(scope, None), RateLimitMiddleware.enter(general, scope, None)
        assert (one is None) == (other is None)
        answers.append(one is None)
        if one is not None:
            assert one.keywords == other.keywords  # type: ignore[attr-defined]  # the decision
    # "10.0.0.1" twice allowed; None and absent share "unknown": 2 allowed, then refused
    assert answers == [True, True, True, True, False, False]
    # ``by_host`` (the RSGI direct answer's) is the same step given the host: it counts
    # against the same keys, so both are refused now
    by_host = fast.enter.by_host  # type: ignore[attr-defined]
    for host in ("10.0.0.1", "unknown"):
        refused, other = by_host(host), RateLimitMiddleware.enter(general, scopes[0], None)
        assert refused is not None and other is not None
        assert refused.keywords == other.keywords  # type: ignore[attr-defined]
    fresh = middleware()
    assert fresh.enter.by_host("10.0.0.2") is None  # type: ignore[attr-defined]
    assert fresh.enter({"type": "http", "client": ("10.0.0.2", 1)}, None) is None
    assert fresh.enter.by_host("10.0.0.2") is not None  # type: ignore[attr-defined]

    class Noting(RateLimitMiddleware):  # a subclass's own ``enter`` is kept
        def enter(self, scope: Any, observed: Any) -> Any:
            return super().enter(scope, observed)

    noting = Noting(app, limiter=Limiter(SlidingWindow(2, 60), backend=MemoryBackend()))
    assert noting.enter.__func__ is Noting.enter  # type: ignore[attr-defined]
