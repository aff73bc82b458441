"""The shop's live updates across two server processes on one Redis (hasten.broadcast).

Processes A and B are ``uvicorn examples.shop.main:app`` on their own ports, one SQLite file,
``SHOP_BROADCAST_URL`` the test Redis and a unique prefix: an order placed through A reaches
an SSE client of B, a chat message sent to A a chat member connected to B, and a client
leaving B leaves no subscription on Redis (PUBSUB NUMSUB back to 0).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from shop_support import ADMIN, Shop
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]

# The shop's test Redis (as in conftest.py, which a plain import could confuse with another
# folder's conftest when the whole suite runs in one process).
REDIS_URL = os.environ.get("SHOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.shop.main:app", "--host", "127.0.0.1"]
        + ["--port", str(port), "--log-level", "warning", "--no-proxy-headers"],
        env=env,
        cwd=ROOT,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "the shop exited"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{address}/health", timeout=1).status_code == 200:
                return process, address
        assert time.monotonic() < deadline, "the shop did not start"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """Addresses of processes A and B, and their Redis prefix."""
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"shop-live:{os.getpid()}:{uuid.uuid4().hex}:"
    folder = tmp_path_factory.mktemp("shop-live")
    env = {
        **os.environ,
        "SHOP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'shop.db'}",
        "SHOP_BROADCAST_URL": REDIS_URL,
        "SHOP_REDIS_PREFIX": prefix,
        "SHOP_JWT_SECRET": "live-test-secret-" + "x" * 40,
        "SHOP_ADMIN_USERNAME": ADMIN[0],
        "SHOP_ADMIN_PASSWORD": ADMIN[1],
        "SHOP_ARGON2_TIME_COST": "1",
        "SHOP_ARGON2_MEMORY_COST": "1024",
        "SHOP_MEDIA_DIR": str(folder / "media"),
        "SHOP_RATE_LIMIT_PER_MINUTE": "100000",
        "SHOP_LOGIN_ATTEMPTS_PER_CLIENT": "100000",
        "SHOP_LOGIN_ATTEMPTS_PER_USERNAME": "100000",
    }
    env.pop("SHOP_REDIS_URL", None)
    env.pop("REDIS_URL", None)
    started: list[subprocess.Popen[bytes]] = []
    try:
        a_process, a = _start(env)  # A migrates the database first
        started.append(a_process)
        b_process, b = _start(env)
        started.append(b_process)
        yield a, b, prefix
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        client = redis.Redis.from_url(REDIS_URL)
        with contextlib.closing(client):
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)


def _numsub(channel: str) -> int:
    with contextlib.closing(redis.Redis.from_url(REDIS_URL)) as client:
        return int(dict(client.pubsub_numsub(channel))[channel.encode()])


def _eventually(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def _sse_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def test_an_order_placed_on_a_reaches_the_event_stream_and_chat_on_b(
    shops: tuple[str, str, str],
) -> None:
    a, b, prefix = shops
    with httpx.Client(base_url=f"http://{a}", timeout=10) as api:
        shop = Shop(api)  # type: ignore[arg-type]  # an httpx.Client is all Shop uses
        admin = shop.admin()
        product = shop.product(admin, stock=5)
        alice = shop.user("alice")
        first = api.post(
            "/orders", json={"items": [{"product_id": product["id"], "quantity": 1}]}, headers=alice
        )
        assert first.status_code == 201, first.text
        order_id = first.json()["id"]
        alice_token = alice["Authorization"].split()[1]
        admin_token = admin["Authorization"].split()[1]

        events_channel = f"{prefix}order-events"
        chat_channel = f"{prefix}chat:{order_id}"
        with httpx.stream("GET", f"http://{b}/orders/events", headers=admin, timeout=10) as stream:
            assert stream.status_code == 200
            _eventually(lambda: _numsub(events_channel) == 1, "B subscribed the event stream")
            events = _sse_events(stream.iter_lines())

            with connect(f"ws://{b}/orders/{order_id}/chat?token={alice_token}") as on_b:
                assert json.loads(on_b.recv(timeout=10)) == {"type": "join", "user": "alice"}
                assert _numsub(chat_channel) == 1

                # An order placed through A: B's event stream has it.
                second = api.post(
                    "/orders",
                    json={"items": [{"product_id": product["id"], "quantity": 2}]},
                    headers=alice,
                )
                assert second.status_code == 201, second.text
                event = next(events)
                assert event["event"] == "order.created"
                assert json.loads(event["data"])["order_id"] == second.json()["id"]
                cancelled = api.post(f"/orders/{order_id}/cancel", headers=alice)
                assert cancelled.status_code == 200
                event = next(events)
                assert event["event"] == "order.cancelled"

                # The staff member chats through A; alice, on B, reads it.
                with connect(f"ws://{a}/orders/{order_id}/chat?token={admin_token}") as on_a:
                    assert json.loads(on_a.recv(timeout=10)) == {"type": "join", "user": "admin"}
                    assert json.loads(on_b.recv(timeout=10)) == {"type": "join", "user": "admin"}
                    on_a.send("your parcel left")
                    first_said = {"type": "message", "user": "admin", "text": "your parcel left"}
                    assert json.loads(on_b.recv(timeout=10)) == first_said
                    on_b.send("thanks")
                    then_said = {"type": "message", "user": "alice", "text": "thanks"}
                    assert json.loads(on_b.recv(timeout=10)) == then_said
                    assert [json.loads(on_a.recv(timeout=10)) for _ in range(2)] == [
                        first_said,
                        then_said,
                    ]
                    assert _numsub(chat_channel) == 2  # one subscription per process
                assert json.loads(on_b.recv(timeout=10)) == {"type": "leave", "user": "admin"}
            # Alice left B: nobody is in the room any more, anywhere.
            _eventually(lambda: _numsub(chat_channel) == 0, "the chat unsubscribed")
        _eventually(lambda: _numsub(events_channel) == 0, "the event stream unsubscribed")

        # Last-Event-ID replays from the shared history, whichever process answers.
        with httpx.stream(
            "GET", f"http://{a}/orders/events", headers={**admin, "Last-Event-ID": "0"}, timeout=10
        ) as replay:
            replayed = _sse_events(replay.iter_lines())
            kinds = [next(replayed)["event"] for _ in range(3)]
        assert kinds == ["order.created", "order.created", "order.cancelled"]
