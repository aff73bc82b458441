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

import math
import os
import threading
import time
import weakref
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from ._observed import ObservedSend, new_observed

__all__ = [
    "HTTPMetrics",
    "MetricsEndpoint",
    "PrometheusMiddleware",
    "metrics_route",
    "multiprocess_mode",
]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_LABELS = ("method", "route", "status")
_REQUESTS_HELP = "HTTP requests by method, route template and status code."
_DURATION_HELP = "HTTP request latency in seconds by method, route template and status code."
_ACTIVE_HELP = "HTTP requests being answered."
_clock = time.perf_counter
_ROUTES_CACHED = 4096
_TEXT_FORMAT = choose_encoder("")[1]  # what a scrape without an Accept header gets
_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, HTTPMetrics]] = (
    weakref.WeakKeyDictionary()
)


_FOLD_AT = 256
"""A series folds the durations it noted into its totals once it holds this many (a scrape
folds them all first)."""


class _Observations(list[float]):
    """One series: the durations of its requests not yet folded into ``totals``, which holds
    the sum of the folded durations, then their count in each bucket (not cumulative; the
    series' count is the buckets' total)."""

    __slots__ = ("totals",)
    totals: list[float]


def multiprocess_mode() -> bool:
    """Whether prometheus-client writes to ``PROMETHEUS_MULTIPROC_DIR`` (several workers)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class HTTPMetrics:
    """The HTTP series of one registry (made once per registry: see :meth:`for_registry`).

    In one process each series notes its requests' durations in a list (``_Observations``: an
    append, which needs no lock) and folds them into its totals under one lock when the
    registry is collected, or once ``_FOLD_AT`` are noted; the totals are turned into metric
    families then. A request costs a dict lookup and an append, not prometheus-client's
    per-metric locks. In multiprocess mode the series are prometheus-client's own
    ``Counter``, ``Histogram`` and ``Gauge`` (``livesum``), whose values are the files the
    multiprocess collector sums.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = REGISTRY,
        *,
        namespace: str = "",
        buckets: Sequence[float] | None = None,
        unmatched_route: str = "<unmatched>",
    ) -> None:
        self.unmatched_route = unmatched_route
        self._prefix = f"{namespace}_" if namespace else ""
        bounds = sorted(float(b) for b in (buckets or Histogram.DEFAULT_BUCKETS))
        if bounds[-1] != math.inf:
            bounds.append(math.inf)
        self._bounds = tuple(bounds)
        self._lock = threading.Lock()  # the totals' (appends to a series need none)
        self._series: dict[tuple[str, str, int], _Observations] = {}
        self._active = 0
        self._files: _FileSeries | None = None
        #: Called when a request starts and ends (the in-progress gauge).
        self.enter: Callable[[], None] = self._enter_local
        self.leave: Callable[[], None] = self._leave_local
        if multiprocess_mode():
            self._files = _FileSeries(registry, namespace, self._bounds)
            self.enter, self.leave = self._files.in_progress.inc, self._files.in_progress.dec
        elif registry is not None:
            registry.register(self)

    @classmethod
    def for_registry(
        cls,
        registry: CollectorRegistry | None = None,
        *,
        namespace: str = "",
        buckets: Sequence[float] | None = None,
    ) -> HTTPMetrics:
        """The series of ``registry`` (prometheus-client's default one if ``None``), created
        on the first call and shared by every later one (a middleware stack built again does
        not register them twice)."""
        registry = REGISTRY if registry is None else registry
        known = _BY_REGISTRY.setdefault(registry, {})
        if namespace not in known:
            known[namespace] = cls(registry, namespace=namespace, buckets=buckets)
        return known[namespace]

    def _enter_local(self) -> None:
        self._active += 1

    def _leave_local(self) -> None:
        self._active -= 1

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and observe its latency."""
        if self._files is not None:
            self._files.record(method, route, status, seconds)
            return
        series = self._series_for(method, route, status)
        series.append(seconds)
        if len(series) >= _FOLD_AT:
            self._fold(series)

    def _series_for(self, method: str, route: str, status: int) -> _Observations:
        """One series (single-process mode), made on first use."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            with self._lock:
                series = self._series.get(key)
                if series is None:
                    series = self._series[key] = _Observations()
                    series.totals = [0.0] * (len(self._bounds) + 1)
        return series

    def _fold(self, series: _Observations) -> None:
        """Move the durations noted in ``series`` into its totals (from any thread; requests
        may go on appending meanwhile)."""
        with self._lock:
            self._fold_held(series)

    def _fold_held(self, series: _Observations) -> None:
        # Under the lock. Two steps that are each one operation on the list (atomic for
        # ``append`` in another thread): what is appended after ``len`` stays for next time.
        count = len(series)
        if not count:
            return
        noted = series[:count]
        del series[:count]
        noted.sort()
        totals = series.totals
        totals[0] += sum(noted)
        below = 0
        for index, bound in enumerate(self._bounds, 1):
            upto = bisect_right(noted, bound)  # durations <= bound: the bucket's ``le``
            totals[index] += upto - below
            below = upto

    # The collector protocol (single-process mode).

    def describe(self) -> list[Metric]:
        return self._families(values=False)

    def collect(self) -> list[Metric]:
        return self._families(values=True)

    def _families(self, values: bool) -> list[Metric]:
        prefix = self._prefix
        requests = CounterMetricFamily(prefix + "http_requests", _REQUESTS_HELP, labels=_LABELS)
        duration = HistogramMetricFamily(
            prefix + "http_request_duration_seconds", _DURATION_HELP, labels=_LABELS
        )
        active = GaugeMetricFamily(prefix + "http_requests_in_progress", _ACTIVE_HELP)
        if values:
            with self._lock:
                snapshot = []
                for key, series in list(self._series.items()):
                    self._fold_held(series)
                    snapshot.append((key, list(series.totals)))
                active.add_metric([], self._active)
            labels = [floatToGoString(bound) for bound in self._bounds]
            for (method, route, status), totals in snapshot:
                names = [method, route, str(status)]
                # the count is the buckets' total: the two always agree
                cumulative = list(accumulate(totals[1:]))
                requests.add_metric(names, cumulative[-1])
                duration.add_metric(names, list(zip(labels, cumulative, strict=True)), totals[0])
        return [requests, duration, active]


