"""Hand-written probes of everyday features: errors and handlers, responses and encoders,
security, middleware, mounts, OpenAPI options, streaming, route classes, dependencies.

Ids: ``misc.<what>``.
"""

# No `from __future__ import annotations` (FastAPI must see the real annotations).
import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterable, Iterable
from decimal import Decimal
from enum import Enum
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Body,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
)
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from fastapi.routing import APIRoute
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    SecurityScopes,
)
from probelib import delete, do, get, post, probe, put, request
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class Item(BaseModel):
    name: str
    price: float = 1.0
    tags: list[str] = []
    secret: str = "s"


def _docs_facts(path: str) -> Any:
    """A step recording what a docs page refers to, not its wording.

    Hasten writes its docs pages in its own words (issue 12 §4), so the HTML is not compared
    byte for byte: status, content type, title, asset URLs, the OpenAPI URL it loads and the
    Swagger UI settings it passes are.
    """

    def fn(app: Any) -> dict[str, Any]:
        from fastapi.testclient import TestClient

        r = TestClient(app).get(path)
        text = r.text
        return {
            "status": r.status_code,
            "content_type": r.headers.get("content-type"),
            "title": re.findall(r"<title>\s*(.*?)\s*</title>", text),
            "assets": sorted(set(re.findall(r'(?:src|href)="(https?://[^"]+)"', text))),
            "openapi_url": sorted(set(re.findall(r"['\"](/[^'\"]*\.json)['\"]", text))),
            "deepLinking": re.findall(r'"?deepLinking"?\s*:\s*(\w+)', text),
            "oauth2RedirectUrl": sorted(set(re.findall(r"(/[\w/-]*oauth2-redirect)", text))),
        }

    fn.__name__ = f"docs facts {path}"
    return fn


# -- routes, inclusion ------------------------------------------------------------------------


@probe(
    do(
        lambda app: [[type(r).__name__, getattr(r, "path", None)] for r in app.routes],
        "app.routes after include_router",
    ),
    do(
        lambda app: sorted(r.path for r in app.routes if isinstance(r, APIRoute)),
        "APIRoute paths in app.routes",
    ),
    get("/r/a"),
)
def app_routes_after_include() -> FastAPI:
    """What app.routes holds after include_router (FastAPI 0.165 keeps an inclusion entry)."""
    app = FastAPI()
    router = APIRouter(prefix="/r")

    @router.get("/a")
    def a() -> str:
        return "a"

    app.include_router(router)
    return app


@probe(
    get("/items/", follow_redirects=False),
    get("/items"),
    get("/other/"),
    request("HEAD", "/items"),
    post("/items"),
    delete("/nothing"),
    request("OPTIONS", "/items"),
)
def redirects_404_405() -> FastAPI:
    """redirect_slashes (307 Location), 404/405 bodies and allow header, HEAD on a GET route."""
    app = FastAPI()

    @app.get("/items")
    def items() -> list[int]:
        return [1]

    @app.get("/other/")
    def other() -> str:
        return "other"

    return app


@probe(get("/sub/x"), get("/sub/openapi.json"), get("/x"), get("/openapi.json"))
def mounted_subapp() -> FastAPI:
    """A FastAPI app mounted under /sub: requests, the sub-app's openapi (servers, root_path)."""
    app = FastAPI()
    sub = FastAPI()

    @sub.get("/x")
    def sx(request: Request) -> dict[str, Any]:
        return {"sub": True, "root_path": request.scope.get("root_path")}

    @app.get("/x")
    def x() -> dict[str, bool]:
        return {"sub": False}

    app.mount("/sub", sub)
    return app


@probe(get("/a"), get("/openapi.json"), do(_docs_facts("/docs")))
def root_path_app() -> FastAPI:
    """FastAPI(root_path='/api'): openapi servers and the docs page."""
    app = FastAPI(root_path="/api", title="T", version="9")

    @app.get("/a")
    def a(request: Request) -> dict[str, str]:
        return {"root_path": request.scope.get("root_path", "")}

    return app


@probe(get("/items/1"), get("/items/1", headers={"x-up": "1"}))
def custom_route_class() -> FastAPI:
    """A route_class overriding get_route_handler (timing header, body rewrite)."""

    class TimedRoute(APIRoute):
        def get_route_handler(self) -> Any:
            original = super().get_route_handler()

            async def handler(request: Request) -> Response:
                response = await original(request)
                response.headers["x-route-class"] = self.name
                if request.headers.get("x-up"):
                    response.headers["x-path"] = self.path_format
                return response

            return handler

    app = FastAPI()
    router = APIRouter(route_class=TimedRoute)

    @router.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.include_router(router)
    return app


