"""RSGI entry points: the ``RSGIApp`` mixin of Hasten apps, and ``RSGIServed`` for any ASGI app.

``granian --interface rsgi module:app`` calls ``app.__rsgi__(scope, protocol)`` for each
request or WebSocket, and ``__rsgi_init__``/``__rsgi_del__`` (with the worker's event loop)
around serving. Each call runs the app's own ASGI stack (middleware, exception handlers,
routes) with the scope and the ``receive``/``send`` pair of ``hasten._rsgi.scope``/``http``/
``websocket``; the hooks run the app's lifespan (``hasten._rsgi.lifespan``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from types import CoroutineType
from typing import Any, cast

from starlette.types import ASGIApp

from .direct import DirectAnswers
from .http import open_cycle
from .lifespan import STARTUP_FAILED_EXIT, Lifespan, LifespanFailed
from .scope import http_scope, websocket_scope
from .websocket import WebSocketCycle

__all__ = ["RSGIApp", "RSGIServed", "rsgi_call", "serve_rsgi"]

logger = logging.getLogger("hasten.rsgi")

_NO_STATE: dict[str, Any] = {}


async def serve_rsgi(
    app: ASGIApp, scope: Any, protocol: Any, state: dict[str, Any], root_path: str = ""
) -> None:
    """Serve one RSGI request or WebSocket ``scope`` with the ASGI ``app``."""
    await rsgi_call(app, scope, protocol, state, root_path)


async def serve_websocket(
    app: ASGIApp, scope: Any, protocol: Any, state: dict[str, Any], root_path: str
) -> None:
    """Serve one RSGI WebSocket ``scope`` with the ASGI ``app``."""
    socket = WebSocketCycle(protocol)
    try:
        await app(websocket_scope(scope, state, root_path), socket.receive, socket.send)
    except BaseException:
        socket.finish(failed=True)
        raise
    socket.finish(failed=False)


def rsgi_call(
    app: ASGIApp, scope: Any, protocol: Any, state: dict[str, Any], root_path: str = ""
) -> Coroutine[Any, Any, None]:
    """``serve_rsgi`` as a plain function: the coroutine that serves the request.

    For HTTP that is the ``app``'s own call (an awaitable that is not a coroutine is awaited
    in one); a failure before it, building the ASGI scope, is raised when it is awaited.
    """
    try:
        if scope.proto == "http":
            fields = scope.headers
            cycle = open_cycle(protocol, fields, scope.http_version)
            asgi = http_scope(scope, fields, state, root_path)
            # app.__call__, not app(): an instance's method is called without the type's slot
            call = app.__call__(asgi, cycle.receive, cycle.send)  # type: ignore[operator]
            if type(call) is CoroutineType:
                return call  # type: ignore[no-any-return]
            return _await(call)
    except BaseException as exc:
        return _raise(exc)
    return serve_websocket(app, scope, protocol, state, root_path)


async def _raise(exc: BaseException) -> None:
    raise exc


async def _await(call: Awaitable[None]) -> None:
    await call


def _start(app: ASGIApp, loop: asyncio.AbstractEventLoop) -> Lifespan:
    lifespan = Lifespan(app)
    try:
        lifespan.startup(loop)
    except LifespanFailed as exc:
        logger.error("Application startup failed. Exiting.\n%s", exc)
        sys.exit(STARTUP_FAILED_EXIT)
    return lifespan


class RSGIApp:
    """Mixin of ``Hasten``/``FastAPI``: the RSGI interface (see the module docstring)."""

    _rsgi_lifespan: Lifespan | None = None
    _rsgi_state: dict[str, Any] = _NO_STATE  # the lifespan's state, once it started

    def __rsgi__(self, scope: Any, protocol: Any) -> Coroutine[Any, Any, None]:
        """Serve one RSGI request or WebSocket: the coroutine Granian awaits.

        Not itself a coroutine function: for HTTP it returns the app's own ASGI call (one
        coroutine less per request; Granian awaits the coroutine the callable returns), as
        ``rsgi_call`` does. Should building the ASGI scope fail, the returned coroutine raises
        it, as before. A request that nothing between Granian and the route could tell
        apart is answered without the ASGI stack (``hasten._rsgi.direct``).
        """
        try:
            if scope.proto == "http":  # rsgi_call, inlined (self.__call__: no slot call)
                answer = self._direct_call(scope, protocol, self._rsgi_state)
                if answer is not None:
                    return answer
                fields = scope.headers
                cycle = open_cycle(protocol, fields, scope.http_version)
                asgi = http_scope(scope, fields, self._rsgi_state, "")
                call = self.__call__(asgi, cycle.receive, cycle.send)  # type: ignore[operator]
                if type(call) is CoroutineType:  # not if an instrumentation replaced __call__
                    return call  # type: ignore[no-any-return]
                return _await(call)
        except BaseException as exc:
            return _raise(exc)
        return serve_websocket(cast(ASGIApp, self), scope, protocol, self._rsgi_state, "")

    @functools.cached_property
    def _direct_answers(self) -> DirectAnswers:
        return DirectAnswers(self)

    @functools.cached_property
    def _direct_call(self) -> Callable[[Any, Any, dict[str, Any]], Any]:
        # the bound method: calling it skips the instance call's argument tuple (~0.7k)
        return self._direct_answers.__call__

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian worker start: run the app's lifespan startup on ``loop``."""
        lifespan = self._rsgi_lifespan = _start(cast(ASGIApp, self), loop)
        self._rsgi_state = lifespan.state

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian worker stop: run the app's lifespan shutdown on ``loop``."""
        lifespan = self._rsgi_lifespan
        if lifespan is not None:
            self._rsgi_lifespan = None
            lifespan.shutdown(loop)
            self._rsgi_state = _NO_STATE


class RSGIServed:
    """Any ASGI app (``Hasten`` or not) served over RSGI, as ``hasten run`` serves it.

    ``app`` is what requests run through (the app, or the app inside a proxy-headers layer);
    ``root_path`` is the ASGI ``root_path`` of every request, prefixed to its ``path`` as
    uvicorn does. ``direct``, for a Hasten app served without a root path, answers the
    requests it can without the ASGI stack (``hasten._rsgi.direct``).
    """

    def __init__(
        self, app: ASGIApp, root_path: str = "", direct: DirectAnswers | None = None
    ) -> None:
        self.app = app
        self.root_path = root_path
        self.lifespan: Lifespan | None = None
        self.direct = direct

    def __rsgi__(self, scope: Any, protocol: Any) -> Coroutine[Any, Any, None]:
        """Serve one RSGI request or WebSocket: the coroutine Granian awaits (``rsgi_call``)."""
        lifespan = self.lifespan
        state = _NO_STATE if lifespan is None else lifespan.state
        direct = self.direct
        if direct is not None and scope.proto == "http":
            try:
                answer = direct(scope, protocol, state)
            except BaseException as exc:  # raised where Granian awaits, as rsgi_call's
                return _raise(exc)
            if answer is not None:
                return answer
        return rsgi_call(self.app, scope, protocol, state, self.root_path)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian worker start: run the app's lifespan startup on ``loop``."""
        self.lifespan = _start(self.app, loop)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian worker stop: run the app's lifespan shutdown on ``loop``."""
        lifespan, self.lifespan = self.lifespan, None
        if lifespan is not None:
            lifespan.shutdown(loop)
