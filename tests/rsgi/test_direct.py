"""Requests answered without the ASGI stack (``hasten._rsgi.direct``).

Each request is sent twice to the same app: through ``app.__rsgi__`` (which answers it
directly when it can) and through ``rsgi_call`` (the ASGI adapter and the app's whole stack,
never direct). The protocol calls, the exceptions that reach the server and what the app's
code observes must be the same; separately, the direct answer must be taken where the module
says it is, and not elsewhere.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from fake_rsgi import Headers, HTTPProtocol, Scope
from pydantic import BaseModel
from starlette.background import BackgroundTask

from hasten import FastAPI, Hasten, HTTPException, Query, Request
from hasten._rsgi import RSGIServed
from hasten._rsgi.app import rsgi_call
from hasten._rsgi.direct import DirectAnswers
from hasten.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response


class Item(BaseModel):
    name: str
    price: float


class Teapot(Exception):
    pass


def build(app: Hasten, log: list[Any]) -> Hasten:
    """``app`` with trivial routes of every kind of answer, logging what they see."""
    _add_answers(app, log)
    _add_failures(app, log)
    return app


def _add_answers(app: Hasten, log: list[Any]) -> None:
    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        log.append("text")
        return "Hello, World!"

    @app.get("/html", response_class=HTMLResponse, status_code=201)
    async def html() -> str:
        return "<p>é</p>"

    @app.get("/json")
    async def json_answer() -> dict[str, Any]:
        return {"message": "Hello", "n": [1, 2.5, None]}

    @app.get("/sync")
    def sync_answer() -> list[int]:
        return [1, 2, 3]

    @app.get("/model", response_model=list[Item], status_code=202)
    async def model() -> Any:
        return [{"name": "a", "price": "1.5", "extra": True}]

    @app.get("/response")
    async def response() -> Response:
        log.append("response")
        task = BackgroundTask(log.append, "background")
        return JSONResponse({"own": True}, status_code=203, headers={"x-own": "1"}, background=task)

    @app.get("/not-text", response_class=PlainTextResponse)
    async def not_text() -> Any:
        return 42


def _add_failures(app: Hasten, log: list[Any]) -> None:
    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> JSONResponse:
        scope = request.scope
        log.append(
            (
                "handler",
                scope["route"].path,
                scope["endpoint"].__name__,
                scope["path_params"],
                scope["app"] is app,
                scope["router"] is app.router,
                dict(scope["state"]),
                request.client,
                request.url.path,
                request.headers.get("x-seen"),
            )
        )
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    @app.get("/bad-model", response_model=Item)
    async def bad_model() -> Any:
        return {"name": "a"}

    @app.get("/http-error")
    async def http_error() -> None:
        log.append("http-error")
        raise HTTPException(status_code=409, detail="taken", headers={"x-why": "taken"})

    @app.get("/handled")
    async def handled() -> None:
        raise Teapot("short and stout")

    @app.get("/unhandled")
    def unhandled() -> None:
        raise ValueError("boom")

    @app.get("/unencodable")
    async def unencodable() -> Any:
        return {"value": object()}


PATHS = [
    "/text", "/html", "/json", "/sync", "/model", "/bad-model", "/not-text", "/response",
    "/http-error", "/handled", "/unhandled", "/unencodable",
]  # fmt: skip
DIRECT = {"/text", "/html", "/json", "/sync", "/model"}


def _request(path: str, method: str = "GET", **headers: str) -> Scope:
    pairs = [("host", "test"), ("accept", "*/*"), *headers.items()]
    return Scope(path=path, method=method, headers=Headers(pairs))


async def _send(call: Any) -> tuple[list[Any], str | None]:
    """Await one request; its protocol calls and the exception the server got (if any)."""
    protocol = HTTPProtocol()
    try:
        await call(protocol)
    except Exception as exc:
        return protocol.calls, f"{type(exc).__name__}: {exc}"
    return protocol.calls, None


def _both(app: Hasten, scope: Scope, state: dict[str, Any] | None = None) -> Any:
    """(the direct way's outcome, the stack's outcome, whether the direct way was taken)."""
    state = {} if state is None else state

    async def go() -> Any:
        for _ in range(2):  # the stack is built, then decided on, and the route found
            await _send(lambda p: app.__rsgi__(scope, p))
        taken = app._direct_answers(scope, HTTPProtocol(), state)
        if taken is not None:
            taken.close()
        direct = await _send(lambda p: rsgi_direct(app, scope, p, state))
        stacked = await _send(lambda p: rsgi_call(app, scope, p, state))
        return direct, stacked, taken is not None

    return asyncio.run(go())


def rsgi_direct(app: Hasten, scope: Scope, protocol: Any, state: dict[str, Any]) -> Any:
    answer = app._direct_answers(scope, protocol, state)
    return answer if answer is not None else rsgi_call(app, scope, protocol, state)


@pytest.mark.parametrize("app_class", [Hasten, FastAPI])
@pytest.mark.parametrize("path", PATHS)
def test_a_direct_answer_is_the_stacks(app_class: type[Hasten], path: str) -> None:
    log: list[Any] = []
    app = build(app_class(), log)
    direct, stacked, taken = _both(app, _request(path))
    assert taken  # every trivial route is answered without the stack, or replayed
    assert direct == stacked
    calls, raised = direct
    assert calls and calls[0][0] == "response_bytes"
    if path in DIRECT:
        assert raised is None and calls[0][1] in (200, 201, 202)
    if path in ("/unhandled", "/bad-model", "/unencodable"):
        assert calls[0][1] == 500 and raised is not None  # raised again for the server


def test_what_the_app_sees_on_a_replay_is_the_stacks() -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    scope = _request("/handled", **{"x-seen": "yes"})
    direct, stacked, taken = _both(app, scope, {"pool": "p1"})
    assert taken and direct == stacked
    seen = [entry for entry in log if entry[0] == "handler"]
    assert len(seen) == 4 and seen[-2] == seen[-1]
    assert seen[-1] == (
        "handler", "/handled", "handled", {}, True, True, {"pool": "p1"},
        ("127.0.0.1", 5000), "/handled", "yes",
    )  # fmt: skip


def test_an_endpoint_runs_once_per_request_and_background_tasks_run() -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    _both(app, _request("/http-error"))
    assert log == ["http-error"] * 4
    log.clear()
    direct, stacked, _ = _both(app, _request("/response"))
    assert direct == stacked
    assert log == ["response", "background"] * 4
    assert ("x-own", "1") in direct[0][0][2]


def test_a_method_the_route_does_not_allow_takes_the_stack() -> None:
    app = build(Hasten(), [])
    direct, stacked, taken = _both(app, _request("/json", method="HEAD"))
    assert not taken and direct == stacked
    assert direct[0][0][1] == 405  # a GET route does not answer HEAD (as in FastAPI)


def _taken(app: Hasten, scope: Scope, times: int = 2) -> list[bool]:
    """Whether each of ``times`` requests (after two that warm the app) was taken directly."""

    async def go() -> list[bool]:
        for _ in range(2):
            await _send(lambda p: app.__rsgi__(scope, p))
        found = []
        for _ in range(times):
            protocol = HTTPProtocol()
            answer = app._direct_answers(scope, protocol, {})
            found.append(answer is not None)
            await (app.__rsgi__(scope, protocol) if answer is None else answer)
            assert protocol.kinds()[-1] == "response_bytes"
        return found

    return asyncio.run(go())


def test_requests_with_a_body_or_parameters_take_the_stack() -> None:
    app = build(Hasten(), [])

    @app.get("/query")
    async def query(limit: Annotated[int, Query()] = 1) -> int:
        return limit

    @app.get("/items/{item_id}")
    async def item() -> str:
        return "item"

    @app.get("/request")
    async def with_request(request: Request) -> str:
        return request.url.path

    assert _taken(app, _request("/text", **{"content-length": "0"})) == [False, False]
    assert _taken(app, _request("/text", **{"transfer-encoding": "chunked"})) == [False, False]
    assert _taken(app, _request("/text", method="POST")) == [False, False]  # a 405
    for path in ("/request", "/missing"):
        assert _taken(app, _request(path)) == [False, False]
    assert _taken(app, _request("/text")) == [True, True]
    # a path with parameters is matched as the router would (test_planned.py)
    assert _taken(app, _request("/items/1")) == [True, True]
    assert _taken(app, _request("/items/1", **{"content-length": "0"})) == [False, False]
    # a query parameter is read from the RSGI scope (test_planned.py), a body is not
    assert _taken(app, _request("/query")) == [True, True]
    assert _taken(app, _request("/query", **{"content-length": "0"})) == [False, False]


def test_a_request_with_a_body_is_drained_as_before() -> None:
    app = build(Hasten(), [])
    scope = _request("/text", **{"content-length": "4"})

    async def go() -> list[Any]:
        for _ in range(2):
            protocol = HTTPProtocol(body=b"data")
            await app.__rsgi__(scope, protocol)
        return protocol.kinds()

    assert asyncio.run(go()) == ["read", "response_bytes"]


def test_middleware_root_path_and_call_overrides_take_the_stack() -> None:
    seen: list[str] = []

    class Noting:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["path"])
            await self.app(scope, receive, send)

    with_middleware = build(Hasten(), [])
    with_middleware.add_middleware(Noting)
    assert _taken(with_middleware, _request("/text")) == [False, False]
    assert seen == ["/text"] * 4  # every request went through the middleware

    rooted = build(Hasten(), [])
    rooted.root_path = "/api"
    assert _taken(rooted, _request("/text")) == [False, False]

    class Overriding(Hasten):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append("own call")
            await super().__call__(scope, receive, send)

    overriding = build(Overriding(), [])
    assert _taken(overriding, _request("/text")) == [False, False]
    assert seen.count("own call") == 4  # every request, through the overriding call


def test_changes_to_the_app_are_followed() -> None:
    app = build(Hasten(), [])
    scope = _request("/text")
    assert _taken(app, scope) == [True, True]

    @app.get("/added")
    async def added() -> str:
        return "added"

    assert _taken(app, scope, times=1) == [True]  # the warm-up requests took the new routes
    route = next(r for r in app.routes if getattr(r, "path", None) == "/text")
    original = route.app  # type: ignore[attr-defined]

    async def replaced(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("replaced")(scope, receive, send)

    route.app = replaced  # type: ignore[attr-defined]
    assert _taken(app, scope) == [False, False]
    route.app = original  # type: ignore[attr-defined]
    app.middleware_stack = None  # rebuilt on the next request, then decided again
    assert _taken(app, scope) == [True, True]
    core = app.middleware_stack
    assert core is not None
    inner = core.app  # type: ignore[attr-defined]
    core.app = lambda *args: inner(*args)  # type: ignore[attr-defined]  # an instrumentation
    assert _taken(app, scope) == [False, False]


class _Unhashable:
    """A route app wrapping another, that defines ``__eq__`` (so it cannot be hashed)."""

    def __init__(self, inner: Any, log: list[str]) -> None:
        self.inner = inner
        self.log = log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.log.append(scope["path"])
        await self.inner(scope, receive, send)

    def __eq__(self, other: object) -> bool:
        return other is self


@pytest.mark.parametrize("path", ["/text", "/query"])
def test_a_route_app_that_cannot_be_hashed_takes_the_stack(path: str) -> None:
    app = build(Hasten(), [])

    @app.get("/query")
    async def query(limit: Annotated[int, Query()] = 1) -> int:
        return limit

    scope = _request(path)
    assert _taken(app, scope) == [True, True]
    route = next(r for r in app.routes if getattr(r, "path", None) == path)
    original = route.app  # type: ignore[attr-defined]
    seen: list[str] = []
    route.app = _Unhashable(original, seen)  # type: ignore[attr-defined]
    assert _taken(app, scope) == [False, False]  # answered by the wrapper, through the stack
    assert seen == [path] * 4
    direct, stacked, taken = _both(app, scope)
    assert not taken and direct == stacked and direct[1] is None
    route.app = original  # type: ignore[attr-defined]
    assert _taken(app, scope) == [True, True]


def test_a_traced_request_takes_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build(Hasten(), [])
    scope = _request("/text")
    assert _taken(app, scope) == [True, True]
    monkeypatch.setattr(app, "_telemetry_possible", True)
    monkeypatch.setattr(app, "_telemetry_quiet", lambda: False)  # a provider was configured
    monkeypatch.setattr(app._native_telemetry, "enabled", lambda: True)
    assert app._direct_answers(scope, HTTPProtocol(), {}) is None


def test_a_patched_response_call_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from hasten._plan.respond import JSONBytesResponse

    app = build(Hasten(), [])
    plain_call = JSONBytesResponse.__call__

    async def patched(self: Any, scope: Any, receive: Any, send: Any) -> None:
        self.raw_headers.append((b"x-patched", b"1"))
        await plain_call(self, scope, receive, send)

    monkeypatch.setattr(JSONBytesResponse, "__call__", patched)
    direct, stacked, taken = _both(app, _request("/json"))
    assert taken and direct == stacked
    assert ("x-patched", "1") in direct[0][0][2]


def test_hasten_run_answers_directly_through_the_proxy_layer() -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    log: list[Any] = []
    app = build(Hasten(), log)
    outer = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    served = RSGIServed(outer, "", DirectAnswers(app, outer))
    reference = RSGIServed(outer, "")
    scope = _request("/handled", **{"x-forwarded-for": "203.0.113.9", "x-seen": "p"})

    async def go() -> Any:
        out = []
        for server in (served, served, served, reference):
            out.append(await _send(lambda p, s=server: s.__rsgi__(scope, p)))
        return out

    _, _, direct, stacked = asyncio.run(go())
    assert direct == stacked
    assert served.direct is not None
    taken = served.direct(scope, HTTPProtocol(), {})
    assert taken is not None
    taken.close()
    clients = [entry[7] for entry in log if entry[0] == "handler"]
    assert clients == [("203.0.113.9", 0)] * 4


def _limited(limit: int = 3, headers: bool = False, **options: Any) -> Hasten:
    """``build``'s app behind the app-wide rate limiter (``limit`` requests a minute, a clock
    that stands still)."""
    from hasten.ratelimit import MemoryBackend, RateLimitMiddleware, SlidingWindow

    app = build(Hasten(), [])
    backend = MemoryBackend(clock=lambda: 1000.0)
    app.add_middleware(
        RateLimitMiddleware,
        policy=SlidingWindow(limit, 60),
        backend=backend,
        headers=headers,
        **options,
    )
    return app


def test_the_default_rate_limiter_counts_a_direct_answer_once() -> None:
    direct, stacked = _limited(5), _limited(5)
    # the stack builds and is decided on, the paths are found; then direct answers (and the
    # second /http-error a replay), up to the limit
    sequence = ["/text", "/http-error", "/text", "/http-error", "/text", "/json"]

    async def go(app: Hasten, way: Any) -> list[Any]:
        return [await _send(lambda p, path=path: way(app, _request(path), p)) for path in sequence]

    answers = asyncio.run(go(direct, lambda app, scope, p: app.__rsgi__(scope, p)))
    reference = asyncio.run(go(stacked, lambda app, scope, p: rsgi_call(app, scope, p, {})))
    assert answers == reference
    statuses = [calls[0][1] for calls, _ in answers]
    assert statuses == [200, 409, 200, 409, 200, 429]  # each request counted once
    assert "retry-after" in dict(answers[5][0][0][2])
    assert direct._direct_answers.gate is not None  # the limiter's step ran as the gate


def test_a_rate_limiter_that_reads_more_takes_the_stack() -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    assert _taken(_limited(headers=True), _request("/text")) == [False, False]
    assert _taken(_limited(exclude=["/health"]), _request("/text")) == [False, False]
    app = _limited()
    assert _taken(app, _request("/text")) == [True, True]  # the 4th: a refusal, answered here
    proxied = _limited()
    outer = ProxyHeadersMiddleware(proxied, trusted_hosts="127.0.0.1")
    served = RSGIServed(outer, "", DirectAnswers(proxied, outer))  # the proxy sets the client

    async def go() -> list[bool]:
        found = []
        for _ in range(3):
            answer = served.direct(_request("/text"), HTTPProtocol(), {})  # type: ignore[misc]
            found.append(answer is not None)
            await served.__rsgi__(_request("/text"), HTTPProtocol())
        return found

    assert asyncio.run(go()) == [False, False, False]


def _metered(registry: Any, middleware: Any = None) -> Hasten:
    """``build``'s app with the Prometheus middleware counting into ``registry``."""
    from hasten.metrics import PrometheusMiddleware

    app = build(Hasten(), [])
    app.add_middleware(middleware or PrometheusMiddleware, registry=registry)
    return app


