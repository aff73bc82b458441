"""Every place where Hasten re-implements or reaches into a Starlette internal.

Hasten runs on Starlette's public API, except for these forks, each kept here so that a
Starlette upgrade is checked in one place (``tests/test_starlette_forks.py`` compares each
with Starlette's own behaviour on generated inputs):

``RouteRequest``
    ``Request`` whose ``query_params`` splits a query string without escapes in one pass
    (``PlainQueryParams``, no ``parse_qsl``) and whose ``body()`` reads ``receive`` directly
    instead of going through the ``stream()`` async generator. Both give what Starlette's
    give; a patched ``Request.body`` still decides.
``first_header``
    ``Headers.get`` on the scope's raw header list, without building a ``Headers`` object.
``lookup_handler``
    The exception-handler lookup of Starlette's ``wrap_app_handling_exceptions`` (status
    handlers first for an ``HTTPException``, then the exception's MRO), so a route can
    answer its own exceptions without a wrapper per request.
``ExceptionLayer``
    ``ExceptionMiddleware`` without its per-request ``send`` wrapper: the success path
    costs one ``try``.
``JSONBytesResponse`` / ``text_responder``
    ``JSONResponse``/``PlainTextResponse``/``HTMLResponse`` built with the headers their
    constructors would give, without the generic header code.
Private names
    ``is_async_callable``, ``get_route_path``, ``wrap_app_handling_exceptions`` and the body
    limiter's protocol names (scope key, signals) are imported from Starlette's private
    modules here and nowhere else.

Importing this module checks that the installed Starlette is in the range these forks were
written against (``SUPPORTED``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version as _dist_version
from typing import Any

import starlette
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette._utils import get_route_path, is_async_callable
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware import body_limit as _body_limit
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import ClientDisconnect, HTTPConnection, Request, empty_receive, empty_send
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

__all__ = [
    "SUPPORTED",
    "ExceptionLayer",
    "PlainQueryParams",
    "RouteRequest",
    "check_starlette_version",
    "first_header",
    "get_route_path",
    "is_async_callable",
    "JSONBytesResponse",
    "JSON_TYPE",
    "length_known",
    "length_pair",
    "answer_exception",
    "lookup_handler",
    "middleware_patched",
    "stack_instrumented",
    "text_content_type",
    "text_responder",
    "wrap_app_handling_exceptions",
]

#: The Starlette releases these forks were checked against: [lowest, first unsupported).
SUPPORTED = ((1, 10), (2, 0))


def _release(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_starlette_version(found: str | None = None) -> None:
    """Raise ``ImportError`` when Starlette is outside ``SUPPORTED``."""
    text = found if found is not None else getattr(starlette, "__version__", None)
    if text is None:
        text = _dist_version("starlette")
    low, high = SUPPORTED
    if not low <= _release(text) < high:
        raise ImportError(
            f"Hasten needs Starlette >={low[0]}.{low[1]},<{high[0]}.{high[1]}; found {text}"
        )


check_starlette_version()


def is_own(function: Any, module: str, qualname: str) -> bool:
    """Whether ``function`` is still the library's own (not replaced or wrapped by a patch).

    Compared by where it was defined, not by identity: an instrumentation may have patched
    it before Hasten was imported. A wrapper made with ``functools.wraps`` counts as a patch.
    """
    return (
        getattr(function, "__module__", None) == module
        and getattr(function, "__qualname__", None) == qualname
        and not hasattr(function, "__wrapped__")
    )


def middleware_patched() -> bool:
    """Whether an instrumentation patched ``Middleware`` (Sentry wraps every middleware class
    given to it, to name a span or a transaction after each layer)."""
    return not is_own(Middleware.__init__, "starlette.middleware", "Middleware.__init__")


def stack_instrumented() -> bool:
    """Whether an instrumentation patched what FastAPI's middleware stack is made of:
    ``Middleware`` (Sentry), or the ``__call__`` of Starlette's ``ServerErrorMiddleware`` or
    ``ExceptionMiddleware`` (New Relic traces each layer by its function's name)."""
    return (
        middleware_patched()
        or not is_own(
            ServerErrorMiddleware.__call__,
            "starlette.middleware.errors",
            "ServerErrorMiddleware.__call__",
        )
        or not is_own(
            ExceptionMiddleware.__call__,
            "starlette.middleware.exceptions",
            "ExceptionMiddleware.__call__",
        )
    )


def exception_layer() -> type[ExceptionMiddleware]:
    """The app's exception layer: :class:`ExceptionLayer`, or Starlette's own middleware when
    an instrumentation patched ``Middleware`` (Sentry wraps the handlers of exactly
    ``ExceptionMiddleware`` to capture handled server errors)."""
    return ExceptionMiddleware if middleware_patched() else ExceptionLayer


def starlette_call_patched() -> bool:
    """Whether ``Starlette.__call__`` was replaced (Sentry's Starlette integration does)."""
    return not is_own(Starlette.__call__, "starlette.applications", "Starlette.__call__")


# -- the body limiter's protocol (private names, with stand-ins if Starlette drops them) --------

#: The scope key under which the outermost limiter publishes its byte counter.
LIMIT_RESPONDER_KEY: str = getattr(
    _body_limit, "_BODY_LIMIT_RESPONDER_SCOPE_KEY", "hasten.body_limit"
)


class _TooLargeFallback(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


class _SentFallback(Exception):
    pass


def _signal_class(name: str, fallback: type[BaseException]) -> type[BaseException]:
    cls = getattr(_body_limit, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else fallback


#: Raised from ``receive`` when a body is over the limit (an ``HTTPException(413)``).
LIMIT_TOO_LARGE: type[BaseException] = _signal_class("_RequestBodyTooLarge", _TooLargeFallback)
#: Raised when a limiter already answered the 413 itself.
LIMIT_SENT: type[BaseException] = _signal_class("_RequestBodyLimitResponseSent", _SentFallback)


# -- requests ---------------------------------------------------------------------------------


class PlainQueryParams(QueryParams):
    """``QueryParams`` of already split ``(key, value)`` strings, built without re-checking."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._list = pairs
        self._dict = dict(pairs)  # the last value of a repeated key, as Starlette's


def query_params(raw: bytes) -> QueryParams:
    """``QueryParams(raw)``: one split when nothing needs unescaping (no ``%``, no ``+``).

    The bytes are decoded first and searched as text (Latin-1 maps each byte to one
    character): ``b"%" in raw`` first tries the operand as an integer and formats, raises and
    clears a ``TypeError`` each time, about 2k instructions a search.
    """
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return QueryParams(raw)
    return PlainQueryParams([item.partition("=")[::2] for item in text.split("&") if item])


_STARLETTE_BODY = Request.body
_STARLETTE_INIT = Request.__init__
_CONN_INIT = HTTPConnection.__init__


class RouteRequest(Request):
    """Starlette's ``Request`` with the shortcuts listed in the module docstring."""

    def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send):
        if Request.__init__ is not _STARLETTE_INIT or HTTPConnection.__init__ is not _CONN_INIT:
            super().__init__(scope, receive, send)  # replaced (an instrumentation): it decides
            return
        # ``Request.__init__`` and ``HTTPConnection.__init__`` in one frame: the same state.
        assert scope["type"] == "http"
        self.scope = scope
        self._receive = receive
        self._send = send
        self._stream_consumed = False
        self._is_disconnected = False
        self._form = None

    # The parsed query and the body are looked up in the instance's dict, not by catching
    # the ``AttributeError`` of their first use: raising one (its message formatted) costs a
    # request about 2 µs behind a server (bench/README.md), a dict lookup nothing.

    @property
    def query_params(self) -> QueryParams:
        params = self.__dict__.get("_query_params")
        if params is None:
            params = self._query_params = query_params(self.scope["query_string"])
        return params  # type: ignore[no-any-return]

    async def body(self) -> bytes:
        """The whole body, read straight from ``receive`` (Starlette's ``stream()`` semantics)."""
        known = self.__dict__.get("_body")
        if known is not None:
            return known  # type: ignore[no-any-return]
        if Request.body is not _STARLETTE_BODY:  # patched (tests do): the patch decides
            return await Request.body(self)
        if self._stream_consumed:
            raise RuntimeError("Stream consumed")
        chunks: list[bytes] = []
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message["body"] if "body" in message else b""
                if chunk:
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            elif kind == "http.disconnect":
                self._is_disconnected = True
                raise ClientDisconnect()
        self._stream_consumed = True
        body = self._body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return body


def first_header(raw_headers: Any, name: bytes) -> str | None:
    """``Headers(raw=raw_headers).get(name)`` for a lower-case ``name``: the first value."""
    for key, value in raw_headers:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


# -- exception handlers -----------------------------------------------------------------------


def lookup_handler(scope: Scope, exc: Exception) -> Any:
    """The handler the app registered for ``exc`` (as Starlette looks it up), or None."""
    handlers, status_handlers = scope.get("starlette.exception_handlers", ({}, {}))
    if isinstance(exc, HTTPException):
        handler = status_handlers.get(exc.status_code)
        if handler is not None:
            return handler
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class ExceptionLayer(ExceptionMiddleware):
    """Registers the exception handlers in the scope and answers what escapes the router.

    Starlette wraps ``send`` on every request to learn whether the response has started;
    here the success path costs one ``try``. Only when an exception arrives is the handler
    looked up, and a handler that cannot answer because a response is already under way
    raises Starlette's ``RuntimeError``.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = (self._exception_handlers, self._status_handlers)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            handler = lookup_handler(scope, exc)
            if handler is None:
                raise
            await answer_exception(handler, scope, receive, send, exc)


async def answer_exception(
    handler: Any, scope: Scope, receive: Receive, send: Send, exc: Exception
) -> None:
    """Answer ``exc`` with ``handler``'s response (the exception layer's error path)."""
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


# -- responses --------------------------------------------------------------------------------

_NO_BODY = frozenset(range(100, 200)) | {204, 205, 304}  # statuses that must not carry a body
#: The ``content-type`` pair of a JSON response.
JSON_TYPE = (b"content-type", b"application/json")
#: ``(b"content-length", b"<size>")`` by body size: a lookup costs a response about a quarter
#: of formatting the number (CPython 3.11). The first ``_LENGTHS_KEPT`` sizes seen are kept.
_LENGTHS: dict[int, tuple[bytes, bytes]] = {}
_LENGTHS_KEPT = 8192
#: The kept ``content-length`` pair of a body size, or None (then :func:`length_pair`).
length_known = _LENGTHS.get


def length_pair(size: int) -> tuple[bytes, bytes]:
    """The ``content-length`` header pair of a body of ``size`` bytes (kept for the next one
    while fewer than ``_LENGTHS_KEPT`` sizes are)."""
    pair = (b"content-length", b"%d" % size)
    if len(_LENGTHS) < _LENGTHS_KEPT:
        _LENGTHS[size] = pair
    return pair


class JSONBytesResponse(Response):
    """``application/json`` with a body that is already encoded; headers built directly.

    A status that must not carry a body gets an empty one (headers as Starlette builds them).
    """

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200, background: Any = None) -> None:
        self.status_code = status_code
        self.background = background
        if status_code < 200 or status_code in (
            204,
            304,
        ):  # (Starlette sends no content-length then)
            self.raw_headers = [JSON_TYPE]
        else:
            size = len(body)
            self.raw_headers = [length_known(size) or length_pair(size), JSON_TYPE]
        self.body = b"" if status_code in _NO_BODY else body


def text_content_type(cls: Any) -> tuple[bytes, bytes]:
    """The ``content-type`` pair a text response class (``PlainTextResponse``,
    ``HTMLResponse``) gives its responses."""
    return (b"content-type", f"{cls.media_type}; charset={cls.charset}".encode("latin-1"))


def text_responder(cls: Any) -> Callable[[str, dict[str, Any]], Response]:
    """``(content, args) -> cls(content, **args)`` for ``PlainTextResponse``/``HTMLResponse``
    and ``str`` content, with the headers their constructor would give."""
    content_type = text_content_type(cls)

    def make(content: str, args: dict[str, Any]) -> Response:
        response = cls.__new__(cls)
        response.status_code = status = args["status_code"] if "status_code" in args else 200
        response.background = args["background"] if "background" in args else None
        body = content.encode("utf-8")
        if status < 200 or status in (204, 304):  # (Starlette sends no content-length then)
            response.raw_headers = [content_type]
        else:
            size = len(body)
            response.raw_headers = [length_known(size) or length_pair(size), content_type]
        response.body = b"" if status in _NO_BODY else body
        return response  # type: ignore[no-any-return]

    return make
