"""Helpers of the two-process tests: real processes against the real services: two uvicorn servers, ``hasten worker`` processes.

Each module gets a unique Redis key prefix and RabbitMQ queue (deleted afterwards), so parallel
test workers and other runs do not meet. Without RabbitMQ or Redis the tests skip, saying so.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AMQP_URL = os.environ.get("HASTEN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("HASTEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], Any], *, timeout: float, what: str, log: list[str] | None = None
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds (with
    the output of the process waited for, when ``log`` collects it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            output = "".join(log or [])[-4000:]
            pytest.fail(f"timed out after {timeout} s waiting for {what}\n{output}")
        time.sleep(0.05)


@dataclass
class Env:
    prefix: str
    queue: str
    broker_url: str
    store_url: str = REDIS_URL
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    last_worker: Any = None
    logs: dict[int, list[str]] = field(default_factory=dict)

    def environ(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TQ_BROKER_URL=self.broker_url,
            TQ_STORE_URL=self.store_url,
            TQ_QUEUE=self.queue,
            TQ_PREFIX=self.prefix,
            PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]),
            PYTHONFAULTHANDLER="1",  # a process stuck at start shows where (SIGABRT below)
        )
        env.update(overrides)
        return env

    def _launch_server(self, **overrides: str) -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tq_app:app", "--port", str(port)],
            cwd=HERE,
            env=self.environ(**overrides),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.procs.append(proc)
        lines: list[str] = []
        threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()
        self.logs[proc.pid] = lines
        return proc, f"http://127.0.0.1:{port}"

    def _launch_worker(self) -> Callable[[], bool]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hasten", "worker", "tq_app:queue", "--threads", "2"],
            cwd=HERE,
            env=self.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.procs.append(proc)
        self.last_worker = proc
        lines: list[str] = []
        threading.Thread(target=_drain, args=(proc, lines), daemon=True).start()

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail("the worker exited:\n" + "".join(lines))
            return any(line.startswith("hasten worker:") and "ready" in line for line in lines)

        return ready

    def start(self, servers: int = 1, worker: bool = True, **overrides: str) -> list[str]:
        """Start ``servers`` uvicorn processes serving tq_app (and a ``hasten worker`` process)
        at once; their base URLs once every one answers (the worker in `last_worker`)."""
        launched = [self._launch_server(**overrides) for _ in range(servers)]
        worker_ready = self._launch_worker() if worker else None
        for proc, url in launched:

            def up(proc: subprocess.Popen[str] = proc, url: str = url) -> bool:
                if proc.poll() is not None:
                    log = "".join(self.logs[proc.pid])
                    pytest.fail(f"the server on {url} exited ({proc.returncode}):\n{log}")
                try:
                    return httpx.get(f"{url}/tasks/none", timeout=1).status_code == 404
                except httpx.HTTPError:
                    return False

            try:
                wait_until(up, timeout=40, what=f"the server on {url} to answer")
            except BaseException:
                _abort(proc)
                print(f"output of the server on {url}:\n" + "".join(self.logs[proc.pid]))
                raise
        if worker_ready is not None:
            wait_until(worker_ready, timeout=40, what="the worker to start")
        return [url for _, url in launched]

    def worker(self) -> subprocess.Popen[str]:
        """Start ``hasten worker tq_app:queue``; returns once it says it is ready."""
        wait_until(self._launch_worker(), timeout=40, what="the worker to start")
        return self.last_worker

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for proc in self.procs:
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.procs.clear()


def _abort(proc: subprocess.Popen[str]) -> None:
    """SIGABRT: faulthandler writes every thread's stack to the (drained) output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGABRT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        time.sleep(0.2)  # let the drain thread read the last lines


def _drain(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line)
    except (OSError, ValueError):
        pass  # closed by stop_all


def dead_letters(env: Env) -> int:
    """Messages in the queue's dead-letter queue (Dramatiq's ``<queue>.XQ``)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(env.broker_url))
    try:
        channel = connection.channel()
        declared = channel.queue_declare(queue=f"{env.queue}.XQ", passive=True)
        count: int = declared.method.message_count
        return count
    finally:
        connection.close()


def _cleanup(env: Env) -> None:
    import pika
    import redis

    client = redis.Redis.from_url(env.store_url)
    keys = list(client.scan_iter(match=env.prefix + "*", count=500))
    if keys:
        client.delete(*keys)
    client.close()
    connection = pika.BlockingConnection(pika.URLParameters(env.broker_url))
    try:
        channel = connection.channel()
        for name in (env.queue, f"{env.queue}.DQ", f"{env.queue}.XQ"):
            channel.queue_delete(queue=name)
    finally:
        connection.close()


@pytest.fixture
def env() -> Iterator[Env]:
    """A unique prefix and queue on the real RabbitMQ and Redis; every process stopped after."""
    if not _reachable("127.0.0.1", 5672):
        pytest.skip("RabbitMQ is not reachable at 127.0.0.1:5672")
    if not _reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    run = uuid.uuid4().hex[:12]
    environment = Env(
        prefix=f"hasten:tq-test:{run}:", queue=f"hasten-tq-{run}", broker_url=AMQP_URL
    )
    try:
        yield environment
    finally:
        environment.stop_all()
        _cleanup(environment)
