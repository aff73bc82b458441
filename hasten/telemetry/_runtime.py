"""Process-wide telemetry setup: OTLP exporters from the environment, flushed and shut down.

With ``auto_configure`` on, the application's ASGI lifespan startup adds an OTLP/HTTP exporter
for each enabled signal whose endpoint the ``OTEL_*`` variables name. A global provider that
nobody configured is replaced by an SDK provider owned here; a configured one gets the exporter
added. What is created here is flushed when a lifespan ends and shut down at exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from anyio.to_thread import run_sync
from opentelemetry import _logs, metrics, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..exceptions import FastAPIError
from ._api import TelemetryConfig, public_name, unconfigured

_lock = threading.RLock()
_owned: list[Any] = []  # providers and processors created here
_configured: list[tuple[str, Any]] = []  # (signal, provider) that received an exporter

_OPT_OUT = "pass telemetry={'auto_configure': False} to FastAPI()"


def _logger() -> logging.Logger:
    # The package's logger under the name the application imports (``hasten`` or ``fastapi``).
    return logging.getLogger(public_name())


def _each_owned(action: str, components: tuple[Any, ...]) -> None:
    """Call ``action`` (``force_flush``/``shutdown``) on each component; log, never raise."""
    for component in components:
        try:
            getattr(component, action)()
        except Exception:
            _logger().exception("FastAPI telemetry cleanup failed")


def _flush() -> None:
    _each_owned("force_flush", tuple(_owned))


def _shutdown() -> None:
    with _lock:
        owned = tuple(_owned)
        _owned.clear()
    _each_owned("shutdown", owned)


atexit.register(_shutdown)


def _export_endpoint(signal: str) -> str | None:
    """The OTLP/HTTP endpoint for ``signal`` (TRACES, METRICS, LOGS), or None."""
    exporter = (os.getenv(f"OTEL_{signal}_EXPORTER") or "otlp").strip().lower()
    endpoint = os.getenv(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    if not endpoint:
        base = os.getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
        endpoint = f"{base.removesuffix('/')}/v1/{signal.lower()}" if base else None
    if not endpoint or exporter == "none":
        return None
    if exporter != "otlp":
        raise FastAPIError(
            f"FastAPI automatic telemetry supports OTEL_{signal}_EXPORTER=otlp or none. "
            f"Configure other exporters explicitly and {_OPT_OUT}."
        )
    protocol = (
        os.getenv(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or os.getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise FastAPIError(
            "FastAPI automatic telemetry requires the OTLP http/protobuf protocol. "
            f"Configure other transports explicitly and {_OPT_OUT}."
        )
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FastAPIError(
            f"Invalid OTLP {signal.lower()} endpoint. Use an absolute HTTP or HTTPS URL."
        )
    return endpoint


def _registration_provider(provider: Any) -> Any:
    """Where to register a metric reader: Logfire's older meter wrapper hides its SDK provider."""
    cls = type(provider)
    if (
        cls.__module__ == "logfire._internal.metrics"
        and cls.__name__ == "ProxyMeterProvider"
        and not hasattr(provider, "add_metric_reader")
    ):
        return provider.provider
    return provider


class _Sdk:
    """The SDK and OTLP exporter classes, imported only when auto-configuration runs."""

    def __init__(self) -> None:
        try:
            from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                OTLPMetricExporter,
            )
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as exc:
            raise FastAPIError(
                f"Automatic OpenTelemetry export requires {public_name()}[opentelemetry] or "
                f"{public_name()}[standard]. Install the extra, configure providers yourself, "
                f"or {_OPT_OUT}."
            ) from exc
        self.exporters = {
            "TRACES": lambda url: BatchSpanProcessor(OTLPSpanExporter(endpoint=url)),
            "METRICS": lambda url: PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=url)),
            "LOGS": lambda url: BatchLogRecordProcessor(OTLPLogExporter(endpoint=url)),
        }
        self.tracer_provider = TracerProvider
        self.meter_provider = MeterProvider
        self.logger_provider = LoggerProvider

    def new_provider(self, signal: str, component: Any) -> Any:
        """A fresh SDK provider exporting through ``component``, set as the global one."""
        provider: Any
        if signal == "TRACES":
            provider = self.tracer_provider(shutdown_on_exit=False)
            provider.add_span_processor(component)
            trace.set_tracer_provider(provider)
        elif signal == "METRICS":
            provider = self.meter_provider(metric_readers=[component], shutdown_on_exit=False)
            metrics.set_meter_provider(provider)
        else:
            provider = self.logger_provider(shutdown_on_exit=False)
            provider.add_log_record_processor(component)
            _logs.set_logger_provider(provider)
        return provider


