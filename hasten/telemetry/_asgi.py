"""The ASGI side of telemetry: the server span, the HTTP metrics and the exception records.

``NativeTelemetry`` wraps one request or WebSocket connection. The application calls it only
when its configuration can produce a signal (decided per request, because global providers may
be set after the application is built); otherwise the request goes straight to the stack.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from opentelemetry import _logs, metrics, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.metrics import Histogram, UpDownCounter
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._starlette import is_async_callable
from ._api import (
    _ACTIVE,
    CONTEXT_KEY,
    INSTRUMENTATION_NAME,
    KNOWN_METHODS,
    SCHEMA_URL,
    SCOPE_KEY,
    TelemetryConfig,
    _RequestTelemetry,
    exception_seen,
    exception_type,
    normal_close,
    unconfigured,
    version,
)

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# Query parameters that carry credentials (OpenTelemetry HTTP semantic conventions).
_REDACTED_QUERY = frozenset(
    {"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig", "X-Goog-Signature"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class _HeaderGetter(Getter[Headers]):
    """Propagators read request headers; repeated headers come back as a list."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = carrier.getlist(key)
        if not values:
            return None
        # The W3C baggage propagator reads only the first value: join repeated headers.
        return [",".join(values)] if key.lower() == "baggage" else values

    def keys(self, carrier: Headers) -> list[str]:
        return carrier.keys()


_GETTER = _HeaderGetter()


class _GlobalProbe:
    """Whether one global OpenTelemetry provider is configured, in ~100 ns.

    The API's ``get_*_provider()`` tests an environment variable on every call (microseconds).
    A global provider is set once and never unset, so while the API function is the original
    one and the variable was absent at startup, the module's provider slot answers; a patched
    getter or an API without that slot makes the probe call the getter instead.
    """

    __slots__ = ("api", "getter_name", "getter", "module", "slot", "fast")

    def __init__(self, api: Any, getter_name: str, module_name: str, slot: str, env: str) -> None:
        self.api = api
        self.getter_name = getter_name
        self.module = module = sys.modules.get(module_name)
        # The API's own function (defined next to the slot), even if ``api`` is patched now.
        self.getter = getattr(module, getter_name, None)
        self.slot = slot
        self.fast = (
            self.getter is not None
            and getattr(self.getter, "__module__", None) in (module_name, api.__name__)
            and hasattr(module, slot)
            and env not in os.environ
        )

    def configured(self) -> bool:
        getter = getattr(self.api, self.getter_name)
        if self.fast and getter is self.getter and getattr(self.module, self.slot) is None:
            return False
        return not unconfigured(getter())


def _probes() -> tuple[_GlobalProbe, _GlobalProbe, _GlobalProbe]:
    return (
        _GlobalProbe(
            trace, "get_tracer_provider", "opentelemetry.trace", "_TRACER_PROVIDER",
            "OTEL_PYTHON_TRACER_PROVIDER",
        ),
        _GlobalProbe(
            metrics, "get_meter_provider", "opentelemetry.metrics._internal", "_METER_PROVIDER",
            "OTEL_PYTHON_METER_PROVIDER",
        ),
        _GlobalProbe(
            _logs, "get_logger_provider", "opentelemetry._logs._internal", "_LOGGER_PROVIDER",
            "OTEL_PYTHON_LOGGER_PROVIDER",
        ),
    )  # fmt: skip


_PROVIDER_KEYS = ("tracer_provider", "meter_provider", "logger_provider")
_legacy_seen: dict[int, bool] = {}


def _legacy_otel(stack: Any) -> bool:
    """``_find_legacy_otel``, remembered per built stack (a stack is never changed in place)."""
    key = id(stack)
    found = _legacy_seen.get(key)
    if found is None:
        found = _find_legacy_otel(stack)
        if len(_legacy_seen) > 256:
            _legacy_seen.clear()
        _legacy_seen[key] = found
    return found


def _find_legacy_otel(stack: Any) -> bool:
    """True when opentelemetry-instrumentation-asgi's middleware is in the built stack."""
    seen: set[int] = set()
    while stack is not None and id(stack) not in seen:
        seen.add(id(stack))
        cls = type(stack)
        if (
            cls.__name__ == "OpenTelemetryMiddleware"
            and cls.__module__ == "opentelemetry.instrumentation.asgi"
        ):
            return True
        stack = getattr(stack, "app", None)
    return False


