"""Hand-written probes for the 16 differences listed in issue 12 §2 (one or more per item).

Ids: ``issue12.cNN_<what>``, NN being the item number of the issue.
"""

# No `from __future__ import annotations`: FastAPI must see the real annotation objects of
# classes defined inside the builders.
import inspect
import json
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Body,
    Cookie,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    UploadFile,
)
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from probelib import do, get, patch_attr, post, probe, put
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# -- 1. valid JSON body + another invalid parameter, RequestValidationError handler ----------


def _body_echo_handler(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content=jsonable_encoder({"detail": exc.errors(), "body": exc.body}),
        )


class Item(BaseModel):
    name: str
    price: float


@probe(
    post("/items?q=notint", json={"name": "x", "price": 1.5}),
    post("/items?q=3", json={"name": "x"}),
    post("/items?q=bad", json={"name": "x", "price": "bad"}),
    post("/items?q=bad", content=b'{"name": ', headers={"content-type": "application/json"}),
    post("/items?q=5", json={"name": "ok", "price": 2}),
)
def c01_valid_body_invalid_query() -> FastAPI:
    """Model body valid, query invalid; handler echoes exc.body through jsonable_encoder."""
    app = FastAPI()
    _body_echo_handler(app)

    @app.post("/items")
    def create(item: Item, q: int) -> dict[str, Any]:
        return {"item": item, "q": q}

    return app


@probe(
    post("/e?q=x", json={"a": 1, "b": "two"}),
    post("/e?q=x", json={"a": "one", "b": "two"}),
    post("/e?q=1", json={"a": 1}),
)
def c01_embedded_bodies_invalid_query() -> FastAPI:
    """Two Body() params (embedded), both valid, query invalid; handler echoes exc.body."""
    app = FastAPI()
    _body_echo_handler(app)

    @app.post("/e")
    def create(a: Annotated[int, Body()], b: Annotated[str, Body()], q: int) -> dict[str, Any]:
        return {"a": a, "b": b, "q": q}

    return app


@probe(
    post("/d", json={"k": [1, 2]}, headers={"x-n": "nope"}),
    post("/d", json=[1, 2, 3], headers={"x-n": "nope"}),
    post("/d", json={"k": 1}, headers={"x-n": "4"}),
)
def c01_dict_body_invalid_header() -> FastAPI:
    """dict body valid, header invalid; handler echoes exc.body."""
    app = FastAPI()
    _body_echo_handler(app)

    @app.post("/d")
    def create(payload: dict[str, Any], x_n: Annotated[int, Header()]) -> dict[str, Any]:
        return {"payload": payload, "n": x_n}

    return app


@probe(
    post("/f?q=zz", data={"name": "x", "age": "3"}),
    post("/f?q=1", data={"name": "x", "age": "old"}),
)
def c01_form_valid_invalid_query() -> FastAPI:
    """Form fields valid, query invalid; handler echoes exc.body (FormData)."""
    app = FastAPI()
    _body_echo_handler(app)

    @app.post("/f")
    def create(name: Annotated[str, Form()], age: Annotated[int, Form()], q: int) -> dict[str, Any]:
        return {"name": name, "age": age, "q": q}

    return app


# -- 2. body validators raising non-validation exceptions --------------------------------------


class DomainError(Exception):
    pass


class Order(BaseModel):
    qty: int

    @field_validator("qty")
    @classmethod
    def check(cls, v: int) -> int:
        if v == 13:
            raise DomainError("unlucky quantity")
        if v == 666:
            raise RuntimeError("validator bug")
        if v < 0:
            raise ValueError("negative")
        return v


@probe(
    post("/o", json={"qty": 1}),
    post("/o", json={"qty": 13}),
    post("/o", json={"qty": -1}),
    post("/o", json={"qty": 666}, raise_server_exceptions=False),
    post("/o", json={"qty": 666}),
)
def c02_field_validator_domain_error() -> FastAPI:
    """field_validator raises a domain exception (app handler 409) or RuntimeError."""
    app = FastAPI()

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"domain": str(exc)}, status_code=409)

    @app.post("/o")
    def create(order: Order) -> Order:
        return order

    return app


class Booking(BaseModel):
    start: int
    end: int

    @model_validator(mode="after")
    def order(self) -> "Booking":
        if self.start == self.end:
            raise DomainError("empty booking")
        if self.start > self.end:
            raise RuntimeError("reversed booking")
        return self


@probe(
    post("/b", json={"start": 1, "end": 2}),
    post("/b", json={"start": 2, "end": 2}),
    post("/b", json={"start": 3, "end": 2}, raise_server_exceptions=False),
    post("/b", json={"start": 3, "end": 2}),
    post("/b", json={"start": "x", "end": 2}),
)
def c02_model_validator_errors() -> FastAPI:
    """model_validator(after) raises a domain exception (handler) or RuntimeError (500)."""
    app = FastAPI()

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"domain": str(exc)}, status_code=409)

    @app.post("/b")
    async def create(b: Booking) -> dict[str, int]:
        return {"len": b.end - b.start}

    return app


@probe(
    post("/h", json={"qty": 13}),
    post("/h", json={"qty": 666}, raise_server_exceptions=False),
)
def c02_validator_httpexception() -> FastAPI:
    """A before-validator raising HTTPException / RuntimeError, no app handler."""
    app = FastAPI()

    class M(BaseModel):
        qty: int

        @field_validator("qty", mode="before")
        @classmethod
        def check(cls, v: Any) -> Any:
            if v == 13:
                raise HTTPException(status_code=418, detail="teapot from validator")
            if v == 666:
                raise RuntimeError("boom")
            return v

    @app.post("/h")
    def create(m: M) -> M:
        return m

    return app


