"""FastAPI's route layout, for an instrumentation that names spans by walking ``app.routes``.

FastAPI 0.165 keeps each ``include_router`` call as one node of ``app.routes`` (an
``_IncludedRouter``, without a ``path``); Hasten copies the included routes in (see
``hasten._routing.include``). OpenTelemetry's Starlette instrumentation names a request's span
after the first route of ``app.routes`` that matches it, falling back to the request's path
when that route has no ``path``: on FastAPI a route of an included router is named by its
concrete path (``GET /api/users/7``).

When the app builds its stack and finds that instrumentation's middleware among its user
middleware, it gives the middleware :func:`on_fastapi_layout` of its span-details function:
the same function, shown the app's routes in FastAPI's layout. Nothing runs per request
without that middleware.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

__all__ = ["IncludedNode", "LayoutView", "fastapi_layout", "on_fastapi_layout", "user_layers"]

_STARLETTE_DETAILS = ("opentelemetry.instrumentation.starlette", "_get_default_span_details")
_OTEL_MIDDLEWARE = ("opentelemetry.instrumentation.asgi", "OpenTelemetryMiddleware")


def _named(obj: Any, where: tuple[str, str]) -> bool:
    return (getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)) == where


class IncludedNode:
    """One inclusion as FastAPI's ``routes`` holds it: it matches as the first of its routes
    that matches fully (else the first that matches partly) and has no ``path`` after a full
    match. After a partial match ``path`` is that route's (FastAPI's node raises there, and
    its caller answers the request with a 500)."""

    __slots__ = ("routes", "_partial")

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = routes
        self._partial: BaseRoute | None = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FastAPI's ``_IncludedRouter.matches``: the best match among the included routes."""
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                self._partial = None
                return match, child
            if match == Match.PARTIAL and partial is None:
                partial = (route, child)
        if partial is None:
            self._partial = None
            return Match.NONE, {}
        self._partial = partial[0]
        return Match.PARTIAL, partial[1]

    @property
    def path(self) -> str:
        if self._partial is None:
            raise AttributeError("path")
        path: str = getattr(self._partial, "path", "")
        return path


# The app's layout, for the version of its route list it was made from.
_LAYOUTS: WeakKeyDictionary[Any, tuple[int | None, list[Any]]] = WeakKeyDictionary()


def fastapi_layout(app: Any) -> list[Any]:
    """``app.routes`` in FastAPI's layout: routes in place, each inclusion's copies folded
    into one :class:`IncludedNode` where its first copy is (a new node per call: a node
    holds what it last matched)."""
    routes = app.routes  # (brought up to date with the included routers)
    version = getattr(routes, "version", None)
    known = _LAYOUTS.get(app)
    if known is None or version is None or known[0] != version:
        known = (version, _grouped(app, routes))
        _LAYOUTS[app] = known
    return [IncludedNode(entry) if isinstance(entry, list) else entry for entry in known[1]]


def _grouped(app: Any, routes: Sequence[BaseRoute]) -> list[Any]:
    owner: dict[int, int] = {}
    for number, include in enumerate(getattr(app.router, "_inclusions", ())):
        for copy_id in include.copy_ids():
            owner[copy_id] = number
    blocks: dict[int, list[BaseRoute]] = {}
    layout: list[Any] = []
    for route in routes:
        owned = owner.get(id(route))
        if owned is None:
            layout.append(route)
        elif owned in blocks:
            blocks[owned].append(route)
        else:
            blocks[owned] = [route]
            layout.append(blocks[owned])
    return layout


class LayoutView:
    """Stands for the app where the instrumentation reads ``routes``."""

    __slots__ = ("app", "routes")

    def __init__(self, app: Any) -> None:
        self.app = app
        self.routes = fastapi_layout(app)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)


def on_fastapi_layout(details: Callable[[Scope], Any]) -> Callable[[Scope], Any]:
    """``details(scope)`` with ``scope["app"]`` showing its routes in FastAPI's layout."""

    def span_details(scope: Scope) -> Any:
        app = scope.get("app")
        if app is None or not hasattr(app, "router"):
            return details(scope)
        return details({**scope, "app": LayoutView(app)})

    span_details.__wrapped__ = details  # type: ignore[attr-defined]
    return span_details


def user_layers(middleware: Sequence[Middleware]) -> list[Middleware]:
    """The user middleware, with OpenTelemetry's Starlette middleware shown FastAPI's layout."""
    out: list[Middleware] = []
    for entry in middleware:
        details: Any = entry.kwargs.get("default_span_details")
        if _named(entry.cls, _OTEL_MIDDLEWARE) and _named(details, _STARLETTE_DETAILS):
            entry = copy.copy(entry)
            kwargs: Any = {**entry.kwargs, "default_span_details": on_fastapi_layout(details)}
            entry.kwargs = kwargs
        out.append(entry)
    return out
