"""What an instrumentation that reaches into the app's stack or routes sees (issue 13 §1).

- With ``Middleware`` patched (Sentry's Starlette integration wraps every layer given to it)
  or Starlette's error layers traced (New Relic), the app builds FastAPI 0.165's stack, layer for layer and by FastAPI's class names, and
  answers exactly as its own stack does.
- OpenTelemetry's Starlette middleware is shown ``app.routes`` in FastAPI's layout (one node
  per ``include_router`` call), so it names spans as on FastAPI.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Match

from hasten import APIRouter, FastAPI, Hasten, HTTPException, Request
from hasten._body_limit import AppBodyLimitMiddleware
from hasten._route_layout import IncludedNode, fastapi_layout, on_fastapi_layout, user_layers
from hasten._starlette import ExceptionLayer, middleware_patched
from hasten.middleware.asyncexitstack import AsyncExitStackMiddleware
from hasten.telemetry._asgi import ExceptionTelemetryMiddleware
from hasten.testclient import TestClient

# FastAPI 0.165.0's FastAPI.build_middleware_stack, read from its source: these layers around
# the router, the user middleware between the body limiter and ExceptionMiddleware.
FASTAPI_LAYERS = [
    "ServerErrorMiddleware",
    "ExceptionTelemetryMiddleware",
    "AppBodyLimitMiddleware",
    "<user>",
    "ExceptionMiddleware",
    "AsyncExitStackMiddleware",
]


class Tag(BaseHTTPMiddleware):
    async def dispatch(self, request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-tag"] = "1"
        return response


def _layers(app: Any) -> list[str]:
    names = []
    layer = app.build_middleware_stack()
    while layer is not app.router and hasattr(layer, "app"):
        names.append("<user>" if isinstance(layer, Tag) else type(layer).__name__)
        layer = layer.app
    return names


def _app(cls: type[Hasten] = FastAPI, **kwargs: Any) -> Any:
    app = cls(middleware=[Middleware(Tag)], **kwargs)

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/echo")
    async def echo(body: dict[str, int]) -> dict[str, int]:
        return body

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/denied")
    async def denied() -> None:
        raise HTTPException(403, "no")

    @app.get("/stack")
    async def stack(request: Request) -> dict[str, bool]:
        return {"astack": "fastapi_middleware_astack" in request.scope}

    return app


@pytest.fixture
def patched_middleware(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """``Middleware.__init__`` wrapped as Sentry wraps it; the classes it was given."""
    original = Middleware.__init__
    seen: list[type] = []

    def instrumented(self: Any, cls: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(cls)
        original(self, cls, *args, **kwargs)

    monkeypatch.setattr(Middleware, "__init__", instrumented)
    return seen


def _answers(app: Any) -> list[tuple[int, str, str | None]]:
    client = TestClient(app, raise_server_exceptions=False)
    out = []
    for method, path, body in [
        ("GET", "/ok", None),
        ("POST", "/echo", {"a": 1}),
        ("POST", "/echo", {"a": "x"}),
        ("GET", "/boom", None),
        ("GET", "/denied", None),
        ("GET", "/missing", None),
        ("PUT", "/ok", None),
        ("POST", "/echo", {f"key{i}": i for i in range(20)}),
    ]:
        response = client.request(method, path, json=body)
        out.append((response.status_code, response.text, response.headers.get("x-tag")))
    return out


def test_own_stack_without_instrumentation() -> None:
    assert not middleware_patched()
    # (OpenTelemetry is installed here: telemetry is possible, the 500 layer notes exceptions.)
    own = ["TelemetryServerErrors", "BodyLimit", "<user>", "ExceptionLayer"]
    assert _layers(_app()) == own
    assert _layers(_app(Hasten)) == own


def test_fastapis_stack_when_middleware_is_patched(patched_middleware: list[type]) -> None:
    assert middleware_patched()
    assert _layers(_app()) == FASTAPI_LAYERS
    assert _layers(_app(Hasten)) == FASTAPI_LAYERS
    # Each layer was given to Middleware (so the instrumentation wrapped each one)...
    built = set(patched_middleware)
    assert {
        ServerErrorMiddleware,
        ExceptionTelemetryMiddleware,
        AppBodyLimitMiddleware,
        ExceptionMiddleware,
        AsyncExitStackMiddleware,
    } <= built
    assert ExceptionLayer not in built
    # ... and the innermost one has FastAPI's qualified name through the alias.
    assert AsyncExitStackMiddleware.__module__ == "hasten.middleware.asyncexitstack"
    assert AppBodyLimitMiddleware.__module__ == "hasten._body_limit"


@pytest.mark.parametrize("layer", [ServerErrorMiddleware, ExceptionMiddleware])
def test_fastapis_stack_when_a_starlette_error_layer_is_traced(
    layer: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As New Relic wraps them (a wrapper with ``__wrapped__``): each call is traced."""
    original = layer.__call__  # type: ignore[operator]
    calls: list[str] = []

    @functools.wraps(original)
    async def traced(self: Any, scope: Any, receive: Any, send: Any) -> None:
        calls.append(type(self).__name__)
        await original(self, scope, receive, send)

    monkeypatch.setattr(layer, "__call__", traced)
    app = _app()
    assert _layers(app) == FASTAPI_LAYERS
    assert TestClient(app).get("/ok").status_code == 200
    assert calls == [layer.__name__]


