"""FastAPI's request-path functions, replaced as instrumentations replace them (issue 13 §1).

Each replacement is made the way Sentry, Logfire or Datadog make theirs: the module attribute
is swapped for a wrapper that calls the original. Hasten must then call through it, with
FastAPI's arguments, and go back to its compiled runner once the original is restored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware

import hasten.dependencies.utils as utils
import hasten.routing as routing
from hasten import Depends, FastAPI, HTTPException, WebSocket
from hasten._plan import runner
from hasten._starlette import ExceptionLayer, exception_layer
from hasten.testclient import TestClient


class Item(BaseModel):
    name: str


def _token(x: int = 0) -> int:
    return x


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/plain")
    def plain() -> dict[str, int]:
        return {"a": 1}

    @app.get("/dep")
    async def dep(t: Annotated[int, Depends(_token)]) -> dict[str, int]:
        return {"t": t}

    @app.post("/items", response_model=Item)
    async def items(item: Item) -> Any:
        return {"name": item.name, "extra": 1}

    @app.get("/fail")
    async def fail() -> None:
        raise HTTPException(503, "down")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, t: Annotated[int, Depends(_token)]) -> None:
        await websocket.accept()
        await websocket.send_json({"t": t})
        await websocket.close()

    return app


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Wrap every patch point on hasten.routing (and utils.solve_dependencies), logging calls."""
    log: list[str] = []
    names = [
        "get_request_handler",
        "get_websocket_app",
        "request_response",
        "websocket_session",
        "solve_dependencies",
        "run_endpoint_function",
        "serialize_response",
    ]
    for name in names:
        original = getattr(routing, name)
        monkeypatch.setattr(routing, name, _logging(original, f"routing.{name}", log))
    monkeypatch.setattr(
        utils,
        "solve_dependencies",
        _logging(utils.solve_dependencies, "utils.solve_dependencies", log),
    )
    yield log


def _logging(original: Any, label: str, log: list[str]) -> Any:
    import inspect

    if inspect.iscoroutinefunction(original):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            log.append(label)
            return await original(*args, **kwargs)

        return async_wrapper

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        log.append(label)
        return original(*args, **kwargs)

    return wrapper


def test_routes_built_after_a_replacement_call_through_it(calls: list[str]) -> None:
    client = TestClient(_app())
    built = sorted(set(calls))
    assert "routing.get_request_handler" in built and "routing.request_response" in built
    calls.clear()
    assert client.get("/plain").json() == {"a": 1}
    assert sorted(set(calls)) == [
        "routing.run_endpoint_function",
        "routing.serialize_response",
        "routing.solve_dependencies",
    ]
    calls.clear()
    assert client.get("/dep?x=3").json() == {"t": 3}
    assert "utils.solve_dependencies" in calls  # FastAPI solves sub-dependencies through it
    response = client.post("/items", json={"name": "a"})
    assert response.json() == {"name": "a"}  # the response model still filters
    assert client.get("/dep?x=bad").status_code == 422
    assert client.get("/fail").status_code == 503
    calls.clear()
    with client.websocket_connect("/ws?x=2") as websocket:
        assert websocket.receive_json() == {"t": 2}
    assert "routing.get_websocket_app" in calls or "routing.solve_dependencies" in calls


def test_a_replacement_before_the_first_request_is_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _app()  # routes built with the compiled runner
    seen: list[dict[str, Any]] = []
    original = routing.solve_dependencies

    async def spy(**kwargs: Any) -> Any:
        solved = await original(**kwargs)
        seen.append(dict(solved.values))
        return solved

    monkeypatch.setattr(routing, "solve_dependencies", spy)
    client = TestClient(app)  # the stack is built on the first request: routes rebuilt
    assert client.get("/dep?x=5").json() == {"t": 5}
    assert seen == [{"t": 5}]


def test_restoring_the_originals_brings_back_the_compiled_runner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = routing.run_endpoint_function
    monkeypatch.setattr(routing, "run_endpoint_function", _logging(original, "x", []))
    app = _app()
    route = next(r for r in app.routes if getattr(r, "path", None) == "/dep")
    assert route._through_patch_points
    monkeypatch.setattr(routing, "run_endpoint_function", original)
    TestClient(app).get("/plain")
    assert not route._through_patch_points
    assert route.plan.serve is runner.serve_plain


def test_sentry_style_get_request_handler_wrapper(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sentry wraps a sync endpoint's dependant.call before calling the original, then wraps
    # the handler it gets back: both must be what requests run.
    original = routing.get_request_handler
    events: list[str] = []

    def sentry_like(*args: Any, **kwargs: Any) -> Any:
        dependant = kwargs["dependant"]
        call = dependant.call

        def wrapped_call(**values: Any) -> Any:
            events.append("call")
            return call(**values)

        if call is not None and not _is_async(call):
            dependant.call = wrapped_call
        handler = original(*args, **kwargs)

        async def app(request: Any) -> Any:
            events.append("handler")
            return await handler(request)

        return app

    monkeypatch.setattr(routing, "get_request_handler", sentry_like)
    client = TestClient(_app())
    assert client.get("/plain").json() == {"a": 1}
    assert events == ["handler", "call"]


def _is_async(call: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(call)


def test_patched_starlette_call_sees_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Starlette.__call__
    seen: list[str] = []

    async def patched(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(Starlette, "__call__", patched)
    client = TestClient(_app())
    client.get("/plain")
    client.get("/dep")
    assert seen == ["/plain", "/dep"]


def test_exception_layer_is_starlettes_when_middleware_is_instrumented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert exception_layer() is ExceptionLayer
    original = Middleware.__init__

    def instrumented(self: Any, cls: Any, *args: Any, **kwargs: Any) -> None:
        original(self, cls, *args, **kwargs)

    monkeypatch.setattr(Middleware, "__init__", instrumented)
    assert exception_layer() is ExceptionMiddleware


def test_solve_dependencies_returns_fastapis_shape() -> None:
    import dataclasses

    from starlette.requests import Request

    from hasten.dependencies.utils import SolvedDependency, solve_dependencies

    app = _app()
    route = next(r for r in app.routes if getattr(r, "path", None) == "/dep")
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/dep",
        "query_string": b"x=4",
        "headers": [],
        "app": app,
    }

    async def run() -> SolvedDependency:
        from contextlib import AsyncExitStack

        async with AsyncExitStack() as stack:
            scope["fastapi_inner_astack"] = scope["fastapi_function_astack"] = stack
            return await solve_dependencies(
                request=Request(scope),
                dependant=route.dependant,
                async_exit_stack=stack,
                embed_body_fields=False,
            )

    import asyncio

    solved = asyncio.run(run())
    assert dataclasses.is_dataclass(solved)
    assert solved.values == {"t": 4} and solved.errors == []
    assert solved.response.status_code is None and solved.background_tasks is None
    assert [f.name for f in dataclasses.fields(solved)] == [
        "values",
        "errors",
        "background_tasks",
        "response",
        "dependency_cache",
    ]