# -- 3. JSON body values ---------------------------------------------------------------------


@probe(
    post("/c", json={"x": 1.0}),
    post("/c", json={"x": 1}),
    post("/c", json={"x": 1e20}),
    post("/c", json={"x": 0.1}),
    post("/c", json={"x": -0.0}),
    post("/c", content=b'{"x": 1.50}', headers={"content-type": "application/json"}),
)
def c03_coerce_numbers_to_str() -> FastAPI:
    """ConfigDict(coerce_numbers_to_str=True) with float/int JSON values."""
    app = FastAPI()

    class M(BaseModel):
        model_config = ConfigDict(coerce_numbers_to_str=True)
        x: str

    @app.post("/c")
    def create(m: M) -> dict[str, str]:
        return {"x": m.x}

    return app


@probe(
    post("/fr", json={"f": 0.1}),
    post("/fr", json={"f": 1}),
    post("/fr", json={"f": "1/3"}),
    post("/fr", json={"f": 2.5}),
    post("/fr", json={"f": "x"}),
)
def c03_fraction_field() -> FastAPI:
    """Fraction field from JSON floats; endpoint reports str(value)."""
    app = FastAPI()

    class M(BaseModel):
        f: Fraction

    @app.post("/fr")
    def create(m: M) -> dict[str, str]:
        return {"f": str(m.f), "type": type(m.f).__name__}

    return app


@probe(
    post("/mode", json={"a": "x", "b": "y"}),
    post("/mode", json={"a": 1, "b": "y"}),
)
def c03_validator_info_mode() -> FastAPI:
    """field_validators (before and after) echo info.mode into the value."""
    app = FastAPI()

    class M(BaseModel):
        a: str
        b: str

        @field_validator("a", mode="after")
        @classmethod
        def after(cls, v: str, info: ValidationInfo) -> str:
            return f"{v}:{info.mode}"

        @field_validator("b", mode="before")
        @classmethod
        def before(cls, v: Any, info: ValidationInfo) -> Any:
            return f"{v}:{info.mode}"

    @app.post("/mode")
    def create(m: M) -> M:
        return m

    return app


@probe(
    post("/count", json={"n": 1}),
    get("/calls"),
    post("/count", json={"n": "bad"}),
    get("/calls"),
    post("/count", json={"n": 5, "extra": 1}),
    get("/calls"),
    post("/count", json={}),
    get("/calls"),
    post("/count?q=x", json={"n": 1}),
    get("/calls"),
)
def c03_validator_call_count() -> FastAPI:
    """A validator counts its calls; invalid bodies must not validate twice."""
    app = FastAPI()
    calls = {"before": 0, "after": 0, "model": 0}

    class M(BaseModel):
        model_config = ConfigDict(extra="forbid")
        n: int

        @field_validator("n", mode="before")
        @classmethod
        def before(cls, v: Any) -> Any:
            calls["before"] += 1
            return v

        @field_validator("n")
        @classmethod
        def after(cls, v: int) -> int:
            calls["after"] += 1
            if v > 3:
                raise ValueError("too big")
            return v

        @model_validator(mode="before")
        @classmethod
        def model(cls, data: Any) -> Any:
            calls["model"] += 1
            return data

    @app.post("/count")
    def create(m: M, q: int = 0) -> dict[str, int]:
        return {"n": m.n}

    @app.get("/calls")
    def read() -> dict[str, int]:
        return dict(calls)

    return app


@probe(
    post("/dec", json={"d": 0.1}),
    post("/dec", json={"d": 1e-7}),
    post("/dec", json={"d": 12345678901234567890.5}),
    post("/dec", json={"d": 1.10}),
    post("/dec", content=b'{"d": 1.10}', headers={"content-type": "application/json"}),
    post("/dec", json={"d": "1.10"}),
    post("/dec", json={"d": 3}),
    post("/dec", json={"d": True}),
    post("/dec", content=b'{"d": 1E+2}', headers={"content-type": "application/json"}),
)
def c03_decimal_from_floats() -> FastAPI:
    """Decimal field from JSON floats/strings; endpoint reports str(value) and the model."""
    app = FastAPI()

    class M(BaseModel):
        d: Decimal

    @app.post("/dec")
    def create(m: M) -> dict[str, Any]:
        return {"str": str(m.d), "model": m}

    return app


@probe(
    post("/big", json={"n": 12345678901234567890123}),
    post("/big", json={"n": -(2**80)}),
    post("/big", json={"n": 1e25}),
    post("/big", json={"n": 3.0}),
    post("/big", json={"n": 3.5}),
    post("/big", content=b'{"n": 1e3}', headers={"content-type": "application/json"}),
    post(
        "/big",
        content=b'{"n": 100000000000000000000000000000000000.0}',
        headers={"content-type": "application/json"},
    ),
)
def c03_big_ints() -> FastAPI:
    """int field from big JSON ints and integral floats."""
    app = FastAPI()

    class M(BaseModel):
        n: int

    @app.post("/big")
    def create(m: M) -> dict[str, str]:
        return {"n": str(m.n)}

    return app


class Color(Enum):
    RED = "red"
    BLUE = "blue"


