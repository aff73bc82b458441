"""Routes and routers: ``APIRoute``, ``APIWebSocketRoute``, ``APIRouter``.

Declaring a route analyses its endpoint once (``Dependant``) and compiles a plan; requests
only run the plan. Routers look routes up through an index (``hasten._routing``), so the
cost of matching does not grow with the number of routes.
"""

from __future__ import annotations

import copy
import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from enum import Enum, IntEnum
from typing import Any, TypeVar

from starlette import routing
from starlette._utils import get_route_path as get_route_path  # FastAPI's module has these
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL as URL
from starlette.responses import JSONResponse, Response
from starlette.responses import PlainTextResponse as PlainTextResponse
from starlette.responses import RedirectResponse as RedirectResponse
from starlette.routing import BaseRoute, Match, Mount, compile_path, get_name
from starlette.routing import Route as Route
from starlette.routing import WebSocketRoute as WebSocketRoute
from starlette.types import ASGIApp, Lifespan, Scope
from typing_extensions import Unpack

from . import params
from ._body_limit import check_max_body_size, first_limit, limit_body
from ._form_limits import FormLimitsScope, combine, validate_form_limits
from ._plan import stream as _stream
from ._plan.analysis import (
    declaring,
    get_dependant,
    typed_return_annotation,
    with_route_dependencies,
)
from ._plan.build import (
    build_plan,
    flat_body_params,
    response_adapter,
    should_embed,
)
from ._plan.calls import GEN, call_kind
from ._plan.dependant import Dependant
from ._plan.runner import plan_handler, route_app
from ._plan.typeinfo import is_subclass, stream_item_type
from ._plan.websocket import websocket_app
from ._router_dispatch import RouterDispatch
from ._routing import patch_points as _patch_points
from ._routing.context import ORIGINAL_ATTR, RouteContext, iter_route_contexts
from ._routing.decorate import registering
from ._routing.include import (
    ROUTE_CLASSES,
    Include,
    check_prefix,
    check_prefix_format,
    extra_route_kwargs,
    includes,
)
from ._routing.lifespan import EventLifespan, as_lifespan, merge_lifespans
from ._routing.low_priority import LowPriorityRoutes
from ._routing.options import (
    ROUTE_KEPT,
    ROUTER_KEPT,
    ROUTER_SETTINGS,
    MethodOptions,
    RouteDeclaration,
    RouteOptions,
    RouterRouteOptions,
    WebSocketDeclaration,
    keyword_checker,
    merge_options,
    publish_signature,
    with_defaults,
)

# FastAPI's request-path functions: re-exported here (their public path), where
# instrumentations replace them.
from ._routing.patch_points import get_request_handler as get_request_handler
from ._routing.patch_points import get_websocket_app as get_websocket_app
from ._routing.patch_points import request_response as request_response
from ._routing.patch_points import run_endpoint_function as run_endpoint_function
from ._routing.patch_points import serialize_response as serialize_response
from ._routing.patch_points import websocket_session as websocket_session
from ._routing.stale import graph_unchanged
from ._routing.table import RouteTable
from .datastructures import Default, DefaultPlaceholder
from .dependencies._solving import remember_node
from .dependencies.utils import solve_dependencies as solve_dependencies
from .exceptions import InvalidDeclarationError
from .sse import _PING_INTERVAL as _PING_INTERVAL
from .sse import EventSourceResponse, ServerSentEvent
from .types import DecoratedCallable, IncEx
from .utils import create_model_field, generate_unique_id, is_body_allowed_for_status_code

__all__ = [
    "APIRoute",
    "APIRouter",
    "APIWebSocketRoute",
    "Mount",
    "Route",
    "RouteContext",
    "WebSocketRoute",
    "iter_route_contexts",
]

_T = TypeVar("_T")


def _ping_interval() -> float:
    """The SSE keep-alive interval, read here at each stream's start (tests patch it)."""
    return float(_PING_INTERVAL)


_stream.PING_INTERVAL[0] = _ping_interval


_CHECK_ROUTE = keyword_checker("APIRoute.__init__", ("self", "path", "endpoint"), "route")
_CHECK_WEBSOCKET = keyword_checker(
    "APIWebSocketRoute.__init__", ("self", "path", "endpoint"), "websocket"
)


