"""Dependencies: callables, sub-dependencies, caching, yield teardown, scopes, overrides."""

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest

from hasten import (
    APIRouter,
    BackgroundTasks,
    Depends,
    FastAPI,
    HTTPException,
    Request,
    Response,
    Security,
    WebSocket,
)
from hasten.exceptions import FastAPIError
from hasten.responses import StreamingResponse
from hasten.security import SecurityScopes
from hasten.testclient import TestClient

# --- kinds of dependencies ----------------------------------------------------------------------


def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100) -> dict[str, Any]:
    return {"q": q, "skip": skip, "limit": limit}


class CommonQueryParams:
    def __init__(self, q: str | None = None, skip: int = 0) -> None:
        self.q = q
        self.skip = skip


class FixedContentQueryChecker:
    def __init__(self, fixed_content: str) -> None:
        self.fixed_content = fixed_content

    def __call__(self, q: str = "") -> bool:
        return self.fixed_content in q


checker = FixedContentQueryChecker("bar")


async def async_dependency(value: int = 1) -> int:
    return value * 10


def test_function_dependency_brings_its_own_parameters() -> None:
    app = FastAPI()

    @app.get("/items")
    def items(commons: Annotated[dict[str, Any], Depends(common_parameters)]) -> dict[str, Any]:
        return commons

    client = TestClient(app)
    assert client.get("/items?q=x&limit=5").json() == {"q": "x", "skip": 0, "limit": 5}
    assert client.get("/items?skip=no").json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["query", "skip"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "no",
            }
        ]
    }


def test_class_dependency_and_shortcut() -> None:
    app = FastAPI()

    @app.get("/a")
    def a(commons: Annotated[CommonQueryParams, Depends(CommonQueryParams)]) -> dict[str, Any]:
        return {"q": commons.q, "skip": commons.skip}

    @app.get("/b")
    def b(commons: Annotated[CommonQueryParams, Depends()]) -> dict[str, Any]:
        return {"q": commons.q, "skip": commons.skip}

    @app.get("/c")
    def c(commons: CommonQueryParams = Depends()) -> dict[str, Any]:
        return {"q": commons.q, "skip": commons.skip}

    client = TestClient(app)
    for path in ("/a", "/b", "/c"):
        assert client.get(path, params={"q": "z", "skip": 2}).json() == {"q": "z", "skip": 2}


def test_callable_instance_dependency() -> None:
    app = FastAPI()

    @app.get("/check")
    def check(fixed: Annotated[bool, Depends(checker)]) -> bool:
        return fixed

    client = TestClient(app)
    assert client.get("/check?q=foobar").json() is True
    assert client.get("/check?q=foo").json() is False


def test_async_dependency_in_sync_endpoint() -> None:
    app = FastAPI()

    @app.get("/a")
    def a(value: Annotated[int, Depends(async_dependency)]) -> int:
        return value

    assert TestClient(app).get("/a?value=3").json() == 30


def test_sub_dependencies_and_request_access() -> None:
    def query_extractor(q: str | None = None) -> str | None:
        return q

    def query_or_cookie(
        request: Request, q: Annotated[str | None, Depends(query_extractor)]
    ) -> str:
        return q or request.cookies.get("last_query", "none")

    app = FastAPI()

    @app.get("/items")
    def items(query: Annotated[str, Depends(query_or_cookie)]) -> str:
        return query

    client = TestClient(app)
    assert client.get("/items?q=a").json() == "a"
    client.cookies.set("last_query", "from-cookie")
    assert client.get("/items").json() == "from-cookie"


# --- caching ------------------------------------------------------------------------------------


def test_dependency_is_cached_per_request_unless_use_cache_false() -> None:
    calls: list[str] = []

    def counter() -> int:
        calls.append("x")
        return len(calls)

    def sub(a: Annotated[int, Depends(counter)]) -> int:
        return a

    app = FastAPI()

    @app.get("/cached")
    def cached(a: Annotated[int, Depends(counter)], b: Annotated[int, Depends(sub)]) -> list[int]:
        return [a, b]

    @app.get("/uncached")
    def uncached(
        a: Annotated[int, Depends(counter)],
        b: Annotated[int, Depends(counter, use_cache=False)],
    ) -> list[int]:
        return [a, b]

    client = TestClient(app)
    calls.clear()
    assert client.get("/cached").json() == [1, 1]
    assert client.get("/cached").json() == [2, 2]
    calls.clear()
    assert client.get("/uncached").json() == [1, 2]


# --- yield dependencies -------------------------------------------------------------------------


