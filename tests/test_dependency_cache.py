"""The per-request dependency cache and context variables, as FastAPI 0.165.0 answers.

Every expected log below was recorded by running the same app on FastAPI 0.165.0.

FastAPI solves the sub-dependencies of a dependency every time the dependency is used, even
when its value then comes from the cache: a ``use_cache=False`` dependency below a cached one
runs once per use (yield ones too), validators of user code run again, input errors are
collected again. Hasten repeats that walk only for nodes where it can be seen (``volatile``).

Each plain ``def`` dependency runs in its own worker-thread call in FastAPI, in a copy of the
request's context: a context variable it sets is seen neither by its siblings nor by the
endpoint, while one set by an ``async def`` dependency is.
"""

import contextvars
import enum
import threading
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import AfterValidator, BaseModel, field_validator

from hasten import Body, Depends, FastAPI, Query, Security
from hasten._plan.analysis import get_dependant
from hasten._plan.dependencies import Node
from hasten.security import SecurityScopes
from hasten.testclient import TestClient

# --- use_cache=False below a cached dependency ---------------------------------------------------


def _volatile_app() -> tuple[FastAPI, list[str]]:
    log: list[str] = []

    def nc() -> int:
        log.append("nc")
        return len(log)

    def ncg() -> Iterator[int]:
        log.append("ncg-enter")
        yield 1
        log.append("ncg-exit")

    async def anc() -> None:
        log.append("anc")

    def leaf(q: int = 0) -> int:
        log.append(f"leaf q={q}")
        return q

    def cached(
        a: Annotated[int, Depends(nc, use_cache=False)],
        g: Annotated[int, Depends(ncg, use_cache=False)],
        x: Annotated[None, Depends(anc, use_cache=False)],
        lf: Annotated[int, Depends(leaf)],
    ) -> int:
        log.append("cached")
        return a

    async def acached(c: Annotated[int, Depends(cached)]) -> int:
        log.append("acached")
        return c

    def badleaf(q: int) -> None:
        log.append("badleaf")  # pragma: no cover

    def withbad(
        x: Annotated[None, Depends(badleaf)],
        n: Annotated[int, Depends(nc, use_cache=False)],
        z: int = Query(),
    ) -> None:
        log.append("withbad")

    app = FastAPI()

    @app.get("/a")
    def a(
        c1: Annotated[int, Depends(cached)],
        c2: Annotated[int, Depends(cached)],
        c3: Annotated[int, Depends(acached)],
        c4: Annotated[int, Depends(acached)],
    ) -> list[int]:
        log.append("endpoint")
        return [c1, c2, c3, c4]

    @app.get("/b")
    async def b(c1: Annotated[int, Depends(cached)], c2: Annotated[int, Depends(cached)]) -> Any:
        log.append("endpoint")
        return [c1, c2]

    @app.get("/c")
    def c(w1: Annotated[None, Depends(withbad)], w2: Annotated[None, Depends(withbad)]) -> None:
        log.append("endpoint")

    return app, log


_ONE_USE = ["nc", "ncg-enter", "anc"]


@pytest.mark.parametrize(
    ("url", "status", "expected"),
    [
        (
            "/a",
            200,
            [*_ONE_USE, "leaf q=0", "cached", *_ONE_USE, *_ONE_USE, "acached", *_ONE_USE]
            + ["endpoint", "ncg-exit", "ncg-exit", "ncg-exit", "ncg-exit"],
        ),
        ("/b", 200, [*_ONE_USE, "leaf q=0", "cached", *_ONE_USE, "endpoint"] + ["ncg-exit"] * 2),
        ("/a?q=x", 422, _ONE_USE * 4),  # no "ncg-exit": the 422 is raised at their yield
        ("/c", 422, ["nc", "nc"]),
        ("/c?q=1", 422, ["badleaf", "nc", "nc"]),
        ("/c?z=1", 422, ["nc", "nc"]),
        ("/c?q=1&z=1", 200, ["badleaf", "nc", "withbad", "nc", "endpoint"]),
    ],
)
def test_non_cached_dependency_below_cached_one_runs_per_use(
    url: str, status: int, expected: list[str]
) -> None:
    app, log = _volatile_app()
    with TestClient(app) as client:
        response = client.get(url)
    assert response.status_code == status
    assert log == expected


