"""/orders: atomic stock, concurrent orders, cancel, SSE events, the WebSocket chat."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import redis
from shop_support import Shop

from examples.shop.main import create_app
from hasten import Hasten, WebSocketDisconnect
from hasten.testclient import TestClient

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


def _order(client: TestClient, headers: dict[str, str], *lines: tuple[int, int]) -> Any:
    items = [{"product_id": pid, "quantity": qty} for pid, qty in lines]
    return client.post("/orders", json={"items": items}, headers=headers)


def _stock(client: TestClient, product_id: int) -> int:
    return int(client.get(f"/products/{product_id}").json()["stock"])


def test_place_list_get_and_cancel(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    cup = shop.product(admin, sku="CUP-00001", price="4.50", stock=5)
    pot = shop.product(admin, sku="POT-00001", price="20.00", stock=1)
    alice = shop.user("alice")

    placed = _order(client, alice, (pot["id"], 1), (cup["id"], 2))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "placed" and order["total"] == "29.00"
    assert sorted((i["product_id"], i["quantity"], i["unit_price"]) for i in order["items"]) == [
        (cup["id"], 2, "4.50"),
        (pot["id"], 1, "20.00"),
    ]
    assert (_stock(client, cup["id"]), _stock(client, pot["id"])) == (3, 0)

    assert [o["id"] for o in client.get("/orders", headers=alice).json()] == [order["id"]]
    assert client.get(f"/orders/{order['id']}", headers=alice).json() == order

    # Another customer sees neither the order nor its existence; staff see it.
    bob = shop.user("bob")
    assert client.get("/orders", headers=bob).json() == []
    assert client.get(f"/orders/{order['id']}", headers=bob).status_code == 404
    assert client.post(f"/orders/{order['id']}/cancel", headers=bob).status_code == 404
    assert client.get(f"/orders/{order['id']}", headers=admin).status_code == 200

    cancelled = client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (_stock(client, cup["id"]), _stock(client, pot["id"])) == (5, 1)
    again = client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert again.status_code == 409
    assert again.json() == {"detail": "Order is already cancelled"}


def test_order_errors(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    cup = shop.product(admin, stock=2)
    alice = shop.user("alice")
    assert _order(client, {}, (cup["id"], 1)).status_code == 401

    missing = _order(client, alice, (cup["id"], 1), (999, 1))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Product 999 not found"}

    short = _order(client, alice, (cup["id"], 3))
    assert short.status_code == 409
    assert short.json() == {"detail": f"Not enough stock for product {cup['id']}: 2 left, 3 wanted"}
    assert _stock(client, cup["id"]) == 2  # the failed orders took nothing

    client.delete(f"/products/{cup['id']}", headers=admin)
    assert _order(client, alice, (cup["id"], 1)).status_code == 404
    assert client.get("/orders/12345", headers=alice).status_code == 404


def test_failed_line_rolls_back_the_whole_order(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    first = shop.product(admin, sku="AAA-00001", stock=5)
    second = shop.product(admin, sku="BBB-00001", stock=1)
    alice = shop.user("alice")
    response = _order(client, alice, (first["id"], 2), (second["id"], 2))
    assert response.status_code == 409
    assert (_stock(client, first["id"]), _stock(client, second["id"])) == (5, 1)
    assert client.get("/orders", headers=alice).json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"items": []}, "List should have at least 1 item after validation, not 0"),
        (
            {"items": [{"product_id": 1, "quantity": 0}]},
            "Input should be greater than or equal to 1",
        ),
        (
            {"items": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]},
            "Value error, each product may appear only once per order",
        ),
    ],
)
def test_order_validation_is_422(
    shop: Shop, client: TestClient, body: dict[str, Any], message: str
) -> None:
    response = client.post("/orders", json=body, headers=shop.user("alice"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == message


def test_concurrent_orders_for_the_last_items(shop: Shop, client: TestClient, app: Hasten) -> None:
    """Five orders race for three items: three win, two get 409, stock ends at zero."""
    admin = shop.admin()
    product = shop.product(admin, stock=3)
    buyers = [shop.user(f"buyer{i}") for i in range(5)]
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}

    async def race() -> list[int]:
        statuses: list[int] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:

            async def buy(headers: dict[str, str]) -> None:
                response = await http.post("/orders", json=body, headers=headers)
                statuses.append(response.status_code)

            async with anyio.create_task_group() as group:
                for headers in buyers:
                    group.start_soon(buy, headers)
        return statuses

    assert client.portal is not None
    statuses = client.portal.call(race)
    assert sorted(statuses) == [201, 201, 201, 409, 409]
    assert _stock(client, product["id"]) == 0
    assert len(client.get("/orders", headers=admin).json()) == 3


def test_two_concurrent_orders_for_the_last_item(
    shop: Shop, client: TestClient, app: Hasten
) -> None:
    admin = shop.admin()
    product = shop.product(admin, stock=1)
    buyers = [shop.user("anna"), shop.user("ben")]
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}

    async def race() -> list[Any]:
        results: list[Any] = [None, None]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:

            async def buy(index: int) -> None:
                results[index] = await http.post("/orders", json=body, headers=buyers[index])

            async with anyio.create_task_group() as group:
                group.start_soon(buy, 0)
                group.start_soon(buy, 1)
        return results

    assert client.portal is not None
    first, second = client.portal.call(race)
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json() == {
        "detail": f"Not enough stock for product {product['id']}: 0 left, 1 wanted"
    }
    assert _stock(client, product["id"]) == 0


# --- Live updates: on the memory broadcast and on Redis ---------------------------------


@pytest.fixture(params=["memory", "redis"])
def live_app(request: pytest.FixtureRequest, make_settings: Any) -> Iterator[Hasten]:
    """The shop with its broadcast on memory, or on Redis (a unique channel and key prefix)."""
    if request.param == "memory":
        yield create_app(make_settings(broadcast_url="memory://"))
        return
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = f"shop-test:{os.getpid()}:{uuid.uuid4().hex}:"
    try:
        yield create_app(make_settings(broadcast_url=REDIS_URL, redis_prefix=prefix))
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
def live_client(live_app: Hasten) -> Iterator[TestClient]:
    with TestClient(live_app) as client:
        yield client


# --- Server-Sent Events -------------------------------------------------------------------


def _parse_events(raw: str) -> list[dict[str, str]]:
    events = []
    for block in raw.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ": " not in line:
                continue
            name, value = line.split(": ", 1)
            fields[name] = value
        if "data" in fields:
            events.append(fields)
    return events


async def _read_sse(app: Hasten, headers: dict[str, str], count: int) -> list[dict[str, str]]:
    """Open GET /orders/events on the raw ASGI app, read ``count`` events, then disconnect."""
    disconnected = anyio.Event()
    chunks: list[str] = []
    started: dict[str, Any] = {}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/orders/events",
        "raw_path": b"/orders/events",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("shop", 80),
        "state": {},
    }
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b"").decode())
            if len(_parse_events("".join(chunks))) >= count:
                disconnected.set()

    with anyio.fail_after(20):
        await app(scope, receive, send)
    assert started["status"] == 200, "".join(chunks)
    assert dict(started["headers"])[b"content-type"].startswith(b"text/event-stream")
    return _parse_events("".join(chunks))


def _wait_for_subscribers(app: Hasten, count: int) -> None:
    deadline = time.monotonic() + 10
    while app.state.events.subscriber_count != count:
        assert time.monotonic() < deadline, "the SSE stream never subscribed"
        time.sleep(0.01)


def test_sse_events_arrive_in_order(live_client: TestClient, live_app: Hasten) -> None:
    client, app, shop = live_client, live_app, Shop(live_client)
    admin = shop.admin()
    product = shop.product(admin, stock=10)
    alice = shop.user("alice")
    bob = shop.user("bob")
    assert client.portal is not None

    alice_stream = client.portal.start_task_soon(_read_sse, app, alice, 3)
    admin_stream = client.portal.start_task_soon(_read_sse, app, admin, 4)
    _wait_for_subscribers(app, 2)
    first = _order(client, alice, (product["id"], 1)).json()
    _order(client, bob, (product["id"], 1))  # not alice's: she does not see it
    second = _order(client, alice, (product["id"], 2)).json()
    client.post(f"/orders/{first['id']}/cancel", headers=alice)

    seen = alice_stream.result(timeout=30)
    assert [(e["event"], json.loads(e["data"])["order_id"]) for e in seen] == [
        ("order.created", first["id"]),
        ("order.created", second["id"]),
        ("order.cancelled", first["id"]),
    ]
    assert json.loads(seen[2]["data"])["status"] == "cancelled"
    ids = [int(e["id"]) for e in seen]
    assert ids == sorted(ids)

    everything = admin_stream.result(timeout=30)
    assert [e["event"] for e in everything] == ["order.created"] * 3 + ["order.cancelled"]
    assert [int(e["id"]) for e in everything] == [1, 2, 3, 4]
    _wait_for_subscribers(app, 0)  # disconnecting unsubscribed both streams

    # Reconnecting with Last-Event-ID replays what came after it.
    replay = client.portal.call(_read_sse, app, {**admin, "Last-Event-ID": "2"}, 2)
    assert [e["id"] for e in replay] == ["3", "4"]


def test_sse_needs_a_token(client: TestClient) -> None:
    response = client.get("/orders/events")
    assert response.status_code == 401


# --- WebSocket chat -----------------------------------------------------------------------


def test_chat_broadcast_reaches_every_member(live_client: TestClient) -> None:
    client, shop = live_client, Shop(live_client)
    admin = shop.admin()
    product = shop.product(admin)
    alice = shop.user("alice")
    order = _order(client, alice, (product["id"], 1)).json()
    alice_token = alice["Authorization"].split()[1]
    admin_token = admin["Authorization"].split()[1]
    path = f"/orders/{order['id']}/chat"

    with client.websocket_connect(f"{path}?token={alice_token}") as ws_alice:
        assert ws_alice.receive_json() == {"type": "join", "user": "alice"}
        with client.websocket_connect(f"{path}?token={admin_token}") as ws_admin:
            assert ws_alice.receive_json() == {"type": "join", "user": "admin"}
            assert ws_admin.receive_json() == {"type": "join", "user": "admin"}
            ws_alice.send_text("where is my parcel?")
            expected = {"type": "message", "user": "alice", "text": "where is my parcel?"}
            assert ws_alice.receive_json() == expected
            assert ws_admin.receive_json() == expected
            ws_admin.send_text("on its way")
            reply = {"type": "message", "user": "admin", "text": "on its way"}
            assert ws_admin.receive_json() == reply
            assert ws_alice.receive_json() == reply
        assert ws_alice.receive_json() == {"type": "leave", "user": "admin"}


@pytest.mark.parametrize("who", ["nobody", "stranger", "bad-token", "no-order"])
def test_chat_rejects_outsiders(shop: Shop, client: TestClient, who: str) -> None:
    admin = shop.admin()
    product = shop.product(admin)
    alice = shop.user("alice")
    order = _order(client, alice, (product["id"], 1)).json()
    order_id = order["id"]
    if who == "nobody":
        query = ""
    elif who == "stranger":
        query = "?token=" + shop.user("mallory")["Authorization"].split()[1]
    elif who == "bad-token":
        query = "?token=garbage"
    else:
        order_id = 999
        query = "?token=" + alice["Authorization"].split()[1]
    with pytest.raises(WebSocketDisconnect) as caught:
        with client.websocket_connect(f"/orders/{order_id}/chat{query}") as ws:
            ws.receive_json()
    assert caught.value.code == 1008
