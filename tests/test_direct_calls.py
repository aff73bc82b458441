"""Trivial routes answered over ASGI without the core stack (``hasten._direct``).

Each request runs twice: as ``Hasten.__call__`` runs it, and with the direct answer turned off
(the stack's way). The messages sent, the exception the server gets, what exception handlers
and endpoints see and the keys left in the scope must be the same. Separately, the direct way
must be taken where the module says, and only there: a request it takes never enters the core
stack, a replayed one enters it once, and one it does not take enters it as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.routing import Mount, Router

from hasten import FastAPI, Hasten, HTTPException, Request
from hasten._core import CoreStack
from hasten.responses import JSONResponse, PlainTextResponse, Response

pytestmark = pytest.mark.anyio

APPS = [FastAPI, Hasten]  # without, with a body limit


class Teapot(Exception):
    pass


def _scope(method: str = "GET", path: str = "/text", **extra: Any) -> dict[str, Any]:
    """A scope as uvicorn makes it (its 13 keys), with ``extra`` over it."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*")],
        "state": {},
    }
    scope.update(extra)
    return scope


def build(app: FastAPI, log: list[Any]) -> FastAPI:
    """Trivial routes of every outcome; ``log`` notes each endpoint's call."""

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        log.append("text")
        return "Hello, World!"

    @app.get("/json")
    async def message() -> dict[str, str]:
        log.append("json")
        return {"message": "Hello, World!"}

    @app.get("/sync")
    def sync() -> list[int]:
        log.append("sync")
        return [1, 2, 3]

    @app.get("/status", status_code=202)
    async def accepted() -> dict[str, bool]:
        log.append("status")
        return {"accepted": True}

    @app.get("/http-error")
    async def http_error() -> None:
        log.append("http-error")
        raise HTTPException(status_code=418, detail="short and stout", headers={"x-tea": "1"})

    @app.get("/teapot")
    async def teapot() -> None:
        log.append("teapot")
        raise Teapot("handled")

    @app.get("/unhandled")
    async def unhandled() -> None:
        log.append("unhandled")
        raise LookupError("nobody handles this")

    @app.get("/response")
    async def response() -> Response:
        log.append("response")
        return Response(b"own", media_type="text/x-own", headers={"x-own": "1"})

    @app.get("/background")
    async def background() -> Response:
        log.append("background")
        return PlainTextResponse("later", background=BackgroundTask(log.append, "task"))

    @app.get("/not-json")
    async def not_json() -> dict[str, Any]:
        log.append("not-json")
        return {"value": object()}  # its encoding fails

    @app.exception_handler(Teapot)
    async def on_teapot(request: Request, exc: Teapot) -> JSONResponse:
        log.append(("handler", request.scope["route"].path, str(exc)))
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    return app


class _Off:
    """A stand-in for the app's ``DirectCalls`` that takes nothing: the stack's way."""

    router = None
    core = None  # never the stack: ``answer`` is asked, and declines

    def answer(self, *args: Any) -> None:
        return None