# -- errors and handlers -----------------------------------------------------------------------


@probe(
    get("/teapot"),
    get("/starlette"),
    get("/plain"),
    get("/missing"),
    get("/q?n=x"),
    get("/crash", raise_server_exceptions=False),
    get("/crash"),
)
def exception_handlers_chain() -> FastAPI:
    """HTTPException with headers; handlers that delegate to FastAPI's default handlers."""
    app = FastAPI()
    seen: list[str] = []

    @app.exception_handler(StarletteHTTPException)
    async def http_handler(request: Request, exc: StarletteHTTPException) -> Response:
        seen.append(f"http {exc.status_code}")
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        seen.append("validation")
        response = await request_validation_exception_handler(request, exc)
        response.headers["x-seen"] = ",".join(seen)
        return response

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(status_code=418, detail={"msg": "tea"}, headers={"x-tea": "yes"})

    @app.get("/starlette")
    def starlette_exc() -> None:
        raise StarletteHTTPException(status_code=409, detail="conflict")

    @app.get("/plain")
    def plain() -> None:
        raise HTTPException(status_code=400)

    @app.get("/q")
    def q(n: int) -> int:
        return n

    @app.get("/crash")
    def crash() -> None:
        raise ValueError("crashed")

    return app


@probe(get("/boom", raise_server_exceptions=False), get("/ok"), get("/boom"))
def exception_handler_for_exception_class() -> FastAPI:
    """An app handler for Exception (runs in ServerErrorMiddleware), and a middleware."""
    app = FastAPI()

    @app.exception_handler(Exception)
    async def any_exc(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"caught": type(exc).__name__}, status_code=520)

    @app.middleware("http")
    async def add_header(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers["x-mw"] = "1"
        return response

    @app.get("/boom")
    def boom() -> None:
        raise KeyError("k")

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    return app


@probe(get("/bad"), get("/bad", raise_server_exceptions=False), get("/nan"), get("/good"))
def response_validation_error() -> FastAPI:
    """Return values that fail the response model; NaN in a JSON response."""
    app = FastAPI()

    class Out(BaseModel):
        n: int

    @app.get("/bad", response_model=Out)
    def bad() -> Any:
        return {"n": "not an int"}

    @app.get("/nan")
    def nan() -> dict[str, float]:
        return {"x": float("nan")}

    @app.get("/good", response_model=Out)
    def good() -> Any:
        return {"n": "5", "extra": 1}

    return app


# -- dependencies ------------------------------------------------------------------------------


@probe(
    get("/ok"), get("/fail"), get("/http"), get("/fail", raise_server_exceptions=False), get("/log")
)
def yield_dependency_exceptions() -> FastAPI:
    """yield dependencies observe endpoint exceptions (except/finally), re-raise or not."""
    app = FastAPI()
    log: list[str] = []

    def resource() -> Any:
        log.append("open")
        try:
            yield "res"
        except HTTPException as exc:
            log.append(f"http {exc.status_code}")
            raise
        except ValueError as exc:
            log.append(f"value {exc}")
            raise
        finally:
            log.append("close")

    @app.get("/ok")
    def ok(r: Annotated[str, Depends(resource)]) -> str:
        return r

    @app.get("/fail")
    def fail(r: Annotated[str, Depends(resource)]) -> None:
        raise ValueError("fail")

    @app.get("/http")
    def http(r: Annotated[str, Depends(resource)]) -> None:
        raise HTTPException(status_code=404, detail="nope")

    @app.get("/log")
    def read() -> list[str]:
        out = list(log)
        log.clear()
        return out

    return app


@probe(get("/?q=1"), get("/?q=x"), get("/"), get("/?q=1&limit=5"))
def shared_param_names() -> FastAPI:
    """The same query parameter declared in a dependency and in the endpoint."""
    app = FastAPI()

    def dep(q: int = 0, limit: int = 10) -> dict[str, int]:
        return {"q": q, "limit": limit}

    @app.get("/")
    def ep(d: Annotated[dict[str, int], Depends(dep)], q: str = "none") -> dict[str, Any]:
        return {"dep": d, "q": q}

    return app


@probe(get("/"), get("/", headers={"x-token": "t"}), get("/items/", headers={"x-token": "t"}))
def router_and_app_dependencies() -> FastAPI:
    """App-level, router-level and include-level dependencies with a header each."""
    order: list[str] = []

    def app_dep(request: Request) -> None:
        order.append("app")

    def router_dep(x_token: Annotated[str, Header()]) -> None:
        order.append("router")

    def include_dep() -> None:
        order.append("include")

    app = FastAPI(dependencies=[Depends(app_dep)])
    router = APIRouter(dependencies=[Depends(router_dep)])

    @router.get("/items/")
    def items() -> list[str]:
        out = list(order)
        order.clear()
        return out

    @app.get("/")
    def root() -> list[str]:
        out = list(order)
        order.clear()
        return out

    app.include_router(router, dependencies=[Depends(include_dep)])
    return app


@probe(
    get("/items/", headers={"authorization": "Bearer abc"}),
    get("/items/"),
    get("/me", headers={"authorization": "Bearer abc"}),
)
def security_scopes() -> FastAPI:
    """OAuth2PasswordBearer with Security scopes collected along the chain."""
    app = FastAPI()
    oauth = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "read items", "me": "me"})

    def user(scopes: SecurityScopes, token: Annotated[str, Depends(oauth)]) -> dict[str, Any]:
        return {"token": token, "scopes": scopes.scopes, "scope_str": scopes.scope_str}

    @app.get("/items/")
    def items(u: Annotated[dict[str, Any], Security(user, scopes=["items"])]) -> Any:
        return u

    @app.get("/me")
    def me(u: Annotated[dict[str, Any], Security(user, scopes=["me", "items"])]) -> Any:
        return u

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
        return {"access_token": form.username, "token_type": "bearer"}

    return app


