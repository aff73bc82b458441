"""Request body size limits (``max_body_size``), enforced by Starlette's body limit middleware.

Starlette counts the bytes as they arrive and raises its 413 ``HTTPException`` from
``receive``; nested limiters share one counter, the innermost (most specific) limit winning.
Hasten decides at declaration time where a limiter is needed and adds nothing elsewhere:

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
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY, RequestBodyLimitMiddleware
from starlette.requests import Request
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

# Starlette's two signals are private: "too large" (an HTTPException(413)) and "a 413 was
# already sent". Look them up by name so a Starlette without them only disables unwrapping.
_SENT: tuple[type[BaseException], ...] = tuple(
    cls
    for cls in [getattr(_starlette_limit, "_RequestBodyLimitResponseSent", None)]
    if isinstance(cls, type)
)
_SIGNALS: tuple[type[BaseException], ...] = _SENT + tuple(
    cls
    for cls in [getattr(_starlette_limit, "_RequestBodyTooLarge", None)]
    if isinstance(cls, type)
)


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


class _Ungroup:
    """Re-raises a limit signal that a task group wrapped, so Starlette's limiter sees it."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except BaseExceptionGroup as group:
            signal = limit_error(group)
            if signal is None or scope["type"] != "http":
                raise
            raise signal from group


def limit_body(app: ASGIApp, max_body_size: int | None) -> ASGIApp:
    """``app`` with a body limiter in front, or ``app`` itself when there is no limit."""
    if max_body_size is None:
        return app
    return RequestBodyLimitMiddleware(_Ungroup(app), max_body_size=max_body_size)


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
