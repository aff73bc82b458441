"""Helpers shared by the shop's tests (imported as ``shop_support``)."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from hasten.testclient import TestClient

ADMIN = ("admin", "admin-password-1")
PASSWORD = "correct-horse-1"


class Shop:
    """Small helpers over a TestClient: users, tokens, products."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.client.post(
            "/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def auth(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, password)}"}

    def admin(self) -> dict[str, str]:
        return self.auth(*ADMIN)

    def task(self, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """``GET /tasks/{task_id}`` once the task has ended (succeeded, failed or dead): the
        work runs on the server's event loop after the answer, as a client would poll it."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(f"/tasks/{task_id}")
            assert response.status_code == 200, response.text
            task: dict[str, Any] = response.json()
            if task["state"] in ("succeeded", "failed", "dead"):
                return task
            assert time.monotonic() < deadline, f"task still {task['state']}: {task}"
            time.sleep(0.02)

    def register(self, username: str, **files: Any) -> dict[str, Any]:
        response = self.client.post(
            "/users/register",
            data={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            files=files or None,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def user(self, username: str, role: str = "customer") -> dict[str, str]:
        """Register ``username`` (with ``role``) and return its auth headers."""
        created = self.register(username)
        if role != "customer":
            response = self.client.patch(
                f"/users/{created['user']['id']}/role", json={"role": role}, headers=self.admin()
            )
            assert response.status_code == 200, response.text
        return self.auth(username)

    def product(self, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
        body = {
            "sku": "CUP-00001",
            "name": "Espresso cup",
            "description": "A small porcelain cup for espresso.",
            "price": "4.50",
            "stock": 10,
            **changes,
        }
        response = self.client.post("/products", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


def png_bytes(size: tuple[int, int] = (300, 200), color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@contextmanager
def served(app: Any, **options: Any) -> Iterator[str]:
    """``app`` served by a real uvicorn (in a thread, on a free 127.0.0.1 port, no logging
    configuration of its own); yields ``host:port``. ``options`` go to ``uvicorn.Config``."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="on", ws="websockets-sansio", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
