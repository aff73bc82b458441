"""Clients that leave at the worst moment leave nothing behind (issue 14, finding 11).

One real ``hasten run`` process serves the probe app (``probe_app.py``); raw-socket clients
disconnect before the body, during it, after it (while a background task's request is being
answered), in the middle of an upload, of a ``StreamingResponse``, of a ``yield`` (JSON Lines)
stream, of a fast Server-Sent Events stream whose client stopped reading, of an idle SSE
subscription, of a WebSocket, and of a sync generator's SSE stream (iterated in the threadpool); each as a
clean close (FIN) and as a reset (RST). It proves:

* the endpoint's cleanup (generator ``finally``, ``yield`` dependency teardown) runs at once:
  the test waits (on an event in the server, ``GET /wait``, at most 10 s) for every stream and
  every dependency opened to be closed — before the fix, an SSE generator stayed suspended
  until garbage collection and subscriptions stayed registered;
* no subscription stays registered, and the server's asyncio tasks, open files (upload temp
  files included) and threads are back to what they were before (threads: at most the
  threadpool's idle workers more);
* nothing is logged at ERROR and no traceback (before the fix: ``Exception in ASGI application
  … anyio.BrokenResourceError`` for SSE clients that left);
* the server still answers.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer, connect, http_get, read_all

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")

ROUNDS = 6  # per scenario and way of leaving (FIN, RST)
# Threads the server may have more than before: anyio's idle threadpool workers (each sync
# endpoint or dependency can leave one behind until it idles out), never per request.
THREAD_SLACK = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer.start("probe_app:app", tmp_path_factory.mktemp("live") / "server.log")
    try:
        yield live
    finally:
        live.stop()


def state(server: LiveServer) -> dict[str, Any]:
    status, body = http_get(server.port, "/state")
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def wait_closed(server: LiveServer, kind: str, count: int) -> dict[str, Any]:
    status, body = http_get(server.port, f"/wait?kind={kind}&count={count}")
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def leave(sock: socket.socket, how: str) -> None:
    if how == "rst":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed before the head: {data!r}"
        data += chunk
    return data


def _request(method: str, path: str, headers: str = "", body: bytes = b"") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: probe\r\n{headers}\r\n".encode() + body


def stream_then_leave(path: str, how: str, port: int, read_bytes: int = 200_000) -> None:
    sock = connect(port)
    sock.sendall(_request("GET", path))
    received = len(read_head(sock))
    while received < read_bytes:
        chunk = sock.recv(65536)
        assert chunk
        received += len(chunk)
    leave(sock, how)  # mid-stream: the server is writing as fast as it can


def stop_reading_then_leave(path: str, how: str, port: int) -> None:
    """Read the head, then never read: the server's writes fill both socket buffers."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(_request("GET", path))
    read_head(sock)
    leave(sock, how)


def subscribe_then_leave(path: str, how: str, port: int) -> None:
    sock = connect(port)
    sock.sendall(_request("GET", path))
    data = read_head(sock)
    while b"subscribed" not in data:
        data += sock.recv(4096)
    leave(sock, how)  # idle: the generator is waiting for an event


def upload_then_leave(how: str, port: int) -> None:
    boundary = "b0undary"
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    total = len(part) + 4 * 1024 * 1024 + 64
    sock = connect(port)
    headers = f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
    sock.sendall(_request("POST", "/upload", headers + f"Content-Length: {total}\r\n"))
    sock.sendall(part + b"u" * (2 * 1024 * 1024))  # beyond the in-memory part: a temp file
    leave(sock, how)


def body_then_leave(sent: int, how: str, port: int) -> None:
    body = json.dumps({"name": "cup", "price": 1.5, "tags": ["a"] * 200}).encode()
    sock = connect(port)
    head = "Content-Type: application/json\r\n" + f"Content-Length: {len(body)}\r\n"
    sock.sendall(_request("POST", "/items", head) + body[:sent])
    leave(sock, how)


def background_then_leave(how: str, port: int) -> None:
    sock = connect(port)
    sock.sendall(_request("POST", "/background", "Content-Length: 0\r\n"))
    leave(sock, how)  # the endpoint is still answering (it sleeps 0.2 s)


def websocket_then_leave(how: str, port: int) -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    sock = connect(port)
    upgrade = (
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    )
    sock.sendall(_request("GET", "/ws", upgrade))
    assert b" 101 " in read_head(sock)
    mask = os.urandom(4)
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"hello"))
    sock.sendall(bytes([0x81, 0x80 | 5]) + mask + payload)
    echo = sock.recv(64)
    assert b"session: hello" in echo
    leave(sock, how)


