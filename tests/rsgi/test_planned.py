"""Plain routes whose parameters are solved from the RSGI scope (``hasten._rsgi.planned``).

As in test_direct.py, each request goes through ``app.__rsgi__``'s direct answer and through
the ASGI adapter with the app's whole stack: the protocol calls, the exceptions the server
gets and what the app's code sees must be the same. Separately, the direct way must be taken
for the routes that read header, query and path parameters only, and not for the others.
"""

import asyncio
from typing import Annotated, Any

import pytest
from fake_rsgi import Headers, Scope
from starlette.background import BackgroundTask
from test_direct import Item, Teapot, _both, _samples, _send, _taken

from hasten import (
    BackgroundTasks,
    Cookie,
    Depends,
    FastAPI,
    Hasten,
    Header,
    HTTPException,
    Query,
    Request,
    Security,
)
from hasten._plan.planned import ready
from hasten._rsgi.app import rsgi_call
from hasten.responses import JSONResponse
from hasten.security import APIKeyHeader


def build(app: Hasten, log: list[Any]) -> Hasten:
    """``app`` with planned routes (``_planned_*``) and routes that are not (``_not_planned``)."""
    _planned_chain(app, log)
    _planned_params(app, log)
    _not_planned(app, log)
    return app


def _planned_chain(app: Hasten, log: list[Any]) -> None:
    async def get_token(x_token: Annotated[str, Header()]) -> str:
        log.append("token")
        return x_token

    async def get_user(token: Annotated[str, Depends(get_token)]) -> dict[str, str]:
        if token != "secret":
            raise HTTPException(status_code=401, detail="bad token", headers={"x-why": token})
        return {"name": "admin"}

    async def require_admin(user: Annotated[dict[str, str], Depends(get_user)]) -> dict[str, str]:
        return user

    @app.get("/deps")
    async def deps(
        user: Annotated[dict[str, str], Depends(require_admin)],
        again: Annotated[str, Depends(get_token)],
    ) -> dict[str, str]:
        return {**user, "token": again}

    @app.get("/uncached")
    async def uncached(
        first: Annotated[str, Depends(get_token, use_cache=False)],
        second: Annotated[str, Depends(get_token, use_cache=False)],
    ) -> list[str]:
        return [first, second]


async def teapot(x_brew: Annotated[str | None, Header()] = None) -> None:
    """A dependency reading one header that raises ``Teapot`` when it is sent."""
    if x_brew is not None:
        raise Teapot(x_brew)


