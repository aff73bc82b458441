"""Findings 8 and 9 (logs) of issue 14: cheap refusals first, and no tokens in the logs.

The body limit is shown by counting the bytes the app reads from the client (never by timing):
a body over a JSON endpoint's limit is refused with 413 before it is read or parsed, so it
never gets ahead of authentication and rate limiting and never stalls the event loop.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from shop_support import ADMIN, Shop, served
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from examples.shop.main import create_app
from examples.shop.schemas import JSON_MAX_BYTES
from examples.shop.settings import Settings
from hasten import Hasten
from hasten.testclient import TestClient

BIG = 14 * 1024 * 1024
CHUNK = 64 * 1024


def _post_raw(
    client: TestClient, app: Hasten, path: str, size: int, *, declare: bool, method: str = "POST"
) -> tuple[int, dict[str, Any], int]:
    """Send ``size`` bytes of a JSON array (a form, to /auth/token) to ``path`` straight
    through ASGI, in 64 KiB chunks; the status, the JSON answer and how many body bytes the
    app asked for."""
    if path == "/auth/token":
        body = b"username=u&password=" + b"p" * (size - 20)
        content_type = b"application/x-www-form-urlencoded"
    else:
        body = b"[" + b"1," * ((size - 2) // 2) + b"1]"
        content_type = b"application/json"
    raw_headers = [(b"host", b"shop"), (b"content-type", content_type)]
    if declare:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("192.0.2.10", 5555),
        "server": ("shop", 80),
        "extensions": {},
        "state": {},
    }
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= len(body):
            return {"type": "http.disconnect"}
        chunk = body[read : read + CHUNK]
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": read < len(body)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    assert client.portal is not None
    client.portal.call(run)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(content), read


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/products"),
        ("PATCH", "/products/1"),
        ("POST", "/orders"),
        ("PATCH", "/users/1/role"),
        ("POST", "/auth/token"),
    ],
)
@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])
def test_large_body_is_refused_before_it_is_read(
    client: TestClient, app: Hasten, method: str, path: str, declare: bool
) -> None:
    """The attack: a 14 MiB JSON body to an authenticated endpoint, without a token, was read
    and parsed (~0.7 s of a stalled event loop) before the 401. Now 413 in the app's error
    shape; with a declared length nothing is read, without one at most the limit (+1 chunk)."""
    status, answer, read = _post_raw(client, app, path, BIG, declare=declare, method=method)
    assert status == 413
    assert answer == {"detail": "Content Too Large"}
    assert read <= (0 if declare else JSON_MAX_BYTES + CHUNK)


def test_large_body_from_a_rate_limited_client_reads_nothing(
    make_settings: Any,
) -> None:
    app = create_app(make_settings(rate_limit_per_minute=1))
    with TestClient(app) as client:
        status, _, _ = _post_raw(client, app, "/orders", 100, declare=True)
        assert status == 401  # a small body: authentication runs (and the one request counts)
        status, answer, read = _post_raw(client, app, "/orders", BIG, declare=True)
        assert (status, answer, read) == (413, {"detail": "Content Too Large"}, 0)


def test_bodies_within_the_limits_are_served(shop: Shop, client: TestClient) -> None:
    admin = shop.admin()
    notes = "n" * (JSON_MAX_BYTES - 1024)
    created = client.post(
        "/products",
        json={
            "sku": "BIG-00001",
            "name": "Big notes",
            "description": "A product with long internal notes.",
            "price": "1.00",
            "internal_notes": notes,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    # Avatars go up to avatar_max_bytes (the whole multipart request has that plus 64 KiB).
    assert client.app.max_body_size == 2 * 1024 * 1024 + 64 * 1024  # type: ignore[attr-defined]


# --- 9: tokens in the server's logs ---------------------------------------------------------


@pytest.fixture
def shop_server(tmp_path: Path) -> Iterator[str]:
    """The shop served by a real uvicorn on 127.0.0.1 (free port); its ``host:port``."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        media_dir=tmp_path / "media",
        redis_url=None,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        admin_username=ADMIN[0],
        admin_password=ADMIN[1],
    )
    with served(create_app(settings)) as where:
        yield where


def test_query_string_tokens_never_reach_the_logs(
    shop_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The attack: the WebSocket chat takes its bearer token as ``?token=``; uvicorn's log
    printed it. Now every ``token=``/``access_token=`` value is ``[redacted]`` in the access
    and WebSocket log lines (accepted and refused connections alike)."""
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    served = shop_server
    with httpx.Client(base_url=f"http://{served}") as http:
        login = http.post("/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        product = http.post(
            "/products",
            json={
                "sku": "LOG-00001",
                "name": "Cup",
                "description": "A cup for the log test.",
                "price": "1.00",
                "stock": 5,
            },
            headers=headers,
        ).json()
        order = http.post(
            "/orders",
            json={"items": [{"product_id": product["id"], "quantity": 1}]},
            headers=headers,
        ).json()
        assert http.get(f"/users/me?access_token={token}&x=1", headers=headers).status_code == 200
    with connect(f"ws://{served}/orders/{order['id']}/chat?token={token}") as websocket:
        websocket.send("hello")
        assert json.loads(websocket.recv())["type"] in ("join", "message", "members")
    with pytest.raises(InvalidStatus):  # a refused handshake: the bad token is not logged either
        with connect(f"ws://{served}/orders/{order['id']}/chat?token=not.a.valid-token"):
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(_lines(caplog, "WebSocket")) < 2:
        time.sleep(0.02)
    lines = _lines(caplog, "")
    assert len(_lines(caplog, "WebSocket")) >= 2, lines
    assert any("/users/me?access_token=[redacted]&x=1" in line for line in lines), lines
    assert any(f"/orders/{order['id']}/chat?token=[redacted]" in line for line in lines), lines
    for line in lines:
        assert token not in line and "not.a.valid-token" not in line, line


def _lines(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("uvicorn") and word in r.getMessage()
    ]
