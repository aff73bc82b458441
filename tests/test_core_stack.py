"""The default stack of an app without user middleware runs in one coroutine (``hasten._core``)
and answers as the separate layers (server errors, body limit, exception handlers) do."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.background import BackgroundTask
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from hasten import APIRouter, BackgroundTasks, FastAPI, Hasten, HTTPException, Request
from hasten._core import CoreStack, SteppedCoreStack
from hasten.testclient import TestClient


def _scope(method: str = "GET", path: str = "/", **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    scope.update(extra)
    return scope


async def _call(app: Any, scope: dict[str, Any], body: bytes = b"") -> list[dict[str, Any]]:
    """Messages the app sends, with a ``send`` that refuses nothing (unlike a server)."""
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_the_stack_is_one_layer_that_is_the_server_error_middleware() -> None:
    app = Hasten()
    app.get("/")(lambda: {"ok": True})
    assert TestClient(app).get("/").json() == {"ok": True}
    stack = app.middleware_stack
    assert isinstance(stack, CoreStack) and isinstance(stack, ServerErrorMiddleware)
    assert stack.app is stack._limited  # the chain the separate layers would form
    layered = Hasten()
    layered.get("/")(lambda: {"ok": True})
    layered.add_middleware(PlainMiddleware)
    assert TestClient(layered).get("/").json() == {"ok": True}
    assert not isinstance(layered.middleware_stack, CoreStack)  # user middleware: layers


class PlainMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _late_failure(app: FastAPI) -> FastAPI:
    def fail() -> None:
        raise LookupError("late")

    @app.get("/late")
    def late(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(fail)
        return {"sent": "yes"}

    @app.get("/late-trivial")
    def late_trivial() -> JSONResponse:
        return JSONResponse({"sent": "yes"}, background=BackgroundTask(fail))

    return app


@pytest.mark.anyio
@pytest.mark.parametrize("app_class", [FastAPI, Hasten])  # without, with a body limit
@pytest.mark.parametrize("path", ["/late", "/late-trivial"])
async def test_an_error_after_the_response_started_gets_no_second_start(
    app_class: type[FastAPI], path: str
) -> None:
    app = _late_failure(app_class())
    with pytest.raises(LookupError):
        await _call(app, _scope(path=path))
    # No server refused anything here: the runner noted the start (in the scope, or on the
    # limit's counter), so the 500 was not sent.
    sent = await _sent_before_error(app, _scope(path=path))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    scope = _scope(path=path)
    await _sent_before_error(app, scope)
    assert ("hasten.response_started" in scope) is (app_class is FastAPI)


@pytest.mark.anyio
@pytest.mark.parametrize("app_class", [FastAPI, Hasten])
async def test_under_starlettes_own_body_limit_the_500_path_works(app_class: type[FastAPI]) -> None:
    """Starlette's ``RequestBodyLimitMiddleware`` puts its responder under the key a Hasten
    limit uses: a runner notes the start in the scope then, and a 500 is still answered."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.body_limit import RequestBodyLimitMiddleware
    from starlette.routing import Mount

    inner = _late_failure(app_class())

    @inner.get("/boom")
    def boom() -> None:
        raise KeyError("k")

    outer = Starlette(
        routes=[Mount("/inner", inner)],
        middleware=[Middleware(RequestBodyLimitMiddleware, max_body_size=1024)],
    )
    sent = await _sent_before_error(outer, _scope(path="/inner/late"))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    with pytest.raises(KeyError):
        await _call(outer, _scope(path="/inner/boom"))
    answered = await _sent_before_error(outer, _scope(path="/inner/boom"), KeyError)
    assert answered[0]["status"] == 500


@pytest.mark.anyio
async def test_an_error_after_the_start_in_a_mounted_app_gets_no_second_start() -> None:
    """A Hasten app mounted in another runs under the parent's limit (its counter)."""
    parent = Hasten()
    parent.mount("/inner", _late_failure(Hasten()))
    sent = await _sent_before_error(parent, _scope(path="/inner/late"))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200


