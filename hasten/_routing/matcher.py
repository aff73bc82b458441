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


def _plain(route: BaseRoute) -> bool:
    """An HTTP route whose ``matches`` and ``handle`` are Starlette's ``Route``'s own."""
    return (
        isinstance(route, Route)
        and type(route).matches is Route.matches
        and type(route).handle is Route.handle
    )


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

    __slots__ = (
        "static", "buckets", "scan", "size", "cache", "routes", "direct", "version", "plain",
        "handoff",
    )  # fmt: skip

    def __init__(self, routes: Sequence[BaseRoute], direct: dict[str, Any] | None = None) -> None:
        # A snapshot: indexes stay valid while the router's list changes (it then builds a
        # new matcher for the list's new ``version``).
        self.routes: tuple[BaseRoute, ...] = tuple(routes)
        self.version: int | None = getattr(routes, "version", None)
        # static path → the route that wins it whatever the method (see route_for). A router
        # passes its last matcher's, emptied: the dict stays the same object for the router's
        # life (``hasten._direct`` looks paths up in it before the stack).
        if direct is None:
            direct = {}
        else:
            direct.clear()
        self.direct: dict[str, Any] = direct
        self.static: dict[str, list[int]] = {}
        self.buckets: dict[tuple[int, str], list[int]] = {}
        self.scan: list[int] = []
        self.size = len(routes)
        self.cache: dict[str, tuple[int, ...]] = {}
        #: Indexes of the HTTP routes Starlette's own ``matches`` and ``handle`` answer for.
        self.plain = frozenset(i for i, route in enumerate(routes) if _plain(route))
        #: ``(path, method, route_for's result)`` that a caller matched and then did not take
        #: (``hasten._rsgi.direct``), for the next ``handed_on`` call (``direct_target``);
        #: None most of the time.
        self.handoff: tuple[str, str, tuple[Any, dict[str, Any] | None]] | None = None
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

    def handed_on(self, path: str, method: str) -> tuple[Any, dict[str, Any] | None]:
        """``route_for``, taking the ``handoff`` out: its result when it is for the same path
        and method (the same function of the same routes, its parameters not read since)."""
        handoff = self.handoff
        self.handoff = None
        if handoff is not None and handoff[0] == path and handoff[1] == method:
            return handoff[2]
        return self.route_for(path, method)

    def hand_on(self, path: str, method: str) -> tuple[Any, dict[str, Any] | None]:
        """``handed_on``, its result left as the ``handoff`` again: a direct answer's match
        (``hasten._direct``, ``hasten._rsgi.direct``), made before it knows whether it takes
        the request; ``direct_target`` takes it for the same path and method instead of
        matching again. The taker of the parameters empties ``handoff``."""
        found = self.handed_on(path, method)
        self.handoff = (path, method, found)
        return found

    def route_for(self, path: str, method: str) -> tuple[Any, dict[str, Any] | None]:
        """The route an HTTP request for ``path`` goes to and its converted path parameters,
        when the generic matching would certainly give them; ``(None, None)`` otherwise.

        The candidates are asked in order while each is a plain HTTP route (Starlette's own
        ``matches`` and ``handle``): one whose pattern does not match is passed over; the first
        that matches wins if it allows ``method`` (a partial match, or a route for every
        method, leaves it to the generic matching). A static path that wins is certain
        whatever the method: it is kept in ``direct`` (at most 4,096), returned with ``None``
        parameters, and the router checks the method.
        """
        routes, plain = self.routes, self.plain
        for index in self.candidates(path):
            if index not in plain:
                break
            route: Any = routes[index]
            if route.path == path and not route.param_convertors:  # static: it matches
                if not route.methods:
                    break
                if len(self.direct) < 4096:
                    self.direct[path] = route
                return route, None
            matched = route.path_regex.match(path)
            if matched is None:
                continue
            if not route.methods or method not in route.methods:
                break  # a partial match (a later route may match fully, or a 405 is due), or
                # a route for every method (the router's own check would need its ``None``)
            params = matched.groupdict()
            convertors = route.param_convertors
            for key, value in params.items():
                params[key] = convertors[key].convert(value)
            return route, params
        return None, None
