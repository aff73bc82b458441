"""Routes reading a JSON body, answered over ASGI without the core stack (``hasten._direct``).

A ``serve_plain`` route whose endpoint takes a JSON body, and whose other parameters and
dependencies read only the path, the query and headers (``planned.body_ready``), is read,
solved and called by the direct way, when the request declares one ``content-length`` within
the app's body limit. As in test_direct_calls.py, each request runs the direct way and the
stack's way on two apps built alike: the messages, the exception the server gets, what
handlers and endpoints see and the scope's keys left must be equal; and the direct way must be
taken where the module says (a request it takes never enters the core stack; one replayed
enters it once). (No ``from __future__ import annotations``: the dependencies are local.)
"""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from test_direct_calls import _both as _both_ways
from test_direct_calls import _entered, _run, _scope

from hasten import Body, Depends, FastAPI, Form, Hasten, Header, HTTPException, Request
from hasten.exceptions import RequestValidationError
from hasten.responses import JSONResponse

pytestmark = pytest.mark.anyio

LIMIT = 64  # the limited app's body limit, in bytes


def limited() -> Hasten:
    return Hasten(max_body_size=LIMIT)


APPS = [FastAPI, limited]  # without, with a body limit


class Teapot(Exception):
    pass


class Tag(BaseModel):
    name: str


class Item(BaseModel):
    name: str
    price: float
    tags: list[Tag] = []


def build(app: FastAPI, log: list[Any]) -> FastAPI:
    """Routes reading a JSON body, of every outcome, and two that the direct way leaves."""

    async def token(x_token: Annotated[str, Header()]) -> str:
        log.append(("token", x_token))
        if x_token == "teapot":
            raise Teapot("from a dependency")
        if x_token != "alice":
            raise HTTPException(status_code=401, detail="Unknown token", headers={"x-why": "1"})
        return x_token

    @app.put("/items/{item_id}")
    async def update(
        item_id: int, item: Item, user: Annotated[str, Depends(token)], q: str | None = None
    ) -> dict[str, Any]:
        log.append(("update", item_id, user))
        return {"item_id": item_id, "q": q, "item": item.model_dump()}

    @app.exception_handler(Teapot)
    async def on_teapot(request: Request, exc: Teapot) -> JSONResponse:
        log.append(("handler", request.scope["route"].path, str(exc)))
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    return _more_routes(app, log)


def _more_routes(app: FastAPI, log: list[Any]) -> FastAPI:
    """``build``'s routes without dependencies."""

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        log.append(("create", item.name))
        if item.name == "teapot":
            raise Teapot("from the endpoint")
        if item.name == "lookup":
            raise LookupError("nobody handles this")
        return item

    @app.post("/sync")
    def sync(item: Item) -> list[str]:
        log.append(("sync", item.name))
        return [item.name, item.name]

    @app.post("/embedded")
    async def embedded(
        item: Annotated[Item, Body(embed=True)], count: Annotated[int, Body()] = 1
    ) -> dict[str, Any]:
        log.append(("embedded", count))
        return {"name": item.name, "count": count}

    @app.post("/optional")
    async def optional(item: Item | None = None) -> dict[str, Any]:
        log.append(("optional", item is None))
        return {"empty": item is None}

    @app.post("/request")
    async def with_request(item: Item, request: Request) -> dict[str, str]:  # not planned
        log.append(("request", item.name))
        return {"path": request.url.path}

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> dict[str, str]:  # not a JSON body
        log.append(("form", name))
        return {"name": name}

    return app


def reading_handler(app: FastAPI, log: list[Any]) -> FastAPI:
    """``build``'s routes, with a validation-error handler that reads the body again."""

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = await request.body()
        log.append(("invalid", body))
        return JSONResponse({"body": body.decode(), "errors": len(exc.errors())}, 422)

    return build(app, log)


def _post(
    path: str,
    body: bytes,
    *,
    method: str = "POST",
    length: int | None = None,
    query: bytes = b"",
    extra: tuple[tuple[bytes, bytes], ...] = (),
    content_type: bytes = b"application/json",
) -> dict[str, Any]:
    """A request with a body, its ``content-length`` the body's (``length`` when given)."""
    headers = [(b"host", b"127.0.0.1:8000"), (b"content-type", content_type), *extra]
    headers.append((b"content-length", str(len(body) if length is None else length).encode()))
    return _scope(method=method, path=path, query_string=query, headers=headers)


async def _both(
    app_class: Any, scope: dict[str, Any], builder: Any = build, **options: Any
) -> tuple[dict[str, Any], list[Any]]:
    """test_direct_calls.py's two ways, on this module's routes; ``body`` defaults to the
    bytes that ``_post`` declared the length of."""
    return await _both_ways(app_class, scope, builder=builder, **options)


async def _entering(
    app_class: Any,
    scope: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    builder: Any = build,
    **options: Any,
) -> list[str]:
    """The paths that enter a core stack for a second request like ``scope`` (the first one
    finds the route, as any first request to a path does)."""
    app = builder(app_class(), [])
    await _run(app, {**scope, "headers": list(scope["headers"])}, **options)
    entered = _entered(monkeypatch)
    await _run(app, {**scope, "headers": list(scope["headers"])}, **options)
    return entered