def test_yield_dependencies_tear_down_in_reverse_order() -> None:
    log: list[str] = []

    def first() -> Iterator[str]:
        log.append("first:setup")
        yield "first"
        log.append("first:teardown")

    async def second(a: Annotated[str, Depends(first)]) -> AsyncIterator[str]:
        log.append("second:setup")
        yield "second"
        log.append("second:teardown")

    def third() -> Iterator[str]:
        log.append("third:setup")
        yield "third"
        log.append("third:teardown")

    app = FastAPI()

    @app.get("/")
    def endpoint(
        b: Annotated[str, Depends(second)], c: Annotated[str, Depends(third)]
    ) -> list[str]:
        log.append("endpoint")
        return [b, c]

    assert TestClient(app).get("/").json() == ["second", "third"]
    assert log == [
        "first:setup",
        "second:setup",
        "third:setup",
        "endpoint",
        "third:teardown",
        "second:teardown",
        "first:teardown",
    ]


def test_endpoint_exception_reaches_the_yield() -> None:
    seen: list[Any] = []

    def dep() -> Iterator[None]:
        try:
            yield
        except HTTPException as exc:
            seen.append(exc.status_code)
            raise
        finally:
            seen.append("finally")

    app = FastAPI()

    @app.get("/fail")
    def fail(_: Annotated[None, Depends(dep)]) -> None:
        raise HTTPException(status_code=418, detail="teapot")

    response = TestClient(app).get("/fail")
    assert response.status_code == 418
    assert response.json() == {"detail": "teapot"}
    assert seen == [418, "finally"]


def test_yield_dependency_can_convert_an_exception() -> None:
    class InternalError(Exception):
        pass

    def dep() -> Iterator[None]:
        try:
            yield
        except InternalError as exc:
            raise HTTPException(status_code=400, detail=f"converted: {exc}") from exc

    app = FastAPI()

    @app.get("/fail")
    def fail(_: Annotated[None, Depends(dep)]) -> None:
        raise InternalError("boom")

    response = TestClient(app).get("/fail")
    assert response.status_code == 400
    assert response.json() == {"detail": "converted: boom"}


def test_unhandled_endpoint_error_reaches_the_yield_and_is_a_500() -> None:
    seen: list[str] = []

    async def dep() -> AsyncIterator[None]:
        try:
            yield
        except ValueError as exc:
            seen.append(str(exc))
            raise

    app = FastAPI()

    @app.get("/fail")
    async def fail(_: Annotated[None, Depends(dep)]) -> None:
        raise ValueError("bad")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/fail").status_code == 500
    assert seen == ["bad"]
    with pytest.raises(ValueError, match="bad"):
        TestClient(app).get("/fail")


def _session_app() -> tuple[FastAPI, list[str]]:
    log: list[str] = []

    def session() -> Iterator[str]:
        log.append("open")
        yield "session"
        log.append("close")

    app = FastAPI()

    def stream(name: str) -> StreamingResponse:
        def body() -> Iterator[str]:
            log.append(f"{name}:streaming")
            yield "data"

        return StreamingResponse(body())

    @app.get("/function")
    def function_scope(s: Annotated[str, Depends(session, scope="function")]) -> Any:
        return stream("function")

    @app.get("/request")
    def request_scope(s: Annotated[str, Depends(session, scope="request")]) -> Any:
        return stream("request")

    @app.get("/default")
    def default_scope(s: Annotated[str, Depends(session)]) -> Any:
        return stream("default")

    return app, log


def test_function_scope_tears_down_before_the_response_is_sent() -> None:
    app, log = _session_app()
    assert TestClient(app).get("/function").text == "data"
    assert log == ["open", "close", "function:streaming"]


@pytest.mark.parametrize("path", ["/request", "/default"])
def test_request_scope_tears_down_after_the_response_is_sent(path: str) -> None:
    app, log = _session_app()
    assert TestClient(app).get(path).text == "data"
    assert log == ["open", f"{path[1:]}:streaming", "close"]


# --- where dependencies are declared ------------------------------------------------------------


def test_app_router_and_decorator_dependencies() -> None:
    calls: list[str] = []

    def named(name: str) -> Any:
        def dep() -> None:
            calls.append(name)

        return dep

    app = FastAPI(dependencies=[Depends(named("app"))])
    router = APIRouter(dependencies=[Depends(named("router"))])

    @router.get("/r", dependencies=[Depends(named("decorator"))])
    def r(_: Annotated[None, Depends(named("param"))]) -> str:
        calls.append("endpoint")
        return "ok"

    @app.get("/plain")
    def plain() -> str:
        calls.append("plain")
        return "ok"

    app.include_router(router)
    client = TestClient(app)
    client.get("/r")
    assert calls == ["app", "router", "decorator", "param", "endpoint"]
    calls.clear()
    client.get("/plain")
    assert calls == ["app", "plain"]


