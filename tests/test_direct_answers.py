"""Answers sent without a response object (``respond.direct_body``) are the messages the
route's writer's response would send; and the short dependency steps (one sub-dependency, a
leaf, one plain ``str`` header) solve as the general ones do.

(No ``from __future__ import annotations``: the dependencies are local functions.)
"""

import asyncio
import datetime
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from starlette.responses import Response as StarletteResponse

from hasten import (
    BackgroundTasks,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Response,
)
from hasten.responses import HTMLResponse, JSONResponse, PlainTextResponse
from hasten.routing import APIRoute
from hasten.testclient import TestClient


class Item(BaseModel):
    name: str
    price: float = 1.5


def _messages(app: Any, scope: dict[str, Any]) -> Any:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except Exception as exc:  # an error the app raises again for the server
            sent.append({"raised": type(exc).__name__})

    asyncio.run(run())
    return [
        {**m, "headers": list(m["headers"])} if m.get("type") == "http.response.start" else m
        for m in sent
    ]


def _app() -> FastAPI:
    app = FastAPI()
    app.state.ran = []
    _text_routes(app)
    _json_routes(app)
    _other_routes(app, app.state.ran)
    return app


def _text_routes(app: FastAPI) -> None:
    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "héllo"

    @app.get("/text-int", response_class=PlainTextResponse)
    async def text_int() -> Any:
        return 42

    @app.get("/text-surrogate", response_class=PlainTextResponse)
    async def text_surrogate() -> str:
        return "bad \udc80"

    @app.get("/html", response_class=HTMLResponse, status_code=201)
    def html() -> str:
        return "<p>hi</p>"


def _json_routes(app: FastAPI) -> None:
    @app.get("/json")
    async def json_plain():  # type: ignore[no-untyped-def]  # no model: JSONResponse's way
        return {"a": [1, 2], "when": datetime.date(2026, 12, 5)}

    @app.get("/json-typed")
    async def json_typed() -> dict[str, str]:
        return {"message": "Hello"}

    @app.get("/json-bad-model", response_model=Item)
    async def json_bad_model() -> Any:
        return {"price": "x"}

    @app.get("/model", response_model=list[Item], status_code=202)
    def model() -> Any:
        return [{"name": "a"}, Item(name="b", price=2)]

    @app.get("/json-surrogate")
    async def json_surrogate() -> dict[str, str]:
        return {"s": "\udc80"}


def _other_routes(app: FastAPI, ran: list[str]) -> None:
    @app.get("/response")
    async def response() -> Any:
        return PlainTextResponse("own", status_code=203)

    @app.get("/no-content", status_code=204)
    async def no_content() -> None:
        return None

    @app.get("/reset", status_code=205, response_class=PlainTextResponse, response_model=None)
    async def reset() -> Any:
        return "ignored"

    @app.get("/sub-response")
    async def sub_response(response: Response, q: int = 1) -> dict[str, int]:
        response.headers["x-sub"] = "yes"
        response.status_code = 207
        return {"q": q}

    @app.get("/background")
    async def background(tasks: BackgroundTasks, q: int = 1) -> dict[str, int]:
        tasks.add_task(ran.append, "task")
        return {"q": q}

    @app.get("/params")
    async def params(q: int = 3, x_token: Annotated[str, Header()] = "none") -> dict[str, Any]:
        return {"q": q, "token": x_token}

    @app.get("/raises")
    async def raises() -> dict[str, str]:
        raise HTTPException(status_code=418, detail="teapot")


PATHS = [
    "/text", "/text-int", "/text-surrogate", "/html", "/json", "/json-typed", "/json-bad-model",
    "/model", "/json-surrogate", "/response", "/no-content", "/reset", "/sub-response",
    "/background", "/params", "/raises",
]  # fmt: skip


