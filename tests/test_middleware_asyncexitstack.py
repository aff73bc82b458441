"""hasten.middleware.asyncexitstack: FastAPI's AsyncExitStackMiddleware (fastapi.middleware.*)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from hasten import FastAPI
from hasten.middleware.asyncexitstack import AsyncExitStackMiddleware


def _recording_app(events: list[str], key: str) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        stack = scope[key]
        stack.callback(events.append, "closed")
        events.append("app")
        if scope["path"] == "/boom":
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_stack_in_scope_closed_after_the_app() -> None:
    events: list[str] = []
    middleware = AsyncExitStackMiddleware(_recording_app(events, "fastapi_middleware_astack"))
    assert middleware.context_name == "fastapi_middleware_astack"
    assert TestClient(middleware).get("/").text == "ok"
    assert events == ["app", "closed"]


def test_stack_closed_when_the_app_raises_and_custom_key() -> None:
    events: list[str] = []
    middleware = AsyncExitStackMiddleware(_recording_app(events, "my_stack"), "my_stack")
    with pytest.raises(RuntimeError, match="boom"):
        TestClient(middleware).get("/boom")
    assert events == ["app", "closed"]


def test_wrapping_an_app_router_serves_requests() -> None:
    # As OpenTelemetry's FastAPI tests build a stack: the router wrapped by the middleware only.
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    response = TestClient(AsyncExitStackMiddleware(app.router)).get("/items/3")
    assert response.status_code == 200
    assert response.json() == {"item_id": 3}