async def _sent_before_error(
    app: Any, scope: dict[str, Any], error: type[Exception] = LookupError
) -> list[dict[str, Any]]:
    """The messages the app sent before ``error`` got out of it (a late failure's, by default)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(error):
        await app(scope, receive, send)
    return sent


def test_an_unhandled_error_is_answered_by_the_500_handler_and_raised_again() -> None:
    app = Hasten()
    seen: list[str] = []

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        seen.append(type(exc).__name__)
        return JSONResponse({"error": str(exc)}, status_code=500)

    @app.get("/boom")
    def boom() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        TestClient(app).get("/boom")
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.json()) == (500, {"error": "'k'"})
    assert seen == ["KeyError", "KeyError"]


def test_a_stream_that_fails_midway_raises_its_own_error() -> None:
    """A plain Starlette route (not a compiled one) streams, then fails: the 500 is offered,
    the test client refuses a second start, and the stream's own error reaches the caller."""

    async def chunks() -> Any:
        yield b"first"
        raise ValueError("midway")

    async def stream(request: Any) -> StreamingResponse:
        return StreamingResponse(chunks())

    app = Hasten(routes=[Route("/stream", stream)])
    with pytest.raises(ValueError, match="midway"):
        TestClient(app).get("/stream")


def test_handled_exceptions_keep_their_handlers() -> None:
    app = Hasten()

    @app.exception_handler(LookupError)
    async def on_lookup(request: Request, exc: LookupError) -> PlainTextResponse:
        return PlainTextResponse("missing", status_code=404)

    app.get("/lookup")(_raise_lookup)
    app.get("/teapot")(_raise_teapot)
    client = TestClient(app)
    assert (client.get("/lookup").status_code, client.get("/lookup").text) == (404, "missing")
    assert client.get("/teapot").json() == {"detail": "short and stout"}
    assert client.get("/nowhere").json() == {"detail": "Not Found"}


def _raise_lookup() -> None:
    raise LookupError


def _raise_teapot() -> None:
    raise HTTPException(status_code=418, detail="short and stout")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "extra",
    [
        {"headers": [(b"host", b"t"), (b"content-length", b"%d")]},
        {"headers": [(b"host", b"t"), (b"transfer-encoding", b"chunked")]},
        {"http_version": "2"},  # no header announces an HTTP/2 body
        {},  # nor does this caller's: a body no header announces is counted too
    ],
)
async def test_the_app_limit_still_counts_every_request_that_may_carry_a_body(
    extra: dict[str, Any],
) -> None:
    app = Hasten(max_body_size=10)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    def scope(size: int) -> dict[str, Any]:
        headers = [
            (name, value % size if b"%" in value else value)
            for name, value in extra.get("headers", [])
        ]
        return _scope("POST", "/echo", **{**extra, "headers": headers or [(b"host", b"t")]})

    sent = await _call(app, scope(20), body=b"x" * 20)
    assert sent[0]["status"] == 413
    assert sent[1]["body"] == b'{"detail":"Content Too Large"}'
    small = await _call(app, scope(5), body=b"x" * 5)
    assert small[0]["status"] == 200 and small[1]["body"] == b'{"size":5}'


def test_a_replaced_inner_app_runs_inside_starlettes_layer() -> None:
    """An instrumentation that wraps ``stack.app`` (logfire does) gets its wrapper called."""
    app = Hasten()
    app.get("/")(lambda: "ok")
    client = TestClient(app)
    client.get("/")
    stack = app.middleware_stack
    calls: list[str] = []
    inner = stack.app

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await inner(scope, receive, send)

    stack.app = wrapper
    assert client.get("/").json() == "ok"
    assert calls == ["/"]


