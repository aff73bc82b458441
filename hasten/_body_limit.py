"""Request body size limits (``max_body_size``).

``BodyLimit`` counts the bytes as they arrive and raises a 413 ``HTTPException`` from
``receive``; nested limiters share one counter, the innermost (most specific) limit winning.
It follows Starlette's limiter protocol, so it nests with Starlette's own limiter. Hasten decides at declaration time where a limiter is needed and adds nothing elsewhere:

- a route with a limit (its own, its router's, or its ``include_router`` call's) wraps its ASGI
  app in a limiter;
- an app with a limit puts one around its user middleware (``AppBodyLimit``);
- a called router (mounted) with a limit wraps its middleware stack (Starlette does it).

The 413 raised while an endpoint reads the body reaches the app's ``HTTPException`` handler, so
the client sees ``{"detail": "Content Too Large"}``.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import body_limit as _starlette_limit
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "MAX_BODY_SIZE_SCOPE_KEY",
    "AppBodyLimit",
    "check_max_body_size",
    "first_limit",
    "limit_error",
    "limit_body",
]

# Starlette's limiter protocol: the scope key of the active counter and the two signals ("too
# large", an HTTPException(413), and "a 413 was already sent") are private names; look them up so
# that limiters of both libraries recognise each other, with stand-ins if Starlette drops them.
_RESPONDER_KEY: str = getattr(
    _starlette_limit, "_BODY_LIMIT_RESPONDER_SCOPE_KEY", "hasten.body_limit"
)
_UNSET: Any = object()


class _TooLargeFallback(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


class _SentFallback(Exception):
    pass


def _signal_class(name: str, fallback: type[BaseException]) -> type[BaseException]:
    cls = getattr(_starlette_limit, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else fallback


_TOO_LARGE: type[BaseException] = _signal_class("_RequestBodyTooLarge", _TooLargeFallback)
_SENT: type[BaseException] = _signal_class("_RequestBodyLimitResponseSent", _SentFallback)
_SIGNALS: tuple[type[BaseException], ...] = (_SENT, _TOO_LARGE)


def _too_large() -> BaseException:
    return _TOO_LARGE()


def _response_sent() -> BaseException:
    return _SENT()


def check_max_body_size(value: Any) -> None:
    """Reject anything but ``None`` or an ``int`` ≥ 0, when the limit is declared."""
    if value is None:
        return
    if type(value) is bool or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_body_size must be a non-negative integer or None, not {value!r}")


def first_limit(*limits: int | None) -> int | None:
    """The most specific limit that is set (arguments go from most to least specific)."""
    return next((limit for limit in limits if limit is not None), None)


def limit_error(exc: BaseException) -> BaseException | None:
    """The body limit signal ``exc`` stands for, or None.

    Task groups (``BaseHTTPMiddleware``) wrap it in an ``ExceptionGroup``; a group counts only
    when *all* its leaves are limit signals, so unrelated errors are never swallowed.
    """
    if isinstance(exc, BaseExceptionGroup):
        matched, rest = exc.split(_SIGNALS)
        if rest is not None or matched is None:
            return None
        sent = matched.subgroup(_SENT)
        leaf: BaseException = sent if sent is not None else matched
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        return leaf
    return exc if isinstance(exc, _SIGNALS) else None


class BodyLimit:
    """ASGI middleware: at most ``max_body_size`` request body bytes reach ``app``.

    It speaks Starlette's limiter protocol, so it nests with Starlette's own limiter (a
    mounted Starlette router with ``max_body_size``) in either direction: the outermost
    limiter of a request owns the byte counter (``total_size``) and is published in the scope;
    a nested one only replaces the counter's limit (the most specific limit wins) and rejects a
    body that was already read past it. The per-request state is one slotted object, the
    ``Content-Length`` header is read straight from the raw headers, and the 413 is answered
    with ``responder``'s response (Starlette's plain-text one unless the app gives its handler).

    A limit signal that a task group wrapped (``BaseHTTPMiddleware``) is unwrapped first.
    """

    __slots__ = ("app", "max_body_size")

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        outer_limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY, _UNSET)
        scope[MAX_BODY_SIZE_SCOPE_KEY] = limit
        active = scope.get(_RESPONDER_KEY)
        counter = None
        try:
            if active is not None:  # an outer limiter counts: tighten or loosen its limit
                active.max_body_size = limit
                if active.total_size > limit:
                    raise _too_large()
                await self.app(scope, receive, send)
            else:
                counter = scope[_RESPONDER_KEY] = _Counter(scope, receive, send, limit)
                await self.app(scope, counter.receive_limited, counter.send_watched)
        except BaseException as exc:
            signal = limit_error(exc)  # also unwraps a task group's
            if signal is None:
                raise
            if counter is None or (counter.started and not isinstance(signal, _SENT)):
                if signal is exc:
                    raise
                raise signal from exc
            if not isinstance(signal, _SENT):  # too large, and nothing was sent yet
                await _plain_413(scope, receive, send)
        finally:
            if counter is not None:
                scope.pop(_RESPONDER_KEY, None)
            if outer_limit is _UNSET:
                scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)
            else:
                scope[MAX_BODY_SIZE_SCOPE_KEY] = outer_limit


class _Counter:
    """One request's byte counter (the "responder" of Starlette's limiter protocol)."""

    __slots__ = ("scope", "receive", "send", "max_body_size", "total_size", "declared", "started")

    def __init__(self, scope: Scope, receive: Receive, send: Send, max_body_size: int) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.max_body_size = max_body_size
        self.total_size = 0
        self.started = False
        self.declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    self.declared = int(value)
                except ValueError:
                    pass
                break

    async def receive_limited(self) -> Message:
        declared = self.declared
        if declared is not None and declared > self.max_body_size:
            raise _too_large()
        message = await self.receive()
        if message["type"] == "http.request":
            self.total_size += len(message.get("body", b""))
            if self.total_size > self.max_body_size:
                raise _too_large()
        return message

    async def send_watched(self, message: Message) -> None:
        if not self.started and message["type"] == "http.response.start":
            self.started = True
            declared = self.declared
            if declared is not None and declared > self.max_body_size:
                # The app answered without reading a body declared too large: answer 413.
                await _plain_413(self.scope, self.receive, self.send)
                raise _response_sent()
        await self.send(message)


async def _plain_413(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("Content Too Large", status_code=413)(scope, receive, send)


def limit_body(app: ASGIApp, max_body_size: int | None) -> ASGIApp:
    """``app`` with a body limiter in front, or ``app`` itself when there is no limit."""
    if max_body_size is None:
        return app
    return BodyLimit(app, max_body_size)


class AppBodyLimit:
    """The app-level limiter, just inside ``ServerErrorMiddleware``.

    Mounted under a limited parent, the app shares the parent's counter and the signal would
    reach this app's ``ServerErrorMiddleware`` (a 500) before the parent's limiter: answer the
    413 here instead, with the app's ``HTTPException`` handler.
    """

    __slots__ = ("app", "handler")

    def __init__(self, app: ASGIApp, max_body_size: int | None, handler: Any) -> None:
        self.app = limit_body(app, max_body_size)
        self.handler = (
            handler if is_async_callable(handler) else partial(run_in_threadpool, handler)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if MAX_BODY_SIZE_SCOPE_KEY not in scope:
            await self.app(scope, receive, send)
            return
        await self._shared(scope, receive, send)

    async def _shared(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            signal = limit_error(exc)
            if started or not isinstance(signal, HTTPException):
                raise
            response = await self.handler(Request(scope, receive), signal)
            await response(scope, receive, send)
