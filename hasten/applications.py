"""The application classes.

``Hasten`` is the application; ``FastAPI`` is the same engine with FastAPI's defaults, for
code migrating unchanged. Both compile every route into a plan when it is declared.
"""

from __future__ import annotations

import os
import types
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, ParamSpec, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send
from typing_extensions import Unpack

if TYPE_CHECKING:
    from starlette.middleware import _MiddlewareFactory

from . import routing
from ._app_scope import run_lifespan as run_app_scope_lifespan
from ._body_limit import AppBodyLimitMiddleware, app_body_limit, check_max_body_size
from ._core import CoreStack, SteppedCoreStack
from ._direct import DirectCalls
from ._form_limits import validate_form_limits
from ._frontend import resolve_check_dir
from ._plan.build import refresh_writers
from ._route_layout import user_layers
from ._routing.decorate import registering
from ._routing.options import AppRouteOptions, MethodOptions, keyword_checker, publish_signature
from ._rsgi import RSGIApp
from ._starlette import ExceptionLayer, stack_instrumented, starlette_call_patched
from .datastructures import Default, DefaultPlaceholder
from .exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from .exceptions import (
    FastAPIDeprecationWarning,
    HastenError,
    InvalidDeclarationError,
    RequestValidationError,
    WebSocketRequestValidationError,
)
from .middleware.asyncexitstack import AsyncExitStackMiddleware
from .middleware.cors import check_cors_middleware
from .params import Depends
from .telemetry import _asgi as _telemetry
from .telemetry import _operations as _operations  # installs the engine's observer hooks
from .telemetry._api import SCOPE_KEY as _TELEMETRY_KEY
from .telemetry._api import TelemetryConfig
from .telemetry._api import default_config as _telemetry_config
from .types import DecoratedCallable
from .utils import generate_unique_id

AppType = TypeVar("AppType", bound="Hasten")
_P = ParamSpec("_P")
DocsAssets = Literal["bundled", "cdn"]

__all__ = ["AppType", "FastAPI", "Hasten"]


