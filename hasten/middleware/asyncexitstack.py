"""``AsyncExitStackMiddleware``: one ``AsyncExitStack`` per request, kept in the ASGI scope.

FastAPI's module of the same name; code written for FastAPI imports it (OpenTelemetry's
FastAPI instrumentation wraps a router with it). Everything entered on the stack during the
request is exited when the wrapped app returns or raises.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["AsyncExitStackMiddleware"]


class AsyncExitStackMiddleware:
    """Run ``app`` with a fresh ``AsyncExitStack`` stored at ``scope[context_name]``."""

    def __init__(self, app: ASGIApp, context_name: str = "fastapi_middleware_astack") -> None:
        self.app = app
        self.context_name = context_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with AsyncExitStack() as stack:
            scope[self.context_name] = stack
            await self.app(scope, receive, send)