@probe(
    get("/basic"),
    get("/basic", headers={"authorization": "Basic dXNlcjpwdw=="}),
    get("/basic", headers={"authorization": "Basic !!!"}),
    get("/bearer"),
    get("/bearer", headers={"authorization": "Bearer"}),
    get("/bearer", headers={"authorization": "Token x"}),
    get("/bearer-optional"),
    get("/key"),
    get("/key", headers={"x-key": "k"}),
    get("/key-q?k=1"),
    get("/key-c", cookies={"session": "s"}),
    get("/key-c"),
    post("/token", data={"username": "u", "password": "p", "scope": "a b"}),
    post("/token", data={"username": "u"}),
)
def security_schemes() -> FastAPI:
    """HTTPBasic, HTTPBearer (auto_error on/off), APIKey header/query/cookie, password form."""
    app = FastAPI()
    basic = HTTPBasic()
    bearer = HTTPBearer()
    bearer_opt = HTTPBearer(auto_error=False)
    key = APIKeyHeader(name="x-key")
    key_q = APIKeyQuery(name="k")
    key_c = APIKeyCookie(name="session")

    @app.get("/basic")
    def b(c: Annotated[HTTPBasicCredentials, Depends(basic)]) -> Any:
        return c

    @app.get("/bearer")
    def br(c: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> Any:
        return c

    @app.get("/bearer-optional")
    def bo(c: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_opt)]) -> Any:
        return {"c": c}

    @app.get("/key")
    def k(c: Annotated[str, Depends(key)]) -> str:
        return c

    @app.get("/key-q")
    def kq(c: Annotated[str, Depends(key_q)]) -> str:
        return c

    @app.get("/key-c")
    def kc(c: Annotated[str, Depends(key_c)]) -> str:
        return c

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Any:
        return {"u": form.username, "scopes": form.scopes, "grant": form.grant_type}

    return app


# -- responses and encoders --------------------------------------------------------------------


class Shade(Enum):
    DARK = "dark"


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@probe(get("/types"), get("/model"), get("/set"))
def jsonable_encoder_types() -> FastAPI:
    """Return values of many types without a response model (FastAPI's jsonable_encoder)."""
    app = FastAPI()

    @app.get("/types")
    def types():  # type: ignore[no-untyped-def]
        return {
            "dt": dt.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC),
            "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
            "d": dt.date(2024, 1, 2),
            "t": dt.time(1, 2, 3),
            "td": dt.timedelta(days=1, seconds=5, microseconds=7),
            "dec": Decimal("1.50"),
            "dec_int": Decimal("2"),
            "u": uuid.UUID(int=7),
            "e": Shade.DARK,
            "b": b"bytes",
            "p": PurePosixPath("/a/b"),
            "dc": Point(1),
            "fs": frozenset([3]),
            "tuple": (1, "2"),
            "gen": (i for i in range(2)),
            "none": None,
            "float": 1.0,
            "big": 10**30,
        }

    @app.get("/model")
    def model():  # type: ignore[no-untyped-def]
        return [Item(name="a"), {"nested": Item(name="b", tags=["t"])}]

    @app.get("/set")
    def set_():  # type: ignore[no-untyped-def]
        return {"s": {1}}

    return app


