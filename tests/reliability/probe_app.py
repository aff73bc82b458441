"""The probe app of the reliability tests: one endpoint of each kind a bad client can hurt.

Served in-process (``make_app()``) and by a real ``hasten run`` process (``app``). Each
endpoint that holds something open counts, in ``STATE``, what it opened and what its cleanup
closed; ``GET /state`` reports the counts with the process's live asyncio tasks, threads and
open files, and ``GET /wait?kind=K&count=N`` answers once ``closed[K] >= N`` (or after 10 s),
so tests wait on an event rather than sleeping.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from pydantic import BaseModel, Field

from hasten import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    Hasten,
    Query,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from hasten.responses import StreamingResponse
from hasten.sse import EventSourceResponse, ServerSentEvent


class _State:
    def __init__(self) -> None:
        self.opened: Counter[str] = Counter()
        self.closed: Counter[str] = Counter()
        self.subscribers: set[asyncio.Queue[int]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.changed: asyncio.Event | None = None

    def open(self, kind: str) -> None:
        self.opened[kind] += 1

    def close(self, kind: str) -> None:
        """Count a cleanup (from any thread) and wake the waiters."""
        loop = self.loop
        if loop is not None and threading.current_thread() is not threading.main_thread():
            loop.call_soon_threadsafe(self._closed, kind)
        else:
            self._closed(kind)

    def _closed(self, kind: str) -> None:
        self.closed[kind] += 1
        if self.changed is not None:
            self.changed.set()


STATE = _State()


class Item(BaseModel):
    name: Annotated[str, Field(max_length=100)]
    price: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    tags: list[str] = []
    count: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


def _open_files() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return out


def _session() -> Iterator[str]:
    STATE.open("dependency")
    try:
        yield "session"
    finally:
        STATE.close("dependency")


Session = Annotated[str, Depends(_session)]


router = APIRouter()


@router.get("/state")
async def state() -> dict[str, Any]:
    STATE.loop = asyncio.get_running_loop()
    files = _open_files()
    return {
        "opened": dict(STATE.opened),
        "closed": dict(STATE.closed),
        "subscribers": len(STATE.subscribers),
        "tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
        "fds": len(files),
        "temp_files": sum(1 for f in files if f.startswith("/tmp/") or "(deleted)" in f),
    }


@router.get("/wait")
async def wait(kind: str, count: int) -> dict[str, Any]:
    STATE.loop = asyncio.get_running_loop()
    if STATE.changed is None:
        STATE.changed = asyncio.Event()
    try:
        async with asyncio.timeout(10):
            while STATE.closed[kind] < count:
                STATE.changed.clear()
                await STATE.changed.wait()
    except TimeoutError:
        pass
    return {"kind": kind, "closed": STATE.closed[kind], "reached": STATE.closed[kind] >= count}


@router.get("/settle")
async def settle(tasks: int) -> dict[str, Any]:
    """The state once at most ``tasks`` asyncio tasks are left (or after 10 s): requests
    whose client left finish on their own time, this waits for them to."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while len(asyncio.all_tasks()) > tasks and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return await state()


@router.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@router.get("/items/{item_id}")
async def read_item(
    item_id: int,
    q: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@router.post("/form")
def form(name: Annotated[str, Form(max_length=100)], count: Annotated[int, Form()]) -> dict:  # type: ignore[type-arg]
    return {"name": name, "count": count}


@router.post("/upload")
async def upload(
    file: Annotated[UploadFile, File()], note: Annotated[str, Form()] = ""
) -> dict[str, Any]:
    STATE.open("upload")
    try:
        return {"size": len(await file.read()), "note": note}
    finally:
        STATE.close("upload")


@router.get("/stream")
async def stream(session: Session) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        STATE.open("stream")
        try:
            while True:
                yield b"x" * 65536
                await asyncio.sleep(0)
        finally:
            STATE.close("stream")

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@router.get("/lines")
async def lines(session: Session) -> AsyncIterator[dict[str, Any]]:
    STATE.open("lines")
    try:
        index = 0
        while True:
            yield {"n": index, "pad": "y" * 4096}
            index += 1
    finally:
        STATE.close("lines")


@router.get("/sync-sse", response_class=EventSourceResponse)
def sync_sse() -> Iterator[ServerSentEvent]:
    STATE.open("sync-sse")
    try:
        index = 0
        while True:
            yield ServerSentEvent(data={"n": index, "pad": "w" * 8192})
            index += 1
    finally:
        STATE.close("sync-sse")


@router.get("/sse", response_class=EventSourceResponse)
async def sse(session: Session) -> AsyncIterator[ServerSentEvent]:
    """Fast, large events: a client that stops reading fills every buffer."""
    STATE.open("sse")
    try:
        index = 0
        while True:
            yield ServerSentEvent(data={"n": index, "pad": "z" * 8192}, id=str(index))
            index += 1
    finally:
        STATE.close("sse")


@router.get("/subscribe", response_class=EventSourceResponse)
async def subscribe(session: Session) -> AsyncIterator[ServerSentEvent]:
    """An idle subscription (the shop's pattern): events only when published."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    STATE.subscribers.add(queue)
    STATE.open("subscribe")
    try:
        yield ServerSentEvent(comment="subscribed")
        while True:
            yield ServerSentEvent(data=await queue.get())
    finally:
        STATE.subscribers.discard(queue)
        STATE.close("subscribe")


@router.post("/publish")
async def publish(value: int) -> dict[str, int]:
    for queue in STATE.subscribers:
        queue.put_nowait(value)
    return {"subscribers": len(STATE.subscribers)}


@router.post("/background")
async def background(tasks: BackgroundTasks, session: Session) -> dict[str, str]:
    async def later() -> None:
        STATE.close("background")

    tasks.add_task(later)
    await asyncio.sleep(0.2)  # the client may leave meanwhile
    return {"queued": "yes"}


@router.websocket("/ws")
async def ws(websocket: WebSocket, session: Session) -> None:
    await websocket.accept()
    STATE.open("ws")
    try:
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(f"{session}: {text}")
    except WebSocketDisconnect:
        pass
    finally:
        STATE.close("ws")


def make_app() -> Hasten:
    """A fresh probe app (the counters in ``STATE`` are shared)."""
    app = Hasten(title="probe", form_limits={"max_fields": 50, "max_files": 5})
    app.include_router(router)
    return app


app = make_app()
