"""The Redis backend against the real Redis: one round trip per check, keys with a TTL, and
what happens when Redis is unreachable, silent or drops the connection: the limiter's
``on_backend_error`` policy, within a bounded time, with exactly one log line until Redis
answers again.

Hangs are caught by bounding each scenario (``asyncio.timeout``), not by timing it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from conftest import REDIS_URL
from redis.asyncio.connection import Connection

from hasten import FastAPI
from hasten.ratelimit import Limiter, RateLimit, RedisBackend, SlidingWindow, TokenBucket


def _app(backend: RedisBackend, policy: Any, on_backend_error: str = "allow") -> FastAPI:
    app = FastAPI()
    limit = RateLimit(policy, backend=backend, on_backend_error=on_backend_error, headers=True)  # type: ignore[arg-type]

    @app.get("/x", dependencies=[limit])
    async def x() -> str:
        return "x"

    return app


async def _get_many(app: Any, count: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 1000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return [await http.get("/x") for _ in range(count)]


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "hasten.ratelimit"]


def test_redis_limit_over_http_with_ttl_keys(redis_prefix: str) -> None:
    async def run() -> list[httpx.Response]:
        backend = RedisBackend(REDIS_URL, prefix=redis_prefix)
        try:
            return await _get_many(_app(backend, SlidingWindow(3, 60)), 4)
        finally:
            await backend.aclose()

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit"] == '"default";r=2;t=60'
    assert answers[3].json() == {"detail": "Rate limit exceeded: 3 requests per 60 seconds"}
    assert 59 <= int(answers[3].headers["retry-after"]) <= 61
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{redis_prefix}*"))
        assert keys == [f"{redis_prefix}default:192.0.2.1".encode()]
        assert 0 < client.pttl(keys[0]) <= 120_000  # forgotten two windows after it started
    finally:
        client.close()


@pytest.mark.parametrize("policy", [SlidingWindow(50, 60), TokenBucket(50, 1.0)])
def test_one_round_trip_per_check(
    redis_prefix: str, policy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every check is one command sent to Redis (EVALSHA of the script), after the first,
    which also loads the script once."""
    sent: list[bytes] = []
    original = Connection.send_packed_command

    async def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(bytes(command[0] if isinstance(command, list) else command)[:40])
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)

    async def run() -> list[bool]:
        backend = RedisBackend(REDIS_URL, prefix=redis_prefix)
        limiter = Limiter(policy, backend=backend)
        try:
            await limiter.hit("warm")  # connects, loads the script
            sent.clear()
            return [(await limiter.hit(f"k{n % 7}")).allowed for n in range(40)]
        finally:
            await backend.aclose()

    assert asyncio.run(run()) == [True] * 40
    assert len(sent) == 40
    assert all(b"EVALSHA" in command for command in sent)


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more: connections are refused at once
    return int(port)


@pytest.mark.parametrize(("policy", "status"), [("allow", 200), ("deny", 503)])
def test_unreachable_redis_applies_the_policy_and_logs_once(
    policy: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "hasten.ratelimit")
    url = f"redis://127.0.0.1:{_closed_port()}/0"

    async def run() -> list[httpx.Response]:
        # retry_interval=0: every request tries Redis again, and still one line is logged.
        backend = RedisBackend(url, timeout=0.5, retry_interval=0)
        try:
            async with asyncio.timeout(15):
                return await _get_many(_app(backend, SlidingWindow(1, 60), policy), 20)
        finally:
            await backend.aclose()

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [status] * 20  # a limit of 1: never enforced
    assert all("ratelimit" not in a.headers for a in answers)  # nothing known to report
    if status == 503:
        assert answers[0].json() == {"detail": "Rate limiting is unavailable"}
        assert answers[0].headers["retry-after"] == "1"
    lines = _lines(caplog)
    assert len(lines) == 1, lines
    assert "Redis is unreachable (ConnectionError" in lines[0]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def test_a_silent_redis_costs_at_most_the_timeout_then_nothing(
    silent_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis that never answers: the first check gives up after ``timeout``; for
    ``retry_interval`` no request waits on Redis at all."""
    caplog.set_level(logging.INFO, "hasten.ratelimit")

    async def run() -> list[httpx.Response]:
        backend = RedisBackend(
            f"redis://127.0.0.1:{silent_server}/0", timeout=0.2, retry_interval=60
        )
        try:
            async with asyncio.timeout(10):
                return await _get_many(_app(backend, SlidingWindow(1, 60), "deny"), 10)
        finally:
            await backend.aclose()

    assert [a.status_code for a in asyncio.run(run())] == [503] * 10
    lines = _lines(caplog)
    assert len(lines) == 1, lines
    assert "TimeoutError" in lines[0]


def test_a_connection_killed_mid_test_applies_the_policy_then_recovers(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``CLIENT KILL`` of the backend's connection: the request that meets the dead
    connection gets the policy (deny: 503) with one warning; the next one reconnects, the
    limit is enforced again (counts kept in Redis) and one line says so."""
    caplog.set_level(logging.INFO, "hasten.ratelimit")
    name = f"hasten-rl-kill-{uuid.uuid4().hex[:12]}"
    admin = redis.Redis.from_url(REDIS_URL)

    async def run() -> list[int]:
        backend = RedisBackend(REDIS_URL, prefix=redis_prefix, timeout=0.5, retry_interval=0)
        app = _app(backend, SlidingWindow(3, 60), "deny")
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 1000))
        statuses = []
        try:
            async with (
                asyncio.timeout(15),
                httpx.AsyncClient(transport=transport, base_url="http://test") as http,
            ):
                statuses += [(await http.get("/x")).status_code for _ in range(2)]
                await backend.redis.client_setname(name)
                ids = [c["id"] for c in admin.client_list() if c.get("name") == name]
                assert len(ids) == 1
                assert admin.client_kill_filter(_id=ids[0]) == 1
                statuses += [(await http.get("/x")).status_code for _ in range(3)]
        finally:
            await backend.aclose()
        return statuses

    try:
        statuses = asyncio.run(run())
    finally:
        admin.close()
    assert statuses == [200, 200, 503, 200, 429]
    lines = _lines(caplog)
    assert len(lines) == 2, lines
    assert "Redis is unreachable (ConnectionError" in lines[0]
    assert lines[1] == "rate limiting: Redis answers again; limits are enforced"
    assert [r.levelname for r in caplog.records if r.name == "hasten.ratelimit"] == [
        "WARNING",
        "INFO",
    ]
