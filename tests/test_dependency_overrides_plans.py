"""``dependency_overrides`` compiled: the same answers as FastAPI 0.165.0, on the fast paths.

The app's overrides dict stays a plain dict users mutate at any time. Each route compiles its
dependency tree once per version of the dict (a bounded cache per route), so requests with
overrides set run the same steps (batch, leaf, chain) as production. Expected logs below were
recorded by running the same app on FastAPI 0.165.0.
"""

import threading
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from hasten import APIRouter, Depends, FastAPI, Security, WebSocket
from hasten.routing import APIRoute
from hasten.security import SecurityScopes
from hasten.testclient import TestClient

LOG: list[str] = []


def a() -> str:
    LOG.append("a")
    return "a"


def b() -> str:
    LOG.append("b")
    return "b"


def shared() -> str:
    LOG.append("shared")
    return "shared"


def deep3(q: int = 1) -> str:
    LOG.append(f"deep3 {q}")
    return f"d3-{q}"


def deep2(d: Annotated[str, Depends(deep3)]) -> str:
    LOG.append("deep2")
    return f"d2({d})"


def deep1(d: Annotated[str, Depends(deep2)], e: Annotated[str, Depends(deep3)]) -> str:
    LOG.append("deep1")
    return f"d1({d},{e})"


def over3(z: str = "zz") -> str:
    LOG.append(f"over3 {z}")
    return f"o3-{z}"


async def aover3() -> str:
    LOG.append("aover3")
    return "ao3"


def yover() -> Iterator[str]:
    LOG.append("yover-enter")
    yield "y"
    LOG.append("yover-exit")


def ync() -> str:
    LOG.append("ync")
    return "ync"


def over_with_sub(n: Annotated[str, Depends(ync, use_cache=False)]) -> str:
    LOG.append("over_with_sub")
    return n


def scoped(ss: SecurityScopes) -> list[str]:
    LOG.append(f"scoped {ss.scopes}")
    return ss.scopes


def scoped_over(ss: SecurityScopes) -> list[str]:
    LOG.append(f"scoped_over {ss.scopes}")
    return ["over", *ss.scopes]


def sec_user(s: Annotated[list[str], Security(scoped, scopes=["inner"])]) -> list[str]:
    return s


class Provider:
    dependency_overrides: dict[Any, Any] = {}


def _app() -> tuple[FastAPI, Provider]:
    app = FastAPI()

    @app.get("/two")
    def two(
        x: Annotated[str, Depends(a)], y: Annotated[str, Depends(b)], z: Annotated[str, Depends(a)]
    ) -> list[str]:
        return [x, y, z]

    @app.get("/deep")
    def deep(d: Annotated[str, Depends(deep1)]) -> str:
        return d

    @app.get("/adeep")
    async def adeep(d: Annotated[str, Depends(deep1)], e: Annotated[str, Depends(deep2)]) -> Any:
        return [d, e]

    @app.get("/sec")
    def sec(
        s: Annotated[list[str], Security(sec_user, scopes=["outer"])],
        t: Annotated[list[str], Security(scoped, scopes=["x"])],
    ) -> Any:
        return [s, t]

    router = APIRouter()

    @router.get("/r")
    def r(x: Annotated[str, Depends(a)]) -> str:
        return x

    app.include_router(router)
    provider = Provider()
    provider.dependency_overrides = {}
    standalone = APIRouter(dependency_overrides_provider=provider)

    @standalone.get("/s")
    def s(x: Annotated[str, Depends(a)]) -> str:
        return x

    app.mount("/m", standalone)
    return app, provider


def _get(client: TestClient, url: str) -> tuple[int, Any, list[str]]:
    LOG.clear()
    response = client.get(url)
    return response.status_code, response.json(), list(LOG)