ITEM = b'{"name":"a","price":1.5,"tags":[{"name":"x"}]}'


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("scope", "body", "status", "answer", "logged"),
    [
        (_post("/items", ITEM), ITEM, 201, ITEM, [("create", "a")]),
        (
            _post("/items/3", ITEM, method="PUT", query=b"q=z", extra=((b"x-token", b"alice"),)),
            ITEM,
            200,
            b'{"item_id":3,"q":"z","item":{"name":"a","price":1.5,"tags":[{"name":"x"}]}}',
            [("token", "alice"), ("update", 3, "alice")],
        ),
        (_post("/sync", ITEM), ITEM, 200, b'["a","a"]', [("sync", "a")]),
        (
            _post("/embedded", b'{"item":{"name":"e","price":2},"count":4}'),
            b'{"item":{"name":"e","price":2},"count":4}',
            200,
            b'{"name":"e","count":4}',
            [("embedded", 4)],
        ),
        (_post("/optional", b""), b"", 200, b'{"empty":true}', [("optional", True)]),
        (
            _post("/items", ITEM, content_type=b"application/vnd.api+json"),
            ITEM,
            201,
            ITEM,
            [("create", "a")],
        ),
    ],
    ids=["body", "path-query-dependency", "sync", "embedded", "empty-optional", "json-suffix"],
)
async def test_a_body_answer_skips_the_stack_and_is_the_stacks_answer(
    app_class: Any,
    scope: dict[str, Any],
    body: bytes,
    status: int,
    answer: bytes,
    logged: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, log = await _both(app_class, scope, body=body)
    assert outcome["sent"][0]["status"] == status
    assert outcome["sent"][1]["body"] == answer
    assert outcome["raised"] is None
    assert log == logged
    assert await _entering(app_class, scope, monkeypatch, body=body) == []


async def test_a_body_sent_in_chunks_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [ITEM[:10], ITEM[10:30], ITEM[30:]]
    outcome, log = await _both(limited, _post("/items", ITEM), body=chunks)
    assert outcome["sent"][1]["body"] == ITEM
    assert log == [("create", "a")]
    assert await _entering(limited, _post("/items", ITEM), monkeypatch, body=chunks) == []


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("scope", "body", "status", "logged"),
    [
        (_post("/items", b'{"name":'), b'{"name":', 422, []),  # not JSON
        (_post("/items", b'{"name":"a"}'), b'{"name":"a"}', 422, []),  # not an Item
        (_post("/items", b""), b"", 422, []),  # a required body, empty
        (_post("/items", ITEM, content_type=b"text/plain"), ITEM, 422, []),  # strict type
        (
            _post("/items/3", ITEM, method="PUT", extra=((b"x-token", b"bob"),)),
            ITEM,
            401,
            [("token", "bob")],
        ),
        (
            _post("/items/3", ITEM, method="PUT", extra=((b"x-token", b"teapot"),)),
            ITEM,
            418,
            [("token", "teapot"), ("handler", "/items/{item_id}", "from a dependency")],
        ),
        (
            _post("/items", b'{"name":"teapot","price":1}'),
            b'{"name":"teapot","price":1}',
            418,
            [("create", "teapot"), ("handler", "/items", "from the endpoint")],
        ),
    ],
    ids=[
        "invalid-json",
        "invalid-item",
        "empty",
        "content-type",
        "http-exception",
        "dependency-handler",
        "endpoint-handler",
    ],
)
async def test_an_outcome_that_needs_the_stack_is_replayed_once(
    app_class: Any,
    scope: dict[str, Any],
    body: bytes,
    status: int,
    logged: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, log = await _both(app_class, scope, body=body)
    assert outcome["sent"][0]["status"] == status
    assert outcome["raised"] is None
    assert log == logged  # every dependency and endpoint ran once: the outcome was replayed
    if status == 401:
        assert (b"x-why", b"1") in outcome["sent"][0]["headers"]
    assert await _entering(app_class, scope, monkeypatch, body=body) == [scope["path"]]


async def test_a_validation_error_is_fastapis_422() -> None:
    scope = _post("/items", b'{"name":"a"}')
    outcome, _ = await _both(limited, scope, body=b'{"name":"a"}')
    assert outcome["sent"][1]["body"] == (
        b'{"detail":[{"type":"missing","loc":["body","price"],"msg":"Field required",'
        b'"input":{"name":"a"}}]}'
    )
    outcome, _ = await _both(limited, _post("/items", b'{"name":'), body=b'{"name":')
    assert outcome["sent"][1]["body"] == (
        b'{"detail":[{"type":"json_invalid","loc":["body",8],"msg":"JSON decode error",'
        b'"input":{},"ctx":{"error":"Expecting value"}}]}'
    )


@pytest.mark.parametrize("app_class", APPS)
async def test_a_handler_reading_the_body_again_reads_it_on_the_replay(
    app_class: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"name":"a"}'
    scope = _post("/items", body)
    outcome, log = await _both(app_class, scope, builder=reading_handler, body=body)
    assert outcome["sent"][0]["status"] == 422
    assert outcome["sent"][1]["body"] == b'{"body":"{\\"name\\":\\"a\\"}","errors":1}'
    assert log == [("invalid", body)]
    entered = await _entering(app_class, scope, monkeypatch, builder=reading_handler, body=body)
    assert entered == ["/items"]


@pytest.mark.parametrize("app_class", APPS)
async def test_an_unhandled_error_gets_the_500_and_reaches_the_server(app_class: Any) -> None:
    body = b'{"name":"lookup","price":1}'
    outcome, log = await _both(app_class, _post("/items", body), body=body)
    assert outcome["sent"][0]["status"] == 500
    assert outcome["raised"] == (LookupError, "nobody handles this")
    assert log == [("create", "lookup")]


@pytest.mark.parametrize("app_class", APPS)
async def test_a_send_that_raises_is_settled_as_the_stack_settles_it(app_class: Any) -> None:
    scope = _post("/items", ITEM)
    outcome, log = await _both(app_class, scope, body=ITEM, fail_send=OSError("peer gone"))
    assert outcome["raised"] == (OSError, "peer gone")
    assert outcome["sent"] == []
    assert log == [("create", "a")]  # not called again by the replay


@pytest.mark.parametrize("app_class", APPS)
async def test_a_client_that_leaves_mid_body_is_settled_as_the_stack_settles_it(
    app_class: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = _post("/items", ITEM)
    outcome, log = await _both(app_class, scope, body=[ITEM[:10]], cut=True)
    assert outcome["raised"] is None
    assert outcome["sent"][0]["status"] == 400
    assert outcome["sent"][1]["body"] == b'{"detail":"There was an error parsing the body"}'
    assert log == []
    entered = await _entering(app_class, scope, monkeypatch, body=[ITEM[:10]], cut=True)
    assert entered == ["/items"]  # read here, then replayed with the failure


async def test_a_body_longer_than_it_said_gets_the_limits_413(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = b'{"name":"' + b"x" * LIMIT + b'","price":1}'
    scope = _post("/items", body, length=20)  # declared within the limit
    outcome, log = await _both(limited, scope, body=body)
    assert outcome["sent"][0]["status"] == 413
    assert log == []
    # Read here through the limit's counter, which refused it; the 413 replayed.
    assert await _entering(limited, scope, monkeypatch, body=body) == ["/items"]


@pytest.mark.parametrize(
    ("app_class", "scope", "body"),
    [
        # a declared length over the limit: the stack's 413, read or not
        (limited, _post("/items", b"x" * (LIMIT + 1)), b"x" * (LIMIT + 1)),
        # no content-length, or a chunked body
        (limited, _scope(method="POST", path="/items", headers=[(b"host", b"x")]), ITEM),
        (
            FastAPI,
            _scope(
                method="POST",
                path="/items",
                headers=[(b"content-type", b"application/json"), (b"transfer-encoding", b"x")],
            ),
            ITEM,
        ),
        (limited, _post("/items", ITEM, extra=((b"content-length", b"5"),)), ITEM),  # two
        (limited, _post("/items", ITEM, length=-1), ITEM),
        (FastAPI, _post("/request", ITEM), ITEM),  # a route that reads the Request
        (  # a form
            limited,
            _post("/form", b"name=f", content_type=b"application/x-www-form-urlencoded"),
            b"name=f",
        ),
    ],
    ids=[
        "over-the-limit",
        "no-length",
        "chunked",
        "two-lengths",
        "negative-length",
        "request",
        "form",
    ],
)
async def test_requests_it_does_not_take_run_the_stacks_way(
    app_class: Any,
    scope: dict[str, Any],
    body: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, _ = await _both(app_class, scope, body=body)
    if scope["path"] == "/items" and app_class is limited and len(body) > LIMIT:
        assert outcome["sent"][0]["status"] == 413
    entered = await _entering(app_class, scope, monkeypatch, body=body)
    assert entered == [scope["path"]]


async def test_dependency_overrides_run_the_stacks_way(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[Any] = []
    app = build(limited(), log)
    scope = _post("/items/3", ITEM, method="PUT", extra=((b"x-token", b"bob"),))
    await _run(app, {**scope, "headers": list(scope["headers"])}, body=ITEM)
    entered = _entered(monkeypatch)

    async def anyone() -> str:
        return "overridden"

    route = next(r for r in app.routes if getattr(r, "path", None) == "/items/{item_id}")
    token = route.dependant.dependencies[0].call
    app.dependency_overrides[token] = anyone
    outcome = await _run(app, {**scope, "headers": list(scope["headers"])}, body=ITEM)
    assert outcome["sent"][0]["status"] == 200
    assert b'"q":null' in outcome["sent"][1]["body"]
    assert entered == ["/items/3"]
    app.dependency_overrides.clear()
    entered.clear()
    outcome = await _run(app, {**scope, "headers": list(scope["headers"])}, body=ITEM)
    assert outcome["sent"][0]["status"] == 401
    assert entered == ["/items/3"]  # the 401, replayed
