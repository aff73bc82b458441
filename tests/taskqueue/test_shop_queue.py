"""The shop with SHOP_TASK_BROKER_URL: registration work runs in a ``hasten worker`` process.

Two shop servers (uvicorn) share a SQLite file, Redis and RabbitMQ; a registration sent to one is
done by the worker, and its status read from the other. A broker that cannot be reached makes
the registration a 503 in FastAPI's shape, with nothing created.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tq_support import AMQP_URL, REDIS_URL, _drain, _reachable, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


# Process start-ups take seconds, much longer on a loaded machine: the deadlines inside are
# generous bounds, and so is the test timeout.
pytestmark = pytest.mark.timeout(150)


class Shop:
    def __init__(self, tmp: Path) -> None:
        run = uuid.uuid4().hex[:12]
        self.prefix, self.queue = f"shop-tq-test:{run}:", f"shop-tq-{run}"
        self.env = dict(os.environ)
        self.env.update(
            SHOP_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'shop.db'}",
            SHOP_MEDIA_DIR=str(tmp / "media"),
            SHOP_JWT_SECRET="queue-test-secret-" + "x" * 40,
            SHOP_REDIS_URL=REDIS_URL,
            SHOP_REDIS_PREFIX=self.prefix,
            SHOP_TASK_BROKER_URL=AMQP_URL,
            SHOP_TASK_QUEUE_NAME=self.queue,
            SHOP_ARGON2_TIME_COST="1",
            SHOP_ARGON2_MEMORY_COST="1024",
        )
        self.procs: list[subprocess.Popen[str]] = []

    def _spawn(self, args: list[str], **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def start(self, servers: int, worker: bool, **env: str) -> list[str]:
        urls = []
        for _ in range(servers):
            port = free_port()
            self._spawn(["-m", "uvicorn", "examples.shop.main:app", "--port", str(port)], **env)
            urls.append(f"http://127.0.0.1:{port}")
        lines: list[str] = []
        if worker:
            proc = self._spawn(["-m", "hasten", "worker", "examples.shop.tasks:queue"], **env)
            threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()
        for url in urls:

            def up(url: str = url) -> bool:
                try:
                    return httpx.get(f"{url}/tasks/none", timeout=1).status_code == 404
                except httpx.HTTPError:
                    return False

            wait_until(up, timeout=40, what=f"the shop on {url}")
        if worker:
            wait_until(lambda: any("ready" in line for line in lines), timeout=40, what="worker")
        return urls

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        import pika
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=self.prefix + "*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        try:
            channel = connection.channel()
            for name in (self.queue, f"{self.queue}.DQ", f"{self.queue}.XQ"):
                channel.queue_delete(queue=name)
        finally:
            connection.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    if not (_reachable("127.0.0.1", 5672) and _reachable("127.0.0.1", 6379)):
        pytest.skip("RabbitMQ (127.0.0.1:5672) or Redis (127.0.0.1:6379) is not reachable")
    running = Shop(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _register(url: str, name: str) -> httpx.Response:
    form = {"username": name, "email": f"{name}@example.com", "password": "a-long-password"}
    return httpx.post(f"{url}/users/register", data=form, timeout=15)


def test_registration_runs_on_the_worker_and_reads_the_same_everywhere(shop: Shop) -> None:
    server_a, server_b = shop.start(servers=2, worker=True)
    created = _register(server_a, "queued")
    assert created.status_code == 201, created.text
    task_id = created.json()["task_id"]

    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = httpx.get(f"{server_b}/tasks/{task_id}", timeout=5).json()
        return body if body["state"] == "succeeded" else None

    task = wait_until(done, timeout=20, what="the registration task")
    assert task["name"] == "shop.user_work"
    assert task["result"] == [
        {"name": "welcome_email", "status": "done", "error": None},
        {"name": "avatar", "status": "done", "error": None},
    ]
    assert httpx.get(f"{server_a}/tasks/{task_id}", timeout=5).json() == task
    # It went through the queue: the record in Redis (what both servers answered from) says
    # the worker's attempt succeeded.
    import redis

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        record = client.hgetall(f"{shop.prefix}task:{task_id}")
    finally:
        client.close()
    assert record["name"] == "shop.user_work" and record["state"] == "succeeded"
    # The worker made the avatar: either server serves it.
    user_id = created.json()["user"]["id"]
    avatar = httpx.get(f"{server_b}/users/{user_id}/avatar", timeout=5)
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/png"


def test_unreachable_broker_is_a_503_and_nothing_is_created(shop: Shop) -> None:
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    (server,) = shop.start(servers=1, worker=False, SHOP_TASK_BROKER_URL=closed)
    for _ in range(2):  # the second try is not a 409: the first left no user behind
        refused = _register(server, "nobroker")
        assert refused.status_code == 503
        assert list(refused.json()) == ["detail"]
        assert refused.json()["detail"].startswith("The task queue is unavailable: ")