class Hasten(Starlette, RSGIApp):
    """A typed HTTP API application (FastAPI-compatible constructor and decorators).

    Production defaults: request bodies are limited to ``default_max_body_size`` (16 MiB;
    pass ``max_body_size=None`` to remove the limit). ``FastAPI`` keeps FastAPI's defaults.

    ``docs_assets`` chooses where the ``/docs`` and ``/redoc`` pages load Swagger UI and ReDoc
    from: ``"bundled"`` (``Hasten``'s default) serves the copies shipped in the package under
    ``<docs_url>/static/`` and references no external URL, so the docs work offline;
    ``"cdn"`` (``FastAPI``'s default) loads them from jsDelivr like FastAPI does.

    ``Hasten`` generates the OpenAPI document while the application starts (when
    ``openapi_url`` is set), so a model without a JSON Schema fails the startup with a
    ``HastenError`` naming the route and the type, instead of failing the first ``/docs`` visit.
    """

    default_max_body_size: ClassVar[int | None] = 16 * 1024 * 1024
    #: A body over the limit is answered in the app's error shape (JSON), not Starlette's text.
    json_body_limit_errors: ClassVar[bool] = True
    default_docs_assets: ClassVar[DocsAssets] = "bundled"
    openapi_at_startup: ClassVar[bool] = True
    #: The class name Python's ``TypeError``s for a wrong argument show (``FastAPI`` there).
    _api_name: ClassVar[str] = "Hasten"
    #: ``CORSMiddleware(allow_credentials=True)`` with any-origin access raises (False: a
    #: warning is logged when the stack is built); see ``hasten.middleware.cors``.
    refuse_unsafe_cors: ClassVar[bool] = True
    # A 405 names every method the path declares, not only the first matching route's (RFC 9110).
    full_allow_header: ClassVar[bool] = True

    # Constructor arguments kept as given (set from ``_KEPT_AS_GIVEN`` in ``__init__``).
    contact: dict[str, str | Any] | None
    debug: bool
    description: str
    docs_url: str | None
    license_info: dict[str, str | Any] | None
    openapi_external_docs: dict[str, Any] | None
    openapi_tags: list[dict[str, Any]] | None
    openapi_url: str | None
    redoc_url: str | None
    root_path_in_servers: bool
    separate_input_output_schemas: bool
    summary: str | None
    swagger_ui_init_oauth: dict[str, Any] | None
    swagger_ui_oauth2_redirect_url: str | None
    swagger_ui_parameters: dict[str, Any] | None
    terms_of_service: str | None
    title: str
    version: str

    def __init__(
        self,
        *,
        telemetry: TelemetryConfig | None = None,
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
        docs_assets: DocsAssets | None = None,
    ) -> None:
        self.telemetry = telemetry
        self._telemetry = _telemetry_config(
            telemetry, os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true"
        )
        self._native_telemetry = _telemetry.NativeTelemetry(self._telemetry)
        # Decided once: with every signal off, requests never look at telemetry again.
        self._telemetry_possible = self._native_telemetry.possible()
        self._telemetry_watch = self._native_telemetry.quiet_watch()
        self._telemetry_quiet = _telemetry.quiet_check(self._telemetry_watch)
        given = locals()
        for name in _KEPT_AS_GIVEN:
            setattr(self, name, given[name])
        self.docs_assets: DocsAssets = _check_docs_assets(
            self.default_docs_assets if docs_assets is None else docs_assets
        )
        self.servers = servers or []
        self.openapi_version = "3.1.0"
        self.openapi_schema: dict[str, Any] | None = None
        self._openapi_routes_version: int | None = None  # rebuilt when routes were added
        if isinstance(max_body_size, DefaultPlaceholder):
            max_body_size = self.default_max_body_size
        check_max_body_size(max_body_size)
        self.max_body_size = max_body_size
        self.form_limits = validate_form_limits(form_limits)
        self._check_openapi_settings()
        self.webhooks = webhooks or routing.APIRouter()
        if root_path:
            warnings.warn(
                "The `root_path` parameter is deprecated. Configure the server's root path"
                " instead, for example with `fastapi run --root-path /api/v1`.",
                FastAPIDeprecationWarning,
                stacklevel=2,
            )
        self.root_path = root_path
        self.state: State = State()
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        # The app's routes live in its router, with the settings given for them here (the body
        # limit is applied once, by the app's own middleware).
        router_settings = {name: given[name] for name in _FOR_THE_ROUTER}
        self.router: routing.APIRouter = routing.APIRouter(
            dependency_overrides_provider=self, form_limits=self.form_limits, **router_settings
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
        if self.refuse_unsafe_cors:
            check_cors_middleware(self.user_middleware, refuse=True)
        self.middleware_stack: ASGIApp | None = None
        self._through_starlette = False  # decided when the stack is built
        self._direct_calls = DirectCalls(self)
        self.setup()

    def _check_openapi_settings(self) -> None:
        if not self.openapi_url:
            return
        where = f"{self._api_name} openapi_url={self.openapi_url!r}"
        if not self.openapi_url.startswith("/"):
            raise InvalidDeclarationError("A path for OpenAPI must start with '/'", route=where)
        if not self.title:
            raise InvalidDeclarationError(
                "A title must be provided for OpenAPI, e.g.: 'My API'", route=where
            )
        if not self.version:
            raise InvalidDeclarationError(
                "A version must be provided for OpenAPI, e.g.: '2.1.0'", route=where
            )

    # --- the ASGI app -------------------------------------------------------------------------

    def build_middleware_stack(self) -> ASGIApp:
        """ServerError → user middleware → exception handlers → router, composed once.

        Also where replacements that instrumentations made are noticed (never per request):
        a patched ``JSONResponse`` or FastAPI request-path function rebuilds the routes that
        need it, a patched ``Starlette.__call__`` (Sentry) is called for every request, a
        patched ``Middleware`` or Starlette error layer gets FastAPI's layers
        (:meth:`_fastapi_layers`), and
        OpenTelemetry's Starlette middleware is shown the routes in FastAPI's layout
        (``hasten._route_layout``).
        """
        check_cors_middleware(self.user_middleware, refuse=self.refuse_unsafe_cors)
        refresh_writers(self.router.routes)
        routing.refresh_patch_points(self.router.routes)
        self._through_starlette = starlette_call_patched()
        error_handler = None
        handlers: dict[Any, Callable[..., Any]] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                handlers[key] = value
        app: ASGIApp = routing.router_entry(self.router)
        if stack_instrumented():
            stack = self._fastapi_layers(error_handler, handlers)
        elif not self.user_middleware:  # the same layers, in one coroutine (hasten._core)
            return self._core_stack(app, error_handler, handlers)
        elif self._outside_core():
            core = app = self._core_stack(app, error_handler, handlers)
            layers = []
            for cls, args, kwargs in reversed(self.user_middleware):
                app = cls(app, *args, **kwargs)
                layers.append(app)
            if all(getattr(layer, "steppable", False) for layer in layers):
                # Steps of the core (``hasten._observed``): no layer of their own per request.
                return self._core_stack(core._router, error_handler, handlers, layers[::-1])
            return app
        else:
            stack = [
                self._server_errors(error_handler),
                *self._body_limit_middleware(handlers),
                *user_layers(self.user_middleware),
                Middleware(ExceptionLayer, handlers=handlers, debug=self.debug),
            ]
        for cls, args, kwargs in reversed(stack):
            app = cls(app, *args, **kwargs)
        return app

    def _fastapi_layers(self, error_handler: Any, handlers: dict[Any, Any]) -> list[Middleware]:
        """FastAPI's stack, layer for layer and by FastAPI's class names, built when an
        instrumentation patched what it is made of (Sentry wraps each layer given to
        ``Middleware`` in a span named after its class, names endpoint-style transactions after
        the innermost one and hooks Starlette's own ``ExceptionMiddleware``; New Relic traces
        ``ServerErrorMiddleware`` and ``ExceptionMiddleware``): it observes what it observes on
        FastAPI."""
        limit_handler = handlers.get(413) or handlers.get(HTTPException, http_exception_handler)
        return [
            Middleware(ServerErrorMiddleware, handler=error_handler, debug=self.debug),
            Middleware(_telemetry.ExceptionTelemetryMiddleware),
            Middleware(
                AppBodyLimitMiddleware, max_body_size=self.max_body_size, handler=limit_handler
            ),
            *user_layers(self.user_middleware),
            Middleware(ExceptionMiddleware, handlers=handlers, debug=self.debug),
            Middleware(AsyncExitStackMiddleware),
        ]

    def _outside_core(self) -> bool:
        """Whether every user middleware may wrap the core stack from outside.

        A class says so with ``hasten_outside_core = True`` (Hasten's rate limiter and
        Prometheus middleware: their own code raises nothing the app's 500 handler should
        answer, and they do not read the body). Not while ``build_middleware_stack`` is
        replaced on the app (OpenTelemetry, Logfire): they expect the error layer on top.
        When every one of them is also ``steppable`` (a memory limiter keyed from the scope,
        the metrics), they run as steps of the core stack (``CoreStack.add_steps``), which is
        then the whole stack.
        """
        if "build_middleware_stack" in vars(self):
            return False
        return all(
            getattr(entry.cls, "hasten_outside_core", False) for entry in self.user_middleware
        )

    def _core_stack(
        self, app: ASGIApp, error_handler: Any, handlers: dict[Any, Any], steps: Any = ()
    ) -> CoreStack:
        exceptions = ExceptionLayer(app, handlers=handlers, debug=self.debug)
        limited = None
        if self.max_body_size is not None:
            limit_handler = handlers.get(413) or handlers.get(HTTPException, http_exception_handler)
            limited = app_body_limit(exceptions, self.max_body_size, limit_handler)
        cls, args, kwargs = self._server_errors(error_handler)
        errors = cls(app, *args, **kwargs)
        if steps:
            return SteppedCoreStack(app, errors, exceptions, limited, steps)
        return CoreStack(app, errors, exceptions, limited)

    def _server_errors(self, handler: Any) -> Middleware:
        if not self._telemetry_possible:
            return Middleware(ServerErrorMiddleware, handler=handler, debug=self.debug)
        # Telemetry notes the exception before the 500 response, on the error path only.
        handler = _telemetry.noting_handler(handler)
        return Middleware(_telemetry.TelemetryServerErrors, handler=handler, debug=self.debug)

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
        if scope["type"] == "lifespan":
            if self.openapi_at_startup and self.openapi_url:
                send = self._openapi_on_startup(send)
            await run_app_scope_lifespan(self, self._telemetry_lifespan, scope, receive, send)
            return
        if self._telemetry_possible and _TELEMETRY_KEY not in scope:
            # No provider configured yet (the common case) is known from a few dict lookups;
            # anything else asks the full check.
            quiet = self._telemetry_quiet
            if (quiet is None or not quiet()) and self._native_telemetry.enabled():
                await self._traced_call(scope, receive, send)
                return
        scope["app"] = self  # Starlette.__call__, inlined (one coroutine less per request)
        stack = self.middleware_stack
        if stack is None:
            stack = self.middleware_stack = self.build_middleware_stack()
        if self._through_starlette:  # replaced by an instrumentation: it sees the request
            await Starlette.__call__(self, scope, receive, send)
            return
        calls = self._direct_calls  # a plain route's answer, where it can skip the stack
        if scope["type"] == "http" and (calls.router is not None or stack is not calls.core):
            answer = calls.answer(stack, scope, receive, send)
            if answer is not None:
                await answer
                return
        await stack(scope, receive, send)

    #: ``__call__`` as Hasten defines it: the RSGI direct answer (``hasten._rsgi.direct``)
    #: stands aside for a class that overrides it and when it was replaced.
    _unpatched_call = __call__

    async def _telemetry_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        from .telemetry._runtime import lifespan

        await lifespan(
            config=self._telemetry, app=super().__call__, scope=scope, receive=receive, send=send
        )

    async def _traced_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        stack = self.middleware_stack
        if stack is None:
            stack = self.middleware_stack = self.build_middleware_stack()
        scope["app"] = self
        legacy = _telemetry._legacy_otel(stack)
        run = self._native_telemetry
        await run(app=super().__call__, scope=scope, receive=receive, send=send, legacy_otel=legacy)

    def _openapi_on_startup(self, send: Send) -> Send:
        """``send`` that builds the OpenAPI document before reporting the startup complete.

        It runs after every startup handler and lifespan; an error fails the startup.
        """

        async def checked_send(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.openapi()
            await send(message)

        return checked_send

    # --- OpenAPI and docs ---------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the app, generated on first use and kept in ``openapi_schema``.

        Generated again when routes were added since (also to included routers).
        """
        if not self.router._flattened:
            self.router.flatten()
        routes_version = self.router._routes_version
        if not self.openapi_schema or self._openapi_routes_version != routes_version:
            from .openapi.utils import get_openapi

            self._openapi_routes_version = routes_version
            document = {arg: getattr(self, attr) for arg, attr in _DOCUMENT_SETTINGS.items()}
            self.openapi_schema = get_openapi(
                routes=self.routes, webhooks=self.webhooks.routes, **document
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
        if self.docs_assets == "bundled" and (self.docs_url or self.redoc_url):
            self.add_route(
                self._docs_static_path + "/{file_name}",
                self._docs_asset_endpoint,
                include_in_schema=False,
            )

    @property
    def _docs_static_path(self) -> str:
        """Where the bundled Swagger UI / ReDoc files are served: ``<docs page>/static``."""
        return (self.docs_url or self.redoc_url or "").rstrip("/") + "/static"

    async def _docs_asset_endpoint(self, request: Request) -> Response:
        from .openapi.docs import bundled_asset_response

        return bundled_asset_response(request)

    async def _openapi_endpoint(self, request: Request) -> Response:
        root_path = request.scope.get("root_path", "").rstrip("/")
        schema = self.openapi()
        if root_path and self.root_path_in_servers:
            urls = {server.get("url") for server in schema.get("servers", [])}
            if root_path not in urls:
                schema = {**schema, "servers": [{"url": root_path}, *schema.get("servers", [])]}
        return JSONResponse(schema)

    async def _swagger_endpoint(self, request: Request) -> HTMLResponse:
        from .openapi.docs import bundled_swagger_ui_urls, get_swagger_ui_html

        root_path = request.scope.get("root_path", "").rstrip("/")
        redirect = self.swagger_ui_oauth2_redirect_url
        assets: dict[str, Any] = {}
        if self.docs_assets == "bundled":
            assets = bundled_swagger_ui_urls(root_path + self._docs_static_path)
        return get_swagger_ui_html(
            openapi_url=root_path + (self.openapi_url or ""),
            title=f"{self.title} - Swagger UI",
            oauth2_redirect_url=root_path + redirect if redirect else None,
            init_oauth=self.swagger_ui_init_oauth,
            swagger_ui_parameters=self.swagger_ui_parameters,
            **assets,
        )

    async def _oauth2_redirect_endpoint(self, request: Request) -> HTMLResponse:
        from .openapi.docs import get_swagger_ui_oauth2_redirect_html

        return get_swagger_ui_oauth2_redirect_html()

    async def _redoc_endpoint(self, request: Request) -> HTMLResponse:
        from .openapi.docs import bundled_redoc_urls, get_redoc_html

        root_path = request.scope.get("root_path", "").rstrip("/")
        assets: dict[str, Any] = {}
        if self.docs_assets == "bundled":
            assets = bundled_redoc_urls(root_path + self._docs_static_path)
        return get_redoc_html(
            openapi_url=root_path + (self.openapi_url or ""),
            title=f"{self.title} - ReDoc",
            **assets,
        )

    # --- routes -------------------------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes the app serves (included routers' routes copied in, kept up to date)."""
        if not self.router._flattened:
            self.router.flatten()
        return self.router.routes

    def _check_call(self, method: str, *args: Any, **options: Any) -> None:
        """Reject the call Python would reject with FastAPI's signature of ``method``.

        The ``TypeError`` names this app's class (``FastAPI.add_api_route() got an unexpected
        keyword argument ...``), as FastAPI's explicit signatures make Python say.
        """
        leading, kind = _APP_SIGNATURES[method]
        keyword_checker(f"{self._api_name}.{method}", leading, kind)(self, *args, **options)

    def add_api_route(
        self, path: str, endpoint: Callable[..., Any], **options: Unpack[AppRouteOptions]
    ) -> None:
        """Add a path operation (see ``APIRouter.add_api_route``)."""
        self._check_call("add_api_route", path, endpoint, **options)
        self.router.add_api_route(path, endpoint, **options)

    def api_route(
        self, path: str, **options: Unpack[AppRouteOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Decorator: a path operation for the given ``methods``."""
        self._check_call("api_route", path, **options)
        return self.router.api_route(path, **options)

    def get(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``GET`` path operation."""
        self._check_call("get", path, **options)
        return self.router.get(path, **options)

    def put(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``PUT`` path operation."""
        self._check_call("put", path, **options)
        return self.router.put(path, **options)

    def post(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``POST`` path operation."""
        self._check_call("post", path, **options)
        return self.router.post(path, **options)

    def delete(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``DELETE`` path operation."""
        self._check_call("delete", path, **options)
        return self.router.delete(path, **options)

    def options(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare an ``OPTIONS`` path operation."""
        self._check_call("options", path, **options)
        return self.router.options(path, **options)

    def head(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``HEAD`` path operation."""
        self._check_call("head", path, **options)
        return self.router.head(path, **options)

    def patch(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``PATCH`` path operation."""
        self._check_call("patch", path, **options)
        return self.router.patch(path, **options)

    def trace(
        self, path: str, **options: Unpack[MethodOptions]
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Declare a ``TRACE`` path operation."""
        self._check_call("trace", path, **options)
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
        self._check_call("include_router", router, **options)
        self.router.include_router(router, **options)

    def frontend(
        self,
        path: str,
        *,
        directory: str | os.PathLike[str],
        fallback: Literal["auto", "index.html", "404.html"] | None = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serve a built frontend under ``path``, after every other route.

        See ``APIRouter.frontend``; the app's dependencies run before a file is served.
        """
        checked = resolve_check_dir(directory, check_dir)  # warns at the caller's line
        self.router.frontend(path, directory=directory, fallback=fallback, check_dir=checked)

    def on_event(self, event_type: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """Deprecated: use ``lifespan``. Register a startup/shutdown handler."""
        return self.router.on_event(event_type)

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        """Run ``func`` at ``"startup"`` or ``"shutdown"``."""
        self.router.add_event_handler(event_type, func)

    def add_middleware(
        self, middleware_class: _MiddlewareFactory[_P], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Add a middleware around the app (the last added runs first), as Starlette does."""
        if self.refuse_unsafe_cors:
            check_cors_middleware([Middleware(middleware_class, *args, **kwargs)], refuse=True)
        super().add_middleware(middleware_class, *args, **kwargs)

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
        return registering(self.add_exception_handler, exc_class_or_status_code)


def _check_docs_assets(value: Any) -> DocsAssets:
    if value not in ("bundled", "cdn"):
        raise HastenError(f"docs_assets must be 'bundled' or 'cdn', not {value!r}")
    return value  # type: ignore[no-any-return]


_KEPT_AS_GIVEN = (
    "debug", "title", "summary", "description", "version", "terms_of_service", "contact",
    "license_info", "openapi_url", "openapi_tags", "root_path_in_servers", "docs_url",
    "redoc_url", "swagger_ui_oauth2_redirect_url", "swagger_ui_init_oauth",
    "swagger_ui_parameters", "separate_input_output_schemas", "openapi_external_docs",
)  # fmt: skip

# get_openapi's arguments -> the app attributes that hold them.
_DOCUMENT_SETTINGS = {
    "title": "title", "version": "version", "openapi_version": "openapi_version",
    "summary": "summary", "description": "description", "contact": "contact",
    "terms_of_service": "terms_of_service", "license_info": "license_info",
    "tags": "openapi_tags", "servers": "servers", "external_docs": "openapi_external_docs",
    "separate_input_output_schemas": "separate_input_output_schemas",
}  # fmt: skip

# Constructor arguments passed on to the app's router as they are.
_FOR_THE_ROUTER = (
    "routes", "redirect_slashes", "on_startup", "on_shutdown", "lifespan",
    "default_response_class", "dependencies", "callbacks", "deprecated", "include_in_schema",
    "responses", "generate_unique_id_function", "strict_content_type",
)  # fmt: skip

# method -> (its positional parameters, its keyword options in ``SIGNATURES``): FastAPI's.
_APP_SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "add_api_route": (("self", "path", "endpoint"), "app.add_api_route"),
    "api_route": (("self", "path"), "app.add_api_route"),
    "include_router": (("self", "router"), "app.include_router"),
    **dict.fromkeys(
        ("get", "put", "post", "delete", "options", "head", "patch", "trace"),
        (("self", "path"), "method"),
    ),
}
for _name, (_leading, _kind) in _APP_SIGNATURES.items():
    publish_signature(getattr(Hasten, _name), keyword_checker(f"Hasten.{_name}", _leading, _kind))


def _renamed(function: Callable[_P, None], qualname: str) -> Callable[_P, None]:
    """A copy of ``function`` whose name (in Python's own ``TypeError``s too) is ``qualname``.

    Its code, defaults and annotations are ``function``'s: only the name changes.
    """
    code = function.__code__.replace(co_qualname=qualname)
    copy = types.FunctionType(
        code, function.__globals__, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__kwdefaults__ = dict(function.__kwdefaults__ or {})
    copy.__annotations__ = dict(function.__annotations__)
    copy.__doc__, copy.__module__, copy.__qualname__ = (
        function.__doc__,
        function.__module__,
        qualname,
    )
    return copy


class FastAPI(Hasten):
    """``Hasten`` with FastAPI's defaults exactly (for code migrating unchanged).

    The docs load Swagger UI and ReDoc from the CDN (``docs_assets="cdn"``) and the OpenAPI
    document is generated on its first request.
    """

    default_max_body_size: ClassVar[int | None] = None
    json_body_limit_errors: ClassVar[bool] = False
    default_docs_assets: ClassVar[DocsAssets] = "cdn"
    openapi_at_startup: ClassVar[bool] = False
    _api_name: ClassVar[str] = "FastAPI"
    refuse_unsafe_cors: ClassVar[bool] = False
    full_allow_header: ClassVar[bool] = False

    # Hasten's constructor, named ``FastAPI.__init__`` as FastAPI's own TypeErrors show it.
    __init__ = _renamed(Hasten.__init__, "FastAPI.__init__")


# FastAPI 0.165 imports this name here; litellm takes it from this module (scripts/ecosystem census).
from .openapi.docs import get_swagger_ui_html as get_swagger_ui_html  # noqa: E402