@probe(
    post("/s", json={"n": 1, "d": "2024-01-02", "c": "red", "t": [1, 2], "b": "abc"}),
    post("/s", json={"n": "1", "d": "2024-01-02", "c": "red", "t": [1, 2], "b": "abc"}),
    post("/s", json={"n": 1.0, "d": "2024-01-02", "c": "red", "t": [1, 2], "b": "abc"}),
    post("/s", json={"n": 1, "d": 1700000000, "c": "RED", "t": [1, 2], "b": "abc"}),
)
def c03_strict_model() -> FastAPI:
    """ConfigDict(strict=True): JSON-only conversions (str date, enum value, tuple from list)."""
    app = FastAPI()

    class M2(BaseModel):
        model_config = ConfigDict(strict=True)
        n: int
        d: date
        c: Color
        t: tuple[int, int]
        b: bytes

    @app.post("/s")
    def create(m: M2) -> dict[str, str]:
        return {"repr": repr(m)}

    return app


@probe(
    post("/u", json={"a": 1, "b": 1, "c": "1", "d": 1.0, "e": True}),
    post("/u", json={"a": "1", "b": 1.5, "c": 1, "d": 1, "e": 1}),
    post("/u", json={"a": 1.0, "b": "x", "c": None, "d": "2", "e": "true"}),
)
def c03_unions() -> FastAPI:
    """Smart-mode unions fed from JSON: int|str, float|int, str|int|None, Decimal|float, bool|int."""
    app = FastAPI()

    class M(BaseModel):
        a: int | str
        b: float | int | str
        c: str | int | None
        d: Decimal | float | str
        e: bool | int | str

    @app.post("/u")
    def create(m: M) -> dict[str, str]:
        return {k: f"{type(v).__name__}:{v!r}" for k, v in m.__dict__.items()}

    return app


@probe(
    post("/al", json={"A": 1, "bee": 2, "c": 3}),
    post("/al", json={"a": 1, "b": 2, "c": 3}),
    post("/al", json={"A": 1, "b2": 2, "c": 3}),
    post("/al", json={"A": "x", "bee": "y", "c": "z"}),
)
def c03_aliases() -> FastAPI:
    """alias, validation_alias=AliasChoices, serialization_alias, populate_by_name."""
    app = FastAPI()

    class M(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        a: int = Field(alias="A")
        b: int = Field(validation_alias=AliasChoices("bee", "b2"))
        c: int = Field(serialization_alias="Cee")

    @app.post("/al")
    def create(m: M) -> M:
        return m

    return app


# -- 4. route table mutated after the first request --------------------------------------------


def _table_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def by_id(item_id: str) -> dict[str, str]:
        return {"route": "by_id", "id": item_id}

    @app.get("/items/me")
    def me() -> dict[str, str]:
        return {"route": "me"}

    @app.get("/other")
    def other() -> dict[str, str]:
        return {"route": "other"}

    return app


def _api_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.router.routes if isinstance(r, APIRoute)]


def _paths(app: FastAPI) -> list[str]:
    app.openapi_schema = None
    return list(app.openapi()["paths"])


def _reverse_api_routes(app: FastAPI) -> list[str]:
    api = _api_routes(app)
    rest = [r for r in app.router.routes if r not in api]
    app.router.routes[:] = rest + list(reversed(api))
    return [getattr(r, "path", "?") for r in app.router.routes]


@probe(
    get("/items/me"),
    get("/items/5"),
    do(_reverse_api_routes, "reverse the API routes in place"),
    get("/items/me"),
    get("/items/5"),
    do(_paths, "openapi paths"),
)
def c04_routes_reordered() -> FastAPI:
    """Routes reversed in app.router.routes after the first request."""
    return _table_app()


def _replace_me(app: FastAPI) -> str:
    routes = app.router.routes
    for i, r in enumerate(routes):
        if isinstance(r, APIRoute) and r.path == "/items/me":

            def me2() -> dict[str, str]:
                return {"route": "me2"}

            routes[i] = APIRoute("/items/me", me2, methods=["GET"])
            return "replaced"
    return "not found"


@probe(
    get("/items/me"),
    do(_replace_me, "replace /items/me with a new APIRoute"),
    get("/items/me"),
    get("/items/7"),
)
def c04_route_replaced() -> FastAPI:
    """A route object replaced by index after the first request."""
    return _table_app()


def _remove_other(app: FastAPI) -> int:
    route = next(r for r in _api_routes(app) if r.path == "/other")
    app.router.routes.remove(route)
    app.state.removed = route
    return len(app.router.routes)


def _readd_other(app: FastAPI) -> int:
    app.router.routes.append(app.state.removed)
    return len(app.router.routes)


@probe(
    get("/other"),
    do(_remove_other, "remove /other"),
    get("/other"),
    do(_readd_other, "append it again"),
    get("/other"),
    do(_paths, "openapi paths"),
)
def c04_route_removed_readded() -> FastAPI:
    """routes.remove(route), request, routes.append(route), request."""
    return _table_app()


def _del_and_insert(app: FastAPI) -> list[str]:
    api = _api_routes(app)
    me = next(r for r in api if r.path == "/items/me")
    del app.router.routes[app.router.routes.index(me)]
    app.router.routes.insert(0, me)
    return [getattr(r, "path", "?") for r in app.router.routes]


