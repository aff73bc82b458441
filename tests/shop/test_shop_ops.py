"""Health, readiness, metrics, OpenAPI tags, CORS, rate limiting, startup and settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from shop_support import ADMIN, Shop
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from examples.shop.main import create_app
from examples.shop.models import Base
from examples.shop.settings import Settings
from hasten import Hasten
from hasten.ratelimit import MemoryBackend, RedisBackend
from hasten.testclient import TestClient


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "checks": {"database": "ok"}}


def test_ready_is_503_when_the_database_is_unreachable(
    client: TestClient, app: Hasten, tmp_path: Path
) -> None:
    good = app.state.engine
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    app.state.engine = create_async_engine(f"sqlite+aiosqlite:///{missing}")
    threads = set(threading.enumerate())
    try:
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {"database": "failed: OperationalError"},
        }
    finally:
        assert client.portal is not None
        client.portal.call(app.state.engine.dispose)
        app.state.engine = good
        # aiosqlite's worker thread of the failed connection answers its stop through the
        # portal's loop: wait for it while that loop runs (on a busy machine it could
        # otherwise answer after the client closed the loop, an error in a later teardown)
        for thread in set(threading.enumerate()) - threads:
            if "_connection_worker_thread" in thread.name:
                thread.join(timeout=30)
    assert client.get("/ready").status_code == 200


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _labels(method: str, route: str, status: int) -> tuple[tuple[str, str], ...]:
    return (("method", method), ("route", route), ("status", str(status)))


def test_metrics_records_every_request(shop: Shop, client: TestClient) -> None:
    client.get("/health")
    client.get("/products/999")
    client.post("/products", json={})
    samples = _samples(client)
    for labels in (
        _labels("GET", "/health", 200),
        _labels("GET", "/products/{product_id}", 404),
        _labels("POST", "/products", 401),
    ):
        assert samples[("http_requests_total", labels)] == 1.0
        assert samples[("http_request_duration_seconds_count", labels)] == 1.0
        assert samples[("http_request_duration_seconds_sum", labels)] > 0
    assert samples[("http_requests_in_progress", ())] == 1.0  # the scrape itself


def test_metrics_series_stay_bounded(client: TestClient) -> None:
    for i in range(105):
        client.get(f"/tasks/t{i}")
    samples = _samples(client)
    tasks = {labels for (name, labels) in samples if name == "http_requests_total"}
    tasks = {labels for labels in tasks if dict(labels)["route"].startswith("/tasks")}
    assert len(tasks) == 1  # one series for the 105 paths: the route template
    (labels,) = tasks
    assert dict(labels)["route"] == "/tasks/{task_id}"
    assert samples[("http_requests_total", labels)] == 105.0


def test_prometheus_text_format(client: TestClient, app: Hasten) -> None:
    client.get("/products/1")
    client.get("/products/2")
    samples = _samples(client)
    key = _labels("GET", "/products/{product_id}", 404)
    assert samples[("http_requests_total", key)] == 2.0  # both requests share the template
    assert samples[("http_request_duration_seconds_count", key)] == 2.0
    # The app has its own registry: nothing went into the process-global one.
    assert REGISTRY.get_sample_value("http_requests_total", {"method": "GET"}) is None
    assert app.state.metrics_registry.get_sample_value("http_requests_total", dict(key)) == 2.0


def test_openapi_groups_endpoints_by_tag(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert [t["name"] for t in schema["tags"]] == [
        "products",
        "users",
        "auth",
        "orders",
        "tasks",
        "ops",
    ]
    tags = {
        (method.upper(), path): operation["tags"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert tags[("GET", "/products")] == ["products"]
    assert tags[("DELETE", "/products/{product_id}")] == ["products"]
    assert tags[("POST", "/users/register")] == ["users"]
    assert tags[("POST", "/auth/token")] == ["auth"]
    assert tags[("POST", "/orders")] == ["orders"]
    assert tags[("GET", "/orders/events")] == ["orders"]
    assert tags[("GET", "/tasks/{task_id}")] == ["tasks"]
    assert tags[("GET", "/health")] == ["ops"]
    assert all(len(t) == 1 for t in tags.values())
    security = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert security["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert "text/event-stream" in str(schema["paths"]["/orders/events"]["get"]["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_cors_from_settings(client: TestClient) -> None:
    allowed = client.options(
        "/products",
        headers={"Origin": "http://shop.example", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://shop.example"
    refused = client.options(
        "/products",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in refused.headers


def test_rate_limit_429_with_retry_after(
    make_settings: Any, limiter_backend: dict[str, Any]
) -> None:
    app = create_app(make_settings(rate_limit_per_minute=3, **limiter_backend))
    with TestClient(app) as client:
        expected = RedisBackend if limiter_backend["redis_url"] else MemoryBackend
        assert isinstance(app.state.limiter.backend, expected)
        assert [client.get("/products").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/products")
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Rate limit exceeded: 3 requests per 60 seconds"}
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # The limit is per client, across routers; ops endpoints are not limited.
        assert client.get("/tasks/x").status_code == 429
        assert client.get("/health").status_code == 200

        async def from_another_ip() -> int:
            transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
                return (await http.get("/products")).status_code

        assert client.portal is not None
        assert client.portal.call(from_another_ip) == 200


def test_rate_limit_window_slides(make_settings: Any, limiter_backend: dict[str, Any]) -> None:
    """With a short window, old hits expire and requests are allowed again.

    The window is long enough for three requests on a loaded machine (0.3 s was not, once:
    the first hit expired before the third request).
    """
    app = create_app(
        make_settings(rate_limit_per_minute=2, rate_limit_window_seconds=1.5, **limiter_backend)
    )
    with TestClient(app) as client:
        assert [client.get("/products").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(1.6)
        assert client.get("/products").status_code == 200


def test_startup_is_idempotent(make_settings: Any) -> None:
    """Migrations and the admin seed run at every start without duplicating anything."""
    settings = make_settings()
    for _ in range(2):
        with TestClient(create_app(settings)) as client:
            shop = Shop(client)
            users = client.get("/users", headers=shop.admin()).json()
            assert [u["username"] for u in users["items"]] == [ADMIN[0]]


def test_lifespan_closes_engine_and_redis(
    make_settings: Any, limiter_backend: dict[str, Any]
) -> None:
    app = create_app(make_settings(**limiter_backend))
    with TestClient(app) as client:
        assert client.get("/products").status_code == 200
        engine, redis = app.state.engine, app.state.redis
        assert engine.pool.checkedin() >= 1
        pool = redis.connection_pool if redis is not None else None
        if pool is not None:
            assert any(c.is_connected for c in pool._available_connections)
    assert engine.pool.checkedin() == 0  # disposed: a fresh, empty pool
    assert (redis is None) == (limiter_backend["redis_url"] is None)
    if pool is not None:
        assert not any(c.is_connected for c in pool._available_connections)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SHOP_RATE_LIMIT_PER_MINUTE=7\nSHOP_JWT_ISSUER=from-dotenv\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db/shop")
    monkeypatch.setenv("SHOP_REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("SHOP_CORS_ORIGINS", '["https://a.example"]')
    settings = Settings()
    assert settings.rate_limit_per_minute == 7
    assert settings.jwt_issuer == "from-dotenv"
    assert settings.database_url == "postgresql+asyncpg://u@db/shop"
    assert settings.redis_url == "redis://cache:6379/1"
    assert settings.cors_origins == ["https://a.example"]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.rate_limit_per_minute == 100


def test_migrations_match_the_models(client: TestClient, app: Hasten) -> None:
    """Alembic's autogenerate finds nothing to add: the migrations build the ORM's schema."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async def diff() -> list[Any]:
        async with app.state.engine.connect() as connection:
            return await connection.run_sync(compare)

    assert client.portal is not None
    assert client.portal.call(diff) == []
