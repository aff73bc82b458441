"""/health and /ready: pluggable checks, each with a timeout, 503 naming what failed; the
ready-made database and Redis checks against the real services."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from hasten import APIRouter, FastAPI, Hasten
from hasten.health import HealthChecks, database_check, health_routes, redis_check
from hasten.testclient import TestClient


async def _ok() -> None:
    return None


async def _broken() -> None:
    raise ConnectionRefusedError("password=hunter2 at db:5432")


async def _slow() -> None:
    await asyncio.sleep(30)


def _refusing() -> bool:
    return False


@pytest.mark.parametrize("cls", [Hasten, FastAPI])
def test_health_and_ready_when_every_check_passes(cls: type[Hasten]) -> None:
    app = cls()
    health_routes(app, {"database": _ok, "cache": lambda: True})
    client = TestClient(app)
    assert client.get("/health").json() == {"status": "ok"}
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


def test_ready_is_503_naming_the_failed_and_timed_out_checks() -> None:
    app = Hasten()
    checks = health_routes(app, {"database": _ok, "broken": _broken}, timeout=5)
    checks.add("slow", _slow, timeout=0.2)
    checks.add("refusing", _refusing)
    client = TestClient(app)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "broken": "failed: ConnectionRefusedError",
            "slow": "timed out after 0.2 s",
            "refusing": "failed",
        },
    }
    assert "hunter2" not in response.text  # the exception's message is never shown
    assert client.get("/health").status_code == 200  # liveness runs no check


def test_no_checks_is_ready() -> None:
    app = Hasten()
    health_routes(app)
    assert TestClient(app).get("/ready").json() == {"status": "ready", "checks": {}}


def test_routes_on_a_router_with_tags_and_paths_in_openapi() -> None:
    router = APIRouter()
    checks = HealthChecks({"database": _ok})
    assert health_routes(router, checks, tags=["ops"], ready_path="/readyz") is checks
    app = Hasten()
    app.include_router(router, prefix="/ops")
    client = TestClient(app)
    assert client.get("/ops/readyz").json()["status"] == "ready"
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/ops/readyz"]["get"]["tags"] == ["ops"]
    assert "503" in paths["/ops/readyz"]["get"]["responses"]
    assert paths["/ops/health"]["get"]["summary"] == "Liveness"


def test_database_check_against_postgresql_and_a_missing_database(tmp_path: object) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    url = os.environ.get(
        "HASTEN_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )

    async def run() -> tuple[str, str]:
        good = create_async_engine(url)
        bad = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db")
        checks = HealthChecks({"postgres": database_check(good), "sqlite": database_check(bad)})
        try:
            _, results = await checks.run()
        finally:
            await good.dispose()
            await bad.dispose()
        return results["postgres"], results["sqlite"]

    postgres, sqlite = asyncio.run(run())
    if postgres.startswith("failed: OSError") or postgres.startswith("failed: Connection"):
        pytest.skip(f"PostgreSQL unreachable at 127.0.0.1:5432 ({postgres})")
    assert postgres == "ok"
    assert sqlite == "failed: OperationalError"


def test_redis_check_against_redis_and_a_closed_port() -> None:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    async def run() -> dict[str, str]:
        live = Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2)
        closed = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
        name = f"redis-{uuid.uuid4().hex[:6]}"
        checks = HealthChecks({name: redis_check(live), "closed": redis_check(closed)})
        try:
            _, results = await checks.run()
        finally:
            await live.aclose()
            await closed.aclose()
        return {"live": results[name], "closed": results["closed"]}

    results = asyncio.run(run())
    if results["live"] != "ok":
        pytest.skip(f"Redis unreachable at 127.0.0.1:6379 ({results['live']})")
    assert results["closed"] == "failed: ConnectionError"