@probe(
    get("/items/me"),
    do(
        lambda app: (
            app.router.routes.pop(
                app.router.routes.index(next(r for r in _api_routes(app) if r.path == "/items/me"))
            ).path
        ),
        "pop /items/me",
    ),
    get("/items/me"),
    get("/other"),
)
def c04_route_popped() -> FastAPI:
    """routes.pop(i) after a request."""
    app = _table_app()
    return app


def _add_new(app: FastAPI) -> int:
    def late() -> dict[str, str]:
        return {"route": "late"}

    def shadow() -> dict[str, str]:
        return {"route": "shadow"}

    app.add_api_route("/late", late, methods=["GET"])
    app.add_api_route("/other", shadow, methods=["GET"])
    return len(app.router.routes)


@probe(
    get("/other"),
    get("/late"),
    do(_add_new, "add_api_route /late and a second /other"),
    get("/late"),
    get("/other"),
    do(_del_and_insert, "del /items/me, insert it at 0"),
    get("/items/me"),
    do(_paths, "openapi paths"),
)
def c04_add_api_route_after_request() -> FastAPI:
    """add_api_route after the first request (new path, and a path already served)."""
    return _table_app()


def _remove_then_add_route(app: FastAPI) -> int:
    route = next(r for r in _api_routes(app) if r.path == "/items/{item_id}")
    app.router.routes.remove(route)

    def by_id2(item_id: int) -> dict[str, Any]:
        return {"route": "by_id2", "id": item_id}

    app.add_api_route("/items/{item_id}", by_id2, methods=["GET"])
    return len(app.router.routes)


@probe(
    get("/items/5"),
    do(_remove_then_add_route, "remove /items/{item_id}, add_api_route a new one"),
    get("/items/5"),
    get("/items/x"),
    get("/items/me"),
    do(_paths, "openapi paths"),
)
def c04_remove_then_add_api_route() -> FastAPI:
    """A route removed and re-declared through add_api_route (with another signature)."""
    return _table_app()


# -- 5. router empty when included -------------------------------------------------------------


@probe(
    get("/r/items/me"),
    get("/r/items/5"),
    get("/r/late"),
    get("/r/first"),
)
def c05_empty_router_included() -> FastAPI:
    """APIRouter included while empty, routes added afterwards; app routes declared after."""
    app = FastAPI()
    router = APIRouter(prefix="/r")
    app.include_router(router)

    @router.get("/items/{x}")
    def r_item(x: str) -> dict[str, str]:
        return {"route": "router item", "x": x}

    @router.get("/late")
    def r_late() -> dict[str, str]:
        return {"route": "router late"}

    @app.get("/r/items/me")
    def app_me() -> dict[str, str]:
        return {"route": "app me"}

    @app.get("/r/first")
    def app_first() -> dict[str, str]:
        return {"route": "app first"}

    return app


@probe(get("/a/one"), get("/a/two"), get("/a/shared"))
def c05_router_grows_after_include() -> FastAPI:
    """A non-empty router included, then another route added to it; app route after."""
    app = FastAPI()
    router = APIRouter(prefix="/a", tags=["a"])

    @router.get("/one")
    def one() -> str:
        return "one"

    app.include_router(router)

    @router.get("/two")
    def two() -> str:
        return "two"

    @router.get("/shared")
    def shared_router() -> str:
        return "router"

    @app.get("/a/shared")
    def shared_app() -> str:
        return "app"

    return app


@probe(get("/outer/inner/x"), get("/outer/y"), get("/outer/inner/z"))
def c05_nested_empty_routers() -> FastAPI:
    """Empty inner router included in an outer router included in the app; then filled."""
    app = FastAPI()
    outer = APIRouter(prefix="/outer")
    inner = APIRouter(prefix="/inner")
    outer.include_router(inner)
    app.include_router(outer)

    @inner.get("/x")
    def x() -> str:
        return "inner x"

    @outer.get("/y")
    def y() -> str:
        return "outer y"

    @app.get("/outer/inner/{name}")
    def catch(name: str) -> str:
        return f"app {name}"

    return app


# -- 6. use_cache=False sub-dependency of a cached dependency --------------------------------


@probe(get("/"), get("/"))
def c06_use_cache_false_sub() -> FastAPI:
    """sub (use_cache=False) under cached dep used twice, plus used directly twice."""
    app = FastAPI()
    calls = {"sub": 0, "dep": 0}

    def sub() -> int:
        calls["sub"] += 1
        return calls["sub"]

    def dep(s: Annotated[int, Depends(sub, use_cache=False)]) -> str:
        calls["dep"] += 1
        return f"dep{calls['dep']}-sub{s}"

    @app.get("/")
    def ep(
        a: Annotated[str, Depends(dep)],
        b: Annotated[str, Depends(dep)],
        c: Annotated[int, Depends(sub, use_cache=False)],
    ) -> dict[str, Any]:
        out = {"a": a, "b": b, "c": c, "calls": dict(calls)}
        calls.update(sub=0, dep=0)
        return out

    return app


@probe(get("/"), get("/"))
def c06_use_cache_false_yield_sub() -> FastAPI:
    """yield sub-dependency with use_cache=False under a cached dependency used twice."""
    app = FastAPI()
    log: list[str] = []

    def sub() -> Any:
        n = len([x for x in log if x.startswith("enter")]) + 1
        log.append(f"enter{n}")
        yield n
        log.append(f"exit{n}")

    def dep(s: Annotated[int, Depends(sub, use_cache=False)]) -> int:
        log.append(f"dep{s}")
        return s

    @app.get("/")
    def ep(a: Annotated[int, Depends(dep)], b: Annotated[int, Depends(dep)]) -> dict[str, Any]:
        return {"a": a, "b": b, "log": list(log)}

    @app.get("/log")
    def read() -> list[str]:
        out = list(log)
        log.clear()
        return out

    return app