def test_dependency_error_stops_the_request() -> None:
    def verify_key(x_key: str = "") -> None:
        if x_key != "secret":
            raise HTTPException(status_code=400, detail="X-Key invalid")

    app = FastAPI(dependencies=[Depends(verify_key)])
    ran: list[bool] = []

    @app.get("/")
    def root() -> str:
        ran.append(True)
        return "ok"

    client = TestClient(app)
    assert client.get("/").json() == {"detail": "X-Key invalid"}
    assert ran == []
    assert client.get("/?x_key=secret").json() == "ok"


# --- security scopes ----------------------------------------------------------------------------


def test_security_scopes_accumulate_down_the_chain() -> None:
    def get_scopes(security_scopes: SecurityScopes) -> dict[str, Any]:
        return {"scopes": security_scopes.scopes, "scope_str": security_scopes.scope_str}

    def user(scopes: Annotated[dict[str, Any], Security(get_scopes, scopes=["me"])]) -> Any:
        return scopes

    app = FastAPI()

    @app.get("/items")
    def items(u: Annotated[Any, Security(user, scopes=["items"])]) -> Any:
        return u

    @app.get("/plain")
    def plain(scopes: Annotated[dict[str, Any], Depends(get_scopes)]) -> Any:
        return scopes

    client = TestClient(app)
    assert client.get("/items").json() == {"scopes": ["items", "me"], "scope_str": "items me"}
    assert client.get("/plain").json() == {"scopes": [], "scope_str": ""}


# --- overrides ----------------------------------------------------------------------------------


def test_dependency_overrides_can_change_between_requests() -> None:
    def real() -> str:
        return "real"

    def sub(value: Annotated[str, Depends(real)]) -> str:
        return f"sub({value})"

    def fake(q: str = "default") -> str:
        return f"fake:{q}"

    app = FastAPI()
    router = APIRouter()

    @router.get("/value")
    def value(v: Annotated[str, Depends(sub)]) -> str:
        return v

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/value").json() == "sub(real)"
    app.dependency_overrides[real] = fake
    assert client.get("/value?q=x").json() == "sub(fake:x)"
    app.dependency_overrides[real] = lambda: "lambda"
    assert client.get("/value").json() == "sub(lambda)"
    app.dependency_overrides[sub] = lambda: "whole sub"
    assert client.get("/value").json() == "whole sub"
    app.dependency_overrides.clear()
    assert client.get("/value?q=x").json() == "sub(real)"


def test_override_of_an_app_level_dependency() -> None:
    def gate() -> None:
        raise HTTPException(status_code=403)

    app = FastAPI(dependencies=[Depends(gate)])

    @app.get("/")
    def root() -> str:
        return "ok"

    client = TestClient(app)
    assert client.get("/").status_code == 403
    app.dependency_overrides[gate] = lambda: None
    assert client.get("/").json() == "ok"


# --- websockets ---------------------------------------------------------------------------------


def test_dependencies_in_websocket_routes() -> None:
    log: list[str] = []

    def token(token: str | None = None) -> str:
        return token or "anonymous"

    def resource() -> Iterator[str]:
        log.append("open")
        yield "res"
        log.append("close")

    def base() -> str:
        return "base"

    app = FastAPI()
    router = APIRouter(dependencies=[Depends(lambda: log.append("router-dep"))])

    @router.websocket("/ws/{room}")
    async def ws(
        websocket: WebSocket,
        room: str,
        who: Annotated[str, Depends(token)],
        res: Annotated[str, Depends(resource)],
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room, "who": who, "res": res})
        await websocket.close()

    app.include_router(router)
    client = TestClient(app)
    with client.websocket_connect("/ws/lobby?token=t1") as websocket:
        assert websocket.receive_json() == {"room": "lobby", "who": "t1", "res": "res"}
    assert log == ["router-dep", "open", "close"]
    app.dependency_overrides[token] = base
    with client.websocket_connect("/ws/x") as websocket:
        assert websocket.receive_json()["who"] == "base"


