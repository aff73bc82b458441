"""Calling an ASGI app directly: requests as scopes, lifespan startup, response capture."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Message = dict[str, Any]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Req:
    """One HTTP request to send to an app."""

    method: str
    target: str  # path with an optional query string
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def scope(self) -> dict[str, Any]:
        """The ASGI HTTP scope of this request (a fresh dict; copy it per call)."""
        parts = urlsplit(self.target)
        headers = [(b"host", b"bench")]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.headers]
        if self.body:
            headers.append((b"content-length", str(len(self.body)).encode()))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "root_path": "",
            "query_string": parts.query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("bench", 80),
            "state": {},
        }


@dataclass
class Resp:
    """A captured response."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        key = name.lower().encode()
        for k, v in self.headers:
            if k.lower() == key:
                return v.decode("latin-1")
        return None


def load_app(module: str, factory: str | None = None, *args: Any) -> ASGIApp:
    """Import ``module`` and return its ``app`` (or ``factory(*args)``)."""
    mod = importlib.import_module(module)
    if factory is None:
        return mod.app  # type: ignore[no-any-return]
    return getattr(mod, factory)(*args)  # type: ignore[no-any-return]


def make_receive(body: bytes) -> Callable[[], Awaitable[Message]]:
    """A receive callable that hands over ``body`` in one message."""
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> Message:
        return message

    return receive


async def call(app: ASGIApp, req: Req) -> Resp:
    """Send ``req`` to ``app`` and capture the whole response."""
    resp = Resp()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            resp.status = message["status"]
            resp.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            resp.body += message.get("body", b"")

    await app(req.scope(), make_receive(req.body), send)
    return resp


class Lifespan:
    """Runs an app's lifespan protocol: ``await start()`` before requests, ``stop()`` after."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        try:
            await self._app(scope, self._inbox.get, self._outbox.put)
        except Exception:  # an app without lifespan support may raise; it then needs none
            self.supported = False
            await self._outbox.put({"type": "lifespan.unsupported"})

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        message = await self._outbox.get()
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {message.get('message')}")

    async def stop(self) -> None:
        if self._task is None or not self.supported:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self._outbox.get(), 10)
        await self._task
