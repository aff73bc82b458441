"""``include_router``: each included route is re-declared on the parent with merged settings."""

from __future__ import annotations

import inspect
from typing import Any

from starlette import routing
from starlette.routing import BaseRoute, Mount

from .._form_limits import wrap_form_limits
from ..exceptions import DeclarationError, InvalidDeclarationError
from ..utils import get_value_or_default
from .context import ORIGINAL_ATTR
from .options import COPIED_ON_INCLUDE, MERGED, merge_options

# ``hasten.routing``'s classes, named here only for readers: the router sits above this module
# and is never imported by it (not even for type checking: layers point one way).
APIRouter = Any
APIRoute = Any


def check_prefix_format(prefix: str, where: str) -> None:
    """A non-empty prefix starts with ``/`` and does not end with one (``where``: who gave it)."""
    if not prefix:
        return
    if not prefix.startswith("/"):
        raise InvalidDeclarationError("A path prefix must start with '/'", route=where)
    if prefix.endswith("/"):
        raise InvalidDeclarationError(
            "A path prefix must not end with '/', as the routes will start with '/'", route=where
        )


def check_prefix(router: APIRouter, prefix: str) -> None:
    """The prefix of an ``include_router`` call; without one, no included path may be empty."""
    where = f"include_router prefix={prefix!r}"
    if prefix:
        check_prefix_format(prefix, where)
        return
    for route in router.routes:
        path = getattr(route, "path", None)
        if path is not None and not path:
            name = getattr(route, "name", "unknown")
            raise DeclarationError(
                f"Prefix and path cannot be both empty (path operation: {name})", route=where
            )


#: ``hasten.routing``'s route classes, registered there when it is imported (this module sits
#: below the router and never imports it): ``"http"`` → ``APIRoute``, ``"websocket"`` →
#: ``APIWebSocketRoute``.
ROUTE_CLASSES: dict[str, Any] = {}


