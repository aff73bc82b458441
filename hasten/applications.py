"""The application classes.

``Hasten`` is the application; ``FastAPI`` is the same engine with FastAPI's defaults, for
code migrating unchanged. Both compile every route into a plan when it is declared.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send
from typing_extensions import Unpack

from . import routing
from ._body_limit import app_body_limit, check_max_body_size
from ._form_limits import validate_form_limits
from ._plan.errors import ExceptionLayer
from ._routing.options import RouteOptions
from .datastructures import Default, DefaultPlaceholder
from .exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from .exceptions import (
    FastAPIDeprecationWarning,
    RequestValidationError,
    WebSocketRequestValidationError,
)
from .params import Depends
from .types import DecoratedCallable
from .utils import generate_unique_id

AppType = TypeVar("AppType", bound="Hasten")

__all__ = ["AppType", "FastAPI", "Hasten"]


class Hasten(Starlette):
    """A typed HTTP API application (FastAPI-compatible constructor and decorators).

    Production defaults: request bodies are limited to ``default_max_body_size`` (16 MiB;
    pass ``max_body_size=None`` to remove the limit). ``FastAPI`` keeps FastAPI's defaults.
    """

    default_max_body_size: ClassVar[int | None] = 16 * 1024 * 1024

    def __init__(
        self,
        *,
        telemetry: Any = None,
        debug: bool = False,
        routes: list[BaseRoute] | None = None,
        title: str = "FastAPI",
        summary: str | None = None,
        description: str = "",
        version: str = "0.1.0",
        openapi_url: str | None = "/openapi.json",
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        dependencies: Sequence[Depends] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        redirect_slashes: bool = True,
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: dict[int | type[Exception], Callable[..., Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[Any] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, str | Any] | None = None,
        license_info: dict[str, str | Any] | None = None,
        openapi_prefix: str = "",
        root_path: str = "",
        root_path_in_servers: bool = True,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        webhooks: routing.APIRouter | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        swagger_ui_parameters: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[routing.APIRoute], str] = Default(
            generate_unique_id
        ),
        separate_input_output_schemas: bool = True,
        openapi_external_docs: dict[str, Any] | None = None,
        strict_content_type: bool = Default(True),
        max_body_size: int | None = Default(None),
        form_limits: Any = None,
    ) -> None:
        self.telemetry = telemetry
        self.debug = debug
        self.title = title
        self.summary = summary
        self.description = description
        self.version = version
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.openapi_url = openapi_url
        self.openapi_tags = openapi_tags
        self.root_path_in_servers = root_path_in_servers
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.servers = servers or []
        self.separate_input_output_schemas = separate_input_output_schemas
        self.openapi_external_docs = openapi_external_docs
        self.openapi_version = "3.1.0"
        self.openapi_schema: dict[str, Any] | None = None
        if isinstance(max_body_size, DefaultPlaceholder):
            max_body_size = self.default_max_body_size
        check_max_body_size(max_body_size)
        self.max_body_size = max_body_size
        self.form_limits = validate_form_limits(form_limits)
        if self.openapi_url and not self.openapi_url.startswith("/"):
            raise AssertionError("A path for OpenAPI must start with '/'")
        self.webhooks = webhooks or routing.APIRouter()
        if root_path:
            warnings.warn(
                "The `root_path` parameter is deprecated. Configure the server's root path"
                " instead, for example with `fastapi run --root-path /api/v1`.",
                FastAPIDeprecationWarning,
                stacklevel=2,
            )
        self.root_path = root_path or openapi_prefix
        self.state: State = State()
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.router: routing.APIRouter = routing.APIRouter(
            routes=routes,
            redirect_slashes=redirect_slashes,
            dependency_overrides_provider=self,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            lifespan=lifespan,
            default_response_class=default_response_class,
            dependencies=dependencies,
            callbacks=callbacks,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            responses=responses,
            generate_unique_id_function=generate_unique_id_function,
            strict_content_type=strict_content_type,
            form_limits=self.form_limits,
        )
        self.exception_handlers: dict[Any, Callable[..., Any]] = dict(exception_handlers or {})
        self.exception_handlers.setdefault(HTTPException, http_exception_handler)
        self.exception_handlers.setdefault(
            RequestValidationError, request_validation_exception_handler
        )
        self.exception_handlers.setdefault(
            WebSocketRequestValidationError, websocket_request_validation_exception_handler
        )
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.middleware_stack: ASGIApp | None = None
        self.setup()

    # --- the ASGI app -------------------------------------------------------------------------

    def build_middleware_stack(self) -> ASGIApp:
        """ServerError → user middleware → exception handlers → router, composed once."""
        error_handler = None
        handlers: dict[Any, Callable[..., Any]] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        stack = [
            Middleware(ServerErrorMiddleware, handler=error_handler, debug=self.debug),
            *self._body_limit_middleware(handlers),
            *self.user_middleware,
            Middleware(ExceptionLayer, handlers=handlers, debug=self.debug),
        ]
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(stack):
            app = cls(app, *args, **kwargs)
        return app

    def _body_limit_middleware(self, handlers: dict[Any, Any]) -> list[Middleware]:
        # Without a limit and without user middleware, a limit signal from a parent app can
        # only be raised inside ExceptionMiddleware, which answers it: no layer is needed.
        if self.max_body_size is None and not self.user_middleware:
            return []
        handler = handlers.get(413) or handlers.get(HTTPException, http_exception_handler)
        return [Middleware(app_body_limit, max_body_size=self.max_body_size, handler=handler)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.root_path:
            scope["root_path"] = self.root_path
        await super().__call__(scope, receive, send)

    # --- OpenAPI and docs ---------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the app, generated on first use and kept in ``openapi_schema``."""
        if not self.openapi_schema:
            from .openapi.utils import get_openapi

            self.router.flatten()
            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                openapi_version=self.openapi_version,
                summary=self.summary,
                description=self.description,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
                routes=self.routes,
                webhooks=self.webhooks.routes,
                tags=self.openapi_tags,
                servers=self.servers,
                separate_input_output_schemas=self.separate_input_output_schemas,
                external_docs=self.openapi_external_docs,
            )
        return self.openapi_schema

    def setup(self) -> None:
        """Add the OpenAPI document and the docs pages to the routes."""
        if not self.openapi_url:
            return
        self.add_route(self.openapi_url, self._openapi_endpoint, include_in_schema=False)
        if self.docs_url:
            self.add_route(self.docs_url, self._swagger_endpoint, include_in_schema=False)
            if self.swagger_ui_oauth2_redirect_url:
                self.add_route(
                    self.swagger_ui_oauth2_redirect_url,
                    self._oauth2_redirect_endpoint,
                    include_in_schema=False,
                )
        if self.redoc_url:
            self.add_route(self.redoc_url, self._redoc_endpoint, include_in_schema=False)

    async def _openapi_endpoint(self, request: Request) -> Response:
        root_path = request.scope.get("root_path", "").rstrip("/")
        schema = self.openapi()
        if root_path and self.root_path_in_servers:
            urls = {server.get("url") for server in schema.get("servers", [])}
            if root_path not in urls:
                schema = {**schema, "servers": [{"url": root_path}, *schema.get("servers", [])]}
        return JSONResponse(schema)

    async def _swagger_endpoint(self, request: Request) -> HTMLResponse:
        from .openapi.docs import get_swagger_ui_html

        root_path = request.scope.get("root_path", "").rstrip("/")
        redirect = self.swagger_ui_oauth2_redirect_url
        return get_swagger_ui_html(
            openapi_url=root_path + (self.openapi_url or ""),
            title=f"{self.title} - Swagger UI",
            oauth2_redirect_url=root_path + redirect if redirect else None,
            init_oauth=self.swagger_ui_init_oauth,
            swagger_ui_parameters=self.swagger_ui_parameters,
        )

    async def _oauth2_redirect_endpoint(self, request: Request) -> HTMLResponse:
        from .openapi.docs import get_swagger_ui_oauth2_redirect_html

        return get_swagger_ui_oauth2_redirect_html()

    async def _redoc_endpoint(self, request: Request) -> HTMLResponse:
        from .openapi.docs import get_redoc_html

        root_path = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root_path + (self.openapi_url or ""), title=f"{self.title} - ReDoc"
        )

    # --- routes -------------------------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def add_api_route(
        self, path: str, endpoint: Callable[..., Any], **options: Unpack[RouteOptions]
    ) -> None:
        """Add a path operation (see ``APIRouter.add_api_route``)."""
        self.router.add_api_route(path, endpoint, **options)

    def api_route(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Decorator: a path operation for the given ``methods``."""
        return self.router.api_route(path, **options)

    def get(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``GET`` path operation."""
        return self.router.get(path, **options)

    def put(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``PUT`` path operation."""
        return self.router.put(path, **options)

    def post(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``POST`` path operation."""
        return self.router.post(path, **options)

    def delete(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``DELETE`` path operation."""
        return self.router.delete(path, **options)

    def options(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare an ``OPTIONS`` path operation."""
        return self.router.options(path, **options)

    def head(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``HEAD`` path operation."""
        return self.router.head(path, **options)

    def patch(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``PATCH`` path operation."""
        return self.router.patch(path, **options)

    def trace(
        self, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``TRACE`` path operation."""
        return self.router.trace(path, **options)

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        """Add a WebSocket endpoint with parameters and dependencies."""
        self.router.add_api_websocket_route(path, endpoint, name=name, dependencies=dependencies)

    def websocket(
        self, path: str, name: str | None = None, *, dependencies: Sequence[Depends] | None = None
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a WebSocket endpoint."""
        return self.router.websocket(path, name=name, dependencies=dependencies)

    def route(
        self,
        path: str,
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a plain Starlette route (``request → response``)."""
        return self.router.route(
            path, methods=methods, name=name, include_in_schema=include_in_schema
        )

    def websocket_route(
        self, path: str, name: str | None = None
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a plain Starlette WebSocket endpoint."""
        return self.router.websocket_route(path, name=name)

    def include_router(self, router: routing.APIRouter, **options: Any) -> None:
        """Include the routes of ``router`` (see ``APIRouter.include_router``)."""
        self.router.include_router(router, **options)

    def on_event(self, event_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Deprecated: use ``lifespan``. Register a startup/shutdown handler."""
        return self.router.on_event(event_type)

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        """Run ``func`` at ``"startup"`` or ``"shutdown"``."""
        self.router.add_event_handler(event_type, func)

    def middleware(self, middleware_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Decorator: ``@app.middleware("http")`` adds a ``BaseHTTPMiddleware`` dispatch."""

        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def exception_handler(
        self, exc_class_or_status_code: int | type[Exception]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Decorator: handle an exception class or a status code with the function."""

        def decorator(func: DecoratedCallable) -> DecoratedCallable:
            self.add_exception_handler(exc_class_or_status_code, func)
            return func

        return decorator


class FastAPI(Hasten):
    """``Hasten`` with FastAPI's defaults exactly (for code migrating unchanged)."""

    default_max_body_size: ClassVar[int | None] = None
