"""Hasten and FastAPI apps served by a real Granian process over RSGI (``--interface rsgi``).

Granian calls ``app.__rsgi__`` (and ``__rsgi_init__``/``__rsgi_del__`` for the lifespan): an
app without them cannot be served this way at all. Each test talks HTTP or WebSocket to the
process and checks what a client sees; what the client cannot see (background tasks,
shutdown, a stream closed after a disconnect) is read from the app's log file.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from granian_server import GranianServer, free_port, granian_command, wait_for
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from hasten.testclient import TestClient

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module", params=["rsgi_app:app", "rsgi_app:fastapi_app"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GranianServer, Path]]:
    folder = tmp_path_factory.mktemp("granian")
    app_log = folder / "app.log"
    app_log.touch()
    port = free_port()
    server = GranianServer.start(
        granian_command(request.param, port),
        port,
        folder / "server.log",
        env={"RSGI_TEST_LOG": str(app_log)},
    )
    try:
        yield server, app_log
    finally:
        server.stop()


@pytest.fixture
def client(served: tuple[GranianServer, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=20) as http:
        yield http


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_plain_and_json_answers_through_user_middleware(client: httpx.Client) -> None:
    plain = client.get("/plaintext")
    assert (plain.status_code, plain.text) == (200, "Hello, World!")
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert plain.headers["content-length"] == "13"
    assert plain.headers["x-stamp"] == "rsgi"  # the user's ASGI middleware ran
    answer = client.get("/json", params={"q": "é x"})
    assert answer.status_code == 200
    assert answer.headers["x-stamp"] == "rsgi"
    body = answer.json()
    assert body["message"] == "Hello, World!"
    assert body["state"] == "yes"  # lifespan state reaches request.state
    assert body["client"][0] == "127.0.0.1" and isinstance(body["client"][1], int)
    assert body["http_version"] == "1.1"
    assert body["query"] == "q=%C3%A9+x"
    assert body["path"] == "/json"
    assert body["host"] == client.base_url.netloc.decode()


def test_json_body_and_validation_error(client: httpx.Client) -> None:
    created = client.post("/items", json={"name": "kettle", "price": 12.5})
    assert created.status_code == 200
    assert created.json() == {"name": "kettle", "price": 12.5}
    invalid = client.post("/items", json={"name": "kettle"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "price"]


def test_multipart_upload(client: httpx.Client) -> None:
    files = [("files", ("a.txt", b"a" * 100)), ("files", ("b.bin", b"\x00" * 200))]
    answer = client.post("/upload", files=files)
    assert answer.status_code == 200
    assert answer.json() == [{"name": "a.txt", "size": 100}, {"name": "b.bin", "size": 200}]


def _in_process(target: str, method: str, path: str, **options: Any) -> httpx.Response:
    """The same request answered by the same app in-process (Starlette's ASGI test client)."""
    import rsgi_app

    with TestClient(getattr(rsgi_app, target.partition(":")[2])) as local:
        return local.request(method, path, **options)


def test_body_limit_with_length_and_chunked(
    client: httpx.Client, served: tuple[GranianServer, Path], request: pytest.FixtureRequest
) -> None:
    target = request.node.callspec.params["served"]
    small = client.post("/echo-length", content=b"x" * 999)
    assert (small.status_code, small.json()) == (200, {"length": 999})
    declared = client.post("/echo-length", content=b"x" * 5000)
    expected = _in_process(target, "POST", "/echo-length", content=b"x" * 5000)
    assert (declared.status_code, declared.text) == (413, expected.text)
    assert declared.headers["content-type"] == expected.headers["content-type"]

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b"y" * 100

    chunked = client.post("/echo-length", content=chunks())
    expected = _in_process(target, "POST", "/echo-length", content=chunks())
    assert (chunked.status_code, chunked.text) == (413, expected.text)
    streamed_ok = client.post("/echo-length", content=iter([b"z" * 300, b"z" * 300]))
    assert (streamed_ok.status_code, streamed_ok.json()) == (200, {"length": 600})


def test_streaming_response(client: httpx.Client) -> None:
    answer = client.get("/stream")
    assert answer.status_code == 200
    assert answer.text == "".join(f"part {index}\n" for index in range(5))
    assert answer.headers["transfer-encoding"] == "chunked"
    assert answer.headers["x-stamp"] == "rsgi"


def test_server_sent_events(client: httpx.Client) -> None:
    answer = client.get("/sse")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = [block for block in answer.text.split("\n\n") if block.strip()]
    data = [
        json.loads(line[len("data: ") :])
        for b in events
        for line in b.splitlines()
        if line.startswith("data: ")
    ]
    assert data == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all("event: tick" in block for block in events)


def test_file_response_full_and_range(client: httpx.Client) -> None:
    content = (HERE / "rsgi_app.py").read_bytes()
    full = client.get("/file")
    assert full.status_code == 200
    assert full.content == content
    assert full.headers["content-length"] == str(len(content))
    assert full.headers["content-type"].startswith("text/x-python")
    part = client.get("/file", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == content[:10]
    head = client.head("/file")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(content))


def test_exception_handlers_and_errors(client: httpx.Client) -> None:
    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.json()) == (418, {"teapot": "short and stout"})
    boom = client.get("/boom")
    assert (boom.status_code, boom.text) == (500, "Internal Server Error")
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong_method = client.delete("/plaintext")
    assert wrong_method.status_code == 405


