"""The application: lifespan, events, middleware, exception handlers, responses."""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from hasten import Depends, FastAPI, Hasten, HTTPException, Request, Response, status
from hasten.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from hasten.exceptions import RequestValidationError
from hasten.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from hasten.testclient import TestClient

# --- lifespan and events ------------------------------------------------------------------------


def test_lifespan_runs_around_the_app_and_sets_state() -> None:
    log: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        log.append("startup")
        yield {"db": "connected"}
        log.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    def root(request: Request) -> str:
        return str(request.state.db)

    with TestClient(app) as client:
        assert log == ["startup"]
        assert client.get("/").json() == "connected"
    assert log == ["startup", "shutdown"]


def test_included_router_lifespans_run_too() -> None:
    from hasten import APIRouter

    log: list[str] = []

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.append("app:start")
        yield
        log.append("app:stop")

    @asynccontextmanager
    async def router_lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.append("router:start")
        yield
        log.append("router:stop")

    app = FastAPI(lifespan=app_lifespan)
    app.include_router(APIRouter(lifespan=router_lifespan))
    with TestClient(app):
        assert log == ["app:start", "router:start"]
    assert log == ["app:start", "router:start", "router:stop", "app:stop"]


def test_on_event_handlers_are_deprecated_but_run() -> None:
    log: list[str] = []
    app = FastAPI()

    with pytest.warns(DeprecationWarning):

        @app.on_event("startup")
        async def startup() -> None:
            log.append("startup")

    with pytest.warns(DeprecationWarning):

        @app.on_event("shutdown")
        def shutdown() -> None:
            log.append("shutdown")

    with TestClient(app):
        assert log == ["startup"]
    assert log == ["startup", "shutdown"]


# --- middleware ---------------------------------------------------------------------------------


def test_http_middleware_decorator() -> None:
    app = FastAPI()

    @app.middleware("http")
    async def add_header(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Process"] = "done"
        return response

    @app.get("/")
    def root() -> str:
        return "ok"

    response = TestClient(app).get("/")
    assert response.json() == "ok"
    assert response.headers["x-process"] == "done"


class PureASGIMiddleware:
    def __init__(self, app: ASGIApp, label: str) -> None:
        self.app = app
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-label", self.label.encode())]
            await send(message)

        await self.app(scope, receive, send_with_header)


def test_add_middleware_order_last_added_is_outermost() -> None:
    order: list[str] = []

    class Recorder(BaseHTTPMiddleware):
        def __init__(self, app: ASGIApp, name: str) -> None:
            super().__init__(app)
            self.name = name

        async def dispatch(self, request: Request, call_next: Any) -> Response:
            order.append(self.name)
            return await call_next(request)  # type: ignore[no-any-return]

    app = FastAPI()
    app.add_middleware(Recorder, name="inner")
    app.add_middleware(Recorder, name="outer")
    app.add_middleware(PureASGIMiddleware, label="pure")

    @app.get("/")
    def root() -> str:
        return "ok"

    response = TestClient(app).get("/")
    assert response.headers["x-label"] == "pure"
    assert order == ["outer", "inner"]


def test_middleware_sees_http_exception_responses() -> None:
    app = FastAPI()
    statuses: list[int] = []

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        statuses.append(response.status_code)
        return response

    @app.get("/missing")
    def missing() -> None:
        raise HTTPException(status_code=404, detail="nope")

    client = TestClient(app)
    client.get("/missing")
    client.get("/unknown-route")
    assert statuses == [404, 404]


# --- exception handlers -------------------------------------------------------------------------


class UnicornError(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def test_custom_exception_handler() -> None:
    app = FastAPI()

    @app.exception_handler(UnicornError)
    async def unicorn_handler(request: Request, exc: UnicornError) -> JSONResponse:
        return JSONResponse(status_code=418, content={"message": f"Oops! {exc.name}"})

    @app.get("/unicorns/{name}")
    def read(name: str) -> str:
        if name == "yolo":
            raise UnicornError(name)
        return name

    client = TestClient(app)
    assert client.get("/unicorns/a").json() == "a"
    response = client.get("/unicorns/yolo")
    assert response.status_code == 418
    assert response.json() == {"message": "Oops! yolo"}


def test_http_exception_handler_override_and_reuse_of_the_default() -> None:
    app = FastAPI()
    seen: list[int] = []

    @app.exception_handler(StarletteHTTPException)
    async def handler(request: Request, exc: StarletteHTTPException) -> Response:
        seen.append(exc.status_code)
        if exc.status_code == 404:
            return PlainTextResponse(f"custom: {exc.detail}", status_code=404)
        return await http_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    def read(item_id: int) -> int:
        if item_id == 3:
            raise HTTPException(status_code=418, detail="no three", headers={"X-Error": "3"})
        raise HTTPException(status_code=404, detail="Item not found")

    client = TestClient(app)
    response = client.get("/items/1")
    assert response.status_code == 404
    assert response.text == "custom: Item not found"
    assert client.get("/nothing-here").text == "custom: Not Found"
    response = client.get("/items/3")
    assert response.status_code == 418
    assert response.json() == {"detail": "no three"}
    assert response.headers["x-error"] == "3"
    assert seen == [404, 404, 418]


def test_request_validation_error_handler_override() -> None:
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path == "/default":
            return await request_validation_exception_handler(request, exc)
        return JSONResponse(
            status_code=400,
            content={"errors": [e["loc"] for e in exc.errors()], "body": exc.body},
        )

    class Item(BaseModel):
        title: str
        size: int

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    @app.get("/default")
    def default(n: int) -> int:
        return n

    client = TestClient(app)
    response = client.post("/items", json={"title": "t", "size": "XL"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [["body", "size"]],
        "body": {"title": "t", "size": "XL"},
    }
    assert client.get("/default?n=x").json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["query", "n"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            }
        ]
    }


def test_status_code_exception_handler() -> None:
    app = FastAPI()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return HTMLResponse("<h1>gone</h1>", status_code=404)

    response = TestClient(app).get("/nowhere")
    assert response.status_code == 404
    assert response.text == "<h1>gone</h1>"


def test_unhandled_errors_are_500_with_a_custom_handler() -> None:
    app = FastAPI()

    @app.exception_handler(Exception)
    async def handler(request: Request, exc: Exception) -> Response:
        return JSONResponse(status_code=500, content={"error": type(exc).__name__})

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "RuntimeError"}


