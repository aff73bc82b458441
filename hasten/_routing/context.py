"""``RouteContext`` and ``iter_route_contexts``: the routes an app serves, with their origin.

FastAPI 0.165 keeps included routers lazy and shows each route as the app serves it through a
``RouteContext``. Hasten copies included routes into the including router, so ``app.routes``
already holds the served routes; a context pairs such a copy (its prefixed path, merged
dependencies, tags...) with the route as it was declared (``original_route``). A route that
was not included is its own original.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

__all__ = ["ORIGINAL_ATTR", "RouteContext", "effective_routes", "iter_route_contexts"]

# Set by include_router on each copied route: the route as declared in the included router.
ORIGINAL_ATTR = "_hasten_original"

_T = TypeVar("_T")


class _Served(Generic[_T]):
    """A ``RouteContext`` attribute read from the route the app serves (None if it has none)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name

    @overload
    def __get__(self, context: None, owner: type | None = None) -> _Served[_T]: ...
    @overload
    def __get__(self, context: RouteContext, owner: type | None = None) -> _T | None: ...
    def __get__(self, context: RouteContext | None, owner: type | None = None) -> Any:
        if context is None:
            return self
        return getattr(context.effective_route, self.attribute, None)


@dataclass(frozen=True)
class RouteContext:
    """A route as the app serves it; other attributes come from the served route."""

    route: BaseRoute
    served: BaseRoute | None = field(default=None, repr=False)

    @property
    def original_route(self) -> BaseRoute:
        """The route as it was declared (before ``include_router``)."""
        return self.route

    @property
    def effective_route(self) -> BaseRoute:
        """The route the app serves: prefixed path, merged settings."""
        return self.served if self.served is not None else self.route

    # The served route's, or None when it has no such attribute (a Mount has no methods).
    path = _Served[str]()
    path_format = _Served[str]()
    name = _Served[str]()
    methods = _Served[set[str]]()
    endpoint = _Served[Callable[..., Any]]()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Whether ``scope`` is for the served route, as the app would match it.

        For an included HTTP route this is Starlette's path-and-methods matching on the served
        (prefixed) path; a ``matches`` overridden by the route class is not called, as in
        FastAPI, whose context computes the match itself (the override runs when the app
        dispatches a request). Other routes answer through their own ``matches``.
        """
        served = self.served
        if isinstance(served, Route):
            return Route.matches(served, scope)
        return self.effective_route.matches(scope)

    def __getattr__(self, name: str) -> Any:
        if name in ("route", "served"):  # not set yet (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.effective_route, name)


def iter_route_contexts(routes: Iterable[BaseRoute | RouteContext]) -> Iterator[RouteContext]:
    """A context for each route of ``routes`` (e.g. ``app.routes``), in order."""
    for route in routes:
        if isinstance(route, RouteContext):
            yield route
            continue
        original = getattr(route, ORIGINAL_ATTR, None)
        yield RouteContext(route) if original is None else RouteContext(original, route)


def effective_routes(routes: Sequence[BaseRoute | RouteContext]) -> list[BaseRoute]:
    """``routes`` with each context replaced by the route the app serves."""
    return [r.effective_route if isinstance(r, RouteContext) else r for r in routes]