class APIRoute(routing.Route):
    """An HTTP path operation: its declaration plus the plan compiled from it.

    Takes FastAPI's keyword options (``RouteDeclaration``; ``inspect.signature(APIRoute)``
    lists them with their defaults, in FastAPI's order).
    """

    # Kept as declared (set in ``__init__`` from the options table).
    callbacks: list[BaseRoute] | None
    dependency_overrides_provider: Any | None
    deprecated: bool | None
    generate_unique_id_function: Callable[[APIRoute], str] | DefaultPlaceholder
    include_in_schema: bool
    max_body_size: int | None
    openapi_extra: dict[str, Any] | None
    operation_id: str | None
    response_class: type[Response] | DefaultPlaceholder
    response_description: str
    response_model_by_alias: bool
    response_model_exclude: IncEx | None
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    response_model_exclude_unset: bool
    response_model_include: IncEx | None
    strict_content_type: bool | DefaultPlaceholder
    summary: str | None

    def __init__(
        self, path: str, endpoint: Callable[..., Any], **options: Unpack[RouteDeclaration]
    ) -> None:
        _CHECK_ROUTE(self, path, endpoint, **options)  # Python's TypeError for a wrong keyword
        declared = with_defaults("route", options)
        check_max_body_size(declared["max_body_size"])
        for key in ROUTE_KEPT:
            setattr(self, key, declared[key])
        self.path, self.endpoint = path, endpoint
        self.form_limits = validate_form_limits(declared["form_limits"])
        self.tags = declared["tags"] or []
        self.responses = declared["responses"] or {}
        self.dependencies = list(declared["dependencies"] or [])
        self.name = get_name(endpoint) if declared["name"] is None else declared["name"]
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods: set[str] = {m.upper() for m in (declared["methods"] or ["GET"])}
        code = declared["status_code"]
        self.status_code = int(code) if isinstance(code, IntEnum) else code
        make_id = self.generate_unique_id_function
        make_id = make_id.value if isinstance(make_id, DefaultPlaceholder) else make_id
        self.unique_id = self.operation_id or make_id(self)
        doc = declared["description"] or inspect.cleandoc(endpoint.__doc__ or "")
        self.description = doc.split("\f")[0].strip()
        with declaring(self.methods, self.path, endpoint):  # errors name this route
            self.app = self._compile(declared["response_model"])

    def _compile(self, response_model: Any) -> ASGIApp:
        """Analyse the endpoint, compile its plan, and return the route's ASGI app."""
        self._check_responses()
        if not callable(self.endpoint):
            raise InvalidDeclarationError("An endpoint must be a callable")
        self.dependant = with_route_dependencies(
            get_dependant(path=self.path_format, call=self.endpoint),
            self.dependencies,
            self.path_format,
        )
        self.declared_response_model = response_model  # as given: included copies re-infer
        self.response_model = self._response_model(response_model)
        self._compiled_response_model = self.response_model  # a library may assign another
        self.response_adapter = response_adapter(self.response_model)
        self._build_plan()
        return self._route_app()

    @property
    def dependant(self) -> Dependant:
        """The endpoint's dependency graph (FastAPI's ``Dependant``), as compiled."""
        return self._dependant

    @dependant.setter
    def dependant(self, dependant: Dependant) -> None:
        # A library that gives a built route another graph (cadwyn re-derives it per API
        # version) changes what FastAPI documents: the body parameters follow it here. The
        # route's app stays as built, as FastAPI's does, until ``get_route_handler()``.
        self._dependant = dependant
        if "body_params_flat" in self.__dict__:
            self.body_params_flat = flat_body_params(dependant)
            self.embed_body_fields = should_embed(self.body_params_flat)

    def _build_plan(self) -> None:
        """Compile ``self.dependant`` (again after a library changed it: `graph_unchanged`)."""
        self.body_params_flat = flat_body_params(self.dependant)
        self.embed_body_fields = should_embed(self.body_params_flat)
        self.plan = build_plan(self)
        _patch_points.remember(self.plan)
        remember_node(self.plan.root, self.embed_body_fields, self.plan.body_kind == "form")

    def _route_app(self) -> ASGIApp:
        """The compiled runner (behind the body limit); FastAPI's path when a patch point was
        replaced or wrapped.

        A subclass that overrides ``get_route_handler`` (FastAPI's documented customization)
        gets its handler run by ``request_response``, as in FastAPI.
        """
        self._through_patch_points = patched = patch_points_replaced()
        if not patched and type(self).get_route_handler is APIRoute.get_route_handler:
            app = route_app(self.plan, self)
        else:
            app = request_response(self.get_route_handler())
        return limit_body(app, self.max_body_size)

    def get_route_handler(self) -> Callable[[Any], Any]:
        """The ``async (request) -> response`` function of this route; override to wrap it."""
        if not patch_points_replaced():
            if not graph_unchanged(self.plan.root, self.dependant):
                self._build_plan()
            return plan_handler(self.plan, self._overrides_of)
        return get_request_handler(**_patch_points.handler_arguments(self))

    @functools.cached_property
    def response_field(self) -> Any:
        """FastAPI's ``ModelField`` of the response model (None without one)."""
        if not self.response_model:
            return None
        name = "Response_" + self.unique_id
        return create_model_field(name=name, type_=self.response_model, mode="serialization")

    @functools.cached_property
    def body_field(self) -> Any:
        """FastAPI's ``ModelField`` of the whole request body (None without a body), for
        libraries that read or copy it (cadwyn); Hasten validates each body parameter."""
        from .dependencies._ecosystem import _get_body_field

        return _get_body_field(
            body_params=self.body_params_flat,
            name=self.unique_id,
            embed_body_fields=self.embed_body_fields,
        )

    @functools.cached_property
    def stream_item_field(self) -> Any:
        """FastAPI's ``ModelField`` of a stream's item type (None without one)."""
        if not self.stream_item_type:
            return None
        name = "StreamItem_" + self.unique_id
        return create_model_field(name=name, type_=self.stream_item_type, mode="serialization")

    def _check_responses(self) -> None:
        self.response_fields: dict[int | str, Any] = {}
        for code, response in self.responses.items():
            if not isinstance(response, dict):
                raise InvalidDeclarationError("An additional response must be a dict")
            model = response.get("model")
            if model and not is_body_allowed_for_status_code(code):
                raise InvalidDeclarationError(f"Status code {code} must not have a response body")
            if model:
                self.response_fields[code] = response_adapter(model, f"responses[{code!r}]")

    def _response_model(self, response_model: Any) -> Any:
        is_generator = call_kind(self.endpoint) >= GEN
        cls = self.response_class
        self.is_sse_stream = is_generator and is_subclass(cls, EventSourceResponse)
        self.is_json_stream = is_generator and isinstance(cls, DefaultPlaceholder)
        self.stream_item_type: Any = None
        if isinstance(response_model, DefaultPlaceholder):
            annotation = typed_return_annotation(self.endpoint)
            if inspect.isclass(annotation) and issubclass(annotation, Response):
                return None
            item = stream_item_type(annotation)
            if item is not None and is_generator:
                if (self.is_json_stream or self.is_sse_stream) and not is_subclass(
                    item, ServerSentEvent
                ):
                    self.stream_item_type = item
                return None
            response_model = annotation
        if response_model and not is_body_allowed_for_status_code(self.status_code):
            raise InvalidDeclarationError(
                f"Status code {self.status_code} must not have a response body"
            )
        return response_model

    def _overrides_of(self, scope: Scope) -> Any:
        provider = self.dependency_overrides_provider
        if provider is None:
            provider = scope.get("app")
        return getattr(provider, "dependency_overrides", None)

    def __deepcopy__(self, memo: dict[int, Any]) -> APIRoute:
        """A deep copy of the declaration (cadwyn copies routes per API version); what was
        compiled from it is shared, as FastAPI's copies share its handler: the copy compiles
        again when its graph changes (``get_route_handler``)."""
        cls = type(self)
        copied = cls.__new__(cls)
        memo[id(self)] = copied
        for key, value in vars(self).items():
            if key in _COMPILED_ATTRS:
                copied.__dict__[key] = value
            elif key != "_hasten_openapi":  # the document's fields are made for the copy
                copied.__dict__[key] = copy.deepcopy(value, memo)
        return copied

    @property
    def _embed_body_fields(self) -> bool:
        return self.embed_body_fields