# --- response_model -----------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


class AliasedItem(BaseModel):
    item_name: str = Field(alias="itemName")
    price: float


ITEMS: dict[str, dict[str, Any]] = {
    "foo": {"name": "Foo", "price": 50.2},
    "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
    "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
}


def _item_app() -> FastAPI:
    app = FastAPI()

    @app.get("/unset/{key}", response_model=Item, response_model_exclude_unset=True)
    def unset(key: str) -> Any:
        return ITEMS[key]

    @app.get("/none/{key}", response_model=Item, response_model_exclude_none=True)
    def none(key: str) -> Any:
        return ITEMS[key]

    @app.get("/defaults/{key}", response_model=Item, response_model_exclude_defaults=True)
    def defaults(key: str) -> Any:
        return ITEMS[key]

    @app.get("/include/{key}", response_model=Item, response_model_include={"name", "price"})
    def include(key: str) -> Any:
        return ITEMS[key]

    @app.get("/exclude/{key}", response_model=Item, response_model_exclude={"tax", "tags"})
    def exclude(key: str) -> Any:
        return ITEMS[key]

    @app.get("/alias", response_model=AliasedItem)
    def alias() -> Any:
        return {"itemName": "x", "price": 1}

    @app.get("/no-alias", response_model=AliasedItem, response_model_by_alias=False)
    def no_alias() -> Any:
        return {"itemName": "x", "price": 1}

    return app


def test_response_model_filters_output() -> None:
    client = TestClient(_item_app())
    assert client.get("/unset/foo").json() == {"name": "Foo", "price": 50.2}
    assert client.get("/unset/baz").json() == ITEMS["baz"]
    assert client.get("/none/baz").json() == {"name": "Baz", "price": 50.2, "tax": 10.5, "tags": []}
    assert client.get("/defaults/baz").json() == {"name": "Baz", "price": 50.2}
    assert client.get("/include/bar").json() == {"name": "Bar", "price": 62.0}
    assert client.get("/exclude/bar").json() == {
        "name": "Bar",
        "description": "The bartenders",
        "price": 62.0,
    }
    assert client.get("/alias").json() == {"itemName": "x", "price": 1.0}
    assert client.get("/no-alias").json() == {"item_name": "x", "price": 1.0}


class UserIn(BaseModel):
    username: str
    password: str


class UserOut(BaseModel):
    username: str


def test_response_model_drops_extra_data_and_validates() -> None:
    app = FastAPI()

    @app.post("/user", response_model=UserOut)
    def create(user: UserIn) -> Any:
        return user

    @app.get("/annotated")
    def annotated() -> UserOut:
        return UserIn(username="u", password="secret")  # type: ignore[return-value]

    @app.get("/invalid", response_model=UserOut)
    def invalid() -> Any:
        return {"name": "no username"}

    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/user", json={"username": "u", "password": "p"}).json() == {"username": "u"}
    assert client.get("/annotated").json() == {"username": "u"}
    assert client.get("/invalid").status_code == 500


# --- status codes, Response parameter, response classes -----------------------------------------


