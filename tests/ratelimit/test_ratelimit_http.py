"""Per route, per router and app-wide limits over HTTP: the 429's shape, the headers, keys.

Headers follow draft-ietf-httpapi-ratelimit-headers-09: ``RateLimit: "<name>";r=<remaining>;
t=<seconds>`` and ``RateLimit-Policy: "<name>";q=<quota>;w=<window seconds>``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import httpx
import pytest
from conftest import Clock

from hasten import APIRouter, Depends, FastAPI, HTTPException, Request, WebSocket
from hasten.ratelimit import (
    Limiter,
    MemoryBackend,
    RateLimit,
    RateLimitMiddleware,
    SlidingWindow,
    TokenBucket,
    by_client,
    by_header,
    by_user,
)
from hasten.responses import JSONResponse
from hasten.testclient import TestClient
from hasten.websockets import WebSocketDisconnect


def _get(app: Any, path: str, peer: str = "127.0.0.1", **headers: str) -> httpx.Response:
    """One request from ``peer`` (the direct client address)."""

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(peer, 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(run())


def test_route_limit_429_in_fastapis_shape_with_headers(clock: Clock) -> None:
    app = FastAPI()
    limit = RateLimit(SlidingWindow(2, 60), backend=MemoryBackend(clock=clock), headers=True)

    @app.get("/items", dependencies=[limit])
    async def items() -> list[int]:
        return [1]

    @app.get("/free")
    async def free() -> str:
        return "free"

    client = TestClient(app)
    first, second, refused = (client.get("/items") for _ in range(3))
    assert (first.status_code, first.json()) == (200, [1])
    assert first.headers["ratelimit"] == '"default";r=1;t=60'
    assert first.headers["ratelimit-policy"] == '"default";q=2;w=60'
    assert second.headers["ratelimit"] == '"default";r=0;t=60'
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Rate limit exceeded: 2 requests per 60 seconds"}
    assert refused.headers["retry-after"] == "61"  # the wait (60 s) is still refused: past it
    assert refused.headers["ratelimit"] == '"default";r=0;t=61'
    assert refused.headers["ratelimit-policy"] == '"default";q=2;w=60'
    assert client.get("/free").status_code == 200  # other routes are not limited
    clock.advance(30)
    assert client.get("/items").status_code == 429
    clock.advance(31)  # 61 s: floor(2 * 59/60) = 1 counts, one place
    assert client.get("/items").status_code == 200


def test_router_limit_covers_its_routes_together_and_app_handlers_render_it(
    clock: Clock,
) -> None:
    """A router dependency limits all its routes (one quota); the app's own HTTPException
    handler renders the refusal (problem details, say)."""
    app = FastAPI()

    @app.exception_handler(HTTPException)
    async def problem(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"status": exc.status_code, "title": exc.detail},
            exc.status_code,
            headers=exc.headers,
            media_type="application/problem+json",
        )

    backend = MemoryBackend(clock=clock)
    router = APIRouter(dependencies=[RateLimit(TokenBucket(2, 1.0), backend=backend, name="api")])

    @router.get("/a")
    async def a() -> str:
        return "a"

    @router.get("/b")
    async def b() -> str:
        return "b"

    app.include_router(router, prefix="/api")
    client = TestClient(app)
    assert [client.get(p).status_code for p in ("/api/a", "/api/b")] == [200, 200]
    refused = client.get("/api/a")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["ratelimit-policy"] == '"api";q=2;w=2'
    clock.advance(1.0)
    assert client.get("/api/b").status_code == 200


def test_app_wide_middleware(clock: Clock) -> None:
    app = FastAPI()

    @app.get("/x")
    async def x() -> str:
        return "x"

    @app.get("/health")
    async def health() -> str:
        return "ok"

    app.add_middleware(
        RateLimitMiddleware,
        policy=SlidingWindow(3, 10),
        backend=MemoryBackend(clock=clock),
        exclude={"/health"},
        headers=True,
    )
    answers = [_get(app, "/x") for _ in range(3)]
    assert [a.headers["ratelimit"] for a in answers] == [
        '"default";r=2;t=10',
        '"default";r=1;t=10',
        '"default";r=0;t=10',
    ]
    refused = _get(app, "/x")
    assert (refused.status_code, refused.json()) == (
        429,
        {"detail": "Rate limit exceeded: 3 requests per 10 seconds"},
    )
    assert refused.headers["retry-after"] == "11"
    assert _get(app, "/nope").status_code == 429  # before routing: unknown paths count too
    assert _get(app, "/health").status_code == 200  # excluded
    assert "ratelimit" not in _get(app, "/health").headers
    assert _get(app, "/x", peer="10.0.0.9").status_code == 200  # another client


def test_middleware_refusal_uses_the_apps_handler_for_429(clock: Clock) -> None:
    app = FastAPI()

    @app.exception_handler(429)
    def slow_down(request: Request, exc: HTTPException) -> JSONResponse:  # a sync handler
        return JSONResponse({"error": "slow down", "path": request.url.path}, 429, exc.headers)

    limiter = Limiter(SlidingWindow(1, 60), backend=MemoryBackend(clock=clock))
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    assert _get(app, "/a").status_code == 404
    refused = _get(app, "/a")
    assert refused.json() == {"error": "slow down", "path": "/a"}
    assert refused.headers["retry-after"] == "61"


def test_headers_on_refusals_by_default(clock: Clock) -> None:
    app = FastAPI()
    limit = RateLimit(SlidingWindow(1, 60), backend=MemoryBackend(clock=clock))

    @app.get("/quiet", dependencies=[limit])
    async def quiet() -> str:
        return "q"

    client = TestClient(app)
    assert "ratelimit" not in client.get("/quiet").headers
    refused = client.get("/quiet")  # refusals always say when to come back
    assert refused.status_code == 429
    assert refused.headers["ratelimit"] == '"default";r=0;t=61'


def test_key_by_api_key_header() -> None:
    app = FastAPI()
    limit = RateLimit(SlidingWindow(1, 60), key=by_header("X-API-Key"))

    @app.get("/k", dependencies=[limit])
    async def k() -> str:
        return "k"

    client = TestClient(app)
    assert client.get("/k", headers={"X-API-Key": "alpha"}).status_code == 200
    assert client.get("/k", headers={"X-API-Key": "alpha"}).status_code == 429
    assert client.get("/k", headers={"X-API-Key": "beta"}).status_code == 200
    # Without the header and without a fallback: not limited by this limiter.
    assert [client.get("/k").status_code for _ in range(3)] == [200, 200, 200]


def test_key_by_header_with_fallback_to_client() -> None:
    app = FastAPI()
    app.add_middleware(
        RateLimitMiddleware,
        policy=SlidingWindow(1, 60),
        key=by_header("x-api-key", fallback=by_client()),
    )
    assert _get(app, "/", **{"x-api-key": "one"}).status_code == 404
    assert _get(app, "/").status_code == 404  # no key: by client address
    assert _get(app, "/").status_code == 429
    assert _get(app, "/", **{"x-api-key": "two"}).status_code == 404


calls: list[str] = []


async def current_user(token: str | None = None) -> dict[str, str] | None:
    """A user dependency (module level: the endpoint's string annotation names it)."""
    calls.append(token or "-")
    return {"id": token} if token else None


def test_key_by_user_dependency_shared_with_the_endpoint() -> None:
    calls.clear()
    app = FastAPI()
    limit = RateLimit(SlidingWindow(2, 60), key=by_user(current_user, identify=lambda u: u["id"]))

    @app.get("/me", dependencies=[limit])
    async def me(user: Annotated[Any, Depends(current_user)]) -> Any:
        return user

    client = TestClient(app)
    assert [client.get("/me?token=ann").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/me?token=bob").json() == {"id": "bob"}
    assert calls.count("bob") == 1  # solved once per request, shared with the endpoint
    # Anonymous requests fall back to the client address.
    assert [client.get("/me").status_code for _ in range(3)] == [200, 200, 429]


def test_any_function_is_a_key_sync_or_async(clock: Clock) -> None:
    async def tenant(request: Request) -> str | None:
        return request.headers.get("x-tenant")

    app = FastAPI()

    backend = MemoryBackend(clock=clock)

    @app.get("/t", dependencies=[RateLimit(SlidingWindow(1, 60), key=tenant, backend=backend)])
    async def t() -> str:
        return "t"

    app.add_middleware(
        RateLimitMiddleware,
        policy=SlidingWindow(100, 60),
        key=lambda request: request.url.path,
        name="per-path",
        backend=backend,
        headers=True,
    )
    client = TestClient(app)
    assert client.get("/t", headers={"x-tenant": "a"}).status_code == 200
    refused = client.get("/t", headers={"x-tenant": "a"})
    assert refused.status_code == 429
    assert refused.headers["ratelimit"] == '"default";r=0;t=61, "per-path";r=98;t=60'
    assert client.get("/t", headers={"x-tenant": "b"}).status_code == 200
    assert client.get("/t").status_code == 200  # None: not limited


def test_middleware_refuses_by_user_and_ambiguous_arguments() -> None:
    with pytest.raises(TypeError, match="by_user"):
        RateLimitMiddleware(FastAPI(), SlidingWindow(1, 1), key=by_user(lambda: None))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one of them"):
        RateLimitMiddleware(FastAPI())


def test_limiter_enforce_for_hand_made_keys() -> None:
    """``Limiter.enforce`` with an explicit key: limits that depend on the request's content
    (a login's username, say) raise the same 429."""
    limiter = Limiter(SlidingWindow(1, 300), name="login", detail="Too many attempts")
    app = FastAPI()

    @app.post("/login")
    async def login(request: Request, username: str) -> str:
        await limiter.enforce(request, key=username.casefold())
        return "ok"

    client = TestClient(app)
    assert client.post("/login?username=Ann").status_code == 200
    refused = client.post("/login?username=ANN")
    assert (refused.status_code, refused.json()) == (429, {"detail": "Too many attempts"})
    assert refused.headers["ratelimit-policy"] == '"login";q=1;w=300'


def test_app_dependency_limits_every_route_and_websockets_pass_the_middleware(
    clock: Clock,
) -> None:
    """``FastAPI(dependencies=[RateLimit(...)])`` limits every route together (a WebSocket
    route too: refused connections are closed with 1013); the middleware leaves WebSocket
    connections alone."""
    backend = MemoryBackend(clock=clock)
    app = FastAPI(dependencies=[RateLimit(SlidingWindow(2, 60), backend=backend, name="app")])

    @app.get("/a")
    async def a() -> str:
        return "a"

    @app.get("/b")
    async def b() -> str:
        return "b"

    app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(1, 60), name="mw", exclude={"/"})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    client = TestClient(app)
    statuses = [client.get(p, headers={"x": str(n)}).status_code for n, p in enumerate("abab")]
    assert statuses == [200, 429, 429, 429]  # the middleware's 1 per minute comes first
    other = FastAPI(dependencies=[RateLimit(SlidingWindow(2, 60), backend=backend, name="o")])

    @other.get("/a")
    async def oa() -> str:
        return "a"

    @other.get("/b")
    async def ob() -> str:
        return "b"

    other_client = TestClient(other)
    assert [other_client.get(p).status_code for p in "/a /b /a".split()] == [200, 200, 429]
    with client.websocket_connect("/ws", headers={"x-peer": "ws"}) as socket:
        assert socket.receive_text() == "hi"
    # The app dependency's quota (2) is spent by /a and that connection: refused, 1013.
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws"):
            pass
    assert refused.value.code == 1013


@pytest.mark.parametrize("where", ["dependency", "middleware"])
def test_problem_details_render_the_refusal(where: str, clock: Clock) -> None:
    """With ``hasten.problems`` installed, a refusal is a problem object (RFC 9457) with the
    rate-limit headers kept, from the dependency and from the middleware alike."""
    from hasten import problems

    app = FastAPI()
    limiter = Limiter(SlidingWindow(1, 60), backend=MemoryBackend(clock=clock))
    deps = [Depends(limiter.dependency)] if where == "dependency" else []

    @app.get("/p", dependencies=deps)
    async def p() -> str:
        return "p"

    if where == "middleware":
        app.add_middleware(RateLimitMiddleware, limiter=limiter)
    problems.install(app)
    client = TestClient(app)
    assert client.get("/p").status_code == 200
    refused = client.get("/p")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json() == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Rate limit exceeded: 1 request per 60 seconds",
        "instance": "/p",
    }
    assert refused.headers["retry-after"] == "61"
    assert refused.headers["ratelimit-policy"] == '"default";q=1;w=60'