def _without_direct(app: FastAPI) -> FastAPI:
    """``app`` with every route's ``direct`` removed: its writers make every response."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            object.__setattr__(route.plan, "direct", None)
    return app


@pytest.mark.parametrize("path", PATHS)
def test_direct_answers_are_the_writers_messages(
    path: str, http_scope: Callable[[str], dict[str, Any]]
) -> None:
    def scope() -> dict[str, Any]:
        made = http_scope(path)
        made["headers"] = [(b"host", b"test"), (b"x-token", b"t")]
        return made

    direct, written = _app(), _without_direct(_app())
    got = _messages(direct, scope())
    assert got == _messages(written, scope())
    assert got  # something was sent (or raised)
    assert direct.state.ran == written.state.ran


def test_which_routes_answer_directly() -> None:
    app = _app()
    TestClient(app).get("/text")
    direct = {r.path: r.plan.direct is not None for r in app.routes if isinstance(r, APIRoute)}
    assert direct["/text"] and direct["/html"] and direct["/json"] and direct["/model"]
    assert direct["/json-typed"] and direct["/params"] and direct["/sub-response"]
    # No body or no content-length: the writer's response decides.
    assert not direct["/no-content"] and not direct["/reset"]


@pytest.mark.parametrize("path", ["/text", "/html", "/json", "/model", "/json-typed"])
@pytest.mark.parametrize(
    "raw",
    ["héllo", "x" * 300, "", {"a": [1, 2]}, {"é": "ü" * 40}, [Item(name="n")], 7, None],
    ids=repr,
)
def test_rsgi_messages_are_the_adapters_decoding(path: str, raw: Any) -> None:
    """The RSGI form of a direct answer (what Granian's direct answers send) is the runner's
    messages with their headers decoded as the RSGI adapter decodes them, for every answer;
    None exactly when the messages are None."""
    from hasten._rsgi.http import _decode

    app = _app()
    TestClient(app).get("/text")
    (route,) = [r for r in app.routes if isinstance(r, APIRoute) and r.path == path]
    messages, _cls, rsgi = route.plan.direct
    try:
        expected = messages(raw)
    except Exception as exc:  # an answer the route's encoder refuses: refused the same way
        with pytest.raises(type(exc)):
            rsgi(raw)
        return
    got = rsgi(raw)
    if expected is None:
        assert got is None
        return
    status, headers, body = expected
    assert got == (status, _decode(headers), body)
    assert rsgi(raw)[1] is got[1]  # one list per size, decoded once


def test_rsgi_header_lists_are_bounded() -> None:
    from hasten._plan.respond import _RSGIHeaders

    kept = _RSGIHeaders((b"content-type", b"text/plain"))
    for size in range(_RSGIHeaders.LIMIT + 5):
        assert kept[size] == [("content-length", str(size)), ("content-type", "text/plain")]
    assert len(kept) == 5  # started afresh at the limit


def test_the_answers_themselves() -> None:
    client = TestClient(_app())
    text = client.get("/text")
    assert text.text == "héllo"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-length"] == str(len("héllo".encode()))
    html = client.get("/html")
    assert (html.status_code, html.headers["content-type"]) == (201, "text/html; charset=utf-8")
    assert client.get("/json").json() == {"a": [1, 2], "when": "2026-12-05"}
    model = client.get("/model")
    assert model.status_code == 202
    assert model.json() == [{"name": "a", "price": 1.5}, {"name": "b", "price": 2.0}]
    assert client.get("/json-surrogate").json() == {"s": "\udc80"}
    sub = client.get("/sub-response?q=4")
    assert (sub.status_code, sub.headers["x-sub"], sub.json()) == (207, "yes", {"q": 4})
    assert client.get("/params?q=5", headers={"x-token": "abc"}).json() == {"q": 5, "token": "abc"}


def test_a_replaced_response_call_is_called() -> None:
    app = _app()
    client = TestClient(app)
    calls: list[int] = []
    original = StarletteResponse.__call__

    async def noted(self: StarletteResponse, scope: Any, receive: Any, send: Any) -> None:
        calls.append(self.status_code)
        await original(self, scope, receive, send)

    StarletteResponse.__call__ = noted  # type: ignore[method-assign]
    try:
        assert client.get("/text").text == "héllo"
        assert client.get("/json-typed").json() == {"message": "Hello"}
        assert client.get("/params?q=2").json() == {"q": 2, "token": "none"}
    finally:
        StarletteResponse.__call__ = original  # type: ignore[method-assign]
    assert calls == [200, 200, 200]


def test_a_patched_json_response_gets_the_plain_routes() -> None:
    original = JSONResponse.render

    def render(self: JSONResponse, content: Any) -> bytes:
        return b'{"patched":true}'

    JSONResponse.render = render  # type: ignore[method-assign]
    try:
        app = _app()
        client = TestClient(app)
        assert client.get("/json").json() == {"patched": True}
        assert client.get("/json-typed").json() == {"message": "Hello"}  # a model: its JSON
    finally:
        JSONResponse.render = original  # type: ignore[method-assign]


# -- the short dependency steps ------------------------------------------------------------------


def _chain_app(calls: list[str]) -> FastAPI:
    app = FastAPI()

    async def token(x_token: Annotated[str, Header()]) -> str:
        calls.append("token")
        return x_token

    async def user(t: Annotated[str, Depends(token)]) -> str:
        calls.append("user")
        if t == "bad":
            raise HTTPException(status_code=401, detail="bad token")
        return f"user:{t}"

    def admin(u: Annotated[str, Depends(user)]) -> str:  # a plain def in the middle
        calls.append("admin")
        return f"admin:{u}"

    async def fresh(u: Annotated[str, Depends(user, use_cache=False)]) -> str:
        return u

    @app.get("/chain")
    async def chain(a: Annotated[str, Depends(admin)], u: Annotated[str, Depends(user)]) -> Any:
        return {"a": a, "u": u}

    @app.get("/fresh")
    async def fresh_route(u: Annotated[str, Depends(user)], f: Annotated[str, Depends(fresh)]):
        return {"f": f, "u": u}

    return app


def test_a_chain_of_single_dependencies() -> None:
    calls: list[str] = []
    client = TestClient(_chain_app(calls))
    ok = client.get("/chain", headers=[("x-token", "first"), ("x-token", "second")])
    assert ok.json() == {"a": "admin:user:first", "u": "user:first"}  # the first header
    assert calls == ["token", "user", "admin"]  # each once: cached for the request
    calls.clear()
    assert client.get("/fresh", headers={"x-token": "t"}).json() == {"f": "user:t", "u": "user:t"}
    assert calls == ["token", "user", "user"]  # use_cache=False runs it again
    missing = client.get("/chain")
    assert missing.status_code == 422
    error = {
        "type": "missing",
        "loc": ["header", "x-token"],
        "msg": "Field required",
        "input": None,
    }
    # Once for each way to the header (``user`` failed: not cached), as FastAPI reports it.
    assert missing.json() == {"detail": [error, error]}
    assert client.get("/chain", headers={"x-token": "bad"}).json() == {"detail": "bad token"}


def test_a_chain_with_overrides() -> None:
    calls: list[str] = []
    app = _chain_app(calls)
    client = TestClient(app)
    token = next(
        d.call
        for r in app.routes
        if isinstance(r, APIRoute) and r.path == "/chain"
        for d in r.dependant.dependencies[0].dependencies[0].dependencies
    )
    app.dependency_overrides[token] = lambda: "over"
    assert client.get("/chain").json() == {"a": "admin:user:over", "u": "user:over"}
    app.dependency_overrides.clear()
    assert client.get("/chain", headers={"x-token": "t"}).json()["u"] == "user:t"