#: What an ``APIRoute`` compiled from its declaration (shared by its deep copies).
_COMPILED_ATTRS = frozenset(
    {
        "plan", "response_adapter", "body_params_flat", "_compiled_response_model", "app",
        ORIGINAL_ATTR,  # the declared route an included copy stands for
    }
)  # fmt: skip


class APIWebSocketRoute(routing.WebSocketRoute):
    """A WebSocket endpoint with parameters and dependencies, like HTTP routes."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], **options: Unpack[WebSocketDeclaration]
    ) -> None:
        _CHECK_WEBSOCKET(self, path, endpoint, **options)
        declared = with_defaults("websocket", options)
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.path, self.endpoint = path, endpoint
        self.dependency_overrides_provider = declared["dependency_overrides_provider"]
        self.dependencies = list(declared["dependencies"] or [])
        name = declared["name"]
        self.name = get_name(endpoint) if name is None else name
        with declaring(("WEBSOCKET",), self.path, endpoint):
            self.dependant = with_route_dependencies(
                get_dependant(path=self.path_format, call=endpoint),
                self.dependencies,
                self.path_format,
            )
        self.app = self._route_app()

    def _route_app(self) -> ASGIApp:
        """The compiled connection runner; FastAPI's path when a patch point was replaced."""
        self._through_patch_points = patch_points_replaced()
        if not self._through_patch_points:
            return websocket_app(self.dependant, self._overrides_of)
        handler = get_websocket_app(
            dependant=self.dependant,
            dependency_overrides_provider=self.dependency_overrides_provider,
            embed_body_fields=False,
        )
        return websocket_session(handler)

    def _overrides_of(self, scope: Scope) -> Any:
        provider = self.dependency_overrides_provider or scope.get("app")
        return getattr(provider, "dependency_overrides", None)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self
        return match, child_scope


