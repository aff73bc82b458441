"""FastAPI 0.165's include-tree names, for libraries that walk ``router.routes`` with them.

FastAPI keeps an included router as one ``_IncludedRouter`` node in ``routes`` and computes the
served routes (``_EffectiveRouteContext``) from it lazily. Hasten copies included routes into
the including router instead (``hasten._routing.include``), so ``routes`` holds no such node and
``_iter_routes_with_context`` pairs each route with ``None``, exactly what FastAPI gives for a
route that was not included. Libraries written for both layouts (fastapi-pagination, cadwyn,
Ray Serve, Phoenix, OpenTelemetry) then take their plain-route branch, which Hasten's copies
answer correctly. A node built by hand is walked as FastAPI walks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

__all__ = ["_EffectiveRouteContext", "_IncludedRouter", "_iter_routes_with_context"]


@dataclass
class _EffectiveRouteContext:
    """A route as an inclusion serves it: the declared route and the merged settings.

    The fields are FastAPI 0.165's (the served path, response options, dependencies, ...);
    ``original_route`` is the route as declared in the included router.
    """

    original_route: BaseRoute
    starlette_route: BaseRoute | None = None
    app: Any = field(default=None, repr=False, compare=False)
    frontend_prefix: str = ""
    path: str = ""
    endpoint: Callable[..., Any] | None = None
    stream_item_type: Any = None
    response_model: Any = None
    summary: str | None = None
    response_description: str = "Successful Response"
    deprecated: bool | None = None
    operation_id: str | None = None
    response_model_include: Any = None
    response_model_exclude: Any = None
    response_model_by_alias: bool = True
    response_model_exclude_unset: bool = False
    response_model_exclude_defaults: bool = False
    response_model_exclude_none: bool = False
    include_in_schema: bool = True
    response_class: Any = None
    dependency_overrides_provider: Any = None
    callbacks: list[BaseRoute] | None = None
    openapi_extra: dict[str, Any] | None = None
    generate_unique_id_function: Any = None
    strict_content_type: Any = True
    max_body_size: int | None = None
    tags: list[Any] = field(default_factory=list)
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    name: str = ""
    path_regex: Any = None
    path_format: str = ""
    param_convertors: dict[str, Any] = field(default_factory=dict)
    methods: set[str] = field(default_factory=set)
    unique_id: str = ""
    status_code: int | None = None
    response_field: Any = None
    stream_item_field: Any = None
    dependencies: list[Any] = field(default_factory=list)
    description: str = ""
    response_fields: dict[int | str, Any] = field(default_factory=dict)
    dependant: Any = None
    _embed_body_fields: bool = False
    body_field: Any = None
    is_sse_stream: bool = False
    is_json_stream: bool = False


@dataclass(eq=False)
class _IncludedRouter(BaseRoute):
    """An included router as one node of ``routes`` (FastAPI's layout; Hasten never makes one).

    ``original_router`` is the router that was included, ``include_context`` the options of
    the inclusion (prefix, tags, dependencies, ...).
    """

    original_router: Any
    include_context: Any = None

    def effective_route_contexts(self) -> Iterator[_EffectiveRouteContext]:
        """A context per route the node serves (nested nodes walked in place)."""
        for route, context in _iter_routes_with_context(self.original_router.routes):
            yield context or _EffectiveRouteContext(
                original_route=route,
                path=getattr(route, "path", ""),
                name=getattr(route, "name", ""),
                methods=set(getattr(route, "methods", None) or ()),
            )


def _iter_routes_with_context(
    routes: Sequence[BaseRoute],
) -> Iterator[tuple[BaseRoute, _EffectiveRouteContext | None]]:
    """Each route with the context an inclusion serves it in; ``None`` for a route in place
    (every route of a Hasten router: included routes are copied, already merged)."""
    for route in routes:
        if isinstance(route, _IncludedRouter):
            for context in route.effective_route_contexts():
                yield context.original_route, context
        else:
            yield route, None
