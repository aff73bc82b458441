"""The public telemetry types and the per-request telemetry state.

One ``_RequestTelemetry`` object lives for each observed request or WebSocket connection. It is
reachable three ways: under the ``fastapi.telemetry`` scope key (routers name the route on it),
in the OpenTelemetry context (``get_telemetry_data`` and log processors), and in the ``_ACTIVE``
context variable, the only thing route handlers read: a request nobody observes pays one
``ContextVar.get`` there.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from time import time_ns
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry._logs import Logger, LoggerProvider, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, StatusCode, Tracer, TracerProvider, set_span_in_context
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect
from typing_extensions import TypedDict

from ..compat._alias import is_aliased
from ..exceptions import RequestValidationError, WebSocketRequestValidationError

SCOPE_KEY = "fastapi.telemetry"
INSTRUMENTATION_NAME = "fastapi"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.44.0"

KNOWN_METHODS = frozenset("CONNECT DELETE GET HEAD OPTIONS PATCH POST PUT QUERY TRACE".split())


class TelemetryConfig(TypedDict, total=False):
    """Options of ``FastAPI(telemetry={...})``; an omitted option keeps its default.

    - ``tracer_provider`` / ``meter_provider`` / ``logger_provider``: use these providers instead
      of the global ones (which are used once something configures them). Providers the
      application passes are never shut down by the framework.
    - ``tracing``: a server span per request and WebSocket connection (default ``True``).
    - ``metrics``: ``http.server.request.duration`` and ``http.server.active_requests``
      (default ``True``).
    - ``logs``: log records for validation failures and unhandled exceptions, with the
      exception message and stack trace (default ``True``).
    - ``operation_spans``: child spans for dependency resolution, the endpoint, response
      serialization and background tasks (default ``True``).
    - ``auto_configure``: at startup, add OTLP exporters described by the ``OTEL_*``
      environment variables (default: ``FASTAPI_OTEL_AUTO_CONFIGURE=true`` in the environment).
    - ``exclude``: ``scope -> bool``; ``True`` skips telemetry for that request or connection.
    """

    tracer_provider: TracerProvider | None
    meter_provider: MeterProvider | None
    logger_provider: LoggerProvider | None
    tracing: bool
    metrics: bool
    logs: bool
    operation_spans: bool
    auto_configure: bool
    exclude: Callable[[MutableMapping[str, Any]], bool] | None


@dataclass(kw_only=True)
class TelemetryData:
    """What the framework saw of the current request or connection, for local processors.

    Filled in while the request is handled: ``request`` / ``websocket`` when the route handler
    starts, ``body`` once read (before validation), ``values`` (the parsed arguments) after
    dependency resolution, ``errors`` when validation fails (with the original inputs). Treat it
    as read-only, and redact before exporting any of it: none of it is exported by itself.
    """

    request: Request | None = None
    websocket: WebSocket | None = None
    body: Any = None
    values: dict[str, Any] | None = None
    errors: Sequence[Any] | None = None


class _RequestTelemetry:
    """Telemetry state of one request or connection (private)."""

    __slots__ = (
        "span",
        "span_method",
        "tracer",
        "logger",
        "route",
        "status_code",
        "data",
        "mount_prefix",
        "exceptions",
        "scope",
    )

    def __init__(
        self,
        *,
        span: Span | None,
        span_method: str,
        tracer: Tracer | None,
        logger: Logger | None,
        mount_prefix: str,
        scope: MutableMapping[str, Any] | None,
    ) -> None:
        self.span = span
        self.span_method = span_method
        self.tracer = tracer  # None when operation spans are off
        self.logger = logger
        self.route: str | None = None
        self.status_code: int | None = None
        self.data: TelemetryData | None = TelemetryData()
        self.mount_prefix = mount_prefix
        self.exceptions: list[BaseException] = []
        self.scope = scope

    def name_route(self, path: str, *, mount: bool) -> None:
        """Record the route template chosen for the request (called by the routers)."""
        if mount:  # a Mount's template ends in /{path}; the mounted app names the rest
            self.mount_prefix += path.removesuffix("/{path}")
            self.route = self.mount_prefix + "/{path}"
        else:
            self.route = self.mount_prefix + path
        if self.span is not None:
            self.span.set_attribute("http.route", self.route)
            self.span.update_name(f"{self.span_method} {self.route}")


CONTEXT_KEY = otel_context.create_key("fastapi.request")
_ACTIVE: ContextVar[_RequestTelemetry | None] = ContextVar("hasten.telemetry.active", default=None)
_NO_SPAN: AbstractContextManager[None] = nullcontext()


def _current(context: Context | None = None) -> _RequestTelemetry | None:
    found = otel_context.get_value(CONTEXT_KEY, context)
    return found if isinstance(found, _RequestTelemetry) else None


def get_telemetry_data(context: Context | None = None) -> TelemetryData | None:
    """The framework's data about the request of an OpenTelemetry context (default: current).

    A log processor can pass ``record.context``. Read it synchronously while the request or
    connection is handled; afterwards (even from a retained context) this returns ``None``.
    """
    found = _current(context)
    return None if found is None else found.data


def route_selected(scope: MutableMapping[str, Any], path: str | None, mount: bool) -> None:
    """Name the route on the request's telemetry, if it has any (routers call this)."""
    found = scope.get(SCOPE_KEY)
    if path is not None and isinstance(found, _RequestTelemetry):
        found.name_route(path, mount=mount)


