"""The app's exception layer: Starlette's ``ExceptionMiddleware`` without per-message work.

Starlette wraps ``send`` on every request to learn whether the response has started. Here
the success path costs one ``try``; only when an exception arrives does the layer look up
the handler, and a handler that cannot answer because a response is already under way
raises Starlette's ``RuntimeError``.
"""

from __future__ import annotations

from typing import Any

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from .handler import find_handler


class ExceptionLayer(ExceptionMiddleware):
    """Registers the exception handlers in the scope and answers what escapes the router."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = (self._exception_handlers, self._status_handlers)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            handler = find_handler(scope, exc)
            if handler is None:
                raise
            await _answer(handler, scope, receive, send, exc)


async def _answer(handler: Any, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    conn: Any = (
        Request(scope, receive, send)
        if scope["type"] == "http"
        else WebSocket(scope, receive, send)
    )
    if is_async_callable(handler):
        response = await handler(conn, exc)
    else:
        response = await run_in_threadpool(handler, conn, exc)
    if response is not None:
        try:
            await response(scope, receive, send)
        except (RuntimeError, AssertionError):
            # A second response start, refused by the server (RuntimeError) or by Starlette's
            # TestClient (AssertionError): the exception came after the response (a background
            # task). Its traceback stays, so logs show where it was raised.
            raise RuntimeError("Caught handled exception, but response already started.") from exc
    exc.__traceback__ = None
