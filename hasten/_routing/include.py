"""``include_router``: each included route is re-declared on the parent with merged settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette import routing
from starlette.routing import BaseRoute, Mount

from .._body_limit import first_limit
from .._form_limits import combine, wrap_form_limits
from ..exceptions import HastenError
from ..utils import get_value_or_default
from .options import COPIED_ON_INCLUDE

if TYPE_CHECKING:
    from ..routing import APIRoute, APIRouter


def check_prefix_format(prefix: str) -> None:
    """A non-empty prefix starts with ``/`` and does not end with one."""
    if not prefix:
        return
    if not prefix.startswith("/"):
        raise AssertionError("A path prefix must start with '/'")
    if prefix.endswith("/"):
        raise AssertionError(
            "A path prefix must not end with '/', as the routes will start with '/'"
        )


def check_prefix(router: APIRouter, prefix: str) -> None:
    """The prefix of an ``include_router`` call; without one, no included path may be empty."""
    if prefix:
        check_prefix_format(prefix)
        return
    for route in router.routes:
        path = getattr(route, "path", None)
        if path is not None and not path:
            name = getattr(route, "name", "unknown")
            raise HastenError(f"Prefix and path cannot be both empty (path operation: {name})")


class Include:
    """The settings of one ``include_router`` call, applied to each included route."""

    produced: list[BaseRoute | None]
    seen: int

    def __init__(self, parent: APIRouter, router: APIRouter, prefix: str, *settings: Any):
        self.parent, self.router, self.prefix = parent, router, prefix
        (
            self.tags, self.dependencies, self.default_response_class, self.responses,
            self.callbacks, self.deprecated, self.include_in_schema, self.unique_id_fn,
            self.strict_content_type, self.max_body_size, self.form_limits,
        ) = settings  # fmt: skip

    def add(self, route: BaseRoute) -> None:
        from ..routing import APIRoute, APIWebSocketRoute

        parent, prefix = self.parent, self.prefix
        if isinstance(route, APIRoute):
            self._add_api_route(route)
        elif isinstance(route, APIWebSocketRoute):
            parent.add_api_websocket_route(
                prefix + route.path,
                route.endpoint,
                name=route.name,
                dependencies=[*(self.dependencies or []), *route.dependencies],
            )
        elif isinstance(route, routing.Route):
            methods = list(route.methods or [])
            parent.add_route(
                prefix + route.path,
                route.endpoint,
                methods=methods,
                include_in_schema=route.include_in_schema,
                name=route.name,
            )
        elif isinstance(route, routing.WebSocketRoute):
            parent.add_websocket_route(prefix + route.path, route.endpoint, name=route.name)
        elif isinstance(route, Mount) and (prefix or self._has_limits()):
            parent.routes.append(self._mount(route))
        else:
            parent.routes.append(route)

    def _has_limits(self) -> bool:
        return self.max_body_size is not None or bool(self.form_limits)

    def _mount(self, mount: Mount) -> Mount:
        # The mounted app is called, so the inclusion's limits go in front of it.
        app = wrap_form_limits(mount.app, self.form_limits)
        return Mount(
            self.prefix + mount.path, app=app, name=mount.name, max_body_size=self.max_body_size
        )

    def _add_api_route(self, route: APIRoute) -> None:
        router = self.router
        use_class = get_value_or_default(
            route.response_class,
            router.default_response_class,
            self.default_response_class,
            self.parent.default_response_class,
        )
        kept: dict[str, Any] = {key: getattr(route, key) for key in COPIED_ON_INCLUDE}
        self.parent.add_api_route(
            self.prefix + route.path,
            route.endpoint,
            route_class_override=type(route),
            **kept,
            response_model=getattr(route, "declared_response_model", route.response_model),
            tags=[*(self.tags or []), *route.tags],
            dependencies=[*(self.dependencies or []), *route.dependencies],
            responses={**(self.responses or {}), **route.responses},
            deprecated=route.deprecated or self.deprecated,
            include_in_schema=route.include_in_schema and self.include_in_schema,
            response_class=use_class,
            callbacks=[*(self.callbacks or []), *(route.callbacks or [])],
            generate_unique_id_function=get_value_or_default(
                route.generate_unique_id_function,
                router.generate_unique_id_function,
                self.unique_id_fn,
                self.parent.generate_unique_id_function,
            ),
            strict_content_type=get_value_or_default(
                route.strict_content_type,
                router.strict_content_type,
                self.strict_content_type,
                self.parent.strict_content_type,
            ),
            max_body_size=first_limit(route.max_body_size, self.max_body_size),
            form_limits=combine(self.form_limits, route.form_limits),
        )