def _planned_params(app: Hasten, log: list[Any]) -> None:
    def sync_limit(limit: int = 10) -> int:
        log.append("limit")
        return limit

    @app.exception_handler(Teapot)
    async def handle_teapot(request: Request, exc: Teapot) -> JSONResponse:
        scope = request.scope
        seen = (scope["route"].path, scope["path_params"], dict(scope["state"]), request.client)
        keys = sorted(key for key in scope if key.startswith("hasten.rsgi"))  # taken out
        log.append(("handler", *seen, request.headers.get("x-brew"), keys))
        return JSONResponse({"teapot": str(exc)}, status_code=418)

    @app.get("/headers")
    async def headers(
        x_count: Annotated[int, Header()],
        user_agent: Annotated[str | None, Header()] = None,
        other: Annotated[str, Header(alias="X-Other")] = "none",
        x_name: Annotated[str | None, Header(convert_underscores=False)] = None,
    ) -> dict[str, Any]:
        return {"count": x_count, "agent": user_agent, "other": other, "name": x_name}

    @app.get("/query")
    async def query(
        limit: Annotated[int, Depends(sync_limit)],
        q: str | None = None,
        tags: Annotated[list[str], Query()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"limit": limit, "q": q, "tags": tags}

    @app.get("/sync", dependencies=[Depends(teapot)])
    def sync_endpoint(x_token: Annotated[str, Header()], n: int = 0) -> dict[str, Any]:
        return {"token": x_token, "n": n}

    @app.get("/batched")  # plain ``def`` all the way: solved and called in one thread hop
    def batched(
        limit: Annotated[int, Depends(sync_limit)], x_token: Annotated[str, Header()]
    ) -> dict[str, Any]:
        return {"limit": limit, "token": x_token}

    @app.get("/model", response_model=Item)
    async def model(x_price: Annotated[str, Header()]) -> Any:
        return {"name": "thing", "price": x_price}

    @app.get("/own", dependencies=[Depends(teapot)])
    async def own(x_token: Annotated[str, Header()]) -> JSONResponse:
        log.append("own")
        task = BackgroundTask(log.append, "background")
        return JSONResponse({"token": x_token}, status_code=203, background=task)


def _not_planned(app: Hasten, log: list[Any]) -> None:
    async def with_request(request: Request) -> str:
        return request.url.path

    async def with_yield() -> Any:
        log.append("enter")
        yield "value"
        log.append("exit")

    @app.get("/request")
    async def request_dependency(path: Annotated[str, Depends(with_request)]) -> str:
        return path

    @app.get("/cookie")
    async def cookie(session: Annotated[str | None, Cookie()] = None) -> str | None:
        return session

    @app.get("/host")
    async def host(host: Annotated[str, Header()]) -> str:
        return host

    @app.get("/listed")
    async def listed(x_tag: Annotated[list[str], Header()]) -> list[str]:
        return x_tag

    @app.get("/yield")
    async def yielded(value: Annotated[str, Depends(with_yield)]) -> str:
        return value

    @app.get("/background")
    async def background(tasks: BackgroundTasks, x_token: Annotated[str, Header()]) -> str:
        tasks.add_task(log.append, "task")
        return x_token

    @app.get("/key")
    async def key(value: Annotated[str, Security(APIKeyHeader(name="x-key"))]) -> str:
        return value


def _request(path: str, query: str = "", *pairs: tuple[str, str]) -> Scope:
    headers = Headers([("host", "test"), ("accept", "*/*"), *pairs])
    return Scope(path=path, method="GET", headers=headers, query_string=query)


TOKEN = ("x-token", "secret")
CASES = [
    ("/deps", "", [TOKEN]),
    ("/deps", "", [("x-token", "wrong")]),  # a 401 from a dependency, with its header
    ("/deps", "", []),  # a 422: the header is missing
    ("/deps", "", [TOKEN, ("x-token", "second")]),  # the first of a repeated header
    ("/headers", "", [("x-count", "3"), ("user-agent", "probe"), ("x-other", "o")]),
    ("/headers", "", [("x-count", "three")]),  # a 422: not an integer
    ("/headers", "", [("x-count", "1"), ("x_name", "underscored"), ("x-name", "dashed")]),
    ("/headers", "", [("x-count", "1"), ("user-agent", "café")]),  # read as Latin-1
    ("/query", "q=a%20b&tags=x&tags=y+z&limit=3", []),
    ("/query", "q=plain&limit=5", []),
    ("/query", "limit=x", []),  # a 422 from the sync dependency's parameter
    ("/query", "q=é", []),  # text from RSGI, encoded back as the adapter does
    ("/sync", "n=2", [TOKEN]),
    ("/sync", "n=2", [TOKEN, ("x-brew", "earl grey")]),  # the handler, on the stack's scope
    ("/uncached", "", [TOKEN]),
    ("/batched", "limit=4", [TOKEN]),
    ("/batched", "limit=four", []),  # two errors: the dependency's query, the header
    ("/model", "", [("x-price", "1.5")]),
    ("/model", "", [("x-price", "free")]),  # the response does not validate: a 500
    ("/own", "", [TOKEN]),  # the endpoint's own response, replayed with its background task
]


@pytest.mark.parametrize("app_class", [Hasten, FastAPI])
@pytest.mark.parametrize(("path", "query", "pairs"), CASES)
def test_a_planned_answer_is_the_stacks(
    app_class: type[Hasten], path: str, query: str, pairs: list[tuple[str, str]]
) -> None:
    log: list[Any] = []
    app = build(app_class(), log)
    direct, stacked, taken = _both(app, _request(path, query, *pairs), {"pool": "p"})
    assert taken
    assert direct == stacked
    calls, _ = direct
    assert calls and calls[0][0] == "response_bytes"


def test_what_the_app_sees_is_the_stacks() -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    _both(app, _request("/sync", "", TOKEN, ("x-brew", "assam")), {"pool": "p"})
    handled = [entry for entry in log if entry[0] == "handler"]
    assert len(handled) == 4 and handled[-2] == handled[-1]  # direct, then the stack's
    assert handled[-1] == (
        "handler", "/sync", {}, {"pool": "p"}, ("127.0.0.1", 5000), "assam", [],
    )  # fmt: skip
    log.clear()
    _both(app, _request("/uncached", "", TOKEN))
    assert log == ["token"] * 8  # each dependency once per use, in each of four requests
    log.clear()
    direct, _, _ = _both(app, _request("/own", "", TOKEN))
    assert log == ["own", "background"] * 4  # the endpoint once, its task after the answer
    assert direct[0][0][1] == 203


def test_answers_of_planned_routes() -> None:
    app = build(Hasten(), [])
    calls, _ = _both(app, _request("/deps", "", TOKEN))[0]
    assert (calls[0][1], calls[0][3]) == (200, b'{"name":"admin","token":"secret"}')
    missing, _ = _both(app, _request("/deps", "", ("x-other", "1")))[0]
    assert missing[0][1] == 422
    assert b'"loc":["header","x-token"]' in missing[0][3]
    query, _ = _both(app, _request("/query", "q=a%20b&tags=x&tags=y+z&limit=3"))[0]
    assert query[0][3] == b'{"limit":3,"q":"a b","tags":["x","y z"]}'
    latin, _ = _both(app, _request("/headers", "", ("x-count", "1"), ("user-agent", "café")))[0]
    assert "cafÃ©" in latin[0][3].decode()


@pytest.mark.parametrize(
    "path", ["/request", "/cookie", "/host", "/listed", "/yield", "/background", "/key"]
)
def test_routes_that_read_more_take_the_stack(path: str) -> None:
    app = build(Hasten(), [])
    pairs = [TOKEN, ("cookie", "session=s"), ("x-tag", "a"), ("x-key", "k")]
    assert _taken(app, _request(path, "", *pairs)) == [False, False]
    direct, stacked, taken = _both(app, _request(path, "", *pairs))
    assert not taken and direct == stacked
    assert direct[0][0][1] == 200


def test_the_routes_that_are_planned() -> None:
    app = build(Hasten(), [])
    planned = {
        route.path
        for route in app.routes
        if hasattr(route, "plan")
        and route.plan.serve.__name__ == "serve_plain"
        and ready(route.plan)  # fmt: skip
    }
    assert planned == {
        "/deps", "/headers", "/query", "/sync", "/uncached", "/batched", "/model", "/own",
    }  # fmt: skip


def test_dependency_overrides_take_the_stack() -> None:
    log: list[Any] = []
    app = build(Hasten(), log)
    scope = _request("/deps", "", TOKEN)
    assert _taken(app, scope) == [True, True]
    route = next(r for r in app.routes if getattr(r, "path", None) == "/deps")
    get_token = route.dependant.dependencies[0].dependencies[0].dependencies[0].call  # type: ignore[attr-defined]
    app.dependency_overrides[get_token] = lambda: "secret"
    assert _taken(app, scope) == [False, False]
    direct, stacked, taken = _both(app, _request("/deps", "", ("x-token", "wrong")))
    assert not taken and direct == stacked
    assert direct[0][0][1] == 200  # the override's token, not the header's
    app.dependency_overrides.clear()
    assert _taken(app, scope) == [True, True]


def test_a_route_whose_app_was_replaced_takes_the_stack() -> None:
    app = build(Hasten(), [])
    scope = _request("/deps", "", TOKEN)
    assert _taken(app, scope) == [True, True]
    route = next(r for r in app.routes if getattr(r, "path", None) == "/deps")
    original = route.app  # type: ignore[attr-defined]

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        await original(scope, receive, send)

    route.app = wrapped  # type: ignore[attr-defined]
    assert _taken(app, scope) == [False, False]


def test_a_validation_error_says_which_request_it_answered() -> None:
    from hasten.exceptions import RequestValidationError

    log: list[Any] = []
    app = build(Hasten(), log)

    @app.exception_handler(RequestValidationError)
    async def noted(request: Request, exc: RequestValidationError) -> JSONResponse:
        log.append((exc.endpoint_ctx.get("path"), str(exc)))
        return JSONResponse({"errors": len(exc.errors())}, status_code=422)

    direct, stacked, taken = _both(app, _request("/headers", "", ("x-count", "many")))
    assert taken and direct == stacked
    noted_ones = [entry for entry in log if entry[0] is not None]
    assert len(noted_ones) == 4 and noted_ones[-2] == noted_ones[-1]
    assert noted_ones[-1][0] == "GET /headers"


def _sequence() -> list[Scope]:
    return [
        _request(path, query, *pairs)
        for path, query, pairs in CASES
        if path in ("/deps", "/query", "/model", "/own")
    ]


def _run(app: Hasten, way: Any, scopes: list[Scope]) -> list[Any]:
    async def go() -> list[Any]:
        return [await _send(lambda p, scope=scope: way(app, scope, p)) for scope in scopes]

    return asyncio.run(go())


def test_the_prometheus_steps_run_around_a_planned_answer() -> None:
    from prometheus_client import CollectorRegistry

    from hasten.metrics import PrometheusMiddleware

    registries = CollectorRegistry(), CollectorRegistry()
    apps = [build(Hasten(), []) for _ in registries]
    for app, registry in zip(apps, registries, strict=True):
        app.add_middleware(PrometheusMiddleware, registry=registry)
    scopes = _sequence() * 2
    answers = _run(apps[0], lambda app, scope, p: app.__rsgi__(scope, p), scopes)
    reference = _run(apps[1], lambda app, scope, p: rsgi_call(app, scope, p, {}), scopes)
    assert answers == reference
    assert apps[0]._direct_answers.observer is not None
    assert _taken(apps[0], _request("/deps", "", TOKEN)) == [True, True]
    assert _taken(apps[1], _request("/deps", "", TOKEN)) == [True, True]
    found = _samples(registries[0])
    assert found == _samples(registries[1])
    statuses = {
        (labels["route"], labels["status"]): value
        for (name, pairs), value in found.items()
        if name == "http_requests_total"
        for labels in [dict(pairs)]
    }
    assert statuses[("/deps", "200")] == 2 + 2 + 4  # twice in each sequence, 4 in ``_taken``
    assert statuses[("/deps", "401")] == 2 and statuses[("/deps", "422")] == 2
    assert statuses[("/model", "500")] == 2 and statuses[("/own", "203")] == 2


def test_the_default_rate_limiter_counts_a_planned_answer_once() -> None:
    from hasten.ratelimit import MemoryBackend, RateLimitMiddleware, SlidingWindow

    apps = [build(Hasten(), []) for _ in range(2)]
    for app in apps:
        backend = MemoryBackend(clock=lambda: 1000.0)
        app.add_middleware(
            RateLimitMiddleware, policy=SlidingWindow(6, 60), backend=backend, headers=False
        )
    scopes = _sequence()  # 11 requests: those after the sixth are refused
    answers = _run(apps[0], lambda app, scope, p: app.__rsgi__(scope, p), scopes)
    reference = _run(apps[1], lambda app, scope, p: rsgi_call(app, scope, p, {}), scopes)
    assert answers == reference
    statuses = [calls[0][1] for calls, _ in answers]
    assert 429 not in statuses[:6] and statuses[6:] == [429] * 5
    assert apps[0]._direct_answers.gate is not None