def _server_attributes(scope: Scope, headers: Headers) -> dict[str, Any]:
    host = headers.get("host")
    if host is None:
        address, port = scope.get("server") or (None, None)
    else:
        try:
            parts = urlsplit("//" + host)
            address, port = parts.hostname, parts.port
        except ValueError:  # a malformed Host header: no server attributes
            return {}
        if parts.username is not None or parts.path or parts.query or parts.fragment:
            return {}
        if port is None:
            port = _DEFAULT_PORTS.get(scope.get("scheme", "http"))
    if address is None:
        return {}
    found: dict[str, Any] = {"server.address": address}
    if port is not None:
        found["server.port"] = port
    return found


def _redacted_query(raw: bytes) -> str:
    """``url.query``: the query normalized, credential parameters redacted."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "REDACTED" if k in _REDACTED_QUERY else v) for k, v in pairs])


class ExceptionTelemetryMiddleware:
    """Note exceptions before the error handlers answer them (for ``error.type`` and logs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            exception_seen(scope, exc)
            raise


class TelemetryServerErrors(ServerErrorMiddleware):
    """``ServerErrorMiddleware`` that notes the exception before its handler answers it.

    Used instead of an extra middleware layer: the request path gains nothing; only the
    error path records the exception.
    """

    def error_response(self, request: Request, exc: Exception) -> Response:
        exception_seen(request.scope, exc)
        return super().error_response(request, exc)

    def debug_response(self, request: Request, exc: Exception) -> Response:
        exception_seen(request.scope, exc)
        return super().debug_response(request, exc)


def quiet_check(
    watch: Sequence[tuple[dict[str, Any], str, Any, dict[str, Any], str]] | None,
) -> Callable[[], bool] | None:
    """A function telling, without calls of its own, that no provider is configured yet
    (see :meth:`NativeTelemetry.quiet_watch`); None when ``watch`` is None.

    The usual three signals (traces, metrics, logs) get their six lookups written out: a
    request pays for one call, not a loop.
    """
    if watch is None:
        return None
    if len(watch) == 3:
        (a1, n1, g1, s1, k1), (a2, n2, g2, s2, k2), (a3, n3, g3, s3, k3) = watch

        def quiet3() -> bool:
            return (
                a1[n1] is g1 and s1[k1] is None and a2[n2] is g2 and s2[k2] is None
                and a3[n3] is g3 and s3[k3] is None
            )  # fmt: skip

        return quiet3
    checks = tuple(watch)

    def quiet() -> bool:
        for api, name, getter, slots, slot in checks:
            if api[name] is not getter or slots[slot] is not None:
                return False
        return True

    return quiet


def noting_handler(handler: Any) -> Any:
    """A 500 handler that notes the exception first (for ``TelemetryServerErrors``)."""
    if handler is None:
        return None

    is_async = is_async_callable(handler)

    async def noted(request: Request, exc: Exception) -> Any:
        exception_seen(request.scope, exc)
        if is_async:
            return await handler(request, exc)
        return await run_in_threadpool(handler, request, exc)

    return noted


class NativeTelemetry:
    """Spans, metrics and logs for requests and connections, per an application's config."""

    def __init__(self, config: TelemetryConfig) -> None:
        self.config = config
        known = os.getenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "").strip()
        self._known_methods = (
            frozenset(m.strip() for m in known.split(",") if m.strip()) if known else KNOWN_METHODS
        )
        self._meter_provider: Any = None
        self._instruments: tuple[Histogram, UpDownCounter] | None = None
        self._tracer_provider: Any = None
        self._tracer: trace.Tracer | None = None
        # Fixed per application: signals with their own provider are always on; the others
        # wait for a global provider (the probes).
        options = cast("dict[str, Any]", config)
        signals = zip(("tracing", "metrics", "logs"), _PROVIDER_KEYS, _probes(), strict=True)
        on = [(key, probe) for flag, key, probe in signals if options[flag]]
        self._explicit = any(options[key] is not None for key, _ in on)
        self._watched = tuple(probe for _, probe in on)

    def possible(self) -> bool:
        """Whether any signal is switched on at all (fixed when the application is built)."""
        config = self.config
        return bool(config["tracing"] or config["metrics"] or config["logs"])

    def quiet_watch(
        self,
    ) -> tuple[tuple[dict[str, Any], str, Any, dict[str, Any], str], ...] | None:
        """What a request checks, without calls, to know that no provider is configured yet.

        One ``(api namespace, getter name, original getter, slot namespace, slot)`` per
        watched signal: while every getter is the original one and every slot is still
        ``None``, :meth:`enabled` would say False. None when that shortcut does not hold
        (a provider given explicitly, a probe that must call its getter): then ask
        :meth:`enabled`.
        """
        if self._explicit or not all(probe.fast for probe in self._watched):
            return None
        return tuple(
            (vars(p.api), p.getter_name, p.getter, vars(p.module), p.slot) for p in self._watched
        )

    def enabled(self) -> bool:
        """Whether a switched-on signal has a provider to send to (checked per request)."""
        if self._explicit:
            return True
        for probe in self._watched:
            if probe.configured():
                return True
        return False

    def _get_instruments(self, provider: Any) -> tuple[Histogram, UpDownCounter]:
        if provider is not self._meter_provider or self._instruments is None:
            meter = provider.get_meter(INSTRUMENTATION_NAME, version(), schema_url=SCHEMA_URL)
            duration = meter.create_histogram(
                "http.server.request.duration",
                unit="s",
                description="Duration of HTTP server requests.",
                explicit_bucket_boundaries_advisory=_BUCKETS,
            )
            active = meter.create_up_down_counter(
                "http.server.active_requests",
                unit="{request}",
                description="Number of active HTTP server requests.",
            )
            self._instruments = (duration, active)
            self._meter_provider = provider
        return self._instruments

    def _get_tracer(self, provider: Any) -> trace.Tracer:
        if provider is not self._tracer_provider or self._tracer is None:
            self._tracer = provider.get_tracer(
                INSTRUMENTATION_NAME, version(), schema_url=SCHEMA_URL
            )
            self._tracer_provider = provider
        return self._tracer

    async def __call__(
        self, *, app: ASGIApp, scope: Scope, receive: Receive, send: Send, legacy_otel: bool = False
    ) -> None:
        exclude = self.config["exclude"]
        if exclude is not None and exclude(scope):
            await _excluded(app, scope, receive, send)
            return
        exchange = self._exchange(scope, legacy_otel)
        if exchange is None:
            await app(scope, receive, send)
            return
        await exchange.run(app, scope, receive, send)

    def _exchange(self, scope: Scope, legacy_otel: bool) -> _Exchange | None:
        config = self.config
        websocket = scope["type"] == "websocket"
        tracer_provider = meter_provider = logger_provider = None
        if not legacy_otel:
            if config["tracing"]:
                tracer_provider = _active(
                    config["tracer_provider"], trace.get_tracer_provider, trace.NoOpTracerProvider
                )
            if config["metrics"] and not websocket:
                meter_provider = _active(
                    config["meter_provider"], metrics.get_meter_provider, metrics.NoOpMeterProvider
                )
            if config["logs"]:
                logger_provider = _active(
                    config["logger_provider"], _logs.get_logger_provider, _logs.NoOpLoggerProvider
                )
        if tracer_provider is None and meter_provider is None and logger_provider is None:
            return None
        tracer = None if tracer_provider is None else self._get_tracer(tracer_provider)
        instruments = None if meter_provider is None else self._get_instruments(meter_provider)
        logger = None
        if logger_provider is not None:
            logger = _logs.get_logger(
                INSTRUMENTATION_NAME, version(), config["logger_provider"], schema_url=SCHEMA_URL
            )
        return _Exchange(
            scope, self._known_methods, tracer, instruments, logger, config["operation_spans"]
        )


