"""Request body size limits (``max_body_size``).

``BodyLimit`` counts the bytes as they arrive and raises a 413 ``HTTPException`` from
``receive``; nested limiters share one counter, the innermost (most specific) limit winning.
It follows Starlette's limiter protocol, so it nests with Starlette's own limiter. Hasten
decides at declaration time where a limiter is needed and adds nothing elsewhere:

- a route with a limit (its own, its router's, or its ``include_router`` call's) wraps its ASGI
  app in a limiter;
- an app with a limit puts one around its user middleware (``app_body_limit``);
- a called router (mounted) with a limit wraps its middleware stack (Starlette does it).

The 413 raised while an endpoint reads the body reaches the app's ``HTTPException`` handler, so
the client sees ``{"detail": "Content Too Large"}``.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NoReturn

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._starlette import LIMIT_RESPONDER_KEY, LIMIT_SENT, LIMIT_TOO_LARGE, is_async_callable

__all__ = [
    "MAX_BODY_SIZE_SCOPE_KEY",
    "BodyLimit",
    "LimitCounter",
    "app_body_limit",
    "check_max_body_size",
    "first_limit",
    "limit_error",
    "limit_body",
]

_UNSET: Any = object()
_RESPONDER_KEY = LIMIT_RESPONDER_KEY
_TOO_LARGE = LIMIT_TOO_LARGE
_SENT = LIMIT_SENT
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
    body that was already read past it. The per-request state is one slotted object and the
    ``Content-Length`` header is read straight from the raw headers.

    ``handler`` (an app's ``HTTPException`` handler) makes a nested limiter answer the 413
    itself instead of leaving it to the outer one: an app mounted under a limited parent
    would otherwise turn it into a 500 in its own ``ServerErrorMiddleware``. A limit signal
    that a task group wrapped (``BaseHTTPMiddleware``) is unwrapped first.
    """

    __slots__ = ("app", "max_body_size", "handler", "counter")

    def __init__(self, app: ASGIApp, max_body_size: int | None, handler: Any = None) -> None:
        self.app = app
        self.max_body_size = max_body_size
        if handler is not None and not is_async_callable(handler):
            handler = partial(run_in_threadpool, handler)
        self.handler = handler
        #: The class of this limiter's per-request counters (``new_counter``).
        self.counter = counter_class(max_body_size, handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_size
        if scope["type"] != "http" or (limit is None and _RESPONDER_KEY not in scope):
            await self.app(scope, receive, send)
            return
        if _RESPONDER_KEY in scope or limit is None:  # (None: only nested under a limiter)
            await self._nested(scope, receive, send)
            return
        counter = self.start(scope, receive, send)
        # Only a declared length needs the response watched (an app that answers without
        # reading a body declared too large gets a 413 instead); other requests keep ``send``.
        watched = counter.declared is not None
        try:
            await self.app(
                scope, counter.receive_limited, counter.send_watched if watched else send
            )
        except BaseException as exc:
            await self.settle(scope, receive, send, counter, exc)
        finally:
            del scope[_RESPONDER_KEY]
            scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)

    def start(self, scope: Scope, receive: Receive, send: Send) -> _Counter:
        """Publish a new byte counter for this request (the outermost limiter's part)."""
        limit = self.max_body_size
        assert limit is not None
        counter = scope[_RESPONDER_KEY] = new_counter(self.counter, scope, receive, send)
        scope[MAX_BODY_SIZE_SCOPE_KEY] = limit
        return counter

    async def settle(
        self, scope: Scope, receive: Receive, send: Send, counter: _Counter, exc: BaseException
    ) -> None:
        """What ``exc`` from inside becomes: a limit signal answered with a 413 (or dropped
        when the 413 went out already); anything else raised again."""
        signal = limit_error(exc)  # also unwraps a task group's
        if signal is None:
            raise exc
        if not isinstance(signal, _SENT) and not counter.answered:  # answer it, unless done
            if counter.started:
                _reraise(signal, exc)
            try:
                await _answer_413(scope, receive, send, self.handler)
            except (RuntimeError, AssertionError):
                # Unwatched, the response had started: the server (RuntimeError) or
                # Starlette's TestClient (AssertionError) refused a second start.
                _reraise(signal, exc)

    async def _nested(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_size
        outer_limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY, _UNSET)
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if limit is not None:  # tighten or loosen the outer counter's limit
                scope[MAX_BODY_SIZE_SCOPE_KEY] = limit
                active = scope[_RESPONDER_KEY]
                active.max_body_size = limit
                if active.total_size > limit:
                    raise _too_large()
            await self.app(scope, receive, send if self.handler is None else watch)
        except BaseException as exc:
            signal = limit_error(exc)
            if signal is None:
                raise
            if self.handler is None or started or not isinstance(signal, HTTPException):
                _reraise(signal, exc)
            response = await self.handler(Request(scope, receive), signal)
            await response(scope, receive, send)
        finally:
            if outer_limit is _UNSET:
                scope.pop(MAX_BODY_SIZE_SCOPE_KEY, None)
            else:
                scope[MAX_BODY_SIZE_SCOPE_KEY] = outer_limit


def _reraise(signal: BaseException, exc: BaseException) -> NoReturn:
    if signal is exc:
        raise exc
    raise signal from exc


