"""Finding 7 of issue 14: the shop's rate limiter keys on the real client and stays O(1).

The shop's limits are ``hasten.ratelimit`` limiters (examples/shop/ratelimit.py only configures
them), so these run against the framework's limiter. ``X-Forwarded-For`` is believed only from
``SHOP_TRUSTED_PROXIES``; the in-memory limiter's work per check is counted (keys whose state
a check reads), never timed.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
import pytest
from shop_support import served

from examples.shop.main import create_app
from hasten import Hasten
from hasten.ratelimit import Limiter, MemoryBackend, forwarded_client, parse_networks
from hasten.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def _statuses(client: TestClient, app: Hasten, peer: str, forwarded: list[str | None]) -> list[int]:
    """``GET /products`` from ``peer``, once per ``X-Forwarded-For`` value (None: no header)."""

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
            out = []
            for value in forwarded:
                headers = {} if value is None else {"X-Forwarded-For": value}
                out.append((await http.get("/products", headers=headers)).status_code)
            return out

    assert client.portal is not None
    return client.portal.call(run)


def test_rotating_forwarded_for_from_an_untrusted_peer_is_still_limited(
    make_settings: Any, limiter_backend: dict[str, Any]
) -> None:
    """The attack: from 127.0.0.1 with proxy headers on, a new ``X-Forwarded-For`` per request
    made every guess a new client (150 guesses, no 429). An untrusted peer's header is ignored."""
    app = create_app(make_settings(rate_limit_per_minute=3, **limiter_backend))
    with TestClient(app) as client:
        forwarded = [f"203.0.113.{n}" for n in range(6)]
        assert _statuses(client, app, "127.0.0.1", forwarded) == [200] * 3 + [429] * 3  # type: ignore[arg-type]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    make_settings: Any, limiter_backend: dict[str, Any]
) -> None:
    """Behind a trusted proxy each client has its own window; what the client wrote itself
    (entries left of the proxy's) changes nothing."""
    settings = make_settings(
        rate_limit_per_minute=2, trusted_proxies=["10.0.0.0/8"], **limiter_backend
    )
    app = create_app(settings)
    with TestClient(app) as client:
        assert _statuses(client, app, "10.0.0.5", ["198.51.100.1", "198.51.100.2"] * 2) == [
            200,
            200,
            200,
            200,
        ]
        spoofed = [f"192.0.2.{n}, 198.51.100.3" for n in range(3)]
        assert _statuses(client, app, "10.0.0.5", spoofed) == [200, 200, 429]  # type: ignore[arg-type]
        # Through two proxies: the right-most address that is not a trusted proxy.
        chained = ["198.51.100.4, 10.1.1.1"] * 3
        assert _statuses(client, app, "10.0.0.5", chained) == [200, 200, 429]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", ["1.2.3.4"], "127.0.0.1"),
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.1", ["9.9.9.9, 1.2.3.4"], "1.2.3.4"),
        ("10.0.0.1", ["9.9.9.9", "1.2.3.4, 10.0.0.2"], "1.2.3.4"),
        ("10.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),
        ("10.0.0.1", ["not-an-ip, 10.0.0.2"], "not-an-ip"),
        ("::1", ["1.2.3.4"], "::1"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], expected: str) -> None:
    assert forwarded_client(peer, forwarded, parse_networks(["10.0.0.0/8"])) == expected


def test_rotating_forwarded_for_through_a_real_server_is_limited(make_settings: Any) -> None:
    """The attack as it was run: uvicorn on 127.0.0.1, guesses from 127.0.0.1 each with a new
    ``X-Forwarded-For``. Served as ./scripts/serve serves it (``--no-proxy-headers``), the
    shop sees the real peer: 429 after the limit."""
    app = create_app(make_settings(rate_limit_per_minute=3))
    with served(app, proxy_headers=False) as where, httpx.Client() as http:
        statuses = [
            http.post(
                f"http://{where}/auth/token",
                data={"username": "admin", "password": f"guess-{n}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(5)
        ]
    assert statuses == [401, 401, 401, 429, 429]


def test_a_malformed_trusted_proxy_is_refused_at_startup(make_settings: Any) -> None:
    from examples.shop.credentials import InsecureConfiguration

    with pytest.raises(InsecureConfiguration, match="SHOP_TRUSTED_PROXIES: .*not-a-network"):
        create_app(make_settings(trusted_proxies=["10.0.0.1", "not-a-network"]))


def test_serve_script_turns_off_uvicorn_proxy_header_rewriting() -> None:
    """uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 by default (and rewrites the client
    address before the shop sees it): ./scripts/serve turns that off; the shop decides."""
    assert "--no-proxy-headers" in (ROOT / "scripts" / "serve").read_text()


class _Counting(OrderedDict[str, Any]):
    """A limiter's key table that records which keys' states a check reads."""

    looked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        _Counting.looked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        _Counting.looked.add(key)
        return super().__getitem__(key)


def _shop_limiter(make_settings: Any, **overrides: Any) -> Limiter:
    """The shop's own request limiter (memory backend), as its startup builds it."""
    app = create_app(make_settings(redis_url=None, **overrides))
    with TestClient(app):
        limiter: Limiter = app.state.limiter
    assert isinstance(limiter.backend, MemoryBackend)
    limiter._store._entries = _Counting(limiter._store._entries)  # type: ignore[union-attr]
    return limiter


def test_a_check_looks_at_a_bounded_number_of_keys(make_settings: Any) -> None:
    """The attack: above 10,000 client keys every limited request rescanned all of them
    (throughput -38 to -58 %). A check of the shop's limiter reads at most 2 keys' states."""
    limiter = _shop_limiter(make_settings, rate_limit_per_minute=100)

    async def run() -> int:
        for n in range(12_000):
            await limiter.hit(f"client-{n}")
        assert len(limiter._store) == 12_000
        worst = 0
        for n in range(200):
            _Counting.looked = set()
            assert (await limiter.hit(f"client-{n * 37 % 13_000}")).allowed
            worst = max(worst, len(_Counting.looked))
        return worst

    assert asyncio.run(run()) <= 2


def test_idle_keys_are_forgotten_in_amortised_constant_work() -> None:
    """Every key is forgotten once its window no longer counts: over any run of checks, the
    keys read are at most 2 per check plus one per key forgotten."""
    now = [0.0]
    from hasten.ratelimit import SlidingWindow

    limiter = Limiter(SlidingWindow(5, 10.0), backend=MemoryBackend(clock=lambda: now[0]))
    limiter._store._entries = _Counting(limiter._store._entries)  # type: ignore[union-attr]

    async def run() -> tuple[int, int]:
        looked = checks = 0
        for step in range(30):
            now[0] = step * 1.0
            for n in range(1000):
                _Counting.looked = set()
                await limiter.hit(f"c{step}-{n}")
                looked += len(_Counting.looked)
                checks += 1
        return looked, checks

    looked, checks = asyncio.run(run())
    # The last 20 seconds' clients (a window, and the window whose share still counts).
    assert len(limiter._store) == 20_000
    forgotten = checks - len(limiter._store)
    assert looked <= 2 * checks + forgotten


def test_memory_is_bounded_by_max_keys(make_settings: Any) -> None:
    limiter = _shop_limiter(make_settings, rate_limit_per_minute=1, rate_limit_max_keys=500)

    async def run() -> list[bool]:
        for n in range(2000):
            await limiter.hit(f"k{n}")
        assert len(limiter._store) == 500
        return [(await limiter.hit(key)).allowed for key in ("k1999", "k0")]

    assert asyncio.run(run()) == [False, True]  # the most recent are kept, the oldest gone
