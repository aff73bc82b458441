"""Operations: liveness, readiness, request metrics (JSON and Prometheus)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hasten import APIRouter, Request, Response
from hasten.responses import JSONResponse

from ..metrics import MetricsStore

router = APIRouter(tags=["ops"])


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness (the database answers)",
    responses={503: {"description": "Database unreachable"}},
)
async def ready(request: Request) -> JSONResponse:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": f"{type(exc).__name__}"}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get("/metrics", summary="The last requests (JSON)")
async def metrics(request: Request) -> list[dict[str, Any]]:
    """Method, path, status code and duration of the last 100 requests, oldest first."""
    store: MetricsStore = request.app.state.metrics
    return list(store.entries)


@router.get(
    "/metrics/prometheus",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def prometheus(request: Request) -> Response:
    store: MetricsStore = request.app.state.metrics
    return Response(generate_latest(store.registry), media_type=CONTENT_TYPE_LATEST)
