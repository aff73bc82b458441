"""A Hasten app without middleware, for tests/rsgi/test_granian_direct.py: its trivial routes
are answered without the ASGI stack (``hasten._rsgi.direct``) once found.

``/cycles`` tells how many requests went through the ASGI adapter so far (each opens one
``HTTPCycle``): the count that shows which requests were answered directly. Background
tasks write to the file ``RSGI_TEST_LOG`` names. With ``RSGI_TEST_METRICS`` set, the app
counts its requests with the Prometheus middleware and serves them at ``/metrics``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from hasten import Depends, Hasten, Header, HTTPException, Request
from hasten._rsgi import app as rsgi_app_module
from hasten._rsgi import direct as rsgi_direct_module
from hasten.responses import JSONResponse, PlainTextResponse

LOG = Path(os.environ.get("RSGI_TEST_LOG", "/dev/null"))
CYCLES = [0]


def _counting(open_cycle: Any) -> Any:
    def counted(*args: Any) -> Any:
        CYCLES[0] += 1
        return open_cycle(*args)

    return counted


rsgi_app_module.open_cycle = _counting(rsgi_app_module.open_cycle)  # type: ignore[attr-defined]
rsgi_direct_module.open_cycle = _counting(rsgi_direct_module.open_cycle)  # type: ignore[attr-defined]


class Teapot(Exception):
    pass


@asynccontextmanager
async def lifespan(app: Hasten) -> AsyncIterator[dict[str, Any]]:
    yield {"pool": "started"}


app = Hasten(lifespan=lifespan)

if os.environ.get("RSGI_TEST_METRICS"):  # the Prometheus middleware, and /metrics
    from hasten.metrics import PrometheusMiddleware, metrics_route

    app.add_middleware(PrometheusMiddleware)
    metrics_route(app)


@app.exception_handler(Teapot)
async def teapot(request: Request, exc: Teapot) -> JSONResponse:
    client = request.client.host if request.client else None
    return JSONResponse(
        {"client": client, "pool": request.state.pool, "route": request.scope["route"].path},
        status_code=418,
    )


@app.get("/cycles")
async def cycles(request: Request) -> int:
    return CYCLES[0]


@app.get("/text", response_class=PlainTextResponse)
async def text() -> str:
    return "Hello, World!"


@app.get("/json")
def json_answer() -> dict[str, Any]:
    return {"message": "Hello, World!"}


@app.get("/teapot")
async def raise_teapot() -> None:
    raise Teapot()


@app.get("/conflict")
async def conflict() -> None:
    raise HTTPException(status_code=409, detail="taken")


@app.get("/boom")
async def boom() -> None:
    raise ValueError("boom")


@app.get("/response")
async def response() -> JSONResponse:
    def note() -> None:
        with LOG.open("a", encoding="utf-8") as log:
            log.write("background\n")

    from starlette.background import BackgroundTask

    return JSONResponse({"own": True}, status_code=201, background=BackgroundTask(note))


async def get_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def get_user(token: Annotated[str, Depends(get_token)]) -> dict[str, str]:
    if token != "secret":
        raise HTTPException(status_code=401, detail="bad token")
    return {"name": "admin"}


@app.get("/user")
async def user(
    found: Annotated[dict[str, str], Depends(get_user)],
    agent: Annotated[str | None, Header(alias="x-agent")] = None,
    q: str = "",
    limit: int = 10,
) -> dict[str, Any]:
    """Planned (``hasten._rsgi.planned``): answered directly with its parameters solved."""
    return {**found, "agent": agent, "q": q, "limit": limit}


@app.get("/items/{item_id}")
async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
    """A path with parameters: matched by the router's ``route_for``, answered directly."""
    return {"item_id": item_id, "q": q}


@app.get("/names/{name}/{rest:path}")
async def name(name: str, rest: str) -> dict[str, str]:
    return {"name": name, "rest": rest}


@app.put("/items/{item_id}")
async def put_item(item_id: int, request: Request) -> dict[str, Any]:
    """A body: the stack's way, with the match the direct way handed on."""
    return {"item_id": item_id, "body": (await request.body()).decode()}