@probe(get("/"), get("/"))
def c06_async_use_cache_false() -> FastAPI:
    """async sub-dependency use_cache=False reached through two cached async parents."""
    app = FastAPI()
    calls = {"n": 0}

    async def sub() -> int:
        calls["n"] += 1
        return calls["n"]

    async def p1(s: Annotated[int, Depends(sub, use_cache=False)]) -> int:
        return s

    async def p2(
        s: Annotated[int, Depends(sub, use_cache=False)], p: Annotated[int, Depends(p1)]
    ) -> int:
        return s * 100 + p

    @app.get("/")
    async def ep(
        a: Annotated[int, Depends(p1)],
        b: Annotated[int, Depends(p2)],
        c: Annotated[int, Depends(p2)],
    ) -> dict[str, int]:
        out = {"a": a, "b": b, "c": c, "calls": calls["n"]}
        calls["n"] = 0
        return out

    return app


# -- 7. ContextVar set by a plain def dependency -------------------------------------------------

_CV: ContextVar[str] = ContextVar("_CV", default="unset")


@probe(get("/sync"), get("/async"), get("/chain"))
def c07_contextvar_def_deps() -> FastAPI:
    """def dependency sets a ContextVar; sibling, child, endpoint report what they see."""
    app = FastAPI()

    def setter() -> str:
        _CV.set("set-by-setter")
        return _CV.get()

    def sibling() -> str:
        return _CV.get()

    def child(s: Annotated[str, Depends(setter)]) -> str:
        return _CV.get()

    @app.get("/sync")
    def ep_sync(
        a: Annotated[str, Depends(setter)], b: Annotated[str, Depends(sibling)]
    ) -> dict[str, str]:
        return {"setter": a, "sibling": b, "endpoint": _CV.get()}

    @app.get("/async")
    async def ep_async(
        a: Annotated[str, Depends(setter)], b: Annotated[str, Depends(sibling)]
    ) -> dict[str, str]:
        return {"setter": a, "sibling": b, "endpoint": _CV.get()}

    @app.get("/chain")
    def ep_chain(
        c: Annotated[str, Depends(child)], b: Annotated[str, Depends(sibling)]
    ) -> dict[str, str]:
        return {"child": c, "sibling": b, "endpoint": _CV.get()}

    return app


@probe(get("/"))
def c07_contextvar_yield_def_dep() -> FastAPI:
    """yield def dependency sets a ContextVar; a later def dependency and the endpoint read it."""
    app = FastAPI()
    cv: ContextVar[str] = ContextVar("cv7", default="unset")

    def setter() -> Any:
        cv.set("yield-setter")
        yield "y"

    def reader() -> str:
        return cv.get()

    @app.get("/")
    def ep(
        a: Annotated[str, Depends(setter)], b: Annotated[str, Depends(reader)]
    ) -> dict[str, str]:
        return {"reader": b, "endpoint": cv.get()}

    return app


# -- 8. UploadFile and an exception handler ----------------------------------------------------


class UploadBoom(Exception):
    pass


@probe(
    post("/up", files={"file": ("a.txt", b"hello file", "text/plain")}),
    post("/up-sync", files={"file": ("b.txt", b"sync data", "text/plain")}),
    post("/up-http", files={"file": ("c.txt", b"http data", "text/plain")}),
)
def c08_uploadfile_exception_handler() -> FastAPI:
    """Endpoint raises after receiving an UploadFile; handlers inspect file.file.closed."""
    app = FastAPI()

    async def inspect_file(request: Request) -> dict[str, Any]:
        f = request.state.upload
        closed = f.file.closed
        data = None
        if not closed:
            await f.seek(0)
            data = (await f.read()).decode()
        return {"closed": closed, "data": data, "filename": f.filename}

    @app.exception_handler(UploadBoom)
    async def boom(request: Request, exc: UploadBoom) -> JSONResponse:
        return JSONResponse(await inspect_file(request), status_code=418)

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> JSONResponse:
        info = await inspect_file(request)
        return JSONResponse({**info, "detail": exc.detail}, status_code=exc.status_code)

    @app.post("/up")
    async def up(file: UploadFile, request: Request) -> None:
        request.state.upload = file
        raise UploadBoom()

    @app.post("/up-sync")
    def up_sync(file: UploadFile, request: Request) -> None:
        request.state.upload = file
        raise UploadBoom()

    @app.post("/up-http")
    async def up_http(file: Annotated[UploadFile, File()], request: Request) -> None:
        request.state.upload = file
        raise HTTPException(status_code=409, detail="conflict")

    return app


@probe(
    post("/up", files={"files": ("a.txt", b"one", "text/plain")}, data={"note": "n"}),
    get("/seen"),
)
def c08_uploadfile_closed_after_response() -> FastAPI:
    """list[UploadFile] + Form: was the file closed once the response was sent?"""
    app = FastAPI()
    seen: list[Any] = []

    @app.post("/up")
    async def up(files: list[UploadFile], note: Annotated[str, Form()]) -> dict[str, Any]:
        seen.extend(files)
        return {"n": len(files), "closed": [f.file.closed for f in files], "note": note}

    @app.get("/seen")
    def read() -> list[bool]:
        return [f.file.closed for f in seen]

    return app