def test_errors_are_collected_again_for_each_use() -> None:
    app, log = _volatile_app()
    with TestClient(app) as client:
        response = client.get("/a?q=x")
    error = {
        "type": "int_parsing",
        "loc": ["query", "q"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "x",
    }
    assert response.json() == {"detail": [error] * 4}
    assert log == _ONE_USE * 4


def test_errors_of_a_failed_dependency_come_per_use_in_order() -> None:
    app, _ = _volatile_app()
    with TestClient(app) as client:
        response = client.get("/c")

    def missing(name: str) -> dict[str, Any]:
        return {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}

    assert response.json() == {"detail": [missing("q"), missing("z")] * 2}


def test_sync_batch_repeats_non_cached_dependency() -> None:
    log: list[str] = []

    def nc() -> int:
        log.append("nc")
        return len(log)

    def s1(n: Annotated[int, Depends(nc, use_cache=False)]) -> int:
        log.append("s1")
        return n

    def s2(a: Annotated[int, Depends(s1)], b: Annotated[int, Depends(s1)]) -> list[int]:
        log.append("s2")
        return [a, b]

    app = FastAPI()

    @app.get("/")
    def endpoint(
        x: Annotated[list[int], Depends(s2)],
        y: Annotated[int, Depends(s1)],
        z: Annotated[list[int], Depends(s2)],
    ) -> Any:
        log.append("endpoint")
        return [x, y, z]

    with TestClient(app) as client:
        assert client.get("/").json() == [[1, 1], 1, [1, 1]]
    assert log == ["nc", "s1", "nc", "s2", "nc", "nc", "nc", "endpoint"]


class Color(enum.Enum):
    red = "red"

    @classmethod
    def _missing_(cls, value: object) -> "Color":
        LOG.append(f"missing {value}")
        return cls.red


LOG: list[str] = []


class Model(BaseModel):
    a: int

    @field_validator("a")
    @classmethod
    def check(cls, value: int) -> int:
        LOG.append(f"model {value}")
        return value


def _user_code_app() -> FastAPI:
    def validator(x: str) -> str:
        LOG.append(f"validator {x}")
        return x

    def counter() -> int:
        LOG.append("factory")
        return 7

    def validated(
        f: Annotated[int, Query(default_factory=counter)],
        q: Annotated[str, AfterValidator(validator)] = "d",
        c: Color = Color.red,
    ) -> str:
        LOG.append("validated")
        return q

    def plain(q: str = "d") -> str:
        LOG.append("plain")
        return q

    def with_body(m: Annotated[Model, Body(embed=True)]) -> int:
        LOG.append("with_body")
        return m.a

    app = FastAPI()

    @app.get("/validators")
    def validators(
        a: Annotated[str, Depends(validated)],
        b: Annotated[str, Depends(validated)],
        p1: Annotated[str, Depends(plain)],
        p2: Annotated[str, Depends(plain)],
    ) -> list[str]:
        LOG.append("endpoint")
        return [a, b]

    @app.post("/body")
    async def body(
        a: Annotated[int, Depends(with_body)], b: Annotated[int, Depends(with_body)]
    ) -> Any:
        LOG.append("endpoint")
        return [a, b]

    return app


def test_validators_of_user_code_run_again_on_each_use() -> None:
    LOG.clear()
    with TestClient(_user_code_app()) as client:
        assert client.get("/validators?q=x&c=blue").json() == ["x", "x"]
        twice = ["factory", "validator x", "missing blue"]
        assert LOG == [*twice, "validated", *twice, "plain", "endpoint"]
        LOG.clear()
        assert client.post("/body", json={"m": {"a": 1}}).json() == [1, 1]
        assert LOG == ["model 1", "with_body", "model 1", "endpoint"]
        LOG.clear()
        response = client.post("/body", json={"m": {"a": "x"}})
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 2
    assert LOG == []


def test_security_scopes_and_non_cached_subs() -> None:
    log: list[str] = []

    def nc() -> int:
        log.append("nc")
        return len(log)

    def scoped(ss: SecurityScopes, n: Annotated[int, Depends(nc, use_cache=False)]) -> int:
        log.append(f"scoped {ss.scopes}")
        return n

    def plain(q: str = "d") -> str:
        log.append("plain")
        return q

    async def amid(
        n: Annotated[int, Depends(nc, use_cache=False)], p: Annotated[str, Depends(plain)]
    ) -> int:
        log.append("amid")
        return n

    app = FastAPI()

    @app.get("/")
    async def endpoint(
        a: Annotated[int, Security(scoped, scopes=["x"])],
        b: Annotated[int, Security(scoped, scopes=["x"])],
        c: Annotated[int, Security(scoped, scopes=["y"])],
        d: Annotated[int, Depends(amid)],
        e: Annotated[int, Depends(amid)],
    ) -> list[int]:
        log.append("endpoint")
        return [a, b, c, d, e]

    with TestClient(app) as client:
        assert client.get("/").json() == [1, 1, 4, 6, 6]
    assert log == [
        "nc", "scoped ['x']", "nc", "nc", "scoped ['y']", "nc", "plain", "amid", "nc", "endpoint",
    ]  # fmt: skip


def _node(call: Any) -> Node:
    return Node(get_dependant(path="/", call=call), False, False)


def test_volatile_is_decided_at_compile_time() -> None:
    def plain(q: str, n: int | None = None, items: Annotated[list[int], Query()] = [1]) -> None:  # noqa: B006
        pass  # pragma: no cover

    def uses_plain(p: Annotated[None, Depends(plain)]) -> None:
        pass  # pragma: no cover

    def uses_non_cached(p: Annotated[None, Depends(plain, use_cache=False)]) -> None:
        pass  # pragma: no cover

    def uses_validated(v: Annotated[str, AfterValidator(str.strip)]) -> None:
        pass  # pragma: no cover

    def above(u: Annotated[None, Depends(uses_non_cached)]) -> None:
        pass  # pragma: no cover

    assert not _node(plain).volatile
    assert not _node(uses_plain).volatile  # the common case pays nothing on a cache hit
    assert _node(uses_non_cached).volatile
    assert _node(uses_validated).volatile
    assert _node(above).volatile  # volatile below: solved again too


# --- context variables ---------------------------------------------------------------------------

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def _context_app() -> FastAPI:
    def setter() -> str:
        VAR.set("sync-set")
        return "s"

    def reader() -> str:
        return VAR.get()

    def chain1(s: Annotated[str, Depends(setter)]) -> str:
        return VAR.get()

    def chain2(c: Annotated[str, Depends(chain1)], r: Annotated[str, Depends(reader)]) -> Any:
        VAR.set("chain2")
        return [c, r, VAR.get()]

    async def asetter() -> None:
        VAR.set("async-set")

    def after_async(a: Annotated[None, Depends(asetter)]) -> str:
        return VAR.get()

    app = FastAPI()

    @app.get("/sync")
    def sync_ep(s: Annotated[str, Depends(setter)], r: Annotated[str, Depends(reader)]) -> Any:
        return [r, VAR.get()]

    @app.get("/async")
    async def async_ep(
        s: Annotated[str, Depends(setter)], r: Annotated[str, Depends(reader)]
    ) -> Any:
        return [r, VAR.get()]

    @app.get("/chain")
    def chain_ep(c: Annotated[Any, Depends(chain2)], r: Annotated[str, Depends(reader)]) -> Any:
        return [c, r, VAR.get()]

    @app.get("/mixed")
    def mixed_ep(
        a: Annotated[str, Depends(after_async)],
        r: Annotated[str, Depends(reader)],
        s: Annotated[str, Depends(setter)],
    ) -> Any:
        return [a, r, VAR.get()]

    @app.get("/amixed")
    async def amixed_ep(
        s: Annotated[str, Depends(setter)],
        a: Annotated[str, Depends(after_async)],
        r: Annotated[str, Depends(reader)],
    ) -> Any:
        return [a, r, VAR.get()]

    return app


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/sync", ["unset", "unset"]),
        ("/async", ["unset", "unset"]),
        ("/chain", [["unset", "unset", "chain2"], "unset", "unset"]),
        ("/mixed", ["async-set", "async-set", "async-set"]),
        ("/amixed", ["async-set", "async-set", "async-set"]),
    ],
)
def test_context_variable_set_by_sync_dependency_stays_in_its_call(
    url: str, expected: list[Any]
) -> None:
    with TestClient(_context_app()) as client:
        assert client.get(url).json() == expected


def test_sync_chain_still_runs_in_one_thread_hop() -> None:
    threads: list[int] = []

    def d3() -> None:
        threads.append(threading.get_ident())

    def d2(x: Annotated[None, Depends(d3)]) -> None:
        threads.append(threading.get_ident())

    def d1(x: Annotated[None, Depends(d2)]) -> None:
        threads.append(threading.get_ident())

    app = FastAPI()

    @app.get("/")
    def endpoint(x: Annotated[None, Depends(d1)]) -> None:
        threads.append(threading.get_ident())

    with TestClient(app) as client:
        client.get("/")
    assert len(threads) == 4
    assert len(set(threads)) == 1
    assert threads[0] != threading.get_ident()