def _samples(registry: Any) -> dict[Any, float]:
    """The registry's samples that do not depend on the time a request took: the counts by
    method, route and status, the in-progress gauge, and each histogram's +Inf bucket."""
    found = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name.endswith(("_sum", "_created")) or (
                sample.name.endswith("_bucket") and sample.labels["le"] != "+Inf"
            ):
                continue
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_the_prometheus_steps_run_around_a_direct_answer() -> None:
    from prometheus_client import CollectorRegistry

    direct_registry, stacked_registry = CollectorRegistry(), CollectorRegistry()
    direct, stacked = _metered(direct_registry), _metered(stacked_registry)
    sequence = [path for path in PATHS for _ in range(3)] + ["/text", "/json"]

    async def go(app: Hasten, way: Any) -> list[Any]:
        return [await _send(lambda p, path=path: way(app, _request(path), p)) for path in sequence]

    answers = asyncio.run(go(direct, lambda app, scope, p: app.__rsgi__(scope, p)))
    reference = asyncio.run(go(stacked, lambda app, scope, p: rsgi_call(app, scope, p, {})))
    assert answers == reference
    assert direct._direct_answers.observer is not None  # the steps ran around direct answers
    assert _taken(direct, _request("/text")) == [True, True]
    assert _taken(stacked, _request("/text")) == [True, True]  # the same for both, again
    found = _samples(direct_registry)
    assert found == _samples(stacked_registry)
    requests = {
        (labels["route"], labels["status"]): value
        for (name, pairs), value in found.items()
        if name == "http_requests_total"
        for labels in [dict(pairs)]
    }
    assert requests[("/text", "200")] == 8  # 3, 1 more in the sequence, 4 in ``_taken``
    assert requests[("/unhandled", "500")] == 3  # a replay's status, noted once per request
    assert requests[("/http-error", "409")] == 3
    assert requests[("/response", "203")] == 3
    assert found["http_requests_in_progress", ()] == 0


def test_a_prometheus_middleware_that_reads_more_takes_the_stack() -> None:
    from prometheus_client import CollectorRegistry

    from hasten.metrics import PrometheusMiddleware

    class Own(PrometheusMiddleware):
        def leave(self, scope: Any, observed: Any) -> None:
            super().leave(scope, observed)

    app = _metered(CollectorRegistry(), Own)
    assert _taken(app, _request("/text")) == [False, False]
    assert app._direct_answers.observer is None