# -- 9. patched JSONResponse.render ------------------------------------------------------------


def _patched_render(self: Any, content: Any) -> bytes:
    return json.dumps({"patched": content}, separators=(",", ":")).encode()


@probe(get("/plain"), get("/model"), get("/explicit"), get("/list"))
def c09_render_patched_before_build() -> FastAPI:
    """fastapi.responses.JSONResponse.render patched before the app is built."""
    patch_attr(JSONResponse, "render", _patched_render)
    app = FastAPI()

    class Out(BaseModel):
        a: int

    @app.get("/plain")
    def plain() -> dict[str, int]:
        return {"a": 1}

    @app.get("/model", response_model=Out)
    def model() -> Any:
        return {"a": 2, "b": 3}

    @app.get("/explicit")
    def explicit() -> JSONResponse:
        return JSONResponse({"a": 3})

    @app.get("/list")
    def listing():  # type: ignore[no-untyped-def]
        return [1, 2]

    return app


@probe(
    get("/plain"),
    do(lambda app: patch_attr(JSONResponse, "render", _patched_render), "patch render"),
    get("/plain"),
    get("/model"),
    get("/notfound"),
)
def c09_render_patched_after_first_request() -> FastAPI:
    """JSONResponse.render patched after the first request."""
    app = FastAPI()

    class Out(BaseModel):
        a: int

    @app.get("/plain")
    def plain():  # type: ignore[no-untyped-def]
        return {"a": 1}

    @app.get("/model", response_model=Out)
    def model() -> Any:
        return {"a": 2}

    return app


# -- 10. misspelled keywords, default_factory plus a default -----------------------------------


@probe()
def c10_query_misspelled_keyword() -> FastAPI:
    """Query(max_lenght=3) must fail at declaration."""
    app = FastAPI()

    @app.get("/")
    def ep(q: str = Query(max_lenght=3)) -> str:  # type: ignore[call-overload]
        return q

    return app


@probe()
def c10_body_misspelled_keyword() -> FastAPI:
    """Body(embedd=True) must fail at declaration."""
    app = FastAPI()

    @app.post("/")
    def ep(q: Annotated[int, Body(embedd=True)]) -> int:  # type: ignore[call-overload]
        return q

    return app


@probe()
def c10_header_misspelled_keyword() -> FastAPI:
    """Header(convert_underscore=False) (missing s) must fail at declaration."""
    app = FastAPI()

    @app.get("/")
    def ep(x_a: Annotated[str, Header(convert_underscore=False)]) -> str:  # type: ignore[call-overload]
        return x_a

    return app


@probe()
def c10_path_cookie_form_unknown_keyword() -> FastAPI:
    """Path(foo=1) must fail at declaration."""
    app = FastAPI()

    @app.get("/{p}")
    def ep(p: Annotated[int, Path(foo=1)]) -> int:  # type: ignore[call-overload]
        return p

    return app


@probe(get("/"), get("/?q=5"))
def c10_annotated_default_factory_and_default() -> FastAPI:
    """Annotated[int, Query(default_factory=...)] = 2 must fail at declaration."""
    app = FastAPI()

    @app.get("/")
    def ep(q: Annotated[int, Query(default_factory=lambda: 1)] = 2) -> int:
        return q

    return app


@probe(get("/"), get("/?q=5"))
def c10_annotated_default_factory_ok() -> FastAPI:
    """Annotated[int, Query(default_factory=...)] without a default works."""
    app = FastAPI()

    @app.get("/")
    def ep(q: Annotated[int, Query(default_factory=lambda: 1)]) -> int:
        return q

    return app


# -- 11. error order --------------------------------------------------------------------------


@probe(
    get("/?limit=abc&page=x"),
    get("/?limit=500&page=1"),
    get("/?page=x"),
    get("/?limit=5&page=2&tags=a&tags=b"),
)
def c11_query_model_before_plain_param() -> FastAPI:
    """Annotated[Model, Query()] declared before a plain query param, both invalid."""
    app = FastAPI()

    class Filters(BaseModel):
        limit: int = Field(100, le=100)
        tags: list[str] = []

    @app.get("/")
    def ep(f: Annotated[Filters, Query()], page: int) -> dict[str, Any]:
        return {"f": f, "page": page}

    return app


@probe(
    get("/", headers={"x-token": "t", "x-n": "bad", "x-count": "bad"}),
    get("/", headers={"x-n": "bad"}),
    get("/", headers={"x-token": "t", "x-n": "1", "x-count": "2"}),
)
def c11_header_model_before_plain_header() -> FastAPI:
    """Annotated[Model, Header()] before a plain Header param, both invalid."""
    app = FastAPI()

    class H(BaseModel):
        x_token: str
        x_count: int

    @app.get("/")
    def ep(h: Annotated[H, Header()], x_n: Annotated[int, Header()]) -> dict[str, Any]:
        return {"h": h, "n": x_n}

    return app


@probe(
    get("/?a=x", cookies={"sid": "s", "n": "bad"}),
    get("/?a=1", cookies={"n": "1", "sid": "s", "extra": "e"}),
    get("/"),
)
def c11_cookie_model_and_query() -> FastAPI:
    """Cookie model (extra=forbid) plus a query parameter declared after it."""
    app = FastAPI()

    class C(BaseModel):
        model_config = ConfigDict(extra="forbid")
        sid: str
        n: int

    @app.get("/")
    def ep(c: Annotated[C, Cookie()], a: int) -> dict[str, Any]:
        return {"c": c, "a": a}

    return app


