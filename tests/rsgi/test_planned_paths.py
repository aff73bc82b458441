"""Paths with parameters answered from the RSGI scope (``hasten._rsgi.direct``, ``planned``).

The route and its converted path parameters come from the router's own ``Matcher.route_for``,
as ``direct_target`` finds them for the stack. Each request goes the direct way and the
stack's way (``_both``): protocol calls, exceptions and what the app's code sees must be the
same. A request matched and then passed on to the stack leaves the match as the matcher's
``handoff``: the stack takes it instead of matching again, and only for the same path and
method.
"""

import asyncio
from typing import Annotated, Any
from uuid import UUID

import pytest
from fake_rsgi import Headers, HTTPProtocol, Scope
from test_direct import Item, Teapot, _both, _send, _taken
from test_planned import teapot

from hasten import Depends, FastAPI, Hasten, Header, Path, Query, Request
from hasten._rsgi.app import rsgi_call
from hasten.responses import JSONResponse


def build(app: Hasten, log: list[Any]) -> Hasten:
    """``app`` with routes whose paths have parameters: planned, trivial and not planned."""

    @app.exception_handler(Teapot)
    async def handle_teapot(request: Request, exc: Teapot) -> JSONResponse:
        scope = request.scope
        log.append(("handler", scope["route"].path, scope["path_params"], request.url.path))
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    @app.get("/items/{item_id}")  # the benchmark's path-query endpoint (bench/apps/)
    async def read_item(
        item_id: int,
        q: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "limit": limit}

    @app.get("/users/{user_id}/posts/{post_id:int}", dependencies=[Depends(teapot)])
    async def post(user_id: str, post_id: int, x_token: Annotated[str, Header()]) -> dict[str, Any]:
        return {"user": user_id, "post": post_id, "token": x_token}

    @app.get("/files/{name:path}")
    def read_file(name: str) -> str:
        return name

    @app.get("/ids/{ident:uuid}/{flag}")
    async def ident(ident: UUID, flag: Annotated[bool, Path()]) -> dict[str, Any]:
        return {"id": ident, "flag": flag}

    @app.get("/ignored/{anything}")  # a trivial endpoint: the parameter is not declared
    async def ignored() -> str:
        return "ignored"

    @app.put("/items/{item_id}")  # a body: the stack's way
    async def update_item(item_id: int, item: Item) -> dict[str, Any]:
        return {"item_id": item_id, **item.model_dump()}

    @app.get("/seen/{item_id}")  # the ``Request``: the stack's way
    async def seen(item_id: int, request: Request) -> dict[str, Any]:
        return {"item_id": item_id, "params": request.path_params}

    return app


def _request(path: str, query: str = "", *pairs: tuple[str, str], method: str = "GET") -> Scope:
    headers = Headers([("host", "test"), ("accept", "*/*"), *pairs])
    return Scope(path=path, method=method, headers=headers, query_string=query)


TOKEN = ("x-token", "secret")
CASES = [
    ("/items/42", "q=hello&limit=5", []),
    ("/items/42", "", []),
    ("/items/-7", "limit=100", []),
    ("/items/abc", "", []),  # a 422 from the path parameter
    ("/items/42", "limit=0", []),  # a 422 from the query
    ("/items/abc", "limit=0", []),  # both, in FastAPI's order
    ("/users/u1/posts/7", "", [TOKEN]),
    ("/users/u%201/posts/7", "", [TOKEN]),  # RSGI's path is decoded, as ASGI's
    ("/users/u1/posts/7", "", []),  # a 422 from the header
    ("/users/u1/posts/7", "", [TOKEN, ("x-brew", "oolong")]),  # the handler sees the params
    ("/files/a/b/c.txt", "", []),
    ("/ids/8a3c1f0e-2b4d-4e6f-9a1b-3c5d7e9f1a2b/yes", "", []),
    ("/ids/8a3c1f0e-2b4d-4e6f-9a1b-3c5d7e9f1a2b/maybe", "", []),  # a 422 from the bool
    ("/ignored/x", "", []),
]


@pytest.mark.parametrize("app_class", [Hasten, FastAPI])
@pytest.mark.parametrize(("path", "query", "pairs"), CASES)
def test_a_path_with_parameters_is_answered_as_the_stack_answers(
    app_class: type[Hasten], path: str, query: str, pairs: list[tuple[str, str]]
) -> None:
    log: list[Any] = []
    app = build(app_class(), log)
    direct, stacked, taken = _both(app, _request(path, query, *pairs))
    assert taken
    assert direct == stacked
    calls, _ = direct
    assert calls[0][0] == "response_bytes"