_GLOBALS: dict[str, tuple[str, Callable[[], Any], str]] = {
    "TRACES": ("tracer", lambda: trace.get_tracer_provider(), "add_span_processor"),
    "METRICS": ("meter", lambda: metrics.get_meter_provider(), "add_metric_reader"),
    "LOGS": ("logger", lambda: _logs.get_logger_provider(), "add_log_record_processor"),
}


def _requested(config: TelemetryConfig) -> list[tuple[str, Any, str]]:
    signals = [
        ("TRACES", config["tracing"], config["tracer_provider"]),
        ("METRICS", config["metrics"], config["meter_provider"]),
        ("LOGS", config["logs"], config["logger_provider"]),
    ]
    found = []
    for signal, enabled, provider in signals:
        if enabled:
            endpoint = _export_endpoint(signal)
            if endpoint is not None:
                found.append((signal, provider, endpoint))
    return found


def _configure_from_environment(config: TelemetryConfig) -> None:
    """Add the environment's OTLP exporters to the selected providers (once per provider)."""
    if not config["auto_configure"] or os.getenv("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    with _lock:
        requested = _requested(config)
        if not requested:
            return
        sdk = _Sdk()
        for signal, explicit, endpoint in requested:
            _configure_signal(sdk, signal, explicit, endpoint)


def _configure_signal(sdk: _Sdk, signal: str, explicit: Any, endpoint: str) -> None:
    name, get_global, method = _GLOBALS[signal]
    provider = _registration_provider(explicit if explicit is not None else get_global())
    if any(s == signal and p is provider for s, p in _configured):
        return
    if explicit is None and unconfigured(provider):
        created = sdk.new_provider(signal, sdk.exporters[signal](endpoint))
        current = get_global()
        if current is created:
            _configured.append((signal, created))
            _owned.append(created)
            return
        # Another component set the global provider meanwhile: keep theirs, add to it.
        created.shutdown()
        provider = _registration_provider(current)
    register = getattr(provider, method, None)
    if not callable(register):
        raise FastAPIError(
            f"The configured OpenTelemetry {name} provider does not support adding an OTLP "
            "exporter. Configure environment export through that provider and "
            f"{_OPT_OUT}."
        )
    _owned.append(_registered(register, sdk.exporters[signal](endpoint)))
    _configured.append((signal, provider))


def _registered(register: Callable[[Any], Any], component: Any) -> Any:
    """``component`` after ``register(component)``; shut down again if registering fails."""
    try:
        register(component)
    except Exception:
        component.shutdown()
        raise
    return component


async def lifespan(
    *, config: TelemetryConfig, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the application's lifespan: configure export at startup, flush when it ends."""

    async def startup_receive() -> Message:
        message = await receive()
        if message["type"] == "lifespan.startup":
            _configure_or_warn(config)
        return message

    async def flushing_send(message: Message) -> None:
        if message["type"] in _LIFESPAN_ENDS and _owned:
            await run_sync(_flush)
        await send(message)

    await app(scope, startup_receive, flushing_send)


def _configure_or_warn(config: TelemetryConfig) -> None:
    """Configure export from the environment; a failure is logged, never raised: telemetry
    setup does not stop the application from starting."""
    try:
        _configure_from_environment(config)
    except Exception as exc:
        _logger().warning("FastAPI automatic telemetry configuration failed: %s", exc)


_LIFESPAN_ENDS = frozenset(
    {"lifespan.shutdown.complete", "lifespan.shutdown.failed", "lifespan.startup.failed"}
)