def test_the_core_awaits_a_plain_route_that_its_router_finds() -> None:
    """With the router's own ``app``, the core asks its synchronous finder and awaits the
    route itself; the generic matching (405, 404, redirects, path parameters) is unchanged."""
    app = Hasten()
    app.get("/items/{item_id}")(lambda item_id: {"id": item_id})
    app.get("/plain")(lambda: "plain")
    client = TestClient(app)
    assert client.get("/plain").json() == "plain"
    stack = app.middleware_stack
    assert stack._find == app.router.direct_target
    assert client.get("/items/3").json() == {"id": "3"}
    assert client.post("/plain").status_code == 405
    assert client.get("/nowhere").status_code == 404
    redirected = client.get("/plain/", follow_redirects=False)
    assert (redirected.status_code, redirected.headers["location"]) == (
        307,
        "http://testserver/plain",
    )


def test_a_router_whose_app_is_its_own_is_called_as_before() -> None:
    """A router class that overrides ``app`` gets every request through it."""
    calls: list[str] = []

    class Counting(APIRouter):
        async def app(self, scope: Any, receive: Any, send: Any) -> None:  # type: ignore[override]
            calls.append(scope["type"])
            await super().app(scope, receive, send)

    app = Hasten()
    app.router.__class__ = Counting
    app.router.middleware_stack = app.router.app  # as ``Router.__init__`` sets it
    app.get("/")(lambda: "ok")
    client = TestClient(app)
    with client:
        assert client.get("/").json() == "ok"
    assert "http" in calls
    assert app.middleware_stack._find is not app.router.direct_target


def test_hastens_own_middleware_runs_as_steps_of_the_core() -> None:
    from prometheus_client import CollectorRegistry

    from hasten.metrics import HTTPMetrics, PrometheusMiddleware
    from hasten.ratelimit import RateLimitMiddleware, SlidingWindow

    registry = CollectorRegistry()
    app = Hasten(max_body_size=10)
    app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(2, 60))
    app.add_middleware(PrometheusMiddleware, metrics=HTTPMetrics(registry))

    @app.get("/boom")
    def boom() -> None:
        raise KeyError("k")

    @app.post("/echo")
    async def echo(request: Request) -> int:
        return len(await request.body())

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/boom").status_code == 500
    assert client.post("/echo", content=b"x" * 11).status_code == 413
    assert client.post("/echo", content=b"x").status_code == 429  # the third request
    stack = app.middleware_stack
    assert isinstance(stack, SteppedCoreStack)
    assert [type(step) for step in stack.steps] == [PrometheusMiddleware, RateLimitMiddleware]
    statuses = {
        sample.labels["status"]
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "http_requests_total"
    }
    assert statuses == {"500", "413", "429"}


class OutsideLayer(PlainMiddleware):
    """May wrap the core from outside but is no step: Hasten's middleware stays layers."""

    hasten_outside_core = True


def _watched_app(*, layers: bool, registry: Any) -> Hasten:
    from hasten.metrics import HTTPMetrics, PrometheusMiddleware
    from hasten.ratelimit import RateLimitMiddleware, SlidingWindow

    app = Hasten()
    app.add_middleware(
        RateLimitMiddleware, policy=SlidingWindow(100, 60), name="inner", headers=True
    )
    app.add_middleware(PrometheusMiddleware, metrics=HTTPMetrics(registry))
    app.add_middleware(
        RateLimitMiddleware,
        policy=SlidingWindow(7, 60),
        name="outer",
        exclude=["/free"],
        headers=True,
    )
    if layers:
        app.add_middleware(OutsideLayer)
    shared = PlainTextResponse("shared", headers={"x-kind": "shared"})

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/shared")
    def same_response() -> PlainTextResponse:
        return shared  # the same object every time: its headers must not grow

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]))

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/boom")
    def boom() -> None:
        raise KeyError("k")

    @app.get("/free")
    def free() -> str:
        return "free"

    return app