@probe(
    post("/profiles/", data={"name": "Rick", "tags": ["a", "b"], "token": "t"}),
    post("/profiles/", data={"name": "Rick", "token": "t"}),
    post("/profiles/", data={"tags": ["a"]}),
    post("/profiles/", data={}),
)
def c11_form_models_tutorial003() -> FastAPI:
    """Two form models and a Form field (docs_src/request_form_models/tutorial003 shape)."""
    app = FastAPI()

    class Profile(BaseModel):
        name: str

    class Preferences(BaseModel):
        tags: list[str] = []

    @app.post("/profiles/")
    async def create_profile(
        profile: Annotated[Profile, Form()],
        preferences: Annotated[Preferences, Form()],
        token: Annotated[str, Form()],
    ) -> dict[str, Any]:
        return {"profile": profile, "preferences": preferences, "token": token}

    return app


@probe(
    post("/profiles/", data={"name": "Rick"}, files={"avatar": ("a.png", b"PNG", "image/png")}),
    post("/profiles/", data={"name": "Rick"}),
    post("/profiles/", files={"avatar": ("a.png", b"PNG", "image/png")}),
    post("/profiles/"),
)
def c11_form_models_tutorial004() -> FastAPI:
    """Form model plus an UploadFile (tutorial004 shape)."""
    app = FastAPI()

    class Profile(BaseModel):
        name: str

    @app.post("/profiles/")
    async def create_profile(
        profile: Annotated[Profile, Form()], avatar: UploadFile
    ) -> dict[str, Any]:
        return {"profile": profile, "filename": avatar.filename}

    return app


@probe(
    post("/contacts/", data={"contact_type": "person", "name": "Rick", "token": "s"}),
    post(
        "/contacts/",
        data={
            "contact_type": "company",
            "company_name": "A",
            "token": "s",
            "notification_type": "sms",
            "phone": "1",
        },
    ),
    post("/contacts/", data={"token": "secret"}),
    post("/contacts/", data={"token": "secret", "contact_type": "person"}),
    post(
        "/contacts/",
        data={"token": "s", "contact_type": "person", "name": "R", "notification_type": "sms"},
    ),
    post("/contacts/", data={"contact_type": "robot"}),
)
def c11_form_models_tutorial007() -> FastAPI:
    """Discriminated-union form models (tutorial007 shape)."""
    app = FastAPI()

    class Person(BaseModel):
        contact_type: Literal["person"]
        name: str

    class Company(BaseModel):
        contact_type: Literal["company"]
        company_name: str

    class Email(BaseModel):
        notification_type: Literal["email"]
        email: str

    class SMS(BaseModel):
        notification_type: Literal["sms"]
        phone: str

    @app.post("/contacts/")
    async def create_contact(
        contact: Annotated[Person | Company, Form(discriminator="contact_type")],
        token: Annotated[str, Form()],
        notification: Annotated[Email | SMS | None, Form(discriminator="notification_type")] = None,
    ) -> dict[str, Any]:
        return {"contact": contact, "notification": notification, "token": token}

    return app


# -- 12. strict_content_type=False -------------------------------------------------------------

_JSON = b'{"a": 1}'


@probe(
    post("/", content=_JSON, headers={"content-type": ""}),
    post("/", content=_JSON),
    post("/", content=_JSON, headers={"content-type": "text/plain"}),
    post("/", content=_JSON, headers={"content-type": "application/vnd.api+json"}),
    post("/", content=b"not json", headers={"content-type": ""}),
)
def c12_strict_content_type_false_app() -> FastAPI:
    """FastAPI(strict_content_type=False): empty or missing Content-Type parses JSON."""
    app = FastAPI(strict_content_type=False)

    @app.post("/")
    def ep(payload: dict[str, int]) -> dict[str, int]:
        return payload

    return app


@probe(
    post("/loose", content=_JSON, headers={"content-type": ""}),
    post("/strict", content=_JSON, headers={"content-type": ""}),
    post("/r/x", content=_JSON, headers={"content-type": ""}),
    post("/r/y", content=_JSON),
    post("/r/z", content=_JSON, headers={"content-type": ""}),
)
def c12_strict_content_type_route_and_router() -> FastAPI:
    """strict_content_type per route (router.add_api_route) and per router, app default strict."""
    app = FastAPI()
    router = APIRouter(prefix="/r", strict_content_type=False)

    def echo(payload: dict[str, int]) -> dict[str, int]:
        return payload

    app.router.add_api_route("/loose", echo, methods=["POST"], strict_content_type=False)
    app.router.add_api_route("/strict", echo, methods=["POST"])
    router.add_api_route("/x", echo, methods=["POST"])
    router.add_api_route("/y", echo, methods=["POST"], strict_content_type=True)
    app.include_router(router)
    router.add_api_route("/z", echo, methods=["POST"])
    return app


@probe(post("/x", content=_JSON, headers={"content-type": ""}))
def c12_app_add_api_route_strict_keyword() -> FastAPI:
    """FastAPI.add_api_route() has no strict_content_type keyword (APIRouter's has)."""
    app = FastAPI()

    def echo(payload: dict[str, int]) -> dict[str, int]:
        return payload

    app.add_api_route("/x", echo, methods=["POST"], strict_content_type=False)
    return app


