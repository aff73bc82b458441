"""Findings 2, 3, 4, 5 and 9 (last admin) of issue 14, on SQLite and PostgreSQL.

Each test states the attack it repeats; the concurrent ones run real concurrency (an ASGI
client in the app's event loop, so requests interleave at every database await) and, on
PostgreSQL, real concurrent transactions.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from shop_support import PASSWORD, Shop, png_bytes

from hasten import Hasten
from hasten.testclient import TestClient

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _gather(
    client: TestClient, app: Hasten, calls: list[Callable[[httpx.AsyncClient], Awaitable[Any]]]
) -> list[httpx.Response]:
    """Run every call at once (one task each) against ``app``; their responses, in order."""

    async def run() -> list[httpx.Response]:
        results: list[Any] = [None] * len(calls)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:

            async def one(index: int) -> None:
                results[index] = await calls[index](http)

            async with anyio.create_task_group() as group:
                for index in range(len(calls)):
                    group.start_soon(one, index)
        return results

    assert client.portal is not None
    return client.portal.call(run)


# --- 2: decompression bombs ---------------------------------------------------------------


def _png_declaring(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose header declares ``width``×``height`` grey pixels, with
    a few hundred bytes of compressed data (decoding it would allocate width×height bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)  # the first 64 rows: zeros
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(5000, 5000), (4097, 16), (16, 60000)])
def test_avatar_declaring_huge_dimensions_is_422_before_decoding(
    client: TestClient, width: int, height: int
) -> None:
    """The attack: a ~100 KB PNG declaring 25+ megapixels uploaded with an unauthenticated
    registration; the server decoded it (169 Mpx: ~800 MiB). Now the header is read, the
    upload refused with FastAPI's 422 shape, no account is created, nothing is decoded."""
    bomb = _png_declaring(width, height)
    assert len(bomb) < 2 * 1024 * 1024
    message = "the image is too large: at most 4096x4096 pixels"
    if width * height <= 4096 * 4096:  # refused by the shop's side check, not Pillow's
        message += f" (it has {width}x{height})"
    response = client.post(
        "/users/register",
        data={"username": "bomber", "email": "bomber@example.com", "password": PASSWORD},
        files={"avatar": ("a.png", bomb, "image/png")},
    )
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", "avatar"],
                "msg": message,
                "input": None,
            }
        ]
    }
    login = client.post("/auth/token", data={"username": "bomber", "password": PASSWORD})
    assert login.status_code == 401


def test_avatar_replacement_with_a_bomb_is_422(shop: Shop, client: TestClient) -> None:
    headers = shop.user("carol")
    files = {"avatar": ("a.png", _png_declaring(8000, 8000), "image/png")}
    response = client.put("/users/me/avatar", files=files, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "avatar"]
    # An image at the cap still works.
    files = {"avatar": ("ok.png", png_bytes((4096, 4)), "image/png")}
    assert client.put("/users/me/avatar", files=files, headers=headers).status_code == 202


def test_pillow_limit_is_the_stated_cap_and_an_error() -> None:
    """Pillow's own check (``MAX_IMAGE_PIXELS``) is set to the shop's cap and its warning is an
    error: the thumbnailer refuses a bomb even when called directly."""
    from PIL import Image

    from examples.shop.tasks import AVATAR_MAX_PIXELS, ImageTooLarge, make_thumbnail

    assert AVATAR_MAX_PIXELS == 4096 * 4096
    assert Image.MAX_IMAGE_PIXELS == AVATAR_MAX_PIXELS
    with pytest.raises(ImageTooLarge):
        make_thumbnail(_png_declaring(5000, 5000), 128)


# --- 3: concurrent cancels ------------------------------------------------------------------


def test_concurrent_cancels_restore_stock_exactly_once(
    shop: Shop, client: TestClient, app: Hasten
) -> None:
    """The attack: 10 concurrent cancels of one 3-unit order restored its stock 2 to 7 times
    on PostgreSQL (7 of 9 rounds). Now: exactly one 200, nine 409, stock back by 3, each round."""
    admin = shop.admin()
    product = shop.product(admin, stock=100)
    buyer = shop.user("dora")
    for _round in range(4):
        placed = client.post(
            "/orders",
            json={"items": [{"product_id": product["id"], "quantity": 3}]},
            headers=buyer,
        )
        assert placed.status_code == 201
        order_id = placed.json()["id"]
        assert client.get(f"/products/{product['id']}").json()["stock"] == 97

        async def cancel(http: httpx.AsyncClient, url: str = f"/orders/{order_id}/cancel") -> Any:
            return await http.post(url, headers=buyer)

        responses = _gather(client, app, [cancel] * 10)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * 9, [r.text for r in responses]
        assert {r.json()["detail"] for r in responses if r.status_code == 409} == {
            "Order is already cancelled"
        }
        assert client.get(f"/products/{product['id']}").json()["stock"] == 100


