"""Liveness and readiness endpoints: ``/health`` (cheap, always 200 while the process serves)
and ``/ready``, which runs pluggable async checks (database, Redis, ...) concurrently, each
with a timeout, and answers 503 naming every check that failed::

    checks = health_routes(app, {"database": database_check(engine)}, timeout=2.0)
    checks.add("redis", redis_check(redis_client), timeout=0.5)

``/ready`` answers ``{"status": "ready", "checks": {"database": "ok", "redis": "ok"}}`` or,
with status 503, ``{"status": "unavailable", "checks": {"database": "ok", "redis": "timed out
after 0.5 s"}}``. A check fails when it raises, returns ``False`` or outlives its timeout;
only the exception's class is shown, never its message.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["Check", "HealthChecks", "database_check", "health_routes", "redis_check"]

#: A readiness check: called with no arguments; may be a coroutine function.
Check = Callable[[], Awaitable[Any] | Any]


class HealthChecks:
    """Named readiness checks, each with its own timeout (seconds)."""

    def __init__(self, checks: Mapping[str, Check] | None = None, *, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._checks: dict[str, tuple[Check, float]] = {}
        for name, check in (checks or {}).items():
            self.add(name, check)

    def add(self, name: str, check: Check, *, timeout: float | None = None) -> None:
        """Add (or replace) the check ``name``."""
        self._checks[name] = (check, self.timeout if timeout is None else timeout)

    @property
    def names(self) -> list[str]:
        """The names of the checks, in the order they were added."""
        return list(self._checks)

    async def run(self) -> tuple[bool, dict[str, str]]:
        """Run every check concurrently: (all passed, ``{name: "ok" or why not}``)."""
        results: dict[str, str] = {}

        async def one(name: str, check: Check, timeout: float) -> None:
            results[name] = await _outcome(check, timeout)

        async with anyio.create_task_group() as group:
            for name, (check, timeout) in self._checks.items():
                group.start_soon(one, name, check, timeout)
        ordered = {name: results[name] for name in self._checks}
        return all(value == "ok" for value in ordered.values()), ordered

    async def health_endpoint(self, request: Request) -> JSONResponse:
        """Liveness: the process is up and serving (no check is run)."""
        return JSONResponse({"status": "ok"})

    async def ready_endpoint(self, request: Request) -> JSONResponse:
        """Readiness: 200 when every check passed, else 503 naming the ones that failed."""
        ready, results = await self.run()
        status = "ready" if ready else "unavailable"
        return JSONResponse(
            {"status": status, "checks": results}, status_code=200 if ready else 503
        )


async def _outcome(check: Check, timeout: float) -> str:
    try:
        with anyio.move_on_after(timeout):
            result = check()
            if inspect.isawaitable(result):
                result = await result
            return "failed" if result is False else "ok"
    except Exception as exc:  # any error means "not ready"; its message may hold secrets
        return f"failed: {type(exc).__name__}"
    return f"timed out after {timeout:g} s"  # the scope was cancelled


def health_routes(
    app: Any,
    checks: Mapping[str, Check] | HealthChecks | None = None,
    *,
    timeout: float = 2.0,
    health_path: str = "/health",
    ready_path: str = "/ready",
    tags: Sequence[str] | None = None,
    include_in_schema: bool = True,
) -> HealthChecks:
    """Add ``GET health_path`` and ``GET ready_path`` to ``app`` (an app or ``APIRouter``);
    returns the :class:`HealthChecks`, to which checks can still be added."""
    health = checks if isinstance(checks, HealthChecks) else HealthChecks(checks, timeout=timeout)
    common: dict[str, Any] = {
        "methods": ["GET"],
        "include_in_schema": include_in_schema,
        "tags": list(tags) if tags else None,
        "response_class": JSONResponse,
    }
    app.add_api_route(health_path, health.health_endpoint, summary="Liveness", **common)
    app.add_api_route(
        ready_path,
        health.ready_endpoint,
        summary="Readiness",
        responses={503: {"description": "A readiness check failed"}},
        **common,
    )
    return health


def database_check(engine: Any) -> Check:
    """A check running ``SELECT 1`` on a SQLAlchemy ``AsyncEngine``."""

    async def check() -> None:
        from sqlalchemy import text

        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def redis_check(client: Any) -> Check:
    """A check sending ``PING`` with a redis-py asyncio client."""

    async def check() -> bool:
        return bool(await client.ping())

    return check