@probe(
    post("/", content=_JSON, headers={"content-type": ""}),
    post("/", content=_JSON),
)
def c12_strict_content_type_default() -> FastAPI:
    """Default (strict) app: empty Content-Type with a JSON body."""
    app = FastAPI()

    @app.post("/")
    def ep(payload: Annotated[dict[str, int], Body()] = {}) -> dict[str, int]:  # noqa: B006
        return payload

    return app


# -- 13. fastapi.__version__ ---------------------------------------------------------------------


@probe(get("/version"))
def c13_fastapi_version() -> FastAPI:
    """An endpoint reports fastapi.__version__."""
    import fastapi

    app = FastAPI()

    @app.get("/version")
    def version() -> dict[str, str]:
        return {"version": fastapi.__version__}

    return app


# -- 14. FastAPI() has no body limit --------------------------------------------------------------

_BIG = b'{"data": "' + b"x" * (3 * 1024 * 1024) + b'"}'


@probe(
    post("/big", content=_BIG, headers={"content-type": "application/json"}),
    post(
        "/big",
        content=_JSON,
        headers={"content-type": "application/json", "content-length": "9999999999"},
    ),
    post("/raw", content=b"y" * (2 * 1024 * 1024)),
)
def c14_no_body_limit() -> FastAPI:
    """FastAPI(): a 3 MB JSON body and a huge Content-Length are not limited."""
    app = FastAPI()

    @app.post("/big")
    def big(payload: dict[str, Any]) -> dict[str, int]:
        return {"len": sum(len(str(v)) for v in payload.values())}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"len": len(await request.body())}

    return app


# -- 15. a plain class as a parameter type ---------------------------------------------------------


class Plain:
    def __init__(self, x: int) -> None:
        self.x = x


@probe()
def c15_plain_class_query_param() -> FastAPI:
    """A plain (non-pydantic) class as a query parameter type."""
    app = FastAPI()

    @app.get("/")
    def ep(p: Plain) -> str:
        return "x"

    return app


@probe()
def c15_plain_class_body_param() -> FastAPI:
    """A plain class as an explicit Body() parameter type."""
    app = FastAPI()

    @app.post("/")
    def ep(p: Annotated[Plain, Body()]) -> str:
        return "x"

    return app


@probe()
def c15_plain_class_response_model() -> FastAPI:
    """A plain class as a return annotation (response model)."""
    app = FastAPI()

    @app.get("/")
    def ep() -> Plain:
        return Plain(1)

    return app


# -- 16. __signature__ rewritten after the first read (class-based views) -------------------------


def _cbv(router: APIRouter, cls: type) -> APIRouter:
    """A minimal class-based-view helper in the style of fastapi-utils' ``cbv``."""
    members = {v for v in cls.__dict__.values() if inspect.isfunction(v)}
    moved = APIRouter()
    for route in list(router.routes):
        if isinstance(route, APIRoute) and route.endpoint in members:
            router.routes.remove(route)
            sig = inspect.signature(route.endpoint)
            params = list(sig.parameters.values())
            first = params[0].replace(default=Depends(cls))
            rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[1:]]
            route.endpoint.__signature__ = sig.replace(  # type: ignore[attr-defined]
                parameters=[first, *rest]
            )
            moved.routes.append(route)
    router.include_router(moved)
    return router


def _token(x_token: Annotated[str, Header()] = "anon") -> str:
    return x_token


@probe(
    get("/cbv/items?limit=2", headers={"x-token": "t1"}),
    get("/cbv/items"),
    post("/cbv/items", json={"name": "n", "price": 1}),
    get("/cbv/items?limit=x"),
)
def c16_class_based_view_signature() -> FastAPI:
    """cbv helper rewrites self into Depends(cls) after the routes were declared."""
    app = FastAPI()
    router = APIRouter()

    class Items:
        def __init__(self, token: Annotated[str, Depends(_token)]) -> None:
            self.token = token

        @router.get("/cbv/items")
        def list_items(self, limit: int = 10) -> dict[str, Any]:
            return {"token": self.token, "limit": limit}

        @router.post("/cbv/items")
        def create(self, item: Item) -> dict[str, Any]:
            return {"token": self.token, "item": item}

    _cbv(router, Items)
    app.include_router(router)
    return app


@probe(get("/s?b=2"), get("/s?a=1"), get("/s?a=1&b=2"))
def c16_signature_rewritten_before_include() -> FastAPI:
    """A plain function's __signature__ replaced after @router.get, before include_router."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/s")
    def ep(a: int = 0, **kwargs: Any) -> dict[str, Any]:
        return {"a": a, "kwargs": kwargs}

    sig = inspect.signature(ep)
    ep.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[
            inspect.Parameter("b", inspect.Parameter.KEYWORD_ONLY, annotation=int),
        ]
    )
    app.include_router(router)
    return app


@probe(get("/late?b=3"), get("/late?a=1"))
def c16_signature_rewritten_then_add_api_route() -> FastAPI:
    """Signature rewritten between two add_api_route calls with the same function."""
    app = FastAPI()

    def ep(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    ep.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("a", inspect.Parameter.KEYWORD_ONLY, annotation=int)]
    )
    app.add_api_route("/early", ep)
    ep.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("b", inspect.Parameter.KEYWORD_ONLY, annotation=int)]
    )
    app.add_api_route("/late", ep)
    return app


_unused = (put, Cookie)