# --- 4: integers beyond the columns ---------------------------------------------------------


@pytest.mark.parametrize("value", [INT32_MAX + 1, INT64_MAX + 1, 10**30])
def test_integers_beyond_the_columns_are_422(shop: Shop, client: TestClient, value: int) -> None:
    """The attack: ids, offset, product_id past 2**31 (PostgreSQL) or 2**63 (SQLite) were 500,
    some without a token (``GET /products/9223372036854775808``). Every one is 422 now."""
    admin = shop.admin()
    product = shop.product(admin)
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/products/{value}", {}),
        ("PATCH", f"/products/{value}", {"json": {"stock": 1}, "headers": admin}),
        ("DELETE", f"/products/{value}", {"headers": admin}),
        ("GET", "/products", {"params": {"offset": value}}),
        ("GET", "/users", {"params": {"offset": value}, "headers": admin}),
        ("GET", f"/users/{value}/avatar", {}),
        ("PATCH", f"/users/{value}/role", {"json": {"role": "staff"}, "headers": admin}),
        ("GET", f"/orders/{value}", {"headers": admin}),
        ("POST", f"/orders/{value}/cancel", {"headers": admin}),
        (
            "POST",
            "/orders",
            {"json": {"items": [{"product_id": value, "quantity": 1}]}, "headers": admin},
        ),
        (
            "POST",
            "/products",
            {"json": {**_new_product("BIG-00001"), "stock": value}, "headers": admin},
        ),
        ("PATCH", f"/products/{product['id']}", {"json": {"stock": value}, "headers": admin}),
    ]
    for method, url, kwargs in requests:
        response = client.request(method, url, **kwargs)
        assert response.status_code == 422, (method, url, response.status_code, response.text)
        assert isinstance(response.json()["detail"], list)


def test_last_event_id_is_bounded(shop: Shop, client: TestClient) -> None:
    headers = {**shop.admin(), "Last-Event-ID": str(2**64)}
    with client.stream("GET", "/orders/events", headers=headers) as response:
        assert response.status_code == 422


def test_largest_accepted_ids_are_404_not_500(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    assert client.get(f"/products/{INT32_MAX}").status_code == 404
    assert client.get(f"/orders/{INT32_MAX}", headers=admin).status_code == 404
    assert client.get("/products", params={"offset": INT32_MAX}).json()["items"] == []
    body = {"items": [{"product_id": INT32_MAX, "quantity": 1}]}
    assert client.post("/orders", json=body, headers=admin).status_code == 404


def _new_product(sku: str, **changes: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": "Thing",
        "description": "A thing for the tests.",
        "price": "1.00",
        "stock": 1,
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cost": "1e9"}, "cost"),
        ({"cost": "100000000"}, "cost"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "0.001"}, "cost"),
        ({"stock": 1_000_000_001}, "stock"),
    ],
)
def test_money_and_stock_beyond_the_columns_are_422(
    shop: Shop, client: TestClient, changes: dict[str, Any], field: str
) -> None:
    """``cost`` (``Numeric(10, 2)``) and ``stock`` were not bounded: a PostgreSQL error (500)."""
    admin = shop.admin()
    response = client.post("/products", json=_new_product("CST-00001", **changes), headers=admin)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", field]]
    product = shop.product(admin, sku="CST-00002")
    response = client.patch(f"/products/{product['id']}", json=changes, headers=admin)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("query", [{"min_price": "1e400"}, {"max_price": "0.001"}])
def test_price_filters_beyond_the_column_are_422(client: TestClient, query: dict[str, str]) -> None:
    assert client.get("/products", params=query).status_code == 422


def test_an_order_total_beyond_the_column_is_422_and_takes_no_stock(
    shop: Shop, client: TestClient
) -> None:
    """50 lines × 1000 × 99,999,999.99 overflowed ``orders.total`` (``Numeric(12, 2)``)."""
    admin = shop.admin()
    expensive = [
        shop.product(admin, sku=f"EXP-{n:05d}", price="99999999.99", stock=1000) for n in range(2)
    ]
    lines = [{"product_id": p["id"], "quantity": 1000} for p in expensive]
    response = client.post("/orders", json={"items": lines}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "items"]
    assert [client.get(f"/products/{p['id']}").json()["stock"] for p in expensive] == [1000, 1000]
    lines = [{"product_id": expensive[0]["id"], "quantity": 100}]
    assert client.post("/orders", json={"items": lines}, headers=admin).status_code == 201