ROUTE_CLASSES.update(http=APIRoute, websocket=APIWebSocketRoute)  # for the route table


class APIRouter(RouteTable, LowPriorityRoutes, RouterDispatch, routing.Router):
    """A group of path operations with shared prefix, tags, dependencies and responses.

    ``routes`` is a list that notices its changes (see ``hasten._routing.table``): routes may
    be reordered, replaced or removed at any time, and requests follow the list's order.
    """

    # Kept as given (set in ``__init__`` from ``ROUTER_KEPT``).
    default_response_class: type[Response]
    deprecated: bool | None
    generate_unique_id_function: Callable[[APIRoute], str]
    include_in_schema: bool
    max_body_size: int | None
    route_class: type[APIRoute]
    strict_content_type: bool

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        routes: list[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        dependency_overrides_provider: Any | None = None,
        route_class: type[APIRoute] = APIRoute,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
        strict_content_type: bool = Default(True),
        max_body_size: int | None = None,
        form_limits: Any = None,
    ) -> None:
        check_max_body_size(max_body_size)
        self._init_route_table()
        super().__init__(
            routes=routes,
            redirect_slashes=redirect_slashes,
            default=default,
            max_body_size=max_body_size,
        )
        self.form_limits = validate_form_limits(form_limits)
        if self.form_limits:  # a called (app or mounted) router adds its form limits
            self.middleware_stack = FormLimitsScope(self.middleware_stack, self.form_limits)
        self.on_startup: list[Callable[[], Any]] = list(on_startup or [])
        self.on_shutdown: list[Callable[[], Any]] = list(on_shutdown or [])
        events = EventLifespan(self)
        self.lifespan_context = (
            events if lifespan is None else merge_lifespans(events, as_lifespan(lifespan))
        )
        check_prefix_format(prefix, f"APIRouter prefix={prefix!r}")
        given = locals()
        for name in ROUTER_KEPT:
            setattr(self, name, given[name])
        self.tags: list[str | Enum] = tags or []
        self.dependencies = list(dependencies or [])
        self.responses = responses or {}
        self.callbacks = callbacks or []
        self._declare(self.routes)
        # Low-priority routes (frontends): tried when no route matched (see _frontend.py).
        self._low_priority_routes: list[BaseRoute] = []
        self._frontend_routes = None
        self._low_priority_cache: tuple[Any, list[Any]] | None = None

    # --- lifespan ---------------------------------------------------------------------------

    async def _startup(self) -> None:
        for handler in self.on_startup:
            if inspect.iscoroutinefunction(handler):
                await handler()
            else:
                await run_in_threadpool(handler)

    async def _shutdown(self) -> None:
        for handler in self.on_shutdown:
            if inspect.iscoroutinefunction(handler):
                await handler()
            else:
                await run_in_threadpool(handler)

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        """Run ``func`` at ``"startup"`` or ``"shutdown"``."""
        if event_type == "startup":
            self.on_startup.append(func)
        elif event_type == "shutdown":
            self.on_shutdown.append(func)
        else:
            raise InvalidDeclarationError(
                f"Unknown event type: {event_type!r} (use 'startup' or 'shutdown')",
                route=f"add_event_handler event_type={event_type!r}",
            )

    def on_event(self, event_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Deprecated: use ``lifespan``. Registers a startup/shutdown handler."""
        warnings.warn(
            "\n        on_event is deprecated, use lifespan event handlers instead.\n\n"
            "        Read more about it in the\n"
            "        [FastAPI docs for Lifespan Events](https://fastapi.tiangolo.com/advanced/events/).\n        ",
            DeprecationWarning,
            stacklevel=2,
        )

        return registering(self.add_event_handler, event_type)

    # --- declaring routes ---------------------------------------------------------------------

    # ``add_route``, ``add_websocket_route`` and ``mount`` are Starlette's: they append to
    # ``routes``, which notices the change.

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        route_class_override: type[APIRoute] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Add a path operation (what the ``@router.get(...)`` decorators call).

        The router's own settings apply: prefix, tags, dependencies, responses, callbacks,
        ``deprecated``, ``include_in_schema`` and the defaults it was created with.
        """
        _CHECK_ADD(self, path, endpoint, route_class_override=route_class_override, **options)
        self.routes.append(
            self._make_api_route(
                path, endpoint, route_class_override=route_class_override, **options
            )
        )

    def _make_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        route_class_override: type[APIRoute] | None = None,
        **options: Unpack[RouteOptions],
    ) -> APIRoute:
        """The route ``add_api_route`` adds (this router's settings merged in)."""
        route_class = route_class_override or self.route_class
        kwargs = merge_options(self._route_settings(), options)
        kwargs["dependency_overrides_provider"] = self.dependency_overrides_provider
        limits = extra_route_kwargs(
            route_class, kwargs.pop("max_body_size", None), kwargs.pop("form_limits", None)
        )
        return route_class(self.prefix + path, endpoint=endpoint, **kwargs, **limits)

    def _route_settings(self) -> dict[str, Any]:
        """This router's settings for the routes declared on it (see ``merge_options``)."""
        settings = {name: getattr(self, name) for name in ROUTER_SETTINGS}
        settings["response_class"] = self.default_response_class
        return settings

    def api_route(
        self, path: str, **options: Unpack[RouterRouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Decorator form of :meth:`add_api_route`."""
        _CHECK_API_ROUTE(self, path, **options)
        return self._decorator(path, options)

    def _decorator(
        self, path: str, options: Mapping[str, Any]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        return registering(self.add_api_route, path, **options)

    def _method(
        self, method: str, path: str, options: MethodOptions
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        _METHOD_CHECKS[method](self, path, **options)
        return self._decorator(path, {**options, "methods": [method.upper()]})

    def get(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``GET`` path operation."""
        return self._method("get", path, options)

    def put(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``PUT`` path operation."""
        return self._method("put", path, options)

    def post(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``POST`` path operation."""
        return self._method("post", path, options)

    def delete(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``DELETE`` path operation."""
        return self._method("delete", path, options)

    def options(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare an ``OPTIONS`` path operation."""
        return self._method("options", path, options)

    def head(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``HEAD`` path operation."""
        return self._method("head", path, options)

    def patch(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``PATCH`` path operation."""
        return self._method("patch", path, options)

    def trace(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``TRACE`` path operation."""
        return self._method("trace", path, options)

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> None:
        """Add a WebSocket endpoint with parameters and dependencies."""
        self.routes.append(
            self._make_api_websocket_route(path, endpoint, name, dependencies=dependencies)
        )

    def _make_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> APIWebSocketRoute:
        return APIWebSocketRoute(
            self.prefix + path,
            endpoint=endpoint,
            name=name,
            dependencies=[*self.dependencies, *(dependencies or [])],
            dependency_overrides_provider=self.dependency_overrides_provider,
        )

    def websocket(
        self,
        path: str,
        name: str | None = None,
        *,
        dependencies: Sequence[params.Depends] | None = None,
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a WebSocket endpoint."""
        return registering(self.add_api_websocket_route, path, name=name, dependencies=dependencies)

    def websocket_route(
        self, path: str, name: str | None = None
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a plain Starlette WebSocket endpoint."""
        return registering(self.add_websocket_route, path, name=name)

    def route(
        self,
        path: str,
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a plain Starlette route (``request → response``)."""
        return registering(
            self.add_route, path, methods=methods, name=name, include_in_schema=include_in_schema
        )

    # --- including routers --------------------------------------------------------------------

    def include_router(
        self,
        router: APIRouter,
        *,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[APIRoute], str] = Default(generate_unique_id),
        max_body_size: int | None = None,
        form_limits: Any = None,
    ) -> None:
        """Serve ``router``'s routes from this router, under ``prefix`` and the given settings.

        The routes are copied into this router's ``routes`` where the inclusion is declared;
        routes ``router`` gains, loses or reorders later are followed there.
        """
        where = f"include_router prefix={prefix!r}"
        if self is router:
            raise InvalidDeclarationError(
                "Cannot include the same APIRouter instance into itself. "
                "Did you mean to include a different router?",
                route=where,
            )
        if includes(router, self):
            raise InvalidDeclarationError(
                "Cannot include an APIRouter instance that already includes this router. "
                "Did you mean to include a different router?",
                route=where,
            )
        check_prefix(router, prefix)
        check_max_body_size(max_body_size)
        include = Include(
            self, router, prefix, tags, dependencies, default_response_class, responses,
            callbacks, deprecated, include_in_schema, generate_unique_id_function,
            first_limit(router.max_body_size, max_body_size, self.max_body_size),
            combine(validate_form_limits(form_limits), router.form_limits),
        )  # fmt: skip
        self._add_inclusion(include)
        self.on_startup.extend(router.on_startup)
        self.on_shutdown.extend(router.on_shutdown)
        self.lifespan_context = merge_lifespans(self.lifespan_context, router.lifespan_context)


_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_CHECK_ADD = keyword_checker(
    "APIRouter.add_api_route", ("self", "path", "endpoint"), "router.add_api_route"
)
_CHECK_API_ROUTE = keyword_checker("APIRouter.api_route", ("self", "path"), "router.api_route")
_METHOD_CHECKS = {
    method: keyword_checker(f"APIRouter.{method}", ("self", "path"), "method")
    for method in _HTTP_METHODS
}


publish_signature(APIRoute.__init__, _CHECK_ROUTE)
publish_signature(APIWebSocketRoute.__init__, _CHECK_WEBSOCKET)
publish_signature(APIRouter.add_api_route, _CHECK_ADD)
publish_signature(APIRouter.api_route, _CHECK_API_ROUTE)
for _method in _HTTP_METHODS:
    publish_signature(getattr(APIRouter, _method), _METHOD_CHECKS[_method])


# -- FastAPI's request-path functions (patch points, _routing/patch_points.py) ------------------

_patch_points.API["module"] = sys.modules[__name__]  # replacements are looked up here
patch_points_replaced = _patch_points.replaced
refresh_patch_points = _patch_points.refresh


def router_entry(router: routing.Router) -> ASGIApp:
    """What an app calls for its router: the router's own stack, which ``Router.__call__``
    only forwards to, or the router itself when its class overrides ``__call__`` (cadwyn's
    root router picks the routes of the requested API version there), as FastAPI calls it."""
    if type(router).__call__ is routing.Router.__call__:
        return getattr(router, "middleware_stack", router)  # type: ignore[no-any-return]
    return router


# -- FastAPI 0.165 names libraries import (scripts/ecosystem census) ----------------------------
from ._routing.included import _EffectiveRouteContext, _IncludedRouter, _iter_routes_with_context  # noqa: E402, F401
