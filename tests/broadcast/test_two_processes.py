"""Two real server processes on one Redis: what one publishes reaches the other's clients.

Each process is ``uvicorn two_app:app`` on its own port; a message POSTed to process A
reaches a WebSocket client and an SSE client connected to process B, and a client that
disconnects from B leaves no subscription behind on Redis (PUBSUB NUMSUB back to 0).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from broadcast_support import REDIS_URL, need_redis, numsub
from websockets.sync.client import connect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "BROADCAST_URL": url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "two_app:app", "--app-dir", str(HERE)]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )
    return process, f"127.0.0.1:{port}"


def _wait_ready(process: subprocess.Popen[bytes], address: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, f"the server on {address} exited"
        try:
            if httpx.get(f"http://{address}/health", timeout=1).json() == {"connected": True}:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the server on {address} did not start"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """Processes A and B, both on the test Redis."""
    need_redis()
    started = [_serve(REDIS_URL), _serve(REDIS_URL)]
    try:
        for process, address in started:
            _wait_ready(process, address)
        yield started[0][1], started[1][1]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield client
    client.close()


def _eventually(predicate: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


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


def test_a_message_published_on_a_reaches_websocket_and_sse_clients_on_b(
    servers: tuple[str, str], redis_client: redis.Redis, prefix: str
) -> None:
    a, b = servers
    ws_channel, sse_channel = prefix + "ws", prefix + "sse"
    with connect(f"ws://{b}/ws/{ws_channel}", open_timeout=10) as websocket:
        assert websocket.recv(timeout=10) == "subscribed"
        assert numsub(redis_client, ws_channel) == 1
        with httpx.stream("GET", f"http://{b}/sse/{sse_channel}", timeout=10) as stream:
            assert stream.status_code == 200
            events = _sse_events(stream.iter_lines())
            assert next(events) == {"event": "subscribed", "data": json.dumps(sse_channel)}
            assert numsub(redis_client, sse_channel) == 1

            for text in ("first", "second", "third"):
                for channel in (ws_channel, sse_channel):
                    response = httpx.post(
                        f"http://{a}/publish/{channel}",
                        content=text,
                        headers={"content-type": "text/plain"},
                        timeout=10,
                    )
                    assert response.status_code == 204, response.text
            assert [websocket.recv(timeout=10) for _ in range(3)] == ["first", "second", "third"]
            assert [next(events)["data"] for _ in range(3)] == ["first", "second", "third"]
            assert httpx.get(f"http://{a}/subscribers/{sse_channel}").json() == 0
            assert httpx.get(f"http://{b}/subscribers/{sse_channel}").json() == 1
        # The SSE client left: B unsubscribed that channel on Redis at once.
        _eventually(lambda: numsub(redis_client, sse_channel) == 0, "SSE channel unsubscribed")
        assert httpx.get(f"http://{b}/subscribers/{sse_channel}").json() == 0
        assert numsub(redis_client, ws_channel) == 1  # the WebSocket is still there
    _eventually(lambda: numsub(redis_client, ws_channel) == 0, "WebSocket channel unsubscribed")
    assert httpx.get(f"http://{b}/subscribers/{ws_channel}").json() == 0


def test_many_websockets_on_both_processes_share_one_redis_subscription_each(
    servers: tuple[str, str], redis_client: redis.Redis, prefix: str
) -> None:
    channel = prefix + "room"
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(connect(f"ws://{address}/ws/{channel}", open_timeout=10))
            for address in servers * 3
        ]
        for websocket in sockets:
            assert websocket.recv(timeout=10) == "subscribed"
        assert numsub(redis_client, channel) == 2  # one per process, not one per client
        httpx.post(
            f"http://{servers[1]}/publish/{channel}",
            content="to all",
            headers={"content-type": "text/plain"},
            timeout=10,
        )
        assert [ws.recv(timeout=10) for ws in sockets] == ["to all"] * 6
    _eventually(lambda: numsub(redis_client, channel) == 0, "both processes unsubscribed")