class _FileSeries:
    """Multiprocess mode: prometheus-client's metrics, their values in per-process files."""

    def __init__(
        self, registry: CollectorRegistry | None, namespace: str, bounds: tuple[float, ...]
    ) -> None:
        options: dict[str, Any] = {"namespace": namespace, "registry": registry}
        self.requests = Counter("http_requests_total", _REQUESTS_HELP, _LABELS, **options)
        self.duration = Histogram(
            "http_request_duration_seconds", _DURATION_HELP, _LABELS, buckets=bounds, **options
        )
        self.in_progress = Gauge(
            "http_requests_in_progress", _ACTIVE_HELP, multiprocess_mode="livesum", **options
        )
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
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

    #: Wraps the app's core stack from outside when every user middleware does (no layers of
    #: its own per request: ``Hasten.build_middleware_stack``).
    hasten_outside_core = True

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
        self._unmatched = self.metrics.unmatched_route
        self._local = self.metrics._files is None  # single-process mode
        self._by_route: dict[tuple[int, str, int], tuple[Any, _Observations]] = {}

    #: Always a step of the app's core stack when every user middleware can be one
    #: (``hasten._observed``).
    steppable = True
    #: It notes the request's start and status in the ``ObservedSend``.
    observes = True

    def enter(self, scope: Scope, observed: ObservedSend) -> None:
        """A request starts: counted in progress, its clock started."""
        if self._local:
            self.metrics._active += 1  # the event loop's thread only: no lock (as ``enter``)
        else:
            self.metrics.enter()
        observed.root_path = scope.get("root_path", "")
        observed.started = _clock()

    def leave(self, scope: Scope, observed: ObservedSend) -> None:
        """The request is answered (or failed: status 500 if nothing was sent): counted."""
        elapsed = _clock() - observed.started
        route = scope.get("route")
        metrics = self.metrics
        if (
            self._local
            and route is not None
            and type(route) is not Mount
            and scope.get("root_path", "") == observed.root_path
        ):
            # The common case: a route of this app. Its series is looked up once per
            # (route, method, status) and updated here.
            metrics._active -= 1
            key = (id(route), scope["method"], observed.status)
            known = self._by_route.get(key)
            if known is not None and known[0] is route:
                series = known[1]
            else:
                series = self._series_of(route, key[1], key[2])
            series.append(elapsed)
            if len(series) >= _FOLD_AT:
                metrics._fold(series)
            return
        status = observed.status
        if self._local:
            metrics._active -= 1
        else:
            metrics.leave()
        method = scope["method"]
        if route is None:
            template = self._unmatched
        else:
            template = _route_template(scope, observed.root_path, self._unmatched)
        metrics.record(method if method in _METHODS else "OTHER", template, status, elapsed)

    # What ``enter`` and ``leave`` read of the request: its method, ``route`` and
    # ``root_path`` (with ``get``: ``""`` when absent); and of ``observed`` what they note
    # there themselves, and the status. The RSGI direct answer runs them around requests it
    # answers with a scope of the method and the route only (``hasten._rsgi.direct``).
    enter.route_only = True  # type: ignore[attr-defined]
    leave.route_only = True  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observed = new_observed(send)
        self.enter(scope, observed)
        try:
            await self.app(scope, receive, observed)
        finally:
            self.leave(scope, observed)

    def _series_of(self, route: Any, method: str, status: int) -> _Observations:
        """The values of (route, method, status), remembered for the route's next requests
        (at most ``_ROUTES_CACHED`` triples: methods are whatever clients send). Routes are
        keyed by identity (Starlette's compare by value and cannot be hashed)."""
        template = getattr(route, "path_format", None) or self._unmatched
        series = self.metrics._series_for(
            method if method in _METHODS else "OTHER", template, status
        )
        if len(self._by_route) >= _ROUTES_CACHED:
            self._by_route.clear()
        self._by_route[id(route), method, status] = (route, series)
        return series


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

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition and its content type, chosen by the ``Accept`` header's value."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self._collect()), content_type

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = ""
        for name, value in scope.get("headers", ()):
            if name == b"accept":
                accept = value.decode("latin-1")
                break
        output, content_type = self.render(accept)
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
    tags: Sequence[str] | None = None,
) -> MetricsEndpoint:
    """Serve the metrics at ``path`` on ``app`` (an application or router).

    By default a plain route (GET and HEAD) that the OpenAPI document does not show; with
    ``include_in_schema`` a path operation (GET, under ``tags``) documented as the text format.
    """
    endpoint = MetricsEndpoint(registry)
    if not include_in_schema:
        app.add_route(path, endpoint, methods=["GET"], include_in_schema=False)
        return endpoint

    async def metrics(request: Request) -> Response:
        output, content_type = endpoint.render(request.headers.get("accept", ""))
        return Response(output, headers={"content-type": content_type})

    app.add_api_route(
        path,
        metrics,
        methods=["GET"],
        tags=list(tags) if tags else None,
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"description": "The exposition", "content": {_TEXT_FORMAT: {}}}},
    )
    return endpoint