def _entered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests that enter a ``CoreStack`` (the app's, or its replaying copy)."""
    entered: list[str] = []
    call = CoreStack.__call__

    async def counted(self: CoreStack, scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await call(self, scope, receive, send)

    monkeypatch.setattr(CoreStack, "__call__", counted)
    return entered


_SCOPE_KEYS = ("app", "router", "route", "endpoint", "path_params", "starlette.exception_handlers")


async def _run(
    app: Any,
    scope: dict[str, Any],
    body: bytes | list[bytes] = b"",
    fail_send: BaseException | None = None,
    cut: bool = False,
) -> dict[str, Any]:
    """What a request gives: the messages sent, the exception raised to the server, and the
    scope's keys that the stack leaves for the route. ``body``: its bytes, or its chunks (one
    message each); ``cut``: the client leaves before its last chunk's end (an
    ``http.disconnect`` follows it); ``fail_send``: raised by the first ``send``."""
    sent: list[dict[str, Any]] = []
    parts = [body] if isinstance(body, bytes) else body
    chunks = [
        {"type": "http.request", "body": part, "more_body": cut or n < len(parts) - 1}
        for n, part in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    failing = [fail_send] if fail_send is not None else []

    async def send(message: dict[str, Any]) -> None:
        if failing:  # the first message only: a 500 sent after it would be seen
            raise failing.pop()
        sent.append(message)

    raised = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        raised = (type(exc), str(exc))
    return {"sent": sent, "raised": raised, "scope": _described(scope)}


def _described(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope's keys that the stack leaves for the route, told apart from another app's."""
    keys: dict[str, Any] = {}
    for key in _SCOPE_KEYS:
        value = scope.get(key, "-")
        if key == "route" and value != "-":
            value = value.path
        elif key == "endpoint" and value != "-":
            value = value.__name__
        elif key in ("app", "router") and value != "-":
            value = type(value).__name__
        elif key == "starlette.exception_handlers" and value != "-":
            value = tuple(sorted(str(handled) for handled in part) for part in value)
        keys[key] = value
    return keys


async def _both(
    app_class: type[FastAPI], scope: dict[str, Any], builder: Any = None, **options: Any
) -> tuple[dict[str, Any], list[Any]]:
    """The request the direct way and the stack's way, on two apps built alike (by
    ``builder``, else ``build``): each way's result and endpoint log must be equal; the
    direct way's are returned."""
    results = []
    for direct in (True, False):
        log: list[Any] = []
        app = await _warm((builder or build)(app_class(), log), scope)
        log.clear()
        if not direct:
            app._direct_calls = _Off()  # type: ignore[assignment]
        outcome = await _run(app, {**scope, "headers": list(scope["headers"])}, **options)
        results.append((outcome, log))
    assert results[0] == results[1]
    return results[0]


async def _warm(app: Any, scope: dict[str, Any]) -> Any:
    """``app`` after one request to the path of ``scope``: the router has found its route,
    as it has for any path it answered before (its table of static paths starts empty)."""
    await _run(app, _scope(path=scope["path"]))
    return app


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/text", 200, b"Hello, World!"),
        ("/json", 200, b'{"message":"Hello, World!"}'),
        ("/sync", 200, b"[1,2,3]"),
        ("/status", 202, b'{"accepted":true}'),
    ],
)
async def test_a_trivial_answer_skips_the_stack_and_is_the_stacks_answer(
    app_class: type[FastAPI],
    path: str,
    status: int,
    body: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, log = await _both(app_class, _scope(path=path))
    assert [m["type"] for m in outcome["sent"]] == ["http.response.start", "http.response.body"]
    assert outcome["sent"][0]["status"] == status
    assert outcome["sent"][1]["body"] == body
    assert outcome["raised"] is None
    assert outcome["scope"]["route"] == path and outcome["scope"]["path_params"] == {}
    assert log == [path.strip("/")]
    entered = _entered(monkeypatch)
    app = build(app_class(), [])
    for _ in range(3):
        await _run(app, _scope(path=path))
    # The first request finds the route (the router's table of static paths starts empty);
    # the direct way answers the next ones.
    assert entered == [path]


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/http-error", 418),  # the route's own HTTPException handling
        ("/teapot", 418),  # the app's handler for the exception
        ("/response", 200),  # a response object of its own
        ("/background", 200),  # ... with a background task
    ],
)
async def test_an_outcome_that_needs_the_stack_is_replayed_once(
    app_class: type[FastAPI], path: str, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome, log = await _both(app_class, _scope(path=path))
    assert outcome["sent"][0]["status"] == status
    assert outcome["raised"] is None
    assert log.count(path.strip("/")) == 1  # the endpoint ran once, its outcome replayed
    app = await _warm(build(app_class(), []), _scope(path=path))
    entered = _entered(monkeypatch)
    await _run(app, _scope(path=path))
    assert entered == [path]


async def test_the_replay_gives_handlers_and_background_tasks_what_the_stack_does() -> None:
    _, log = await _both(Hasten, _scope(path="/teapot"))
    assert log == ["teapot", ("handler", "/teapot", "handled")]
    outcome, log = await _both(Hasten, _scope(path="/background"))
    assert outcome["sent"][1]["body"] == b"later"
    assert log == ["background", "task"]
    outcome, _ = await _both(Hasten, _scope(path="/http-error"))
    assert (b"x-tea", b"1") in outcome["sent"][0]["headers"]


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize("path", ["/unhandled", "/not-json"])
async def test_an_unhandled_error_gets_the_500_and_reaches_the_server(
    app_class: type[FastAPI], path: str
) -> None:
    outcome, log = await _both(app_class, _scope(path=path))
    assert outcome["sent"][0]["status"] == 500
    assert outcome["raised"] is not None
    assert log == [path.strip("/")]


def _with_500_handler(app_class: type[FastAPI], log: list[Any], note: Any) -> FastAPI:
    """``build``'s app with a handler for 500 that logs ``note(exc)``."""
    app = build(app_class(), log)

    @app.exception_handler(500)
    async def on_500(request: Request, exc: Exception) -> PlainTextResponse:
        log.append(("500", note(exc)))
        return PlainTextResponse("sorry", status_code=500)

    return app


@pytest.mark.parametrize("app_class", APPS)
async def test_the_500_handler_runs_once_for_an_unhandled_error(app_class: type[FastAPI]) -> None:
    results = []
    for direct in (True, False):
        log: list[Any] = []
        app = _with_500_handler(app_class, log, lambda exc: type(exc).__name__)
        await _warm(app, _scope(path="/unhandled"))
        log.clear()
        if not direct:
            app._direct_calls = _Off()  # type: ignore[assignment]
        results.append((await _run(app, _scope(path="/unhandled")), log))
    assert results[0] == results[1]
    outcome, log = results[0]
    assert outcome["sent"][1]["body"] == b"sorry"
    assert log == ["unhandled", ("500", "LookupError")]


@pytest.mark.parametrize("app_class", APPS)
async def test_a_send_that_raises_is_settled_as_the_stack_settles_it(
    app_class: type[FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner had noted the start: the 500 is made by the handler but not sent (the send
    would take it), and the server gets the send's own exception."""
    results = []
    for direct in (True, False):
        log: list[Any] = []
        app = _with_500_handler(app_class, log, str)
        await _warm(app, _scope(path="/text"))
        log.clear()
        if not direct:
            app._direct_calls = _Off()  # type: ignore[assignment]
        outcome = await _run(app, _scope(path="/text"), fail_send=OSError("peer gone"))
        results.append((outcome, log))
    assert results[0] == results[1]
    outcome, log = results[0]
    assert outcome["raised"] == (OSError, "peer gone")
    assert log == ["text", ("500", "peer gone")]
    app = await _warm(build(app_class(), []), _scope(path="/text"))
    entered = _entered(monkeypatch)
    await _run(app, _scope(path="/text"), fail_send=OSError("peer gone"))
    assert entered == ["/text"]  # replayed once, the endpoint not called again


@pytest.mark.parametrize("app_class", APPS)
@pytest.mark.parametrize(
    ("scope", "body"),
    [
        (_scope(method="POST", path="/text"), b""),  # 405
        (_scope(path="/nowhere"), b""),  # 404
        (_scope(headers=[(b"host", b"x"), (b"content-length", b"2")]), b"{}"),
        (_scope(headers=[(b"host", b"x"), (b"transfer-encoding", b"chunked")]), b"{}"),
        (_scope(root_path="/api", path="/api/text"), b""),
        (_scope(path_params={"outer": "1"}, router=Router()), b""),
    ],
    ids=["405", "404", "content-length", "chunked", "root-path", "from-a-router"],
)
async def test_requests_it_does_not_take_run_the_stacks_way(
    app_class: type[FastAPI],
    scope: dict[str, Any],
    body: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _both(app_class, scope, body=body)
    app = await _warm(build(app_class(), []), scope)
    entered = _entered(monkeypatch)
    await _run(app, {**scope, "headers": list(scope["headers"])}, body=body)
    assert entered == [scope["path"]]


async def test_a_request_with_a_declared_body_over_the_limit_gets_its_413() -> None:
    outcome, log = await _both(
        Hasten,
        _scope(headers=[(b"host", b"x"), (b"content-length", str(17 * 2**20).encode())]),
        body=b"",
    )
    # The endpoint runs (it reads no body) and the limit answers instead, as it watches the
    # answer of a request that declares a body over it.
    assert outcome["sent"][0]["status"] == 413
    assert log == ["text"]


async def test_a_mounted_app_and_an_app_under_a_limit_run_the_stacks_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from starlette.middleware.body_limit import RequestBodyLimitMiddleware

    entered = _entered(monkeypatch)
    child = build(Hasten(), [])
    parent = Router(routes=[Mount("/sub", app=child)])
    for _ in range(2):  # the second time too: the route was found by then
        outcome = await _run(parent, _scope(path="/sub/text"))
        assert outcome["sent"][1]["body"] == b"Hello, World!"
    assert entered == ["/sub/text"] * 2
    entered.clear()
    limited = RequestBodyLimitMiddleware(build(Hasten(), []), max_body_size=1024)
    for _ in range(2):
        outcome = await _run(limited, _scope(path="/text"))
        assert outcome["sent"][1]["body"] == b"Hello, World!"
    assert entered == ["/text"] * 2


async def test_user_middleware_keeps_every_request_in_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def tag(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-tag"] = "1"
        return response

    app = build(Hasten(middleware=[Middleware(BaseHTTPMiddleware, dispatch=tag)]), [])
    outcome = await _run(app, _scope(path="/json"))
    assert (b"x-tag", b"1") in outcome["sent"][0]["headers"]
    assert outcome["sent"][1]["body"] == b'{"message":"Hello, World!"}'


async def test_a_replaced_stack_is_what_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """An instrumentation that wraps the built stack sees every request."""
    app = build(Hasten(), [])
    await _run(app, _scope(path="/text"))  # the stack built, decided for
    seen: list[str] = []
    inner = app.middleware_stack

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await inner(scope, receive, send)  # type: ignore[misc]

    app.middleware_stack = wrapper
    outcome = await _run(app, _scope(path="/text"))
    assert outcome["sent"][1]["body"] == b"Hello, World!"
    assert seen == ["/text"]


async def test_routes_added_and_removed_later_are_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    assert (await _run(app, _scope(path="/text")))["sent"][1]["body"] == b"Hello, World!"

    @app.get("/later", response_class=PlainTextResponse)
    async def later() -> str:
        return "added"

    entered = _entered(monkeypatch)
    assert (await _run(app, _scope(path="/later")))["sent"][1]["body"] == b"added"
    assert (await _run(app, _scope(path="/later")))["sent"][1]["body"] == b"added"
    assert entered == ["/later"]  # the stack's way once (found there), then the direct way
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") != "/text"]
    assert (await _run(app, _scope(path="/text")))["sent"][0]["status"] == 404


async def test_a_patched_response_class_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replaced ``Response.__call__`` (an instrumentation's) sees the answer."""
    from starlette.responses import Response as StarletteResponse

    seen: list[int] = []
    call = StarletteResponse.__call__

    async def patched(self: Any, scope: Any, receive: Any, send: Any) -> None:
        seen.append(self.status_code)
        await call(self, scope, receive, send)

    app = build(Hasten(), [])
    monkeypatch.setattr(StarletteResponse, "__call__", patched)
    outcome = await _run(app, _scope(path="/json"))
    assert outcome["sent"][1]["body"] == b'{"message":"Hello, World!"}'
    assert seen == [200]


async def test_head_is_answered_as_the_stack_answers_it() -> None:
    outcome, _ = await _both(Hasten, _scope(method="HEAD", path="/json"))
    assert outcome["sent"][0]["status"] == 405  # as in FastAPI: a GET route's methods only


async def test_a_replaced_inner_app_of_the_stack_sees_every_request() -> None:
    """An instrumentation that wraps ``stack.app`` (logfire does) after the first requests."""
    app = await _warm(build(Hasten(), []), _scope(path="/text"))
    await _run(app, _scope(path="/text"))  # the direct way, by now
    stack: Any = app.middleware_stack
    seen: list[str] = []
    inner = stack.app

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await inner(scope, receive, send)

    stack.app = wrapper
    outcome = await _run(app, _scope(path="/text"))
    assert outcome["sent"][1]["body"] == b"Hello, World!"
    assert seen == ["/text"]


async def test_a_route_app_replaced_later_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """An instrumentation that wraps a route's app after it was answered directly sees the
    next request; so does a wrapper that cannot be hashed (it defines ``__eq__``)."""
    app = await _warm(build(Hasten(), []), _scope(path="/text"))
    await _run(app, _scope(path="/text"))  # the direct way, by now
    route = next(r for r in app.router.routes if getattr(r, "path", "") == "/text")
    inner = route.app
    seen: list[str] = []

    class Wrapper:
        def __eq__(self, other: object) -> bool:  # no __hash__ then
            return other is self

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["path"])
            await inner(scope, receive, send)

    async def plain_wrapper(scope: Any, receive: Any, send: Any) -> None:
        seen.append("plain")
        await inner(scope, receive, send)

    for wrapper in (plain_wrapper, Wrapper()):
        route.app = wrapper
        outcome = await _run(app, _scope(path="/text"))
        assert outcome["sent"][1]["body"] == b"Hello, World!"
    assert seen == ["plain", "/text"]
    route.app = inner
    entered = _entered(monkeypatch)
    await _run(app, _scope(path="/text"))
    assert entered == []  # its own runner again: the direct way


async def test_the_routers_table_of_static_paths_stays_one_dict() -> None:
    """``Hasten.__call__`` looks paths up in the dict it was given when the stack was decided
    for; a router that rebuilds its matcher refills that dict."""
    app = await _warm(build(Hasten(), []), _scope(path="/text"))
    table = app.router._matcher.direct
    assert "/text" in table

    @app.get("/later", response_class=PlainTextResponse)
    async def later() -> str:
        return "added"

    await _run(app, _scope(path="/later"))
    assert app.router._matcher.direct is table
    assert set(table) == {"/later"}  # emptied for the new routes, then found again
