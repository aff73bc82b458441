"""Request metrics: a pure ASGI middleware feeding a ring buffer and Prometheus collectors.

``/metrics`` shows the last requests as JSON; ``/metrics/prometheus`` exposes counters and a
latency histogram from a registry owned by the app (not the process-global one), labelled by
route template so ``/products/1`` and ``/products/2`` share a series.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class MetricsStore:
    """The last ``keep`` requests and the Prometheus collectors of one application."""

    def __init__(self, keep: int = 100) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route and status code",
            ["method", "path", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method and route",
            ["method", "path"],
            registry=self.registry,
        )

    def record(self, method: str, path: str, route: str, status: int, seconds: float) -> None:
        self.entries.append(
            {
                "method": method,
                "path": path,
                "status_code": status,
                "duration_ms": round(seconds * 1000, 3),
                "at": datetime.now(UTC).isoformat(),
            }
        )
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class MetricsMiddleware:
    """Times every HTTP request and records method, path, status code and duration."""

    def __init__(self, app: ASGIApp, store: MetricsStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_code = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            self.store.record(
                scope["method"],
                scope["path"],
                template,
                status_code,
                time.perf_counter() - started,
            )