@probe(
    get("/full"),
    get("/exclude"),
    get("/include"),
    get("/unset"),
    get("/none"),
    get("/defaults"),
    get("/alias"),
    get("/list"),
    get("/union?kind=a"),
    get("/union?kind=b"),
)
def response_model_options() -> FastAPI:
    """response_model filtering: include/exclude/exclude_unset/none/defaults, by_alias, unions."""
    app = FastAPI()

    class Out(BaseModel):
        name: str
        price: float = 1.0
        note: str | None = None
        alias_field: str = Field("af", alias="aliasField")

    class A(BaseModel):
        kind: str = "a"
        a: int = 1

    class B(BaseModel):
        kind: str = "b"
        b: str = "x"

    data = {"name": "n", "price": 1.0, "note": None, "secret": "hide"}

    @app.get("/full", response_model=Out)
    def full() -> Any:
        return data

    @app.get("/exclude", response_model=Out, response_model_exclude={"price"})
    def exclude() -> Any:
        return data

    @app.get("/include", response_model=Out, response_model_include={"name", "note"})
    def include() -> Any:
        return data

    @app.get("/unset", response_model=Out, response_model_exclude_unset=True)
    def unset() -> Any:
        return Out(name="only")

    @app.get("/none", response_model=Out, response_model_exclude_none=True)
    def none() -> Any:
        return data

    @app.get("/defaults", response_model=Out, response_model_exclude_defaults=True)
    def defaults() -> Any:
        return {"name": "d", "price": 2.0}

    @app.get("/alias", response_model=Out, response_model_by_alias=False)
    def alias() -> Any:
        return {"name": "a", "aliasField": "x"}

    @app.get("/list", response_model=list[Out])
    def listing() -> Any:
        return [data, {"name": "second"}]

    @app.get("/union")
    def union(kind: str) -> A | B:
        return A() if kind == "a" else B()

    return app


@probe(
    get("/created"),
    get("/nocontent"),
    get("/cookie"),
    get("/text"),
    get("/html"),
    get("/redirect", follow_redirects=False),
    get("/custom-status"),
    get("/bg"),
    get("/bglog"),
    get("/response-model-none"),
)
def response_classes_and_status() -> FastAPI:
    """status_code, 204, Response parameter (cookies/headers/status), response classes, tasks."""
    app = FastAPI()
    tasks_log: list[str] = []

    @app.get("/created", status_code=201)
    def created() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/nocontent", status_code=204)
    def nocontent() -> None:
        return None

    @app.get("/cookie")
    def cookie(response: Response) -> str:
        response.set_cookie("a", "1", max_age=60, httponly=True)
        response.headers["x-extra"] = "e"
        return "cookie"

    @app.get("/text", response_class=PlainTextResponse)
    def text() -> str:
        return "plain"

    @app.get("/html", response_class=HTMLResponse)
    def html() -> str:
        return "<b>x</b>"

    @app.get("/redirect")
    def redirect() -> RedirectResponse:
        return RedirectResponse("/text")

    @app.get("/custom-status")
    def custom_status(response: Response) -> dict[str, int]:
        response.status_code = 202
        return {"n": 1}

    @app.get("/bg")
    def bg(tasks: BackgroundTasks) -> str:
        tasks.add_task(tasks_log.append, "ran")
        return "scheduled"

    @app.get("/bglog")
    def bglog() -> list[str]:
        return tasks_log

    @app.get("/response-model-none", response_model=None)
    def rm_none() -> Response:
        return Response(b"raw", media_type="application/octet-stream")

    return app


class StreamItem(BaseModel):
    name: str
    n: int = 0