def validation_failed(exc: RequestValidationError | WebSocketRequestValidationError) -> None:
    """Record a request validation failure: on the data, and as a log record."""
    found = _current()
    if found is None:
        return
    errors = exc.errors()
    if found.data is not None:
        if isinstance(exc, RequestValidationError):
            found.data.body = exc.body
            if found.data.request is None and found.scope is not None:
                # The body failed before the route handler started.
                found.data.request = Request(found.scope)
        found.data.errors = errors
    if found.logger is not None:
        _log_validation_failure(found.logger, len(errors), found.route)


# The fixed part of the "validation failed" log record.
_VALIDATION_FAILED_RECORD: dict[str, Any] = {
    "event_name": "fastapi.validation.failed",
    "severity_number": SeverityNumber.WARN,
    "severity_text": "WARN",
    "body": "Request validation failed",
}


def _log_validation_failure(logger: Any, error_count: int, route: str | None) -> None:
    attributes: dict[str, Any] = {"fastapi.validation.error_count": error_count}
    if route is not None:
        attributes["http.route"] = route
    logger.emit(timestamp=time_ns(), attributes=attributes, **_VALIDATION_FAILED_RECORD)


def public_name() -> str:
    """``fastapi`` when the ``fastapi`` import alias answers with Hasten, else ``hasten``."""
    return "fastapi" if is_aliased() else "hasten"


def exception_type(exc: BaseException) -> str:
    """``error.type`` of an exception: its qualified name, without ``builtins``.

    Hasten's own exceptions are named under the package name the application imports.
    """
    cls = type(exc)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    if module.startswith("hasten."):
        module = public_name() + module[6:]
    return f"{module}.{cls.__qualname__}"


def normal_close(exc: BaseException) -> bool:
    """A WebSocket disconnect with a normal close code (1000 or 1001): not an error."""
    return isinstance(exc, WebSocketDisconnect) and exc.code in (1000, 1001)


_EXPECTED = (
    HTTPException,
    RequestValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)


def function_name(function: Any) -> str:
    """``module.qualname`` of a callable (its class's names for a callable instance)."""
    module = getattr(function, "__module__", None) or type(function).__module__
    qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{qualname}"


def operation(name: str, function: Any = None) -> AbstractContextManager[None]:
    """A ``fastapi.<name>`` child span when the current request traces operations."""
    found = _ACTIVE.get()
    if found is None or found.tracer is None:
        return _NO_SPAN
    return _OperationSpan(found.tracer, name, function)


class _OperationSpan:
    """A child span made current for a ``with`` block (a slotted class: no generator frame)."""

    __slots__ = ("tracer", "name", "function", "span", "token")

    def __init__(self, tracer: Tracer, name: str, function: Any) -> None:
        self.tracer = tracer
        self.name = name
        self.function = function

    def __enter__(self) -> None:
        function = self.function
        attributes = {} if function is None else {"code.function.name": function_name(function)}
        self.span = span = self.tracer.start_span(f"fastapi.{self.name}", attributes=attributes)
        self.token = otel_context.attach(set_span_in_context(span))

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        span = self.span
        try:
            if isinstance(exc, Exception) and (
                self.name == "background_task"
                or not (isinstance(exc, _EXPECTED) or normal_close(exc))
            ):
                span.set_attribute("error.type", exception_type(exc))
                span.set_status(StatusCode.ERROR)
        finally:
            otel_context.detach(self.token)
            span.end()


_PROXY_PROVIDERS = frozenset(
    {
        ("opentelemetry.trace", "ProxyTracerProvider"),
        ("opentelemetry.metrics._internal", "_ProxyMeterProvider"),
        ("opentelemetry._logs._internal", "ProxyLoggerProvider"),
    }
)


def unconfigured(provider: Any) -> bool:
    """True for the API's placeholder providers (nothing has set a global provider yet)."""
    cls = type(provider)
    return (cls.__module__, cls.__name__) in _PROXY_PROVIDERS


def default_config(telemetry: TelemetryConfig | None, auto_configure: bool) -> TelemetryConfig:
    """The complete configuration: the defaults, then the application's options."""
    config: TelemetryConfig = {
        "tracer_provider": None,
        "meter_provider": None,
        "logger_provider": None,
        "tracing": True,
        "metrics": True,
        "logs": True,
        "operation_spans": True,
        "auto_configure": auto_configure,
        "exclude": None,
    }
    if telemetry:
        config.update(telemetry)
    return config


def _record_exception(found: _RequestTelemetry, exc: BaseException, websocket: bool) -> None:
    if any(seen is exc for seen in found.exceptions):
        return
    found.exceptions.append(exc)
    if found.logger is None or not isinstance(exc, Exception):
        return
    found.logger.emit(
        exception=exc,
        event_name="fastapi.websocket.exception" if websocket else "http.server.request.exception",
        timestamp=time_ns(),
        severity_number=SeverityNumber.ERROR,
        severity_text="ERROR",
        body="Unhandled exception in FastAPI WebSocket connection"
        if websocket
        else "Unhandled exception in FastAPI request",
        attributes={"http.route": found.route} if found.route else None,
    )


def exception_seen(scope: MutableMapping[str, Any], exc: BaseException) -> None:
    """Note an exception escaping the application (once), and log it."""
    websocket = scope["type"] == "websocket"
    if websocket and normal_close(exc):
        return
    found = scope.get(SCOPE_KEY)
    if isinstance(found, _RequestTelemetry):
        _record_exception(found, exc, websocket)


def version() -> str:
    """Hasten's version (the instrumentation scope's version)."""
    from .._version import __version__

    return __version__