class Include:
    """One ``include_router`` call: its settings, and the copies it made of the routes.

    ``copy`` re-declares an included route on the including router (prefix, tags,
    dependencies, responses, limits merged); ``sync`` brings the copies in line with the
    included router's routes as they are now (see ``RouteTable.flatten``).
    """

    order: int  # when the inclusion was declared (set by the including router)

    def __init__(self, parent: APIRouter, router: APIRouter, prefix: str, *settings: Any):
        self.parent, self.router, self.prefix = parent, router, prefix
        (
            self.tags, self.dependencies, self.default_response_class, self.responses,
            self.callbacks, self.deprecated, self.include_in_schema, self.unique_id_fn,
            self.max_body_size, self.form_limits,
        ) = settings  # fmt: skip
        # id(original) -> (original, copy), for the routes of ``router`` at the last sync.
        self.copies: dict[int, tuple[BaseRoute, BaseRoute]] = {}
        self.version: int | None = None  # the version of ``router.routes`` at the last sync
        self.detached = False  # the parent's list dropped every copy: the inclusion is gone

    def copy_ids(self) -> set[int]:
        """The ids of the copies made at the last sync."""
        return {id(copy) for _, copy in self.copies.values()}

    def sync(self) -> list[BaseRoute]:
        """The copies of the included router's routes, in its order, as the parent serves them.

        Copies are made once per included route. A copy the parent's list no longer holds
        stays out; when it holds none of them any more, the inclusion is dropped for good
        (as removing FastAPI's inclusion entry from ``routes`` would).
        """
        if self.detached:
            return []
        present = {id(route) for route in self.parent.routes}
        if self.copies and not self.copy_ids() & present:
            self.detached, self.copies = True, {}
            return []
        copies: dict[int, tuple[BaseRoute, BaseRoute]] = {}
        block: list[BaseRoute] = []
        for route in self.router.routes:
            entry = self.copies.get(id(route))
            if entry is None or entry[0] is not route:
                entry = (route, self.copy(route))
            elif id(entry[1]) not in present:  # taken out of the parent's list: stays out
                copies[id(route)] = entry
                continue
            copies[id(route)] = entry
            block.append(entry[1])
        self.copies = copies
        return block

    def add(self, route: BaseRoute) -> None:
        """Append the copy of ``route`` to the parent's routes."""
        self.parent.routes.append(self.copy(route))

    def copy(self, route: BaseRoute) -> BaseRoute:
        """``route`` as the parent serves it; a copy remembers the route it was made from."""
        copied = self._copy(route)
        if copied is not route:  # iter_route_contexts pairs the copy with the declared route
            setattr(copied, ORIGINAL_ATTR, getattr(route, ORIGINAL_ATTR, route))
        return copied

    def _copy(self, route: BaseRoute) -> BaseRoute:
        http_class, websocket_class = ROUTE_CLASSES["http"], ROUTE_CLASSES["websocket"]
        parent, prefix = self.parent, self.parent.prefix + self.prefix
        if isinstance(route, http_class):
            return self._copy_api_route(route)
        if isinstance(route, websocket_class):
            return parent._make_api_websocket_route(
                self.prefix + route.path,
                route.endpoint,
                name=route.name,
                dependencies=[*(self.dependencies or []), *route.dependencies],
            )
        if isinstance(route, routing.Route):
            return routing.Route(
                prefix + route.path,
                route.endpoint,
                methods=list(route.methods or []),
                name=route.name,
                include_in_schema=route.include_in_schema,
            )
        if isinstance(route, routing.WebSocketRoute):
            return routing.WebSocketRoute(prefix + route.path, route.endpoint, name=route.name)
        if isinstance(route, Mount) and (prefix or self._has_limits()):
            return self._mount(route)
        if isinstance(route, routing.Host) and prefix:  # the host's app, under the prefix
            app = routing.Router(routes=[Mount(prefix, app=route.app)])
            return routing.Host(route.host, app=app, name=route.name)
        return route

    def _has_limits(self) -> bool:
        return self.max_body_size is not None or bool(self.form_limits)

    def _mount(self, mount: Mount) -> Mount:
        # The mounted app is called, so the inclusion's limits go in front of it.
        app = wrap_form_limits(mount.app, self.form_limits)
        return Mount(
            self.parent.prefix + self.prefix + mount.path,
            app=app,
            name=mount.name,
            max_body_size=self.max_body_size,
        )

    def _copy_api_route(self, route: APIRoute) -> APIRoute:
        router = self.router
        declared: dict[str, Any] = {key: getattr(route, key) for key in COPIED_ON_INCLUDE}
        for key in MERGED:
            declared[key] = getattr(route, key)
        # The included router's defaults were merged when the route was declared, except where
        # a ``Default(...)`` placeholder stayed: those go on through this inclusion's level.
        level = {
            "tags": self.tags,
            "dependencies": self.dependencies,
            "responses": self.responses,
            "deprecated": self.deprecated,
            "include_in_schema": self.include_in_schema,
            "response_class": get_value_or_default(
                router.default_response_class, self.default_response_class
            ),
            "callbacks": self.callbacks,
            "generate_unique_id_function": get_value_or_default(
                router.generate_unique_id_function, self.unique_id_fn
            ),
            "strict_content_type": router.strict_content_type,
            "max_body_size": self.max_body_size,
            "form_limits": self.form_limits,
        }
        return self.parent._make_api_route(
            self.prefix + route.path,
            route.endpoint,
            route_class_override=type(route),
            response_model=_response_model(route),
            **merge_options(level, declared),
        )


def _response_model(route: APIRoute) -> Any:
    """The response model an included copy is declared with: the route's as it was given (the
    copy infers it again), unless a library assigned ``route.response_model`` since (cadwyn
    gives each API version its own models), which FastAPI's inclusion takes as it is."""
    current = route.response_model
    if current is getattr(route, "_compiled_response_model", current):
        return getattr(route, "declared_response_model", current)
    return current


def includes(router: APIRouter, target: APIRouter) -> bool:
    """Whether ``router`` includes ``target``, directly or through included routers."""
    return any(
        include.router is target or includes(include.router, target)
        for include in router._inclusions
    )


def extra_route_kwargs(route_class: type, max_body_size: Any, form_limits: Any) -> dict[str, Any]:
    """The limits a route class can be given (``APIRoute`` and subclasses that accept them)."""
    api_route = ROUTE_CLASSES["http"]
    if route_class is api_route or issubclass(route_class, api_route) and _accepts(route_class):
        return {"max_body_size": max_body_size, "form_limits": form_limits}
    return {}


def _accepts(route_class: type) -> bool:
    sig = inspect.signature(route_class)
    return "max_body_size" in sig.parameters or any(
        p.kind is p.VAR_KEYWORD for p in sig.parameters.values()
    )