@probe(get("/jsonl"), get("/jsonl-sync"), get("/stream"), get("/sse"), get("/jsonl-bad"))
def streaming_responses() -> FastAPI:
    """JSON Lines from generators (async/sync, annotated), StreamingResponse, SSE."""
    from fastapi.sse import EventSourceResponse, ServerSentEvent

    app = FastAPI()

    @app.get("/jsonl")
    async def jsonl() -> AsyncIterable[StreamItem]:
        for i in range(3):
            yield StreamItem(name=f"i{i}", n=i)

    @app.get("/jsonl-sync")
    def jsonl_sync() -> Iterable[StreamItem]:
        yield StreamItem(name="s")
        yield {"name": "d", "n": "7"}  # type: ignore[misc]

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]), media_type="text/plain")

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(comment="hello")
        yield ServerSentEvent(data=StreamItem(name="e"), event="item", id="1", retry=10)
        yield ServerSentEvent(data="text")

    @app.get("/jsonl-bad")
    async def jsonl_bad() -> AsyncIterable[StreamItem]:
        yield StreamItem(name="ok")
        yield {"name": 5}  # type: ignore[misc]

    return app


@probe(
    get("/"),
    get("/gz", headers={"accept-encoding": "gzip"}),
    request(
        "OPTIONS",
        "/",
        headers={"origin": "https://a.example", "access-control-request-method": "POST"},
    ),
    get("/", headers={"origin": "https://a.example"}),
    get("/", headers={"origin": "https://evil.example"}),
)
def middleware_cors_gzip() -> FastAPI:
    """CORSMiddleware (preflight, simple, refused origin) and GZipMiddleware."""
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=10)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["https://a.example"],
        allow_methods=["*"],
        allow_credentials=True,
        expose_headers=["x-e"],
    )

    @app.get("/")
    def root() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/gz")
    def gz() -> dict[str, str]:
        return {"data": "x" * 200}

    return app


# -- bodies, forms, files ----------------------------------------------------------------------


@probe(
    post(
        "/files",
        files=[("files", ("a.txt", b"A", "text/plain")), ("files", ("b.txt", b"BB", "text/plain"))],
        data={"note": "n"},
    ),
    post("/files", data={"note": "n"}),
    post("/bytes", files={"f": ("f.bin", b"\x00\x01", "application/octet-stream")}),
    post("/bytes"),
    post("/optional"),
    post("/optional", files={"f": ("o.txt", b"opt", "text/plain")}),
    post("/form-list", data={"tags": ["a", "b"], "n": "3"}),
    post("/form-list", data={"n": "x"}),
    post("/form-list", json={"tags": ["a"], "n": 3}),
)
def forms_and_files() -> FastAPI:
    """list[UploadFile] + Form, bytes File, optional UploadFile, list Form fields."""
    app = FastAPI()

    @app.post("/files")
    async def files(files: list[UploadFile], note: Annotated[str, Form()]) -> Any:
        return {
            "names": [f.filename for f in files],
            "sizes": [f.size for f in files],
            "types": [f.content_type for f in files],
            "note": note,
            "data": [(await f.read()).decode() for f in files],
        }

    @app.post("/bytes")
    def as_bytes(f: Annotated[bytes, File()]) -> dict[str, int]:
        return {"len": len(f)}

    @app.post("/optional")
    async def optional(f: UploadFile | None = None) -> dict[str, Any]:
        return {"f": None if f is None else f.filename}

    @app.post("/form-list")
    def form_list(
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
        n: Annotated[int, Form()] = 0,
    ) -> dict[str, Any]:
        return {"tags": tags, "n": n}

    return app


@probe(
    post("/", json={"item": {"name": "x"}, "user": {"u": "a"}, "importance": 5}),
    post("/", json={"item": {"name": "x"}, "user": {"u": "a"}}),
    post("/", json={"item": {"name": "x"}}),
    post("/", json={"name": "x"}),
    post("/", content=b"[1", headers={"content-type": "application/json"}),
    post("/", content=b"{}", headers={"content-type": "text/plain"}),
    post(
        "/",
        content=b'{"item": {"name": "x"}, "user": {"u": "a"}, "importance": 1}',
        headers={"content-type": "application/merge-patch+json"},
    ),
    get("/get-body", json={"a": 1}),
)
def multiple_body_params() -> FastAPI:
    """Several body params (embedded by name), a Body() scalar with alias, wrong media types."""
    app = FastAPI()

    class User(BaseModel):
        u: str

    @app.post("/")
    def create(
        item: Item, user: User, importance: Annotated[int, Body(alias="importance", gt=0)] = 1
    ) -> Any:
        return {"item": item, "user": user, "importance": importance}

    @app.get("/get-body")
    def get_body(payload: dict[str, int]) -> dict[str, int]:
        return payload

    return app