_Q_ERROR = {
    "type": "int_parsing",
    "loc": ["query", "q"],
    "msg": "Input should be a valid integer, unable to parse string as an integer",
    "input": "x",
}
_PLAIN = {
    "/two": (200, ["a", "b", "a"], ["a", "b"]),
    "/deep": (200, "d1(d2(d3-1),d3-1)", ["deep3 1", "deep2", "deep1"]),
    "/deep?q=5": (200, "d1(d2(d3-5),d3-5)", ["deep3 5", "deep2", "deep1"]),
    "/deep?q=x": (422, {"detail": [_Q_ERROR, _Q_ERROR]}, []),
    "/adeep": (200, ["d1(d2(d3-1),d3-1)", "d2(d3-1)"], ["deep3 1", "deep2", "deep1"]),
    "/sec": (200, [["outer", "inner"], ["x"]], ["scoped ['outer', 'inner']", "scoped ['x']"]),
    "/r": (200, "a", ["a"]),
    "/m/s": (200, "a", ["a"]),
}


def test_overrides_set_changed_and_cleared_between_requests() -> None:
    app, _ = _app()
    with TestClient(app) as client:
        for url, expected in _PLAIN.items():
            assert _get(client, url) == expected, url

        # One override function for two originals: cached by each original, so it runs twice.
        app.dependency_overrides[a] = shared
        app.dependency_overrides[b] = shared
        assert _get(client, "/two") == (200, ["shared"] * 3, ["shared", "shared"])
        assert _get(client, "/r") == (200, "shared", ["shared"])
        assert _get(client, "/m/s") == _PLAIN["/m/s"]  # its provider is not the app
        assert _get(client, "/deep?q=x") == _PLAIN["/deep?q=x"]

        # A yield override, and one deep in a chain (its own parameters, the original's gone).
        app.dependency_overrides[b] = yover
        app.dependency_overrides[deep3] = over3
        two = ["shared", "yover-enter", "yover-exit"]
        assert _get(client, "/two") == (200, ["shared", "y", "shared"], two)
        over = ["over3 zz", "deep2", "deep1"]
        assert _get(client, "/deep?q=x") == (200, "d1(d2(o3-zz),o3-zz)", over)
        assert _get(client, "/deep?z=k&q=x") == (200, "d1(d2(o3-k),o3-k)", over3_k())
        assert _get(client, "/adeep")[2] == over

        # An async override, and an override with a non-cached dependency of its own.
        app.dependency_overrides[deep3] = aover3
        app.dependency_overrides[deep2] = over_with_sub
        steps = ["ync", "over_with_sub", "aover3", "deep1"]
        assert _get(client, "/deep") == (200, "d1(ync,ao3)", steps)
        assert _get(client, "/adeep") == (200, ["d1(ync,ao3)", "ync"], [*steps, "ync"])

        app.dependency_overrides.clear()
        for url, expected in _PLAIN.items():
            assert _get(client, url) == expected, url


def over3_k() -> list[str]:
    return ["over3 k", "deep2", "deep1"]


def test_security_scopes_with_overrides() -> None:
    app, _ = _app()
    with TestClient(app) as client:
        app.dependency_overrides[scoped] = scoped_over
        assert _get(client, "/sec") == (
            200,
            [["over", "outer", "inner"], ["over", "x"]],
            ["scoped_over ['outer', 'inner']", "scoped_over ['x']"],
        )
        app.dependency_overrides[sec_user] = scoped_over
        assert _get(client, "/sec") == (
            200,
            [["over", "outer"], ["over", "x"]],
            ["scoped_over ['outer']", "scoped_over ['x']"],
        )


def test_overrides_on_a_router_provider() -> None:
    app, provider = _app()
    with TestClient(app) as client:
        provider.dependency_overrides[a] = b
        assert _get(client, "/m/s") == (200, "b", ["b"])
        assert _get(client, "/two") == _PLAIN["/two"]  # the app's dict is empty
        provider.dependency_overrides.clear()
        assert _get(client, "/m/s") == _PLAIN["/m/s"]


def _route(app: FastAPI, path: str) -> APIRoute:
    return next(r for r in app.routes if isinstance(r, APIRoute) and r.path == path)


