"""How an ``APIRouter`` answers a request: find the route, or redirect, 405 or 404.

A mixin of ``APIRouter`` (``hasten.routing``). A static path whose method matches is looked up in
the matcher's dict and run at once; otherwise the candidates of the path are asked in declaration
order (Starlette's rules: the first full match wins, else the first partial one answers 405,
else the other form of the path redirects, else the default app).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URL
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from ._routing import Matcher
from ._routing.allow import handle_naming_every_method
from .telemetry._api import SCOPE_KEY as _TELEMETRY_KEY
from .telemetry._api import route_selected as _route_selected

__all__ = ["RouterDispatch"]


class RouterDispatch:
    """Request dispatch of an ``APIRouter`` (its route table and matcher come from the router)."""

    routes: Any
    redirect_slashes: bool
    _matcher: Matcher
    _flattened: bool

    _current_matcher: Callable[[], Matcher]  # RouteTable's
    lifespan: Any
    default: Any

    # --- matching -----------------------------------------------------------------------------

    def _match(
        self, scope: Scope, path: str | None = None, matcher: Matcher | None = None
    ) -> tuple[Any, Scope | None, Any, Scope | None]:
        if path is None:
            path = get_route_path(scope)
        if matcher is None:
            matcher = self._current_matcher()
        routes = matcher.routes
        partial = partial_scope = None
        for index in matcher.candidates(path):
            route = routes[index]
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route, child, None, None
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child
        return None, None, partial, partial_scope

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Find the route for ``scope`` and hand the request to it."""
        target = self.direct_target(scope)
        if target is not None:
            await target(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        await self._dispatch(scope, receive, send, path, self._current_matcher())

    def direct_target(self, scope: Scope) -> Any:
        """The app of the plain route that wins an HTTP request outright, with the scope set
        as its match would set it; None when the generic matching decides (``_dispatch``).

        Synchronous: the app's core stack calls it and awaits the route itself (one
        coroutine less per request than through :meth:`app`).
        """
        if "router" not in scope:
            scope["router"] = self
        if scope["type"] != "http":
            return None
        path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        matcher = self._matcher
        if not self._flattened or matcher.version != self.routes.version:  # routes changed
            matcher = self._current_matcher()
        known = matcher.direct
        if path in known:  # a static path's route, found before
            direct, params = known[path], None
        elif matcher.handoff is None:  # matched as Starlette's ``Route`` would
            direct, params = matcher.route_for(path, scope["method"])
        else:  # or as an RSGI direct answer matched it before it passed the request on
            direct, params = matcher.handed_on(path, scope["method"])
        if direct is None or scope["method"] not in direct.methods:
            return None
        scope["route"] = direct
        scope["endpoint"] = direct.endpoint
        outer = scope["path_params"] if "path_params" in scope else None
        path_params = scope["path_params"] = dict(outer) if outer else {}
        if params:
            path_params.update(params)
        if _TELEMETRY_KEY in scope:
            _route_selected(scope, direct.path_format, False)
        return direct.app

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, path: str, matcher: Matcher
    ) -> None:
        """Starlette's matching over the path's candidates (what no shortcut took)."""
        route, child, partial, partial_scope = self._match(scope, path, matcher)
        if route is None and partial is not None:
            route, child = partial, partial_scope
        if route is not None:
            scope["route"] = route
            scope.update(child or {})
            if _TELEMETRY_KEY in scope:  # a traced request: name its route
                _route_selected(
                    scope, getattr(route, "path_format", None), isinstance(route, Mount)
                )
            if route is partial:  # on its way to a 405: Hasten names every matching route's
                candidates = matcher.candidates(path)
                known_routes = matcher.routes
                await handle_naming_every_method(
                    route, scope, receive, send, known_routes, candidates
                )
                return
            await route.handle(scope, receive, send)
            return
        await self._unmatched(scope, receive, send)

    async def _unmatched(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No route matched: redirect to the other form of the path (slash) or the default."""
        if not await self._redirect_slashes(scope, receive, send):
            await self.default(scope, receive, send)

    async def _redirect_slashes(self, scope: Scope, receive: Receive, send: Send) -> bool:
        path = get_route_path(scope)
        if scope["type"] != "http" or not self.redirect_slashes or path == "/":
            return False
        other = dict(scope)
        other["path"] = scope["path"].rstrip("/") if path.endswith("/") else scope["path"] + "/"
        route, _, partial, _ = self._match(other)
        if route is None and partial is None:
            return False
        if _TELEMETRY_KEY in scope:
            _route_selected(scope, getattr(route or partial, "path_format", None), False)
        await RedirectResponse(url=str(URL(scope=other)))(scope, receive, send)
        return True

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        if "app" in scope:
            raise StarletteHTTPException(status_code=404)
        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