def test_the_answers_themselves() -> None:
    app = build(Hasten(), [])
    calls, _ = _both(app, _request("/items/42", "q=hello&limit=5"))[0]
    assert (calls[0][1], calls[0][3]) == (200, b'{"item_id":42,"q":"hello","limit":5}')
    calls, _ = _both(app, _request("/items/abc", "limit=0"))[0]
    assert calls[0][1] == 422
    body = calls[0][3].decode()
    assert body.index('"loc":["path","item_id"]') < body.index('"loc":["query","limit"]')
    calls, _ = _both(app, _request("/files/a/b/c.txt"))[0]
    assert calls[0][3] == b'"a/b/c.txt"'


def test_a_replay_gives_the_handler_the_path_parameters() -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    direct, stacked, taken = _both(app, _request("/users/u1/posts/7", "", TOKEN, ("x-brew", "a")))
    assert taken and direct == stacked and direct[0][0][1] == 418
    handled = [entry for entry in log if entry[0] == "handler"]
    assert len(handled) == 4 and handled[-2] == handled[-1]  # direct, then the stack's
    assert handled[-1] == ("handler", "/users/{user_id}/posts/{post_id:int}",
                           {"user_id": "u1", "post_id": 7}, "/users/u1/posts/7")  # fmt: skip


@pytest.mark.parametrize(
    ("path", "method", "pairs"),
    [
        ("/items/1", "PUT", [("content-length", "0")]),  # a body (empty here: a 422)
        ("/items/1", "POST", []),  # a 405
        ("/seen/3", "GET", []),  # the endpoint takes the ``Request``
        ("/users/u1/posts/seven", "GET", [TOKEN]),  # the convertor does not match: a 404
        ("/nowhere/1", "GET", []),
    ],
)
def test_what_is_not_taken_is_answered_as_before(
    path: str, method: str, pairs: list[tuple[str, str]]
) -> None:
    app = build(Hasten(), [])
    scope = _request(path, "", *pairs, method=method)
    assert _taken(app, scope) == [False, False]
    direct, stacked, taken = _both(app, scope)
    assert not taken and direct == stacked
    assert app.router._matcher.handoff is None  # the stack took it


def test_a_request_passed_on_is_matched_once(matched_paths: list[str]) -> None:
    app = build(Hasten(), [])
    scope = _request("/seen/3")
    _taken(app, scope)  # warm: the stack is built and decided on
    calls = matched_paths
    calls.clear()
    answers = asyncio.run(_send(lambda p: app.__rsgi__(scope, p)))
    assert calls == ["/seen/3"]  # by the direct way; the stack took its handoff
    assert answers[0][0][3] == b'{"item_id":3,"params":{"item_id":"3"}}'
    calls.clear()
    asyncio.run(_send(lambda p: rsgi_call(app, scope, p, {})))
    assert calls == ["/seen/3"]  # the stack alone matches it itself


def test_a_handoff_is_taken_only_for_its_own_path_and_method(
    matched_paths: list[str],
) -> None:
    app = build(Hasten(), [])
    _taken(app, _request("/items/1"))
    matcher = app.router._matcher
    route, _ = matcher.route_for("/items/1", "GET")
    calls = matched_paths
    statuses = []
    for path, method in [("/items/2", "GET"), ("/items/1", "HEAD")]:
        matcher.handoff = ("/items/1", "GET", (route, {"item_id": 1}))
        answers, _ = asyncio.run(
            _send(lambda p, s=_request(path, method=method): rsgi_call(app, s, p, {}))
        )
        assert matcher.handoff is None
        assert calls[-1] == path  # matched again
        statuses.append(answers[0][1])
        if method == "GET":
            assert answers[0][3] == b'{"item_id":2,"q":null,"limit":10}'
    assert statuses == [200, 405]  # FastAPI's GET route does not answer HEAD


def test_a_taken_request_leaves_no_handoff() -> None:
    app = build(Hasten(), [])
    scope = _request("/items/5", "q=x")
    assert _taken(app, scope) == [True, True]
    assert app.router._matcher.handoff is None
    protocol = HTTPProtocol()
    answer = app._direct_answers(scope, protocol, {})
    assert answer is not None and app.router._matcher.handoff is None
    asyncio.run(answer)
    assert protocol.calls[0][3] == b'{"item_id":5,"q":"x","limit":10}'


def test_routes_added_later_are_followed() -> None:
    app = build(Hasten(), [])
    assert _taken(app, _request("/late/1")) == [False, False]

    @app.get("/late/{n}")
    async def late(n: int) -> int:
        return n * 2

    assert _taken(app, _request("/late/21")) == [True, True]
    calls, _ = _both(app, _request("/late/21"))[0]
    assert calls[0][3] == b"42"