def test_status_code_on_the_decorator() -> None:
    app = FastAPI()

    @app.post("/created", status_code=status.HTTP_201_CREATED)
    def created() -> dict[str, bool]:
        return {"created": True}

    @app.delete("/gone", status_code=204)
    def gone() -> None:
        return None

    client = TestClient(app)
    response = client.post("/created")
    assert response.status_code == 201
    assert response.json() == {"created": True}
    response = client.delete("/gone")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers or response.headers["content-length"] == "0"


def test_response_parameter_sets_headers_cookies_and_status() -> None:
    def dep(response: Response) -> None:
        response.headers["X-From-Dep"] = "dep"

    app = FastAPI()

    @app.put("/items/{item_id}", status_code=200)
    def put(item_id: str, response: Response, _: Annotated[None, Depends(dep)]) -> dict[str, str]:
        response.headers["X-Item"] = item_id
        response.set_cookie("fav", "chocolate")
        if item_id == "new":
            response.status_code = status.HTTP_201_CREATED
        return {"item_id": item_id}

    client = TestClient(app)
    response = client.put("/items/old")
    assert response.status_code == 200
    assert response.json() == {"item_id": "old"}
    assert response.headers["x-item"] == "old"
    assert response.headers["x-from-dep"] == "dep"
    assert response.cookies["fav"] == "chocolate"
    assert client.put("/items/new").status_code == 201


def test_returning_a_response_directly_skips_the_response_model() -> None:
    app = FastAPI()

    @app.get("/direct", response_model=Item)
    def direct() -> Any:
        return JSONResponse({"anything": True}, status_code=202, headers={"X-A": "1"})

    @app.get("/redirect")
    def redirect() -> RedirectResponse:
        return RedirectResponse("/direct")

    @app.get("/plain")
    def plain(response: Response) -> Response:
        response.headers["X-Ignored"] = "yes"
        return PlainTextResponse("hi")

    client = TestClient(app, follow_redirects=False)
    response = client.get("/direct")
    assert response.status_code == 202
    assert response.json() == {"anything": True}
    assert response.headers["x-a"] == "1"
    response = client.get("/redirect")
    assert response.status_code == 307
    assert response.headers["location"] == "/direct"
    assert client.get("/plain").text == "hi"


def test_response_class() -> None:
    app = FastAPI()

    @app.get("/html", response_class=HTMLResponse)
    def html() -> str:
        return "<h1>Hi</h1>"

    @app.get("/text", response_class=PlainTextResponse)
    def text() -> str:
        return "plain"

    client = TestClient(app)
    response = client.get("/html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Hi</h1>"
    response = client.get("/text")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "plain"


def test_jsonable_return_values_are_encoded() -> None:
    import datetime
    import uuid

    app = FastAPI()
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.get("/")
    def root() -> Any:
        return {"when": datetime.date(2024, 1, 2), "id": value, "items": {1, 2} - {2}}

    assert TestClient(app).get("/").json() == {
        "when": "2024-01-02",
        "id": "12345678-1234-5678-1234-567812345678",
        "items": [1],
    }


# --- sync endpoints run in a thread pool --------------------------------------------------------


def test_sync_endpoints_and_dependencies_run_in_the_threadpool() -> None:
    app = FastAPI()
    threads: dict[str, int] = {}

    async def loop_dep() -> None:
        threads["loop"] = threading.get_ident()

    def sync_dep() -> None:
        threads["sync_dep"] = threading.get_ident()

    @app.get("/sync")
    def sync_endpoint(
        _: Annotated[None, Depends(loop_dep)], __: Annotated[None, Depends(sync_dep)]
    ) -> None:
        threads["sync"] = threading.get_ident()

    @app.get("/async")
    async def async_endpoint(_: Annotated[None, Depends(loop_dep)]) -> None:
        threads["async"] = threading.get_ident()

    with TestClient(app) as client:
        client.get("/async")
        assert threads["async"] == threads["loop"]
        client.get("/sync")
        assert threads["sync"] != threads["loop"]
        assert threads["sync_dep"] != threads["loop"]


# --- the two front doors ------------------------------------------------------------------------


def test_hasten_and_fastapi_classes_serve_the_same_routes() -> None:
    for cls in (Hasten, FastAPI):
        app = cls()

        @app.get("/x/{n}")
        def x(n: int) -> int:
            return n * 2

        assert TestClient(app).get("/x/4").json() == 8
    assert issubclass(FastAPI, Hasten)


def test_hasten_limits_bodies_by_default_and_fastapi_does_not() -> None:
    limit = Hasten.default_max_body_size
    assert limit == 16 * 1024 * 1024
    too_big = b"x" * (limit + 1)
    for app_class, expected in ((Hasten, 413), (FastAPI, 200)):
        app = app_class()

        @app.post("/upload")
        async def upload(request: Request) -> dict[str, int]:
            return {"size": len(await request.body())}

        response = TestClient(app).post("/upload", content=too_big)
        assert response.status_code == expected, app_class
    unlimited = Hasten(max_body_size=None)
    assert unlimited.max_body_size is None