def test_each_version_of_the_overrides_is_compiled_once() -> None:
    app, _ = _app()
    root = _route(app, "/deep").plan.root
    with TestClient(app) as client:
        app.dependency_overrides[deep3] = over3
        for _ in range(3):
            assert _get(client, "/deep")[1] == "d1(d2(o3-zz),o3-zz)"
        assert root.variants is not None
        assert len(root.variants) == 1
        compiled = next(iter(root.variants.values()))[0]
        assert compiled is not root
        assert compiled.subs[0].subs[1].call is over3  # replaced deep in the chain
        assert root.subs[0].subs[1].call is deep3  # the route's own tree is untouched

        app.dependency_overrides[deep3] = deep3  # a new version: compiled again
        assert _get(client, "/deep")[1] == "d1(d2(d3-1),d3-1)"
        assert len(root.variants) == 2
        app.dependency_overrides[deep3] = over3  # back to the first: found again
        assert _get(client, "/deep")[1] == "d1(d2(o3-zz),o3-zz)"
        assert len(root.variants) == 2

        for index in range(20):  # bounded per route
            app.dependency_overrides[deep3] = lambda index=index: str(index)
            assert _get(client, "/deep")[1] == f"d1(d2({index}),{index})"
        assert len(root.variants) <= 8


def test_sync_chain_with_overrides_runs_in_one_thread_hop() -> None:
    threads: list[int] = []

    def d3() -> str:
        return "d3"  # pragma: no cover

    def d3_over() -> str:
        threads.append(threading.get_ident())
        return "over"

    def d2(x: Annotated[str, Depends(d3)]) -> str:
        threads.append(threading.get_ident())
        return x

    def d1(x: Annotated[str, Depends(d2)]) -> str:
        threads.append(threading.get_ident())
        return x

    def unrelated() -> None:
        pass  # pragma: no cover

    app = FastAPI()

    @app.get("/")
    def endpoint(x: Annotated[str, Depends(d1)]) -> str:
        threads.append(threading.get_ident())
        return x

    app.dependency_overrides[unrelated] = unrelated
    app.dependency_overrides[d3] = d3_over
    with TestClient(app) as client:
        assert client.get("/").json() == "over"
    assert len(threads) == 4
    assert len(set(threads)) == 1  # the batch step, as without overrides


@pytest.mark.parametrize("sync", [True, False])
def test_override_installed_during_the_request_applies_to_later_dependencies(sync: bool) -> None:
    app = FastAPI()

    def original() -> str:
        return "original"  # pragma: no cover

    def replacement() -> str:
        return "replacement"

    def configure() -> None:
        app.dependency_overrides[original] = replacement

    def middle(value: Annotated[str, Depends(original)]) -> str:
        return value

    if sync:

        @app.get("/")
        def endpoint(
            _: Annotated[None, Depends(configure)], value: Annotated[str, Depends(middle)]
        ) -> str:
            return value

    else:

        @app.get("/")
        async def endpoint(
            _: Annotated[None, Depends(configure)], value: Annotated[str, Depends(middle)]
        ) -> str:
            return value

    with TestClient(app) as client:
        assert client.get("/").json() == "replacement"
        app.dependency_overrides[original] = original  # a non-empty dict, then changed
        assert client.get("/").json() == "replacement"


class Item(BaseModel):
    name: str


class Other(BaseModel):
    name: str
    extra: int = 0


def test_override_reading_the_body_of_a_single_body_route() -> None:
    def dep() -> str:
        return "orig"

    def over(o: Other) -> str:
        return f"over:{o.name}:{o.extra}"

    app = FastAPI()

    @app.post("/items")
    async def create(item: Item, d: Annotated[str, Depends(dep)]) -> list[str]:
        return [item.name, d]

    with TestClient(app) as client:
        assert client.post("/items", json={"name": "n", "extra": 3}).json() == ["n", "orig"]
        app.dependency_overrides[dep] = over
        assert client.post("/items", json={"name": "n", "extra": 3}).json() == ["n", "over:n:3"]
        response = client.post("/items", json={"name": 1})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "name"]] * 2


def test_websocket_with_overrides() -> None:
    log: list[str] = []

    def wdep() -> str:
        log.append("wdep")
        return "w"

    def wover() -> str:
        log.append("wover")
        return "wo"

    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, d: Annotated[str, Depends(wdep)]) -> None:
        await websocket.accept()
        await websocket.send_text(d)
        await websocket.close()

    with TestClient(app) as client:
        with client.websocket_connect("/ws") as socket:
            assert socket.receive_text() == "w"
        app.dependency_overrides[wdep] = wover
        with client.websocket_connect("/ws") as socket:
            assert socket.receive_text() == "wo"
    assert log == ["wdep", "wover"]
