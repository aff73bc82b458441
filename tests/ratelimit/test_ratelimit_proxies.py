"""Client addresses behind proxies (issue 14, finding 7): ``X-Forwarded-For`` is believed only
from configured proxies, and then only its right-most entry that is not a proxy."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from hasten import FastAPI
from hasten.ratelimit import (
    RateLimit,
    RateLimitMiddleware,
    SlidingWindow,
    by_client,
    forwarded_client,
    parse_networks,
)


def _statuses(app: Any, peer: str, forwarded: list[str | None]) -> list[int]:
    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            out = []
            for value in forwarded:
                headers = {} if value is None else {"X-Forwarded-For": value}
                out.append((await http.get("/x", headers=headers)).status_code)
            return out

    return asyncio.run(run())


def _apps(limit: int, trusted: list[str]) -> list[Any]:
    """The same limit as a route dependency and as the app-wide middleware."""
    by_route = FastAPI()

    @by_route.get("/x", dependencies=[RateLimit(SlidingWindow(limit, 60), key=by_client(trusted))])
    async def x() -> str:
        return "x"

    app_wide = FastAPI()

    @app_wide.get("/x")
    async def y() -> str:
        return "x"

    app_wide.add_middleware(
        RateLimitMiddleware, policy=SlidingWindow(limit, 60), key=by_client(trusted)
    )
    return [by_route, app_wide]


@pytest.mark.parametrize("which", [0, 1], ids=["dependency", "middleware"])
def test_rotating_forwarded_for_from_an_untrusted_peer_is_still_limited(which: int) -> None:
    """The attack: from 127.0.0.1, a new ``X-Forwarded-For`` per request made every guess a
    new client (150 guesses, no 429). An untrusted peer's header is ignored."""
    for trusted in ([], ["10.0.0.0/8"]):
        app = _apps(3, trusted)[which]
        forwarded: list[str | None] = [f"203.0.113.{n}" for n in range(150)]
        statuses = _statuses(app, "127.0.0.1", forwarded)
        assert statuses == [200] * 3 + [429] * 147


@pytest.mark.parametrize("which", [0, 1], ids=["dependency", "middleware"])
def test_forwarded_for_from_a_trusted_proxy_names_the_client(which: int) -> None:
    app = _apps(2, ["10.0.0.0/8"])[which]
    assert _statuses(app, "10.0.0.5", ["198.51.100.1", "198.51.100.2"] * 2) == [200] * 4
    # What the client wrote itself (left of the proxy's entry) changes nothing.
    spoofed: list[str | None] = [f"192.0.2.{n}, 198.51.100.3" for n in range(3)]
    assert _statuses(app, "10.0.0.5", spoofed) == [200, 200, 429]
    # Through two proxies: the right-most address that is not a trusted proxy.
    assert _statuses(app, "10.0.0.5", ["198.51.100.4, 10.1.1.1"] * 3) == [200, 200, 429]
    # Several header lines are one list, in order.
    assert _statuses(app, "10.0.0.5", [None, None, None]) == [200, 200, 429]  # the proxy itself


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
        ("2001:db8::1", ["2001:db8:ffff::7"], "2001:db8:ffff::7"),
    ],
)
def test_forwarded_client(peer: str, forwarded: list[str], expected: str) -> None:
    trusted = parse_networks(["10.0.0.0/8", "2001:db8::/48"])
    assert forwarded_client(peer, forwarded, trusted) == expected


def test_a_malformed_trusted_proxy_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="not-a-network"):
        by_client(["10.0.0.1", "not-a-network"])