@probe(
    post("/", json={"a": 1}),
    post("/", content=b"{bad", headers={"content-type": "application/json"}),
)
def body_and_request_read_in_dependency() -> FastAPI:
    """A dependency reads await request.body() / request.json(); the endpoint has a body."""
    app = FastAPI()

    async def raw(request: Request) -> str:
        return (await request.body()).decode()

    @app.post("/")
    async def ep(payload: dict[str, int], r: Annotated[str, Depends(raw)]) -> dict[str, Any]:
        return {"payload": payload, "raw": r}

    return app


# -- parameters --------------------------------------------------------------------------------


class Model(str, Enum):
    alexnet = "alexnet"
    resnet = "resnet"


@probe(
    get("/models/alexnet"),
    get("/models/vgg"),
    get("/h", headers=[("x-multi", "a"), ("x-multi", "b"), ("strange_header", "s")]),
    get("/h"),
    get("/q?tags=a&tags=b&csv=1,2"),
    get("/q?item-query=z&tags="),
    get("/deprecated-regex?q=abc"),
    get("/deprecated-regex?q=ABC"),
)
def parameters_misc() -> FastAPI:
    """Enum path param, list headers, convert_underscores=False, aliases, regex= (deprecated)."""
    app = FastAPI()

    @app.get("/models/{name}")
    def models(name: Model) -> dict[str, str]:
        return {"name": name, "value": name.value}

    @app.get("/h")
    def headers(
        x_multi: Annotated[list[str] | None, Header()] = None,
        strange_header: Annotated[str | None, Header(convert_underscores=False)] = None,
    ) -> dict[str, Any]:
        return {"multi": x_multi, "strange": strange_header}

    @app.get("/q")
    def q(
        tags: Annotated[list[str], Query()] = [],  # noqa: B006
        csv: str = "",
        item: Annotated[str | None, Query(alias="item-query")] = None,
    ) -> Any:
        return {"tags": tags, "csv": csv, "item": item}

    @app.get("/deprecated-regex")
    def dep_regex(q: Annotated[str, Query(regex="^[a-z]+$")]) -> str:
        return q

    return app


@probe(get("/a/1"), get("/a/0"), get("/b?x=1&y=2"), get("/b?x=5&y=1"))
def path_and_query_constraints_openapi() -> FastAPI:
    """Path(ge=1, title, description, examples), Query(include_in_schema=False), deprecated."""
    app = FastAPI()

    @app.get("/a/{n}")
    def a(n: Annotated[int, Path(ge=1, title="N", description="an n", examples=[1, 2])]) -> int:
        return n

    @app.get("/b", deprecated=True)
    def b(x: int, y: Annotated[int, Query(include_in_schema=False, lt=3)]) -> list[int]:
        return [x, y]

    return app


# -- OpenAPI options ---------------------------------------------------------------------------


@probe(get("/openapi.json"), get("/items/1"), get("/hidden"))
def openapi_options() -> FastAPI:
    """Tags metadata, summary/description, responses, openapi_extra, callbacks, webhooks,
    operation ids, include_in_schema=False, servers, separate_input_output_schemas=False."""
    app = FastAPI(
        title="Probe",
        version="1.2.3",
        summary="s",
        description="d",
        openapi_tags=[{"name": "items", "description": "Items"}],
        servers=[{"url": "https://x.example", "description": "x"}],
        separate_input_output_schemas=False,
        contact={"name": "c"},
        license_info={"name": "MIT", "identifier": "MIT"},
        terms_of_service="https://t.example",
    )

    class Message(BaseModel):
        message: str

    callback_router = APIRouter()

    @callback_router.post("{$callback_url}/invoices/{$request.body.id}")
    def invoice_notification(body: Message) -> Message:  # pragma: no cover
        return body

    @app.get(
        "/items/{item_id}",
        tags=["items"],
        summary="Read an item",
        description="Long description",
        response_description="The item",
        responses={
            404: {"model": Message, "description": "Not found"},
            418: {"description": "teapot"},
        },
        openapi_extra={"x-custom": {"a": 1}},
        operation_id="readItem",
        callbacks=callback_router.routes,
    )
    def read_item(item_id: int) -> Item:
        return Item(name=str(item_id))

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> str:
        return "hidden"

    @app.post("/items/", status_code=201, tags=["items"])
    def create(item: Item) -> Item:
        return item

    @app.webhooks.post("new-item")
    def new_item(body: Item) -> None:  # pragma: no cover
        pass

    return app


