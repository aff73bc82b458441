"""Readiness checks with their own timeouts; /ready answers 503 naming the failures."""

import asyncio

# --8<-- [start:app]
from hasten import Hasten
from hasten.health import health_routes


async def redis() -> bool:
    return False  # e.g. `return await client.ping()`


async def search() -> None:
    await asyncio.sleep(10)  # never answers in time


app = Hasten()
checks = health_routes(app, {"redis": redis}, timeout=2.0)
checks.add("search", search, timeout=0.1)
# --8<-- [end:app]


def check(client):  # type: ignore[no-untyped-def]
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"redis": "failed", "search": "timed out after 0.1 s"},
    }