# (name, what the client does, the cleanup counter each round adds to, streams per round)
Scenario = tuple[str, Callable[[str, int], None], str]
SCENARIOS: list[Scenario] = [
    ("before-body", lambda how, port: body_then_leave(0, how, port), ""),
    ("during-body", lambda how, port: body_then_leave(500, how, port), ""),
    ("during-upload", upload_then_leave, ""),
    ("background-request", background_then_leave, "background"),
    ("mid-streamingresponse", lambda how, port: stream_then_leave("/stream", how, port), "stream"),
    ("mid-yield-stream", lambda how, port: stream_then_leave("/lines", how, port), "lines"),
    ("mid-sse", lambda how, port: stream_then_leave("/sse", how, port), "sse"),
    ("mid-sse-not-reading", lambda how, port: stop_reading_then_leave("/sse", how, port), "sse"),
    ("mid-sse-subscription", lambda how, port: subscribe_then_leave("/subscribe", how, port), "subscribe"),
    ("mid-stream-not-reading", lambda how, port: stop_reading_then_leave("/stream", how, port), "stream"),
    ("mid-websocket", websocket_then_leave, "ws"),
    ("mid-sync-sse", lambda how, port: stream_then_leave("/sync-sse", how, port), "sync-sse"),
    ("mid-sync-sse-not-reading", lambda how, port: stop_reading_then_leave("/sync-sse", how, port), "sync-sse"),
]  # fmt: skip

# Scenarios whose endpoint has the ``yield`` dependency (its teardown is counted too).
WITH_DEPENDENCY = {
    "background-request",
    "mid-streamingresponse",
    "mid-yield-stream",
    "mid-sse",
    "mid-sse-not-reading",
    "mid-sse-subscription",
    "mid-stream-not-reading",
    "mid-websocket",
}


def test_scenario_table_counts() -> None:
    """Thirteen ways of leaving, each as FIN and RST: 26 disconnect scenarios."""
    assert len(SCENARIOS) * 2 == 26


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize(("name", "client", "kind"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_client_that_leaves_leaves_nothing_behind(
    server: LiveServer, name: str, client: Callable[[str, int], None], kind: str, how: str
) -> None:
    http_get(server.port, "/items/1")  # warm: the threadpool and the app have started
    before = state(server)
    log_before = len(server.log())
    for _ in range(ROUNDS):
        client(how, server.port)
    if kind:
        target = before["closed"].get(kind, 0) + ROUNDS
        assert wait_closed(server, kind, target)["reached"], (name, state(server))
    if name in WITH_DEPENDENCY:
        target = before["closed"].get("dependency", 0) + ROUNDS
        assert wait_closed(server, "dependency", target)["reached"], (name, state(server))
    status, body = http_get(server.port, f"/settle?tasks={before['tasks']}")
    after = json.loads(body)
    opened = {k: after["opened"].get(k, 0) - before["opened"].get(k, 0) for k in after["opened"]}
    closed = {k: after["closed"].get(k, 0) - before["closed"].get(k, 0) for k in after["closed"]}
    for counter in (
        "stream",
        "lines",
        "sse",
        "subscribe",
        "ws",
        "dependency",
        "sync-sse",
    ):
        assert opened.get(counter, 0) == closed.get(counter, 0), (name, opened, closed)
    assert after["subscribers"] == 0
    assert after["tasks"] <= before["tasks"], (before, after)
    assert after["fds"] <= before["fds"], (before, after)
    assert after["temp_files"] <= before["temp_files"], (before, after)
    assert after["threads"] <= before["threads"] + THREAD_SLACK, (before, after)
    log = server.log()[log_before:]
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
    assert http_get(server.port, "/items/2")[0] == 200


def test_server_log_has_no_error_and_memory_is_bounded(server: LiveServer) -> None:
    """After every scenario: RSS stays under 300 MiB and the log under ERROR level."""
    assert server.alive()
    assert server.rss() < 300 * 1024 * 1024
    log = server.log()
    assert "Exception in ASGI application" not in log
    assert "BrokenResourceError" not in log


def test_pipelined_requests_then_leave(server: LiveServer) -> None:
    """Three pipelined requests, the client gone before reading: the server carries on."""
    sock = connect(server.port)
    sock.sendall(b"".join(_request("GET", f"/items/{n}") for n in range(3)))
    leave(sock, "rst")
    status, _ = http_get(server.port, "/items/9")
    assert status == 200


def test_reading_everything_still_works(server: LiveServer) -> None:
    sock = connect(server.port)
    sock.sendall(_request("GET", "/items/5?q=x", "Connection: close\r\n"))
    raw = read_all(sock)
    sock.close()
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert raw.endswith(b'{"item_id":5,"q":"x","limit":10}')


def test_log_path_is_kept(server: LiveServer) -> None:
    assert Path(server.log_path).is_file()