@probe(get("/openapi.json"))
def openapi_unique_id_function() -> FastAPI:
    """generate_unique_id_function at app and router level; router tags and responses."""

    def gen_id(route: APIRoute) -> str:
        return f"{route.tags[0] if route.tags else 'none'}-{route.name}"

    app = FastAPI(generate_unique_id_function=gen_id)
    router = APIRouter(
        prefix="/r",
        tags=["r"],
        responses={400: {"description": "bad"}},
        generate_unique_id_function=lambda r: f"router-{r.name}",
    )

    @router.get("/x")
    def rx() -> str:
        return "x"

    @app.get("/y", tags=["t"])
    def y(q: Annotated[int | None, Query(description="q")] = None) -> str:
        return "y"

    app.include_router(router, prefix="/inc")
    return app


@probe(
    do(_docs_facts("/docs")),
    do(_docs_facts("/redoc")),
    do(_docs_facts("/docs/oauth2-redirect")),
    get("/openapi.json"),
)
def docs_pages() -> FastAPI:
    """Default docs pages (CDN URLs, swagger_ui_parameters, oauth2 redirect), by their facts."""
    app = FastAPI(swagger_ui_parameters={"deepLinking": False}, title="Docs probe")

    @app.get("/a")
    def a() -> str:
        return "a"

    return app


@probe(get("/docs"), get("/openapi.json"), get("/api.json"), do(_docs_facts("/redoc")))
def openapi_url_changed_and_disabled_docs() -> FastAPI:
    """openapi_url moved, docs_url disabled, redoc_url default."""
    app = FastAPI(openapi_url="/api.json", docs_url=None)

    @app.get("/a")
    def a() -> str:
        return "a"

    return app


# -- declaration-time errors ---------------------------------------------------------------------


@probe()
def decl_path_param_default() -> FastAPI:
    """A path parameter with a default value (FastAPI asserts)."""
    app = FastAPI()

    @app.get("/{p}")
    def ep(p: Annotated[int, Path()] = 3) -> int:
        return p

    return app


@probe()
def decl_two_markers_query_and_depends() -> FastAPI:
    """Body and Depends both on one parameter (Annotated with two FastAPI markers)."""
    app = FastAPI()

    def dep() -> int:
        return 1

    @app.get("/")
    def ep(p: Annotated[int, Query(), Depends(dep)]) -> int:
        return p

    return app


@probe()
def decl_fastapi_unknown_keyword() -> FastAPI:
    """FastAPI(tags=[...]): an unknown keyword, TypeError naming FastAPI.__init__."""
    return FastAPI(tags=["x"])  # type: ignore[call-arg]


@probe()
def decl_status_204_with_response_model() -> FastAPI:
    """status_code=204 with a response model: no body allowed (FastAPI asserts)."""
    app = FastAPI()

    @app.get("/", status_code=204, response_model=Item)
    def ep() -> Any:
        return None

    return app


@probe()
def decl_router_prefix_trailing_slash() -> FastAPI:
    """APIRouter(prefix='/x/') must fail (prefix must not end with '/')."""
    app = FastAPI()
    router = APIRouter(prefix="/x/")
    app.include_router(router)
    return app


@probe(get("/"), get("/?m=1"))
def unresolvable_forward_ref() -> FastAPI:
    """A body model with an unresolvable forward reference (error at declaration or request)."""
    app = FastAPI()

    class M(BaseModel):
        child: "Missing"  # type: ignore[name-defined]  # noqa: F821

    @app.post("/")
    def ep(m: M) -> str:
        return "x"

    return app


@probe(
    put("/items/1", json={"name": "n"}),
    put("/items/x", json={"name": 1}),
    do(
        lambda app: [
            [p.name, p.kind.name]
            for p in __import__("inspect")
            .signature(app.router.routes[-1].endpoint)
            .parameters.values()
        ],
        "endpoint signature",
    ),
)
def depends_class_and_callable_instance() -> FastAPI:
    """Depends() on a class (dependency from the annotation) and on a callable instance."""
    app = FastAPI()

    class Paging:
        def __init__(self, skip: int = 0, limit: int = 10) -> None:
            self.skip, self.limit = skip, limit

    class Checker:
        def __init__(self, word: str) -> None:
            self.word = word

        def __call__(self, q: str = "") -> bool:
            return self.word in q

    @app.put("/items/{item_id}")
    def update(
        item_id: int,
        item: Item,
        paging: Annotated[Paging, Depends()],
        ok: Annotated[bool, Depends(Checker("bar"))],
    ) -> dict[str, Any]:
        return {"id": item_id, "item": item, "skip": paging.skip, "ok": ok}

    return app