def test_steps_answer_as_the_layers_they_replace() -> None:
    """The same middleware as steps of the core and as layers around it: the same statuses,
    headers (in the same order) and bodies, and the same metrics."""
    from prometheus_client import CollectorRegistry

    answers: dict[bool, list[tuple[int, list[tuple[str, str]], bytes]]] = {}
    samples: dict[bool, set[tuple[str, str, float]]] = {}
    for layers in (False, True):
        registry = CollectorRegistry()
        app = _watched_app(layers=layers, registry=registry)
        client = TestClient(app, raise_server_exceptions=False)
        paths = ["/plain", "/shared", "/shared", "/stream", "/teapot", "/boom", "/missing"]
        paths += ["/free", "/plain", "/plain"]  # the outer limit of 7: the 8th and 9th refused
        answers[layers] = []
        for path in paths:
            response = client.get(path)
            headers = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
            answers[layers].append((response.status_code, headers, response.content))
        samples[layers] = {
            (sample.labels["route"], sample.labels["status"], sample.value)
            for metric in registry.collect()
            for sample in metric.samples
            if sample.name == "http_requests_total"
        }
        assert isinstance(app.middleware_stack, SteppedCoreStack) is not layers
    assert answers[False] == answers[True]
    statuses = [status for status, _, _ in answers[False]]
    assert statuses == [200, 200, 200, 200, 418, 500, 404, 200, 429, 429]
    plain_headers = answers[False][0][1]
    names = [name for name, _ in plain_headers]
    # the inner limiter's pair, then the outer one's: as layers appending on the way out
    assert names[-4:] == ["ratelimit", "ratelimit-policy", "ratelimit", "ratelimit-policy"]
    assert plain_headers[-4][1].startswith('"inner";') and plain_headers[-2][1].startswith(
        '"outer";'
    )
    shared_headers = [answers[False][1][1], answers[False][2][1]]
    assert len(shared_headers[0]) == len(shared_headers[1])  # nothing accumulated
    free_headers = dict(answers[False][7][1])
    assert free_headers["ratelimit"].startswith('"inner";')  # excluded by the outer one only
    refused = dict(answers[False][8][1])
    assert refused["retry-after"] and refused["ratelimit"].startswith('"outer";r=0')
    assert samples[False] == samples[True]
    assert ("/plain", "200", 1.0) in samples[False] and ("/boom", "500", 1.0) in samples[False]
    assert ("<unmatched>", "404", 1.0) in samples[False]
    # the outer limiter is around the metrics: its refusals never reach them
    assert not any(status == "429" for _, status, _ in samples[False])


def test_a_redis_limiter_stays_a_layer() -> None:
    """A check that awaits (the Redis backend) cannot be a step: the middleware is a layer."""
    from hasten.ratelimit import RateLimitMiddleware, RedisBackend, SlidingWindow

    app = Hasten()
    backend = RedisBackend("redis://127.0.0.1:1")  # never reached: nothing is requested
    app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(5, 60), backend=backend)
    app.get("/")(lambda: "ok")
    stack = app.build_middleware_stack()
    assert isinstance(stack, RateLimitMiddleware) and not stack.steppable
    assert type(stack.app) is CoreStack


def test_a_replaced_stack_builder_keeps_the_error_layer_on_top() -> None:
    """OpenTelemetry and Logfire replace ``build_middleware_stack`` on the app and expect
    ``ServerErrorMiddleware`` on top of what the original builds."""
    from hasten.ratelimit import RateLimitMiddleware, SlidingWindow

    app = Hasten()
    app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(100, 60))
    app.get("/")(lambda: "ok")
    original = app.build_middleware_stack
    built: list[Any] = []

    def build() -> Any:
        stack = original()
        built.append(stack)
        return stack

    app.build_middleware_stack = build  # type: ignore[method-assign]
    assert TestClient(app).get("/").json() == "ok"
    assert isinstance(built[0], ServerErrorMiddleware)
    assert not isinstance(built[0], CoreStack)  # user middleware inside: the separate layers