def _active(explicit: Any, get_global: Any, no_op: type) -> Any:
    provider = explicit or get_global()
    if (explicit is None and unconfigured(provider)) or isinstance(provider, no_op):
        return None
    return provider


async def _excluded(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    # Mark the scope so that mounted applications skip it too, and hide any telemetry of an
    # enclosing in-process request.
    scope[SCOPE_KEY] = None
    token = otel_context.attach(otel_context.set_value(CONTEXT_KEY, None))
    reset = _ACTIVE.set(None)
    try:
        await app(scope, receive, send)
    finally:
        _ACTIVE.reset(reset)
        otel_context.detach(token)
        scope.pop(SCOPE_KEY, None)


class _Exchange:
    """One observed request or connection: starts the span, ends it once the response ends."""

    def __init__(
        self,
        scope: Scope,
        known_methods: frozenset[str],
        tracer: trace.Tracer | None,
        instruments: tuple[Histogram, UpDownCounter] | None,
        logger: Any,
        operation_spans: bool,
    ) -> None:
        self.websocket = websocket = scope["type"] == "websocket"
        original = scope.get("method", "")
        method = original if original in known_methods else "_OTHER"
        span_method = "WS" if websocket else ("HTTP" if method == "_OTHER" else method)
        attributes: dict[str, Any] = {
            "url.scheme": scope.get("scheme", "ws" if websocket else "http")
        }
        if websocket:
            attributes["network.protocol.name"] = "websocket"
        else:
            attributes["http.request.method"] = method
        self.active_attributes = dict(attributes)
        if not websocket and scope.get("http_version"):
            attributes["network.protocol.version"] = scope["http_version"]
        self.attributes = attributes
        self.instruments = instruments
        self.parent_token: Any = None
        self.span = None
        if tracer is not None:
            self.span = self._start_span(scope, tracer, span_method, original, method)
        root = scope.get("app_root_path", scope.get("root_path", ""))
        self.state = _RequestTelemetry(
            span=self.span,
            span_method=span_method,
            tracer=tracer if operation_spans else None,
            logger=logger,
            mount_prefix=root.rstrip("/"),
            scope=scope,
        )
        self.finished = False
        self.trailers = False
        self.disconnected = False
        self.started = 0.0

    def _start_span(
        self, scope: Scope, tracer: trace.Tracer, name: str, original: str, method: str
    ) -> Any:
        headers = Headers(scope=scope)
        parent = propagate.extract(headers, getter=_GETTER)
        self.parent_token = otel_context.attach(parent)
        attributes = {**self.attributes, **_server_attributes(scope, headers)}
        if not self.websocket:
            attributes["url.path"] = scope["path"]
            if scope.get("query_string"):
                attributes["url.query"] = _redacted_query(scope["query_string"])
            if original != method:
                attributes["http.request.method_original"] = original
        return tracer.start_span(name, context=parent, kind=SpanKind.SERVER, attributes=attributes)

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        if self.instruments is not None:
            self.instruments[1].add(1, self.active_attributes)
        self.started = perf_counter()
        scope[SCOPE_KEY] = state
        token = otel_context.attach(otel_context.set_value(CONTEXT_KEY, state))
        ops = _ACTIVE.set(state)
        try:
            if self.span is None:
                await self._call(app, scope, receive, send)
            else:
                with trace.use_span(
                    self.span,
                    end_on_exit=False,
                    record_exception=False,
                    set_status_on_exception=False,
                ):
                    await self._call(app, scope, receive, send)
        finally:
            state.data = state.scope = None
            state.exceptions.clear()
            _ACTIVE.reset(ops)
            otel_context.detach(token)
            scope.pop(SCOPE_KEY, None)
            if self.parent_token is not None:
                otel_context.detach(self.parent_token)

    async def _call(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.websocket:
                await app(scope, receive, send)
            else:
                await app(scope, self._receiver(receive), self._sender(send))
        except BaseException as exc:
            exception_seen(scope, exc)
            self.finish(None if self.websocket and normal_close(exc) else exc)
            raise
        finally:
            if not self.finished:
                if self.websocket:
                    self.finish(None)
                elif self.disconnected:
                    self.finish(ConnectionError("Client disconnected"))
                else:
                    self.finish(RuntimeError("Incomplete ASGI response"))

    def _receiver(self, receive: Receive) -> Receive:
        async def observed_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
            return message

        return observed_receive

    def _sender(self, send: Send) -> Send:
        async def observed_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                self.state.status_code = message["status"]
                self.trailers = message.get("trailers", False)
            await send(message)
            if (
                (kind == "http.response.body" and not self.trailers)
                and not message.get("more_body", False)
                or (kind == "http.response.trailers" and not message.get("more_trailers", False))
                or kind == "http.response.pathsend"
            ):
                self.finish(None)

        return observed_send

    def finish(self, error: BaseException | None) -> None:
        """End the span and record the metrics (once)."""
        if self.finished:
            return
        self.finished = True
        state, attributes = self.state, self.attributes
        if state.route is not None:
            attributes["http.route"] = state.route
        status = state.status_code
        if status is not None:
            attributes["http.response.status_code"] = status
        failed = error is not None or (not self.websocket and (status is None or status >= 500))
        if failed:
            cause = error or (state.exceptions[-1] if state.exceptions else None)
            attributes["error.type"] = (
                exception_type(cause) if cause else str(status or "incomplete_response")
            )
        span = self.span
        if span is not None:
            span.set_attributes(attributes)
            if failed:
                span.set_status(StatusCode.ERROR)
        if self.instruments is not None:
            duration, active = self.instruments
            duration.record(max(0.0, perf_counter() - self.started), attributes)
            active.add(-1, self.active_attributes)
        if span is not None:
            span.end()
