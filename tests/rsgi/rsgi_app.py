"""The apps tests/rsgi serves with a real Granian process, ``--interface rsgi``.

``app`` (a ``Hasten``) and ``fastapi_app`` (a ``FastAPI``) are built by ``build`` with every
feature the RSGI adapter must carry: plain and JSON answers, streaming, server-sent events,
files, JSON and multipart bodies, a body limit, WebSockets, the lifespan (startup, shutdown
and an app-scoped dependency), user ASGI middleware, exception handlers, background tasks and
a client that goes away mid-stream. What happens out of sight of the client (background
tasks, shutdown, disconnects) is written to the file ``RSGI_TEST_LOG`` names.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hasten import (
    BackgroundTasks,
    Depends,
    FastAPI,
    File,
    Hasten,
    Request,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from hasten.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from hasten.sse import EventSourceResponse, ServerSentEvent

HERE = Path(__file__).resolve().parent
LOG = Path(os.environ.get("RSGI_TEST_LOG", "/dev/null"))


def note(line: str) -> None:
    """Append ``line`` to the log file the test reads."""
    with LOG.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


class Item(BaseModel):
    name: str
    price: float


class Teapot(Exception):
    pass


class StampMiddleware:
    """A plain ASGI middleware: adds ``x-stamp`` to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"x-stamp", b"rsgi")]}
            await send(message)

        await self.app(scope, receive, stamped)


async def pool() -> AsyncIterator[dict[str, Any]]:
    note("pool open")
    yield {"name": "pool", "pid": os.getpid()}
    note("pool closed")


def build(app_class: type[Hasten]) -> Hasten:
    """The test app, on ``Hasten`` or ``FastAPI``."""

    @asynccontextmanager
    async def lifespan(app: Hasten) -> AsyncIterator[dict[str, Any]]:
        note(f"startup {app_class.__name__}")
        yield {"started": "yes"}
        note(f"shutdown {app_class.__name__}")

    app = app_class(lifespan=lifespan, max_body_size=1000)
    app.add_middleware(StampMiddleware)
    _answers(app)
    _bodies(app)
    _streams(app)
    _errors_and_tasks(app)
    _websockets(app)
    return app


def _answers(app: Hasten) -> None:
    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/json")
    def json_answer(request: Request) -> dict[str, Any]:
        scope = request.scope
        return {
            "message": "Hello, World!",
            "state": request.state.started,
            "client": list(scope["client"]),
            "http_version": scope["http_version"],
            "query": scope["query_string"].decode(),
            "path": scope["path"],
            "host": request.headers.get("host"),
        }

    @app.api_route("/file", methods=["GET", "HEAD"], include_in_schema=False)
    def file() -> FileResponse:
        return FileResponse(HERE / "rsgi_app.py", media_type="text/x-python")

    @app.get("/pool")
    def read_pool(p: Annotated[dict[str, Any], Depends(pool, scope="app")]) -> dict[str, Any]:
        return p


def _bodies(app: Hasten) -> None:
    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.post("/upload")
    async def upload(files: Annotated[list[UploadFile], File()]) -> list[dict[str, Any]]:
        return [{"name": f.filename, "size": len(await f.read())} for f in files]

    @app.post("/echo-length")
    async def echo_length(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}


def _streams(app: Hasten) -> None:
    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for index in range(5):
                yield f"part {index}\n".encode()
                await asyncio.sleep(0)

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse() -> AsyncIterator[ServerSentEvent]:
        for index in range(3):
            yield ServerSentEvent(data={"n": index}, event="tick")

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def forever() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x" * 1024
                    await asyncio.sleep(0.01)
            finally:
                note("endless closed")

        return StreamingResponse(forever(), media_type="text/plain")


def _errors_and_tasks(app: Hasten) -> None:
    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> JSONResponse:
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    @app.get("/teapot")
    def raise_teapot() -> None:
        raise Teapot("short and stout")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/background")
    def background(tasks: BackgroundTasks, tag: str) -> dict[str, str]:
        tasks.add_task(note, f"background {tag}")
        return {"queued": tag}


def _websockets(app: Hasten) -> None:
    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_text(f"echo {text}")
                if text == "bytes":
                    await websocket.send_bytes(b"\x00\x01")
                if text == "bye":
                    await websocket.close()
                    return
        except WebSocketDisconnect as exc:
            note(f"ws disconnect {exc.code}")

    @app.websocket("/ws-deny")
    async def deny(websocket: WebSocket) -> None:
        await websocket.close()


app = build(Hasten)
fastapi_app = build(FastAPI)
