"""Probes of the patch points observability tools use (DESIGN.md §5): module-level functions
of ``fastapi.routing`` / ``fastapi.dependencies.utils`` replaced with wrappers, before the app
is built and after its first request. A wrapper records its calls; the endpoint reports them.

Ids: ``patch_points.<what>``.
"""

# No `from __future__ import annotations` (FastAPI must see the real annotations).
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
from fastapi import Depends, FastAPI
from probelib import do, get, patch_attr, probe

_NAMES = [
    (fastapi.routing, "serialize_response"),
    (fastapi.routing, "run_endpoint_function"),
    (fastapi.routing, "solve_dependencies"),
    (fastapi.dependencies.utils, "solve_dependencies"),
    (fastapi.routing, "get_request_handler"),
]


def _wrap(module: Any, name: str, log: list[str]) -> None:
    original = getattr(module, name)
    label = f"{module.__name__.split('.')[-1]}.{name}"

    if name == "get_request_handler":

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            log.append(label)
            return original(*args, **kwargs)

    else:

        async def wrapper(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            log.append(label)
            return await original(*args, **kwargs)

    patch_attr(module, name, wrapper)


def _app(log: list[str]) -> FastAPI:
    app = FastAPI()

    def dep() -> int:
        return 1

    @app.get("/plain")
    def plain() -> dict[str, int]:
        return {"a": 1}

    @app.get("/dep")
    async def with_dep(d: int = Depends(dep)) -> dict[str, Any]:
        return {"d": d}

    @app.get("/log")
    def read() -> list[str]:
        out = sorted(set(log))
        log.clear()
        return out

    return app


@probe(get("/plain"), get("/log"), get("/dep"), get("/log"))
def patched_before_build() -> FastAPI:
    """serialize_response, run_endpoint_function, solve_dependencies, get_request_handler
    wrapped before the app is built."""
    log: list[str] = []
    for module, name in _NAMES:
        _wrap(module, name, log)
    return _app(log)


@probe(
    get("/plain"),
    do(
        lambda app: (
            [_wrap(m, n, app.state.log) for m, n in _NAMES if n != "get_request_handler"] and None
        ),
        "wrap the request-time functions",
    ),
    get("/plain"),
    get("/log"),
    get("/dep"),
    get("/log"),
)
def patched_after_first_request() -> FastAPI:
    """serialize_response, run_endpoint_function, solve_dependencies wrapped after the first
    request (FastAPI looks them up at call time)."""
    log: list[str] = []
    app = _app(log)
    app.state.log = log
    return app