def test_background_task_runs_after_the_response(
    client: httpx.Client, served: tuple[GranianServer, Path]
) -> None:
    tag = uuid.uuid4().hex
    answer = client.get("/background", params={"tag": tag})
    assert (answer.status_code, answer.json()) == (200, {"queued": tag})
    assert wait_for(lambda: f"background {tag}" in _lines(served[1]))


def test_app_scoped_dependency_made_at_startup(
    client: httpx.Client, served: tuple[GranianServer, Path]
) -> None:
    first, second = client.get("/pool").json(), client.get("/pool").json()
    assert first == second and first["name"] == "pool"
    lines = _lines(served[1])
    assert lines.index("pool open") < next(
        index for index, line in enumerate(lines) if line.startswith("startup")
    )


def test_websocket_echo_and_close(served: tuple[GranianServer, Path]) -> None:
    url = served[0].url.replace("http://", "ws://") + "/ws"
    with ws_connect(url) as websocket:
        websocket.send("hi")
        assert websocket.recv(timeout=10) == "echo hi"
        websocket.send("bytes")
        assert websocket.recv(timeout=10) == "echo bytes"
        assert websocket.recv(timeout=10) == b"\x00\x01"
        websocket.send("bye")
        assert websocket.recv(timeout=10) == "echo bye"
        with pytest.raises(ConnectionClosed):
            websocket.recv(timeout=10)


def test_websocket_client_disconnect_reaches_the_app(served: tuple[GranianServer, Path]) -> None:
    url = served[0].url.replace("http://", "ws://") + "/ws"
    before = sum(line.startswith("ws disconnect") for line in _lines(served[1]))
    with ws_connect(url) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=10) == "echo hello"
    assert wait_for(
        lambda: sum(line.startswith("ws disconnect") for line in _lines(served[1])) > before
    )


def test_websocket_refused_before_accept(served: tuple[GranianServer, Path]) -> None:
    url = served[0].url.replace("http://", "ws://") + "/ws-deny"
    with pytest.raises(InvalidStatus) as refused:
        with ws_connect(url):
            pass
    assert refused.value.response.status_code == 403


def test_client_disconnect_ends_the_stream(served: tuple[GranianServer, Path]) -> None:
    before = _lines(served[1]).count("endless closed")
    with socket.create_connection(("127.0.0.1", served[0].port), timeout=10) as sock:
        sock.sendall(b"GET /endless HTTP/1.1\r\nHost: test\r\n\r\n")
        received = b""
        while len(received) < 4096:
            chunk = sock.recv(4096)
            assert chunk, "the stream ended on its own"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200 OK")
    assert wait_for(lambda: _lines(served[1]).count("endless closed") > before)
