"""A client that goes away mid-stream, mid-upload or mid-WebSocket leaves nothing behind.

Each case drives the app directly over ASGI with a client that vanishes part-way, then counts
the process's open file descriptors, threads and asyncio tasks against a baseline taken after
a warm-up (so the threadpool's idle worker is in both counts), and checks that the endpoint's
own cleanup ran before the app returned: no garbage collection is needed for it.
"""

import asyncio
import gc
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest

from hasten import Depends, FastAPI, File, UploadFile, WebSocket, WebSocketDisconnect
from hasten.responses import StreamingResponse

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd (Linux)"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # counts asyncio tasks


def _resources() -> tuple[int, int, int]:
    gc.collect()
    return len(os.listdir("/proc/self/fd")), threading.active_count(), len(asyncio.all_tasks())


def _no_leak(before: tuple[int, int, int]) -> bool:
    """Nothing left open since ``before``: the same descriptors and tasks, no more threads
    (fewer may run: an idle worker thread of an earlier test's pool exits after 10 s)."""
    fds, threads, tasks = _resources()
    return (fds, tasks) == (before[0], before[2]) and threads <= before[1]


def _app(events: list[str]) -> FastAPI:
    app = FastAPI()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                for _ in range(10_000):
                    yield b"x" * 16
                    await asyncio.sleep(0)
            finally:
                events.append("stream closed")

        return StreamingResponse(chunks())

    @app.get("/lines")
    async def lines() -> AsyncIterator[dict[str, int]]:  # JSON Lines, Hasten's own writer
        try:
            for index in range(10_000):
                yield {"n": index}
                await asyncio.sleep(0)
        finally:
            events.append("lines closed")

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"size": len(await file.read())}  # pragma: no cover - the client leaves first

    def open_session() -> Iterator[str]:
        events.append("session opened")
        try:
            yield "session"
        finally:
            events.append("session closed")

    @app.websocket("/ws")
    async def chat(websocket: WebSocket, session: Annotated[str, Depends(open_session)]) -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(f"{session}: {text}")
        except WebSocketDisconnect:
            events.append("ws disconnect seen")

    @app.get("/warm")
    def warm() -> dict[str, bool]:  # runs in the threadpool: its worker is in the baseline
        return {"ok": True}

    return app


async def _ready(
    http_scope: Callable[[str], dict[str, Any]],
) -> tuple[list[str], FastAPI, tuple[int, int, int]]:
    """The app, its event log, and the resource counts after a warm-up request."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    events: list[str] = []
    app = _app(events)
    await app(http_scope("/warm"), receive, send)
    return events, app, _resources()


def _vanishing_client(after_chunks: int) -> tuple[Any, Any, list[dict[str, Any]]]:
    """receive/send of a client that disconnects once ``after_chunks`` body chunks arrived."""
    gone = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if sum(m["type"] == "http.response.body" for m in sent) >= after_chunks:
            gone.set()

    return receive, send, sent


@pytest.mark.parametrize("path", ["/stream", "/lines"])
async def test_disconnect_mid_stream_closes_the_generator(
    path: str, http_scope: Callable[[str], dict[str, Any]]
) -> None:
    events, app, before = await _ready(http_scope)
    receive, send, sent = _vanishing_client(after_chunks=3)
    await app(http_scope(path), receive, send)
    assert sent[0]["status"] == 200
    assert len(sent) < 100  # it stopped early: the generator had 10,000 chunks to give
    assert events == [f"{path[1:]} closed"]  # cleanup ran before the app returned
    assert _no_leak(before)


@pytest.mark.parametrize("path", ["/stream", "/lines"])
async def test_failed_send_mid_stream_closes_the_generator(
    path: str, http_scope: Callable[[str], dict[str, Any]]
) -> None:
    events, app, before = await _ready(http_scope)
    chunks = 0

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # never says anything: only the failing send ends it
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal chunks
        if message["type"] == "http.response.body":
            chunks += 1
            if chunks == 3:
                raise OSError("connection reset by peer")

    with pytest.raises(OSError, match="connection reset"):
        await app(http_scope(path), receive, send)
    assert events == [f"{path[1:]} closed"]
    assert _no_leak(before)


async def test_disconnect_mid_upload_closes_spooled_files(
    http_scope: Callable[[str], dict[str, Any]],
) -> None:
    events, app, before = await _ready(http_scope)
    head = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    payload = head + b"y" * (3 * 1024 * 1024)  # past the 1 MiB spool: a real temporary file
    messages = [
        {"type": "http.request", "body": payload[i : i + 65536], "more_body": True}
        for i in range(0, len(payload), 65536)
    ]
    messages.append({"type": "http.disconnect"})  # gone before the closing boundary
    feed = iter(messages)

    async def receive() -> dict[str, Any]:
        return next(feed)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = http_scope("/upload")
    scope["method"] = "POST"
    scope["headers"] = [
        (b"content-type", b"multipart/form-data; boundary=B"),
        (b"content-length", str(len(payload) + 100).encode()),
    ]
    await app(scope, receive, send)
    assert next(feed, None) is None  # the whole upload was consumed up to the disconnect
    assert sent[0]["status"] == 400  # the body could not be parsed; the endpoint never ran
    assert _no_leak(before)  # the temporary file is closed


async def test_disconnect_mid_websocket_runs_teardown(
    http_scope: Callable[[str], dict[str, Any]],
) -> None:
    events, app, before = await _ready(http_scope)
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hello"},
        {"type": "websocket.disconnect", "code": 1001},
    ]
    feed = iter(incoming)
    replies: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(feed)

    async def send(message: dict[str, Any]) -> None:
        replies.append(message)

    scope = http_scope("/ws")
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    scope.pop("method")
    await app(scope, receive, send)
    assert [m["type"] for m in replies] == ["websocket.accept", "websocket.send"]
    assert replies[1]["text"] == "session: hello"
    assert events == ["session opened", "ws disconnect seen", "session closed"]
    assert _no_leak(before)