# -- websockets and lifespan (through do-steps: a TestClient used inside the step) ----------


def _ws(path: str, *messages: str) -> Any:
    """A step: connect to a WebSocket, send each message, record the replies or the error."""

    def fn(app: Any) -> list[str]:
        from fastapi.testclient import TestClient

        out: list[str] = []
        try:
            with TestClient(app).websocket_connect(path) as ws:
                for message in messages:
                    ws.send_text(message)
                    out.append(ws.receive_text())
        except Exception as exc:
            code = getattr(exc, "code", None)
            reason = getattr(exc, "reason", None)
            out.append(f"{type(exc).__name__} code={code} reason={reason!r}: {exc}")
        return out

    fn.__name__ = f"websocket {path} {list(messages)}"
    return fn


@probe(
    do(_ws("/ws/1?q=2", "a", "b")),
    do(_ws("/ws/x?q=2", "a")),
    do(_ws("/ws/1", "a")),
    do(_ws("/ws/1?q=2", "close")),
    do(_ws("/ws-dep", "hi")),
    do(_ws("/ws-dep?token=no", "hi")),
    do(_ws("/nowhere", "hi")),
)
def websockets() -> FastAPI:
    """WebSocket routes: path/query params (valid, invalid: 1008), dependencies,
    WebSocketException, unknown path."""
    from fastapi import WebSocket, WebSocketException, status

    app = FastAPI()

    @app.websocket("/ws/{n}")
    async def ws(websocket: WebSocket, n: int, q: int) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            if text == "close":
                await websocket.close(code=4001, reason="bye")
                return
            await websocket.send_text(f"{n}:{q}:{text}")

    def token(token: str = "ok") -> str:
        if token != "ok":
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason="bad token")
        return token

    @app.websocket("/ws-dep")
    async def ws_dep(websocket: WebSocket, t: Annotated[str, Depends(token)]) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(f"{t}:{text}")
        await websocket.close()

    return app


def _with_lifespan(*paths: str) -> Any:
    """A step: enter the TestClient (lifespan startup/shutdown), GET each path."""

    def fn(app: Any) -> list[Any]:
        from fastapi.testclient import TestClient

        with TestClient(app) as client:
            out: list[Any] = [[client.get(p).status_code, client.get(p).json()] for p in paths]
        out.append(list(app.state.log))
        return out

    fn.__name__ = f"lifespan {list(paths)}"
    return fn


@probe(do(_with_lifespan("/", "/r/")), get("/"))
def lifespan_and_router_lifespans() -> FastAPI:
    """App lifespan with state, plus an included router's lifespan (merged by FastAPI)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> Any:
        app.state.log = ["app start"]
        yield {"from_app": 1}
        app.state.log.append("app stop")

    @asynccontextmanager
    async def router_lifespan(app: FastAPI) -> Any:
        app.state.log.append("router start")
        yield {"from_router": 2}
        app.state.log.append("router stop")

    app = FastAPI(lifespan=app_lifespan)
    router = APIRouter(lifespan=router_lifespan)

    @app.get("/")
    def root(request: Request) -> dict[str, Any]:
        return {k: request.state._state.get(k) for k in ("from_app", "from_router")}

    @router.get("/r/")
    def r(request: Request) -> list[str]:
        return sorted(request.state._state)

    app.include_router(router)
    return app


@probe(
    post("/dep", json={"type": "a", "config": {"x": -2}}),
    post("/direct", json={"type": "a", "missing": "x"}),
    post("/direct", json={"type": "a", "metadata": {"x": 3}}),
)
def fields_named_like_schema_keys() -> FastAPI:
    """A body model whose fields are named type, missing, config, metadata (schema keys)."""
    from pydantic import BaseModel, field_validator

    class Checked(BaseModel):
        x: int

        @field_validator("x")
        @classmethod
        def positive(cls, value: int) -> int:
            return abs(value)

    class Odd(BaseModel):
        type: str
        missing: int = 0
        config: Checked | None = None
        metadata: Checked | None = None

    def dependency(body: Odd) -> Odd:
        return body

    app = FastAPI()

    @app.post("/dep")
    def via_dependency(body: Odd = Depends(dependency)) -> Odd:
        return body

    @app.post("/direct")
    def direct(body: Odd) -> Odd:
        return body

    return app
