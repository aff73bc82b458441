"""App-scoped dependencies: ``Depends(factory, scope="app")`` (hasten._app_scope)."""

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest

from hasten import APIRouter, Depends, FastAPI, Hasten, Request, WebSocket
from hasten._app_scope import AppScopeError
from hasten.exceptions import InvalidDeclarationError
from hasten.testclient import TestClient


class Log:
    """What the factories did, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def count(self, event: str) -> int:
        return self.events.count(event)


@pytest.fixture
def log() -> Log:
    return Log()


def _resources(log: Log) -> tuple[Any, Any, Any, Any]:
    """Four factories of the four kinds: plain, async, generator, async generator."""

    def settings() -> dict[str, str]:
        log.events.append("settings")
        return {"dsn": "memory://"}

    async def client() -> str:
        log.events.append("client")
        return "client"

    def pool(s: Annotated[dict[str, str], Depends(settings, scope="app")]) -> Iterator[str]:
        log.events.append("open pool")
        yield f"pool({s['dsn']})"
        log.events.append("close pool")

    async def engine(
        p: Annotated[str, Depends(pool, scope="app")],
    ) -> AsyncIterator[dict[str, Any]]:
        log.events.append("open engine")
        yield {"pool": p, "uses": 0}
        log.events.append("close engine")

    return settings, client, pool, engine


@pytest.mark.parametrize("app_class", [FastAPI, Hasten])
def test_created_once_for_many_requests_and_closed_in_reverse(app_class: Any, log: Log) -> None:
    settings, client, pool, engine = _resources(log)
    app = app_class()

    @app.get("/")
    async def read(
        e: Annotated[dict[str, Any], Depends(engine, scope="app")],
        c: Annotated[str, Depends(client, scope="app")],
    ) -> dict[str, Any]:
        e["uses"] += 1
        return {"pool": e["pool"], "uses": e["uses"], "client": c}

    with TestClient(app) as http:
        # Created at startup, inputs first, before any request.
        assert log.events == ["settings", "open pool", "open engine", "client"]
        for n in range(1, 21):
            assert http.get("/").json() == {
                "pool": "pool(memory://)",
                "uses": n,
                "client": "client",
            }
        assert log.count("open engine") == log.count("open pool") == log.count("settings") == 1
        assert log.count("client") == 1
        assert "close engine" not in log.events
    # Closed at shutdown, in reverse order of creation.
    assert log.events[-2:] == ["close engine", "close pool"]


def test_sync_route_and_sync_dependency_get_the_same_value(log: Log) -> None:
    _, _, pool, engine = _resources(log)
    app = FastAPI()

    def repo(e: Annotated[dict[str, Any], Depends(engine, scope="app")]) -> dict[str, Any]:
        return e  # a per-request dependency using an app-scoped one

    @app.get("/")
    def read(
        r: Annotated[dict[str, Any], Depends(repo)],
        p: Annotated[str, Depends(pool, scope="app")],
    ) -> dict[str, Any]:
        r["uses"] += 1
        return {"uses": r["uses"], "pool": p}

    with TestClient(app) as http:
        assert [http.get("/").json()["uses"] for _ in range(3)] == [1, 2, 3]
        assert http.get("/").json()["pool"] == "pool(memory://)"
    assert log.count("open pool") == log.count("close pool") == 1


def test_a_failing_teardown_does_not_skip_the_others(
    log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    def first() -> Iterator[str]:
        yield "first"
        log.events.append("close first")

    async def broken() -> AsyncIterator[str]:
        yield "broken"
        raise RuntimeError("cannot close")

    def last() -> Iterator[str]:
        yield "last"
        log.events.append("close last")

    app = FastAPI()

    @app.get("/")
    def read(
        a: Annotated[str, Depends(first, scope="app")],
        b: Annotated[str, Depends(broken, scope="app")],
        c: Annotated[str, Depends(last, scope="app")],
    ) -> list[str]:
        return [a, b, c]

    with caplog.at_level(logging.ERROR, logger="hasten.app_scope"):
        with pytest.raises(ExceptionGroup) as raised:
            with TestClient(app) as http:
                assert http.get("/").json() == ["first", "broken", "last"]
    assert log.events == ["close last", "close first"]
    assert [str(e) for e in raised.value.exceptions] == ["cannot close"]
    assert "Closing the app-scoped dependency" in caplog.text
    assert "broken" in caplog.text


def test_a_failing_factory_fails_the_startup_and_closes_what_was_made(log: Log) -> None:
    def made() -> Iterator[str]:
        yield "made"
        log.events.append("close made")

    def failing() -> str:
        raise ConnectionError("database down")

    app = FastAPI()

    @app.get("/")
    def read(
        a: Annotated[str, Depends(made, scope="app")],
        b: Annotated[str, Depends(failing, scope="app")],
    ) -> str:
        return a + b

    with pytest.raises(ConnectionError, match="database down"):
        with TestClient(app):
            pass
    assert log.events == ["close made"]


def test_request_data_in_a_factory_is_refused_naming_it() -> None:
    app = FastAPI()

    def with_request(request: Request) -> str:
        return "x"

    def with_query(limit: int = 10) -> int:
        return limit

    def per_request() -> int:
        return 1

    def with_request_dependency(n: Annotated[int, Depends(per_request)]) -> int:
        return n

    cases = [
        (with_request, "the request object parameter 'request'"),
        (with_query, "the request parameter 'limit'"),
        (with_request_dependency, "the dependency 'n' of scope 'request'"),
    ]
    for factory, what in cases:
        with pytest.raises(InvalidDeclarationError) as raised:

            @app.get("/")
            def read(v: Annotated[Any, Depends(factory, scope="app")]) -> Any:
                return v

        message = str(raised.value)
        assert f'The app-scoped dependency "{factory.__name__}" cannot use {what}' in message
        assert "GET /" in message and factory.__name__ in message


def test_override_set_before_startup_is_what_is_created(log: Log) -> None:
    settings, _, pool, engine = _resources(log)
    app = FastAPI()

    @app.get("/")
    def read(e: Annotated[dict[str, Any], Depends(engine, scope="app")]) -> dict[str, Any]:
        e["uses"] += 1
        return e

    def fake_pool() -> Iterator[str]:
        log.events.append("open fake")
        yield "fake pool"
        log.events.append("close fake")

    app.dependency_overrides[pool] = fake_pool
    with TestClient(app) as http:
        assert http.get("/").json() == {"pool": "fake pool", "uses": 1}
        assert http.get("/").json() == {"pool": "fake pool", "uses": 2}
    assert log.events == ["open fake", "open engine", "close engine", "close fake"]


def test_override_of_the_injected_factory_itself(log: Log) -> None:
    _, _, _, engine = _resources(log)
    app = FastAPI()

    @app.get("/")
    def read(e: Annotated[Any, Depends(engine, scope="app")]) -> Any:
        return e

    app.dependency_overrides[engine] = lambda: "fake engine"
    with TestClient(app) as http:
        assert http.get("/").json() == "fake engine"
        app.dependency_overrides.clear()
        # Without the override the real factory is made on first use (once) and closed.
        assert http.get("/").json() == {"pool": "pool(memory://)", "uses": 0}
        assert http.get("/").json() == {"pool": "pool(memory://)", "uses": 0}
        assert log.count("open engine") == 1
    assert log.events[-2:] == ["close engine", "close pool"]


def test_override_set_after_startup_is_made_on_first_use_once(log: Log) -> None:
    _, _, _, engine = _resources(log)
    app = FastAPI()

    @app.get("/")
    def read(e: Annotated[Any, Depends(engine, scope="app")]) -> Any:
        return e if isinstance(e, str) else e["pool"]

    made: list[str] = []

    async def fake_engine() -> AsyncIterator[str]:
        made.append("open")
        yield "fake"
        made.append("close")

    with TestClient(app) as http:
        assert http.get("/").json() == "pool(memory://)"
        app.dependency_overrides[engine] = fake_engine
        assert [http.get("/").json() for _ in range(3)] == ["fake"] * 3
        assert made == ["open"]
    assert made == ["open", "close"]
    assert log.count("close engine") == 1


def test_an_override_making_a_cycle_fails_the_startup(log: Log) -> None:
    _, _, pool, engine = _resources(log)
    app = FastAPI()

    @app.get("/")
    def read(e: Annotated[Any, Depends(engine, scope="app")]) -> Any:
        return "never"

    def looping(e: Annotated[Any, Depends(engine, scope="app")]) -> str:
        return "loop"

    app.dependency_overrides[pool] = looping
    with pytest.raises(AppScopeError, match="cycle: .*engine -> .*looping -> .*engine"):
        with TestClient(app):
            pass


def test_with_the_apps_own_lifespan(log: Log) -> None:
    _, _, pool, _ = _resources(log)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        log.events.append("app startup")
        yield {"greeting": "hello"}
        log.events.append("app shutdown")

    app = FastAPI(lifespan=lifespan)

    def handler() -> None:
        log.events.append("handler")

    app.add_event_handler("startup", handler)  # startup handlers run too (after it)

    @app.get("/")
    def read(request: Request, p: Annotated[str, Depends(pool, scope="app")]) -> list[str]:
        return [request.state.greeting, p]

    with TestClient(app) as http:
        assert http.get("/").json() == ["hello", "pool(memory://)"]
    assert log.events[0:2] == ["settings", "open pool"]  # before the app's own startup
    assert log.events[-2:] == ["app shutdown", "close pool"]  # after its shutdown
    assert "app startup" in log.events and "handler" in log.events


def test_routers_and_router_level_dependencies(log: Log) -> None:
    _, client, pool, _ = _resources(log)
    seen: list[str] = []

    def audit(c: Annotated[str, Depends(client, scope="app")]) -> None:
        seen.append(c)

    router = APIRouter(prefix="/items", dependencies=[Depends(audit)])

    @router.get("/")
    def items(p: Annotated[str, Depends(pool, scope="app")]) -> str:
        return p

    app = Hasten()
    app.include_router(router)
    with TestClient(app) as http:
        assert log.events == ["client", "settings", "open pool"]
        assert http.get("/items/").json() == "pool(memory://)"
        assert http.get("/items/").json() == "pool(memory://)"
    assert seen == ["client", "client"]
    assert log.count("open pool") == log.count("client") == 1


def test_websocket_routes(log: Log) -> None:
    _, _, pool, engine = _resources(log)
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket, e: Annotated[dict[str, Any], Depends(engine, scope="app")]
    ) -> None:
        await websocket.accept()
        e["uses"] += 1
        await websocket.send_json(e)
        await websocket.close()

    with TestClient(app) as http:
        for n in (1, 2):
            with http.websocket_connect("/ws") as socket:
                assert socket.receive_json() == {"pool": "pool(memory://)", "uses": n}
    assert log.count("open engine") == log.count("close engine") == 1


def test_without_a_lifespan_made_lazily_once_or_refused_if_it_yields(log: Log) -> None:
    settings, _, pool, _ = _resources(log)
    app = FastAPI()

    @app.get("/settings")
    def read(s: Annotated[dict[str, str], Depends(settings, scope="app")]) -> str:
        return s["dsn"]

    @app.get("/pool")
    def read_pool(p: Annotated[str, Depends(pool, scope="app")]) -> str:
        return p

    http = TestClient(app)  # no `with`: no lifespan
    assert log.events == []
    assert [http.get("/settings").json() for _ in range(3)] == ["memory://"] * 3
    assert log.events == ["settings"]  # once, on first use
    with pytest.raises(AppScopeError, match='"_resources.<locals>.pool" has a teardown'):
        http.get("/pool")
    assert "open pool" not in log.events
    with TestClient(app) as started:  # a lifespan keeps what was made and makes the rest
        assert started.get("/pool").json() == "pool(memory://)"
        assert log.events == ["settings", "open pool"]
    assert log.events[-1] == "close pool"


def test_a_mounted_app_has_its_own_resources(log: Log) -> None:
    def counter() -> list[str]:
        log.events.append("made")
        return []

    def route(app: FastAPI, name: str) -> None:
        @app.get("/")
        def read(m: Annotated[list[str], Depends(counter, scope="app")]) -> list[str]:
            m.append(name)
            return m

    outer, inner = FastAPI(), FastAPI()
    route(outer, "outer")
    route(inner, "inner")
    outer.mount("/inner", inner)
    with TestClient(outer) as http:
        assert log.events == ["made"]  # the outer app's, at startup
        assert http.get("/").json() == ["outer"]
        # The mounted app serves its route with its own value, made on first use (Starlette
        # runs no lifespan for a mounted app).
        assert http.get("/inner/").json() == ["inner"]
        assert http.get("/inner/").json() == ["inner", "inner"]
        assert http.get("/").json() == ["outer", "outer"]
    assert log.events == ["made", "made"]


def test_other_scope_values_behave_as_in_fastapi() -> None:
    made: list[int] = []

    def per_request() -> int:
        made.append(1)
        return len(made)

    app = FastAPI()

    @app.get("/")
    def read(n: Annotated[int, Depends(per_request, scope="other")]) -> int:  # type: ignore[arg-type]
        return n

    with TestClient(app) as http:  # FastAPI 0.165 accepts it and treats it as "request"
        assert [http.get("/").json() for _ in range(2)] == [1, 2]


def test_concurrent_first_uses_make_one_value() -> None:
    import anyio
    import httpx

    made: list[int] = []

    async def slow() -> int:
        made.append(1)
        await anyio.sleep(0.05)
        return len(made)

    app = FastAPI()

    @app.get("/")
    async def read(n: Annotated[int, Depends(slow, scope="app")]) -> int:
        return n

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)  # no lifespan: made on first use
        results: list[int] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def one() -> None:
                results.append((await client.get("/")).json())

            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(one)
        return results

    assert anyio.run(main) == [1] * 5
    assert made == [1]


def test_an_override_reading_request_data_is_refused_at_startup() -> None:
    def settings() -> str:
        return "real"

    def fake(request: Request) -> str:
        return "fake"

    app = FastAPI()

    @app.get("/")
    def read(s: Annotated[str, Depends(settings, scope="app")]) -> str:
        return s

    app.dependency_overrides[settings] = fake
    with pytest.raises(InvalidDeclarationError, match='app-scoped dependency "fake" cannot use'):
        with TestClient(app):
            pass


def test_a_request_error_does_not_reach_the_factory() -> None:
    seen: list[str] = []

    async def resource() -> AsyncIterator[str]:
        try:
            yield "r"
        except Exception as exc:  # a request-scoped yield dependency would see it here
            seen.append(f"caught {exc}")
            raise
        seen.append("closed")

    app = FastAPI()

    @app.get("/")
    def fail(r: Annotated[str, Depends(resource, scope="app")]) -> str:
        raise ValueError("endpoint failed")

    with TestClient(app, raise_server_exceptions=False) as http:
        assert http.get("/").status_code == 500
        assert seen == []
    assert seen == ["closed"]