def test_yield_dependency_swallowing_the_error_is_reported() -> None:
    def swallow() -> Iterator[None]:
        try:
            yield
        except Exception:
            pass

    app = FastAPI()

    @app.get("/swallow")
    def endpoint(_: Annotated[None, Depends(swallow)]) -> None:
        raise ValueError("lost")

    with pytest.raises(FastAPIError, match="Response not awaited"):
        TestClient(app).get("/swallow")
    assert TestClient(app, raise_server_exceptions=False).get("/swallow").status_code == 500


def test_http_exception_after_yield_depends_on_the_scope() -> None:
    def raise_after_yield() -> Iterator[None]:
        yield
        raise HTTPException(status_code=503, detail="after yield")

    app = FastAPI()

    @app.get("/request")
    def request_scope(_: Annotated[None, Depends(raise_after_yield)]) -> str:
        return "ok"

    @app.get("/function")
    def function_scope(_: Annotated[None, Depends(raise_after_yield, scope="function")]) -> str:
        return "ok"

    client = TestClient(app, raise_server_exceptions=False)
    # The response is already sent when a request-scoped teardown runs: the client gets it,
    # the error goes to the server's error handling.
    assert client.get("/request").json() == "ok"
    with pytest.raises(RuntimeError, match="response already started"):
        TestClient(app).get("/request")
    response = client.get("/function")
    assert response.status_code == 503
    assert response.json() == {"detail": "after yield"}


def test_partial_and_async_callable_dependencies() -> None:
    def add(a: int, b: int = 0) -> int:
        return a + b

    class AsyncDouble:
        async def __call__(self, q: int = 1) -> int:
            return q * 2

    app = FastAPI()

    @app.get("/")
    def root(
        total: Annotated[int, Depends(functools.partial(add, 5))],
        double: Annotated[int, Depends(AsyncDouble())],
    ) -> list[int]:
        return [total, double]

    assert TestClient(app).get("/?b=2&q=4").json() == [7, 8]


def test_background_tasks_from_dependency_and_endpoint_share_one_queue() -> None:
    log: list[str] = []

    def dep(tasks: BackgroundTasks) -> None:
        tasks.add_task(log.append, "dep")

    app = FastAPI()

    @app.get("/")
    def root(tasks: BackgroundTasks, _: Annotated[None, Depends(dep)]) -> str:
        tasks.add_task(log.append, "endpoint")
        assert log == []
        return "ok"

    assert TestClient(app).get("/").json() == "ok"
    assert log == ["dep", "endpoint"]


def test_dependency_can_set_the_status_code_through_response() -> None:
    def accepted(response: Response) -> None:
        response.status_code = 202

    app = FastAPI()

    @app.get("/", dependencies=[Depends(accepted)])
    def root() -> str:
        return "queued"

    response = TestClient(app).get("/")
    assert response.status_code == 202
    assert response.json() == "queued"


@pytest.mark.anyio
@pytest.mark.parametrize("scope", ["function", "request"])
async def test_teardown_runs_when_the_client_disconnects(
    scope: str, http_scope: Callable[[str], dict[str, Any]]
) -> None:
    """The client goes away while the endpoint works: the request is cancelled (as servers
    do), and the code after ``yield`` still runs, to its end."""
    import anyio

    events: list[str] = []
    entered = anyio.Event()
    app = FastAPI()

    async def session() -> AsyncIterator[str]:
        events.append("open")
        try:
            yield "session"
        finally:
            await anyio.sleep(0)  # teardown may await, even while cancelled
            events.append("closed")

    @app.get("/slow")
    async def slow(s: Annotated[str, Depends(session, scope=scope)]) -> str:
        entered.set()
        await anyio.sleep_forever()
        return s  # pragma: no cover

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        return {}  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        events.append(message["type"])  # pragma: no cover

    async with anyio.create_task_group() as group:
        group.start_soon(app, http_scope("/slow"), receive, send)
        await entered.wait()
        group.cancel_scope.cancel()
    assert events == ["open", "closed"]


def test_teardown_runs_when_sending_the_response_fails(
    http_scope: Callable[[str], dict[str, Any]],
) -> None:
    """The connection breaks while the response is written: the error propagates and the
    request-scoped teardown still runs."""
    import anyio

    events: list[str] = []
    app = FastAPI()

    def session() -> Iterator[str]:
        try:
            yield "session"
        finally:
            events.append("closed")

    @app.get("/")
    def read(s: Annotated[str, Depends(session)]) -> str:
        return s

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        raise OSError("connection reset by peer")

    async def main() -> None:
        with pytest.raises(OSError, match="connection reset"):
            await app(http_scope("/"), receive, send)

    anyio.run(main)
    assert events == ["closed"]
