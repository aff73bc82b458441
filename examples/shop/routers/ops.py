"""Operations: liveness, readiness and Prometheus metrics, from Hasten's own parts.

``/health`` and ``/ready`` (the database answers ``SELECT 1`` in time) are
``hasten.health.health_routes``; requests are counted and timed by
``hasten.metrics.PrometheusMiddleware`` into a registry owned by the app (not the
process-global one), labelled by route template, and exposed at ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from hasten import Hasten
from hasten.health import database_check, health_routes
from hasten.metrics import PrometheusMiddleware, metrics_route


def install(app: Hasten) -> None:
    """Add the ops routes and the metrics middleware (outermost when added last)."""

    async def database() -> None:  # the engine of the moment (tests replace it)
        await database_check(app.state.engine)()

    app.state.health = health_routes(app, {"database": database}, timeout=5.0, tags=["ops"])
    app.state.metrics_registry = CollectorRegistry()
    metrics_route(
        app, "/metrics", registry=app.state.metrics_registry, include_in_schema=True, tags=["ops"]
    )
    app.add_middleware(PrometheusMiddleware, registry=app.state.metrics_registry)
