"""Planned routes answered over ASGI without the core stack (``hasten._direct``).

A route run by ``serve_plain`` whose parameters and dependencies read only the path, the
query and headers (``hasten._plan.planned.ready``) is solved and called by the direct way;
an outcome that needs the stack is replayed through it once, with the outcome (no dependency
and no endpoint runs twice). As in test_direct_calls.py, each request runs the direct way and
the stack's way on two apps built alike, and what the server, the handlers and the endpoints
see must be equal. (No ``from __future__ import annotations``: the dependencies are local.)
"""

from typing import Annotated, Any

import pytest
from test_direct_calls import _both as _both_ways
from test_direct_calls import _entered, _Off, _run, _scope

from hasten import Depends, FastAPI, Hasten, Header, HTTPException, Query, Request
from hasten._core import CoreStack
from hasten.responses import JSONResponse

pytestmark = pytest.mark.anyio

APPS = [FastAPI, Hasten]  # without, with a body limit
_CORE_CALL = CoreStack.__call__


class Teapot(Exception):
    pass


def build(app: FastAPI, log: list[Any]) -> FastAPI:
    """Planned routes of every outcome, and one that is not planned; ``log`` notes calls."""

    async def token(x_token: Annotated[str, Header()]) -> str:
        log.append(("token", x_token))
        if x_token == "teapot":
            raise Teapot("from a dependency")
        return x_token

    async def user(token: Annotated[str, Depends(token)]) -> str:
        log.append("user")
        if token != "alice":
            raise HTTPException(status_code=401, detail="Unknown token", headers={"x-why": "1"})
        return token

    @app.get("/items/{item_id}")
    async def read_item(
        item_id: int, q: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> dict[str, Any]:
        log.append(("item", item_id))
        return {"item_id": item_id, "q": q, "limit": limit}

    @app.get("/sync/{name}")
    def sync_item(name: str) -> list[str]:
        log.append(("sync", name))
        return [name, name]

    @app.get("/me")
    async def me(name: Annotated[str, Depends(user)]) -> dict[str, str]:
        log.append(("me", name))
        return {"user": name}

    @app.get("/fail/{code}")
    async def fail(code: int) -> None:
        log.append(("fail", code))
        raise LookupError(f"nobody handles {code}")

    @app.get("/raw/{item_id}")
    async def raw(item_id: int, request: Request) -> dict[str, Any]:  # not planned
        log.append(("raw", item_id))
        return {"item_id": item_id, "path": request.url.path}

    @app.exception_handler(Teapot)
    async def on_teapot(request: Request, exc: Teapot) -> JSONResponse:
        log.append(("handler", request.scope["route"].path, str(exc)))
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    return app


def _get(path: str, query: bytes = b"", token: bytes | None = None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*")]
    if token is not None:
        headers.append((b"x-token", token))
    return _scope(path=path, query_string=query, headers=headers)


async def _both(
    app_class: type[FastAPI], scope: dict[str, Any], **options: Any
) -> tuple[dict[str, Any], list[Any]]:
    """test_direct_calls.py's two ways, on this module's routes."""
    return await _both_ways(app_class, scope, builder=build, **options)


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("scope", "body", "logged", "route", "path_params"),
    [
        (
            _get("/items/42", b"q=hello&limit=5"),
            b'{"item_id":42,"q":"hello","limit":5}',
            [("item", 42)],
            "/items/{item_id}",
            {"item_id": "42"},
        ),
        (
            _get("/items/7"),
            b'{"item_id":7,"q":null,"limit":10}',
            [("item", 7)],
            "/items/{item_id}",
            {"item_id": "7"},
        ),
        (_get("/sync/ab"), b'["ab","ab"]', [("sync", "ab")], "/sync/{name}", {"name": "ab"}),
        (
            _get("/me", token=b"alice"),
            b'{"user":"alice"}',
            [("token", "alice"), "user", ("me", "alice")],
            "/me",
            {},
        ),
    ],
    ids=["path-query", "defaults", "sync", "dependencies"],
)
async def test_a_planned_answer_skips_the_stack_and_is_the_stacks_answer(
    app_class: type[FastAPI],
    scope: dict[str, Any],
    body: bytes,
    logged: list[Any],
    route: str,
    path_params: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, log = await _both(app_class, scope)
    assert outcome["sent"][0]["status"] == 200
    assert outcome["sent"][1]["body"] == body
    assert outcome["raised"] is None
    assert outcome["scope"]["route"] == route
    assert outcome["scope"]["path_params"] == path_params
    assert log == logged
    entered = _entered(monkeypatch)
    app = build(app_class(), [])
    for _ in range(3):
        await _run(app, {**scope, "headers": list(scope["headers"])})
    # The first request makes the router's matcher (the stack's way); the direct way answers
    # the next ones, matching a path with parameters itself.
    assert entered == [scope["path"]]


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("scope", "status", "logged"),
    [
        (_get("/items/42", b"limit=0"), 422, []),  # a parameter's validation error
        (_get("/items/x"), 422, []),
        (_get("/me"), 422, []),  # a missing header
        (_get("/me", token=b"bob"), 401, [("token", "bob"), "user"]),  # HTTPException
        (  # the app's handler of a dependency's exception
            _get("/me", token=b"teapot"),
            418,
            [("token", "teapot"), ("handler", "/me", "from a dependency")],
        ),
    ],
    ids=["limit", "not-an-int", "no-header", "http-exception", "handler"],
)
async def test_an_outcome_that_needs_the_stack_is_replayed_once(
    app_class: type[FastAPI],
    scope: dict[str, Any],
    status: int,
    logged: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, log = await _both(app_class, scope)
    assert outcome["sent"][0]["status"] == status
    assert outcome["raised"] is None
    assert log == logged  # every dependency ran once: its outcome was replayed
    if status == 401:
        assert (b"x-why", b"1") in outcome["sent"][0]["headers"]
        assert outcome["sent"][1]["body"] == b'{"detail":"Unknown token"}'
    app = build(app_class(), [])
    await _run(app, {**scope, "headers": list(scope["headers"])})
    entered = _entered(monkeypatch)
    await _run(app, {**scope, "headers": list(scope["headers"])})
    assert entered == [scope["path"]]  # the replay, once


async def test_a_validation_error_is_fastapis_422() -> None:
    outcome, _ = await _both(Hasten, _get("/items/42", b"limit=0"))
    assert outcome["sent"][1]["body"] == (
        b'{"detail":[{"type":"greater_than_equal","loc":["query","limit"],'
        b'"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}'
    )


@pytest.mark.parametrize("app_class", APPS)
async def test_an_unhandled_error_gets_the_500_and_reaches_the_server(
    app_class: type[FastAPI],
) -> None:
    outcome, log = await _both(app_class, _get("/fail/3"))
    assert outcome["sent"][0]["status"] == 500
    assert outcome["raised"] == (LookupError, "nobody handles 3")
    assert log == [("fail", 3)]


@pytest.mark.parametrize("app_class", APPS)
async def test_a_send_that_raises_is_settled_as_the_stack_settles_it(
    app_class: type[FastAPI],
) -> None:
    outcome, log = await _both(app_class, _get("/items/1"), fail_send=OSError("peer gone"))
    assert outcome["raised"] == (OSError, "peer gone")
    assert outcome["sent"] == []
    assert log == [("item", 1)]  # not called again by the replay


@pytest.mark.parametrize(
    ("scope", "body"),
    [
        (_get("/raw/5"), b""),  # a route that reads the Request: not planned
        (_scope(method="POST", path="/items/5"), b""),  # 405
        (_scope(path="/items/5", headers=[(b"host", b"x"), (b"content-length", b"2")]), b"{}"),
        (_scope(root_path="/api", path="/api/items/5"), b""),
    ],
    ids=["request", "405", "content-length", "root-path"],
)
async def test_requests_it_does_not_take_run_the_stacks_way_matched_once(
    scope: dict[str, Any],
    body: bytes,
    monkeypatch: pytest.MonkeyPatch,
    matched_paths: list[str],
) -> None:
    await _both(Hasten, scope, body=body)
    counts = []
    for direct in (True, False):
        app = build(Hasten(), [])
        if not direct:
            app._direct_calls = _Off()  # type: ignore[assignment]
        await _run(app, {**scope, "headers": list(scope["headers"])}, body=body)
        matched_paths.clear()
        entered = _entered(monkeypatch)
        await _run(app, {**scope, "headers": list(scope["headers"])}, body=body)
        assert entered == [scope["path"]]
        counts.append(list(matched_paths))
        monkeypatch.setattr(CoreStack, "__call__", _CORE_CALL)
    # The direct way's match is handed on to the stack's ``direct_target``, not made again.
    assert counts[0] == counts[1]
    assert matched_paths  # the stack's way matches it


async def test_dependency_overrides_run_the_stacks_way(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    scope = _get("/me", token=b"bob")
    await _run(app, {**scope, "headers": list(scope["headers"])})
    entered = _entered(monkeypatch)

    async def anyone() -> str:
        return "overridden"

    route = next(route for route in app.routes if getattr(route, "path", None) == "/me")
    user = route.dependant.dependencies[0].call  # /me's ``user``
    app.dependency_overrides[user] = anyone
    outcome = await _run(app, {**scope, "headers": list(scope["headers"])})
    assert outcome["sent"][1]["body"] == b'{"user":"overridden"}'
    assert entered == ["/me"]
    app.dependency_overrides.clear()
    entered.clear()
    outcome = await _run(app, {**scope, "headers": list(scope["headers"])})
    assert outcome["sent"][0]["status"] == 401
    assert entered == ["/me"]  # the 401, replayed
