"""The sample on the real RabbitMQ and Redis, with a real ``hasten worker`` process."""

# --8<-- [start:test]
import importlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hasten.testclient import TestClient

HERE = Path(__file__).resolve().parent


def test_a_worker_process_runs_the_task() -> None:
    for port, service in ((5672, "RabbitMQ"), (6379, "Redis")):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            pytest.skip(f"{service} is not reachable on 127.0.0.1:{port}")
    settings = {
        "TASKS_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "TASKS_STORE_URL": "redis://127.0.0.1:6379/0",
        "TASKS_QUEUE": f"docs-sample-{uuid.uuid4().hex[:8]}",
    }
    os.environ.update(settings)
    worker = subprocess.Popen(
        [sys.executable, "-m", "hasten", "worker", "main:queue", "--threads", "1"],
        cwd=HERE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert "ready" in worker.stdout.readline()  # "hasten worker: queue ... ready"
        sys.modules.pop("main", None)
        main = importlib.import_module("main")  # the app, configured by the environment
        with TestClient(main.app) as client:
            task_id = client.post("/signup", params={"email": "ada@example.com"}).json()["id"]
            deadline = time.monotonic() + 15
            while (status := client.get(f"/tasks/{task_id}").json())["state"] != "succeeded":
                assert time.monotonic() < deadline, status
                time.sleep(0.05)
        assert status["result"] == {"sent_to": "ada@example.com"}
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        worker.stdout.close() if worker.stdout else None
        for name in settings:
            os.environ.pop(name)
        sys.modules.pop("main", None)


# --8<-- [end:test]