class _Counter:
    """One request's byte counter (the "responder" of Starlette's limiter protocol), made by
    :func:`new_counter` from its limiter's subclass (``BodyLimit.counter``), whose class
    attributes hold the limit, the handler and the starting state: a request sets five
    attributes, and one that reads no body never gets an instance ``__dict__``."""

    __slots__ = ("scope", "receive", "send", "declared", "plain_started", "__dict__")

    scope: Scope
    receive: Receive
    send: Send
    declared: int | None
    #: A route's runner sent a plain response's start (``runner.RESPONSE_STARTED_KEY``; not
    #: Starlette's ``response_started``, which its own limiter's send wrapper sets).
    plain_started: bool
    max_body_size: int
    handler: Any
    total_size: int = 0
    started: bool = False
    answered: bool = False  # the 413 was sent here (a task group may still raise "too large")

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
                if message["status"] == 413 and _json_errors(self.scope):
                    await self.send(message)  # the app's own 413, in its error shape
                    return
                # The app answered without reading a body declared too large: answer 413.
                self.answered = True
                with anyio.CancelScope(shield=True):  # finish it even if a task group cancels
                    await _answer_413(self.scope, self.receive, self.send, self.handler)
                raise _response_sent()
        await self.send(message)


#: ``_Counter.send_watched``: the runners recognise a bound one (``unwatched``).
SEND_WATCHED = _Counter.send_watched
#: The class of every counter a Hasten limit makes (another limiter's responder, Starlette's
#: ``RequestBodyLimitResponder``, may sit under the same scope key).
LimitCounter = _Counter


def unwatched(counter: _Counter) -> Send | None:
    """The ``send`` under ``counter.send_watched`` for a runner about to send a whole answer
    (its start and body messages), when the watch would only pass them on: the start marked
    as ``send_watched`` marks it. None when the watch has something to do (a declared length
    over the limit as it is now, the answer not started): the runner then sends through it.
    """
    if not counter.started:
        declared = counter.declared
        if declared is not None and declared > counter.max_body_size:
            return None
        counter.started = True
    return counter.send


def counter_class(max_body_size: int | None, handler: Any) -> type[_Counter]:
    """The counter class of a limiter: its limit and handler as class attributes (the handler
    a ``staticmethod``: a function is not to be bound to the counter)."""
    namespace = {"__slots__": (), "max_body_size": max_body_size, "handler": staticmethod(handler)}
    return type("_Counter", (_Counter,), namespace)


def new_counter(
    cls: type[_Counter], scope: Scope, receive: Receive, send: Send, declared: Any = _UNSET
) -> _Counter:
    """A byte counter for one request, ``Content-Length`` read (``declared``) if it is sent.

    ``declared``: the length when the caller read it already (the ASGI direct answer of a
    route reading a JSON body, ``hasten._direct``); else the first ``Content-Length`` is read
    here. A function, not ``__init__``: a class with a Python ``__init__`` costs a request
    about 2,000 instructions more to make (CPython 3.11), and every request of a limited app
    makes one.
    """
    counter = cls()
    counter.scope = scope
    counter.receive = receive
    counter.send = send
    counter.plain_started = False
    if declared is _UNSET:
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    pass
                break
    counter.declared = declared
    return counter


def _json_errors(scope: Scope) -> bool:
    """Whether the app answers limit errors in its error shape (``Hasten``), not Starlette's."""
    return bool(getattr(scope.get("app"), "json_body_limit_errors", False))


async def _answer_413(scope: Scope, receive: Receive, send: Send, handler: Any) -> None:
    """The 413 for a body over the limit.

    ``FastAPI`` answers Starlette's plain-text 413, as FastAPI does; ``Hasten`` answers in
    the app's error shape: its ``HTTPException`` handler's response, else FastAPI's JSON.
    """
    response: Any
    if not _json_errors(scope):
        response = PlainTextResponse("Content Too Large", status_code=413)
    elif handler is None:
        response = JSONResponse({"detail": "Content Too Large"}, status_code=413)
    else:
        response = await handler(Request(scope, receive), _too_large())
    await response(scope, receive, send)


def limit_body(app: ASGIApp, max_body_size: int | None) -> ASGIApp:
    """``app`` with a body limiter in front, or ``app`` itself when there is no limit."""
    if max_body_size is None:
        return app
    return BodyLimit(app, max_body_size)


def app_body_limit(app: ASGIApp, max_body_size: int | None, handler: Any) -> BodyLimit:
    """An application's limiter, just inside its ``ServerErrorMiddleware``.

    It also runs without a limit of its own when the app has user middleware: mounted under a
    limited parent, the app then answers the parent's 413 with its own ``handler``.
    """
    return BodyLimit(app, max_body_size, handler)


class AppBodyLimitMiddleware(BodyLimit):
    """:func:`app_body_limit` under FastAPI's class name (``fastapi._body_limit``).

    The app's stack uses it in FastAPI's layout (an instrumentation wraps each middleware and
    names its spans after the class); it limits as ``app_body_limit`` does.
    """

    __slots__ = ()

    def __init__(self, app: ASGIApp, max_body_size: int | None, handler: Any = None) -> None:
        super().__init__(app, max_body_size, handler)