@pytest.mark.parametrize("cls", [FastAPI, Hasten])
def test_fastapis_stack_answers_as_the_own_one(
    cls: type[Hasten], monkeypatch: pytest.MonkeyPatch
) -> None:
    own = _answers(_app(cls, max_body_size=64))
    original = Middleware.__init__
    monkeypatch.setattr(Middleware, "__init__", lambda self, c, *a, **k: original(self, c, *a, **k))
    assert _answers(_app(cls, max_body_size=64)) == own
    assert own[-1][0] == 413  # the body limit is applied by both stacks


def test_fastapis_stack_keeps_the_middleware_exit_stack(patched_middleware: list[type]) -> None:
    client = TestClient(_app())
    assert client.get("/stack").json() == {"astack": True}


def _included_app() -> Any:
    app = FastAPI(openapi_url=None)

    @app.get("/first")
    async def first() -> None:
        return None

    users = APIRouter(prefix="/users")

    @users.get("/{uid}")
    async def user(uid: int) -> int:
        return uid

    @users.post("/")
    async def add_user() -> None:
        return None

    app.include_router(users, prefix="/api")

    @app.get("/between")
    async def between() -> None:
        return None

    other = APIRouter()

    @other.get("/other")
    async def other_route() -> None:
        return None

    app.include_router(other)
    return app


def _scope(method: str, path: str, app: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": app,
    }


def test_layout_folds_each_inclusion_into_one_node_where_it_was_declared() -> None:
    app = _included_app()
    layout = fastapi_layout(app)
    shape = [
        [r.path for r in entry.routes] if isinstance(entry, IncludedNode) else entry.path
        for entry in layout
    ]
    assert shape == ["/first", ["/api/users/{uid}", "/api/users/"], "/between", ["/other"]]


def test_layout_follows_routes_added_later() -> None:
    app = _included_app()
    fastapi_layout(app)
    users = app.router._inclusions[0].router

    @users.get("/{uid}/posts")
    async def posts(uid: int) -> int:
        return uid

    @app.get("/last")
    async def last() -> None:
        return None

    layout = fastapi_layout(app)
    assert [r.path for r in layout[1].routes] == [
        "/api/users/{uid}",
        "/api/users/",
        "/api/users/{uid}/posts",
    ]
    assert layout[-1].path == "/last"


def test_included_node_matches_as_fastapis() -> None:
    app = _included_app()
    node = fastapi_layout(app)[1]
    assert isinstance(node, IncludedNode)
    match, child = node.matches(_scope("GET", "/api/users/7", app))
    assert match == Match.FULL and child["path_params"] == {"uid": "7"}
    with pytest.raises(AttributeError):
        node.path  # noqa: B018 (FastAPI's node has no path)
    assert node.matches(_scope("DELETE", "/api/users/7", app))[0] == Match.PARTIAL
    assert node.path == "/api/users/{uid}"
    assert node.matches(_scope("GET", "/elsewhere", app)) == (Match.NONE, {})


def test_opentelemetry_starlette_names_spans_as_on_fastapi() -> None:
    starlette_otel = pytest.importorskip("opentelemetry.instrumentation.starlette")
    details = starlette_otel._get_default_span_details
    app = _included_app()
    app.routes  # noqa: B018 (flattened, as after the first request)
    on_layout = on_fastapi_layout(details)
    # Values observed on FastAPI 0.165.0 with the same app (an included route is named by its
    # concrete path; a route in place by its template).
    assert on_layout(_scope("GET", "/api/users/7", app)) == (
        "GET /api/users/7",
        {"http.route": "/api/users/7"},
    )
    assert on_layout(_scope("GET", "/first", app)) == ("GET /first", {"http.route": "/first"})
    assert on_layout(_scope("GET", "/nowhere", app)) == ("GET", {})
    # Where FastAPI's node raises (a method mismatch), the route's template is given.
    assert on_layout(_scope("DELETE", "/api/users/7", app)) == (
        "DELETE /api/users/{uid}",
        {"http.route": "/api/users/{uid}"},
    )
    # Without the layout, Hasten's flattened routes name it by the template.
    assert details(_scope("GET", "/api/users/7", app))[0] == "GET /api/users/{uid}"


def test_user_layers_replace_only_opentelemetrys_starlette_details() -> None:
    starlette_otel = pytest.importorskip("opentelemetry.instrumentation.starlette")
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    details = starlette_otel._get_default_span_details
    tag = Middleware(Tag)
    own = Middleware(OpenTelemetryMiddleware, default_span_details=lambda scope: ("x", {}))
    starlette = Middleware(
        OpenTelemetryMiddleware, default_span_details=details, excluded_urls=None
    )
    layers = user_layers([tag, own, starlette])
    assert layers[0] is tag and layers[1] is own
    assert layers[2] is not starlette and layers[2].cls is OpenTelemetryMiddleware
    replaced = layers[2].kwargs["default_span_details"]
    assert replaced.__wrapped__ is details
    assert layers[2].kwargs["excluded_urls"] is None
    assert starlette.kwargs["default_span_details"] is details  # the user's entry is unchanged
