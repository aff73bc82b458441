"""Prometheus metrics on prometheus-client: a pure ASGI middleware and a ``/metrics`` route.

Install with the ``metrics`` extra (``pip install "hasten[metrics]"``)::

    app.add_middleware(PrometheusMiddleware)
    metrics_route(app)  # GET /metrics

Series (names prefixed by ``namespace_`` when one is given):

- ``http_requests_total{method, route, status}`` — a counter;
- ``http_request_duration_seconds{method, route, status}`` — a latency histogram;
- ``http_requests_in_progress`` — the requests being answered (a gauge).

``route`` is the route's path template (``/items/{item_id}``), never the raw path, so the
number of series stays bounded; a request no route matched is labelled ``unmatched_route``
(``"<unmatched>"``), a method outside the standard ones ``OTHER``.

With ``PROMETHEUS_MULTIPROC_DIR`` set before prometheus-client is imported, every process
writes its values to files in that directory and ``/metrics`` sums them (the in-progress gauge
in ``livesum`` mode), so any worker answers for all of them.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "HTTPMetrics",
    "MetricsEndpoint",
    "PrometheusMiddleware",
    "metrics_route",
    "multiprocess_mode",
]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_LABELS = ("method", "route", "status")
_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, HTTPMetrics]] = (
    weakref.WeakKeyDictionary()
)


def multiprocess_mode() -> bool:
    """Whether prometheus-client writes to ``PROMETHEUS_MULTIPROC_DIR`` (several workers)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class HTTPMetrics:
    """The HTTP collectors of one registry (made once: see :meth:`for_registry`)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = REGISTRY,
        *,
        namespace: str = "",
        buckets: Sequence[float] | None = None,
        unmatched_route: str = "<unmatched>",
    ) -> None:
        self.unmatched_route = unmatched_route
        histogram_options: dict[str, Any] = {"buckets": tuple(buckets)} if buckets else {}
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status code.",
            _LABELS,
            namespace=namespace,
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency in seconds by method, route template and status code.",
            _LABELS,
            namespace=namespace,
            registry=registry,
            **histogram_options,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being answered.",
            namespace=namespace,
            registry=registry,
            multiprocess_mode="livesum",
        )
        # (method, route, status) -> (counter increment, histogram observe), made on first use.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @classmethod
    def for_registry(
        cls,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "",
        buckets: Sequence[float] | None = None,
    ) -> HTTPMetrics:
        """The collectors of ``registry`` (prometheus-client's default one if ``None``),
        created on the first call and shared by every later one (a middleware stack built
        again does not register them twice)."""
        registry = REGISTRY if registry is None else registry
        known = _BY_REGISTRY.setdefault(registry, {})
        if namespace not in known:
            known[namespace] = cls(registry, namespace=namespace, buckets=buckets)
        return known[namespace]

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and observe its latency."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            labels = (method, route, str(status))
            series = (self.requests.labels(*labels).inc, self.duration.labels(*labels).observe)
            self._series[key] = series
        series[0]()
        series[1](seconds)


def _route_template(scope: Scope, root_path: str, unmatched: str) -> str:
    """The template of the route that answered, with the prefixes of the mounts it is in."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) if route is not None else None
    if template is None:
        return unmatched
    inner_root = scope.get("root_path", "")
    mounted = inner_root[len(root_path) :] if inner_root != root_path else ""
    if isinstance(route, Mount):  # a mounted app without routes of its own (static files)
        return mounted or template
    return mounted + template


class PrometheusMiddleware:
    """Pure ASGI middleware counting and timing HTTP requests by method, route template and
    status (see the module's documentation); WebSocket and lifespan pass through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "",
        buckets: Sequence[float] | None = None,
        metrics: HTTPMetrics | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics or HTTPMetrics.for_registry(
            registry, namespace=namespace, buckets=buckets
        )
        self._record = self.metrics.record
        self._in_progress = self.metrics.in_progress
        self._unmatched = self.metrics.unmatched_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # nothing sent: the error goes on to the server-error layer

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        root_path = scope.get("root_path", "")
        gauge = self._in_progress
        gauge.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            gauge.dec()
            method = scope["method"]
            self._record(
                method if method in _METHODS else "OTHER",
                _route_template(scope, root_path, self._unmatched),
                status,
                elapsed,
            )


class MetricsEndpoint:
    """An ASGI app answering with the exposition of ``registry`` (prometheus-client's default
    one if ``None``), as text or OpenMetrics by the ``Accept`` header. In multiprocess mode
    it answers with the sum over every process instead."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = REGISTRY if registry is None else registry

    def _collect(self) -> CollectorRegistry:
        if not multiprocess_mode():
            return self.registry
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = ""
        for name, value in scope.get("headers", ()):
            if name == b"accept":
                accept = value.decode("latin-1")
                break
        encoder, content_type = choose_encoder(accept)
        output = encoder(self._collect())
        headers = [
            (b"content-type", content_type.encode("latin-1")),
            (b"content-length", str(len(output)).encode("latin-1")),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if scope.get("method") == "HEAD" else output
        await send({"type": "http.response.body", "body": body})


def metrics_route(
    app: Any,
    path: str = "/metrics",
    *,
    registry: CollectorRegistry | None = None,
    include_in_schema: bool = False,
) -> MetricsEndpoint:
    """Serve the metrics at ``path`` (GET and HEAD) on ``app`` (an application or router)."""
    endpoint = MetricsEndpoint(registry)
    app.add_route(path, endpoint, methods=["GET"], include_in_schema=include_in_schema)
    return endpoint