# --- 5: concurrent registrations ----------------------------------------------------------


def test_concurrent_same_username_registrations_one_201_rest_409(
    client: TestClient, app: Hasten
) -> None:
    """The attack: same-username registrations racing on PostgreSQL → 500 ``UniqueViolation``.
    Now one 201 and 409 for every other, on both databases."""

    def register(n: int) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
        async def call(http: httpx.AsyncClient) -> httpx.Response:
            data = {"username": "racer", "email": f"racer{n}@example.com", "password": PASSWORD}
            return await http.post("/users/register", data=data)

        return call

    for _round in range(2):
        responses = _gather(client, app, [register(n) for n in range(8)])
        statuses = sorted(r.status_code for r in responses)
        expected = [201] + [409] * 7 if _round == 0 else [409] * 8
        assert statuses == expected, [r.text for r in responses]
        for response in responses:
            if response.status_code == 409:
                assert response.json() == {"detail": "Username or e-mail already taken"}


# --- 9: the last admin ----------------------------------------------------------------------


def test_the_last_admin_cannot_be_demoted(shop: Shop, client: TestClient, app: Hasten) -> None:
    """The fuzzer demoted the only admin: nobody could manage roles any more. Now 409; with two
    admins demoting each other at once, one of them stays admin."""
    admin = shop.admin()
    me = client.get("/users/me", headers=admin).json()
    response = client.patch(f"/users/{me['id']}/role", json={"role": "staff"}, headers=admin)
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot demote the last admin"}
    assert client.get("/users/me", headers=admin).json()["role"] == "admin"
    second = shop.user("erin", role="admin")
    erin = client.get("/users/me", headers=second).json()

    def demote(headers: dict[str, str], user_id: int) -> Callable[..., Awaitable[httpx.Response]]:
        async def call(http: httpx.AsyncClient) -> httpx.Response:
            return await http.patch(
                f"/users/{user_id}/role", json={"role": "customer"}, headers=headers
            )

        return call

    responses = _gather(client, app, [demote(admin, erin["id"]), demote(second, me["id"])])
    assert sorted(r.status_code for r in responses) in ([200, 403], [200, 409])
    roles = [
        u["role"] for u in client.get("/users", headers=_any_admin(shop, client)).json()["items"]
    ]
    assert roles.count("admin") == 1


def _any_admin(shop: Shop, client: TestClient) -> dict[str, str]:
    for username, password in (("admin", "admin-password-1"), ("erin", PASSWORD)):
        headers = shop.auth(username, password)
        if client.get("/users/me", headers=headers).json()["role"] == "admin":
            return headers
    raise AssertionError("no admin left")


@pytest.mark.parametrize("subject", [str(INT32_MAX + 1), str(INT64_MAX + 1), "0", "-5"])
def test_token_subject_beyond_the_id_column_is_401(
    client: TestClient, app: Hasten, subject: str
) -> None:
    """A validly signed token whose subject no ``Integer`` id can hold: 401, not a database
    overflow (500 above 2**63 - 1 on SQLite)."""
    from examples.shop.security import create_access_token

    class Someone:
        id = subject
        role = "admin"

    token = create_access_token(app.state.settings, Someone())  # type: ignore[arg-type]
    response = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def test_cancel_that_would_overflow_the_stock_column_is_409(
    shop: Shop, client: TestClient, app: Hasten
) -> None:
    """Stock given back by a cancel never overflows ``products.stock`` (``Integer``): if it
    would, the cancel is refused with 409 and nothing changes (no database error)."""
    from sqlalchemy import update

    from examples.shop.models import Product

    admin = shop.admin()
    product = shop.product(admin, stock=10)
    order = client.post(
        "/orders", json={"items": [{"product_id": product["id"], "quantity": 5}]}, headers=admin
    ).json()

    async def fill_up() -> None:
        async with app.state.write_sessionmaker() as session:
            await session.execute(
                update(Product).where(Product.id == product["id"]).values(stock=INT32_MAX - 2)
            )
            await session.commit()

    assert client.portal is not None
    client.portal.call(fill_up)
    response = client.post(f"/orders/{order['id']}/cancel", headers=admin)
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"The stock of product {product['id']} cannot take its items back"
    }
    assert client.get(f"/orders/{order['id']}", headers=admin).json()["status"] == "placed"
    assert client.get(f"/products/{product['id']}").json()["stock"] == INT32_MAX - 2
