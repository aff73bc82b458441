"""The route table of a router: its routes, its inclusions, flattening and the matcher.

``router.routes`` is a :class:`RouteList`, a ``list`` that stamps itself with a new version on
every change (``append``, ``insert``, ``pop``, ``remove``, ``reverse``, ``sort``, slice and item
assignment, ``del``, ``clear``, ``+=``, ...) and tells its router; assigning a new list to
``router.routes`` wraps it in a new :class:`RouteList`. The router rebuilds its matcher when
the version it was built for is no longer the list's (a comparison per request, never a
rebuild per request), and routers that include a changed router flatten again on their next
request.

Flattening (:meth:`RouteTable.flatten`) keeps, for each ``include_router`` call, one block of
copies in the including router's list, in the included router's current order. A block sits
where the inclusion was declared: routes declared later (by ``add_api_route``, the decorators,
``append``/``extend``/``+=``, or a later inclusion) come after it, even when the included router
was empty when it was included, the way FastAPI's lazily included routers answer.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute

from .matcher import Matcher

if TYPE_CHECKING:
    from .include import Include

__all__ = ["RouteList", "RouteTable"]

# Stamps: unique across all route lists, so a matcher knows its list without keeping identity.
_versions = itertools.count(1)
# Declaration order of routes and inclusions, shared by all routers (only compared within one).
_declarations = itertools.count(1)
# Flattening changes several lists; servers may route from more than one thread.
_flatten_lock = threading.RLock()


class RouteList(list[BaseRoute]):
    """A router's routes: a ``list`` that notices each of its changes.

    ``version`` changes on every mutation; the owning router is told which routes were
    appended (they count as declared now, after everything declared before).
    """

    __slots__ = ("version", "_on_change")

    def __init__(
        self,
        routes: Iterable[BaseRoute] = (),
        on_change: Callable[[Sequence[BaseRoute]], None] | None = None,
    ) -> None:
        super().__init__(routes)
        self.version = next(_versions)
        self._on_change = on_change

    def _changed(self, appended: Sequence[BaseRoute] = ()) -> None:
        self.version = next(_versions)
        if self._on_change is not None:
            self._on_change(appended)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # Copies (copy, deepcopy, pickle) are plain route lists of their own, without a router.
        return (RouteList, (list(self),))

    def append(self, route: BaseRoute, /) -> None:
        super().append(route)
        self._changed((route,))

    def extend(self, routes: Iterable[BaseRoute], /) -> None:
        added = list(routes)
        super().extend(added)
        self._changed(added)

    def __iadd__(self, routes: Iterable[BaseRoute], /) -> RouteList:  # type: ignore[override,misc]
        self.extend(routes)
        return self

    def __imul__(self, times: SupportsIndex, /) -> RouteList:
        super().__imul__(times)
        self._changed()
        return self

    def insert(self, index: SupportsIndex, route: BaseRoute, /) -> None:
        super().insert(index, route)
        self._changed()

    def pop(self, index: SupportsIndex = -1, /) -> BaseRoute:
        route = super().pop(index)
        self._changed()
        return route

    def remove(self, route: BaseRoute, /) -> None:
        super().remove(route)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        super().__delitem__(index)
        self._changed()


def _version_of(routes: Sequence[BaseRoute]) -> int | None:
    return getattr(routes, "version", None)


class _RoutesAttribute:
    """``router.routes``: read straight from the instance (no call per request); every
    assignment becomes a :class:`RouteList` that reports to the router."""

    def __set__(self, router: RouteTable, routes: Iterable[BaseRoute]) -> None:
        router.__dict__["routes"] = RouteList(routes, router._routes_changed)
        if "_included_by" in router.__dict__:  # (not while a subclass is being set up)
            router._routes_changed(())


class RouteTable:
    """Routes, inclusions, flattening and the matcher of an ``APIRouter`` (a mixin).

    Per request the router only compares versions (``_flattened``, ``_matcher.version``);
    everything else runs when routes change.
    """

    routes: list[BaseRoute] = _RoutesAttribute()  # type: ignore[assignment]
    prefix: str

    def _init_route_table(self) -> None:
        """Set up the table (before ``routes`` is first assigned)."""
        self._matcher = Matcher(())  # for no list: the first request builds the real one
        self._inclusions: list[Include] = []
        self._included_by: list[Any] = []  # routers to tell about changes of our routes
        self._flattened = True
        self._routes_version = 0
        # id(route) -> (route, declaration number) of routes declared on this router; the
        # route is kept so that its id is not reused while it is in the map.
        self._declared: dict[int, tuple[BaseRoute, int]] = {}

    def _declare(self, routes: Iterable[BaseRoute]) -> None:
        """Record ``routes`` as declared now, after everything declared before."""
        for route in routes:
            self._declared[id(route)] = (route, next(_declarations))

    def _routes_changed(self, appended: Sequence[BaseRoute]) -> None:
        """Our route list changed (``appended``: routes added at its end)."""
        if appended:
            self._declare(appended)
        if len(self._declared) > 2 * len(self.routes) + 64:  # forget routes taken out
            present = {id(route) for route in self.routes}
            self._declared = {k: v for k, v in self._declared.items() if k in present}
        self._mark_routes_changed()

    def _mark_routes_changed(self) -> None:
        """Routes changed: routers including this one flatten again on their next request."""
        self._routes_version += 1
        for parent in self._included_by:
            parent._flattened = False
            parent._mark_routes_changed()

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The URL of the route called ``name`` (included routers' later routes too)."""
        if not self._flattened:
            self.flatten()
        return super().url_path_for(name, **path_params)  # type: ignore[misc,no-any-return]

    def _current_matcher(self) -> Matcher:
        """The matcher for the routes as they are now (flattened and rebuilt after a change)."""
        if not self._flattened:
            self.flatten()
        routes: Any = self.routes  # built outside the lock: a race builds it twice, harmlessly
        matcher = self._matcher
        if matcher.version != routes.version:
            matcher = self._matcher = Matcher(routes, matcher.direct)
        return matcher

    # --- inclusions -----------------------------------------------------------------------------

    def _add_inclusion(self, include: Include) -> None:
        include.order = next(_declarations)
        self._inclusions.append(include)
        include.router._included_by.append(self)
        self._flattened = False
        self.flatten()

    def flatten(self) -> None:
        """Bring the copies of included routers' routes up to date (after any change there).

        Each inclusion's copies form one block, in the included router's order, where the
        inclusion was declared; nothing happens when no included router changed.
        """
        with _flatten_lock:
            for include in self._inclusions:
                child = include.router
                if not child._flattened:
                    child.flatten()
                version = _version_of(child.routes)
                if include.version != version:
                    before = include.copy_ids()
                    self._place(include.order, include.sync(), before)
                    include.version = version
            self._flattened = True

    def _place(self, order: int, block: list[BaseRoute], mine: set[int]) -> None:
        """Put an inclusion's copies (``block``) where its copies (ids ``mine``) are now,
        or, when none is, where the inclusion was declared (``order``)."""
        routes = self.routes
        others = [route for route in routes if id(route) not in mine]
        first = next((i for i, route in enumerate(routes) if id(route) in mine), None)
        if first is not None:  # where its copies are now
            at = sum(1 for route in routes[:first] if id(route) not in mine)
        else:  # before the first route declared after the inclusion
            at = self._declared_after(others, order)
        placed = [*others[:at], *block, *others[at:]]
        if len(placed) != len(routes) or any(
            a is not b for a, b in zip(placed, routes, strict=True)
        ):
            routes[:] = placed

    def _declared_after(self, routes: Sequence[BaseRoute], order: int) -> int:
        """The index of the first of ``routes`` declared after ``order`` (or their length)."""
        orders = {id(c): i.order for i in self._inclusions for _, c in i.copies.values()}
        for index, route in enumerate(routes):
            declared = orders.get(id(route))
            if declared is None:
                entry = self._declared.get(id(route))
                declared = entry[1] if entry is not None and entry[0] is route else None
            if declared is not None and declared > order:
                return index
        return len(routes)
