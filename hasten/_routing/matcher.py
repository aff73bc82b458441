"""A route index: candidates for a path come from a dict, not from scanning every route.

Routes are bucketed by (number of segments, first segment). A request collects the routes
of its exact static path, of its bucket and of the "first segment is a parameter" bucket,
plus the routes that cannot be bucketed (mounts, hosts, ``{x:path}``); it then tries them in
the order of the router's list, so the first route in the list wins (the first declared, unless
the list was reordered) and 405 works as in Starlette. A matcher is a snapshot of one version
of the list (``hasten._routing.table``); the router builds a new one when the list changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route, WebSocketRoute


def _split(path: str) -> tuple[int, str]:
    parts = path.split("/")
    return len(parts), parts[1] if len(parts) > 1 else ""


def _route_key(route: BaseRoute) -> tuple[str, Any] | None:
    """('static', path) or ('bucket', (n, first)); None when the route must be scanned."""
    if not isinstance(route, (Route, WebSocketRoute)):
        return None
    path: str = route.path
    if ":path}" in path:
        return None
    if "{" not in path:
        return ("static", path)
    count, first = _split(path)
    return ("bucket", (count, "*" if "{" in first else first))


class Matcher:
    """Candidate routes for a path, in declaration order."""

    __slots__ = ("static", "buckets", "scan", "size", "cache", "routes", "direct", "version")

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        # A snapshot: indexes stay valid while the router's list changes (it then builds a
        # new matcher for the list's new ``version``).
        self.routes: tuple[BaseRoute, ...] = tuple(routes)
        self.version: int | None = getattr(routes, "version", None)
        # path → the route that wins it outright (see direct_route), or None; memoized.
        self.direct: dict[str, Any] = {}
        self.static: dict[str, list[int]] = {}
        self.buckets: dict[tuple[int, str], list[int]] = {}
        self.scan: list[int] = []
        self.size = len(routes)
        self.cache: dict[str, tuple[int, ...]] = {}
        for index, route in enumerate(routes):
            key = _route_key(route)
            if key is None:
                self.scan.append(index)
            elif key[0] == "static":
                self.static.setdefault(key[1], []).append(index)
            else:
                self.buckets.setdefault(key[1], []).append(index)

    def candidates(self, path: str) -> tuple[int, ...]:
        """Indexes of the routes that may match ``path``, ascending."""
        found = self.cache.get(path)
        if found is not None:
            return found
        count, first = _split(path)
        parts = (
            self.static.get(path, ()),
            self.buckets.get((count, first), ()),
            self.buckets.get((count, "*"), ()),
            self.scan,
        )
        found = tuple(sorted({i for part in parts for i in part}))
        if len(self.cache) < 4096:
            self.cache[path] = found
        return found

    def direct_route(self, path: str) -> Any:
        """The route that takes every HTTP request for ``path`` whose method it allows, or None.

        That is the first candidate, when it is a plain HTTP route (Starlette's own ``matches``
        and ``handle``) with a static path equal to ``path``: its match is certain and carries
        no path parameters, so the router can skip the generic matching for it.
        """
        try:
            return self.direct[path]
        except KeyError:
            pass
        found = self.candidates(path)
        route: Any = self.routes[found[0]] if found else None
        if not (
            isinstance(route, Route)
            and type(route).matches is Route.matches
            and type(route).handle is Route.handle
            and route.path == path
            and not route.param_convertors
            and route.methods
        ):
            route = None
        if len(self.direct) < 4096:
            self.direct[path] = route
        return route
