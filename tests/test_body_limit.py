"""Request body size limits (``max_body_size``) and form parsing limits (``form_limits``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import httpx
import pytest
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import PlainTextResponse

from hasten import APIRouter, Body, FastAPI, Form, Hasten, Request, UploadFile
from hasten._body_limit import (
    BodyLimit,
    check_max_body_size,
    counter_class,
    first_limit,
    limit_error,
    new_counter,
    unwatched,
)
from hasten._form_limits import _FormLimits, validate_form_limits
from hasten.routing import APIRoute
from hasten.testclient import TestClient

TOO_LARGE = {"detail": "Content Too Large"}


async def echo(request: Request) -> bytes:
    return await request.body()


def raw(data: Annotated[bytes, Body(media_type="application/octet-stream")]) -> int:
    return len(data)


def post(app: Any, content: bytes | Iterator[bytes], path: str = "/") -> Any:
    return TestClient(app).post(path, content=content)


def chunks(*parts: bytes) -> Iterator[bytes]:
    """A body without ``Content-Length``: only counting the bytes can catch it."""
    yield from parts


class Stream(httpx.AsyncByteStream):
    """A streamed request body that records how much of it the server pulled."""

    def __init__(self, *parts: bytes) -> None:
        self.parts = list(parts)
        self.pulled: list[bytes] = []

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            self.pulled.append(part)
            yield part


def stream_to(app: Any, stream: Stream) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/", content=stream)

    return anyio.run(send)


# --- where the limit comes from -----------------------------------------------------------------


def test_app_limit_answers_413_in_fastapi_error_shape() -> None:
    app = FastAPI(max_body_size=5)
    app.post("/")(raw)
    assert post(app, b"12345").json() == 5
    response = post(app, chunks(b"123", b"456"))
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_declared_content_length_over_the_limit_is_answered_by_starlette() -> None:
    # Starlette replaces any response to a request whose Content-Length is over the limit
    # with its own plain-text 413 (FastAPI behaves the same).
    app = FastAPI(max_body_size=5)
    app.post("/")(raw)
    response = post(app, b"1234567")
    assert (response.status_code, response.text) == (413, "Content Too Large")


def test_app_exception_handler_for_413_is_used() -> None:
    app = FastAPI(max_body_size=1)
    app.post("/")(raw)

    @app.exception_handler(413)
    async def too_large(request: Request, exc: Exception) -> Any:
        from hasten.responses import PlainTextResponse

        return PlainTextResponse("smaller please", status_code=413)

    response = post(app, chunks(b"1", b"2"))
    assert (response.status_code, response.text) == (413, "smaller please")


def test_router_limit_applies_to_its_routes_when_included() -> None:
    router = APIRouter(max_body_size=3)
    router.post("/small")(raw)
    router.post("/big", max_body_size=10)(raw)
    app = FastAPI()
    app.include_router(router)
    assert post(app, b"1234", "/small").status_code == 413
    assert post(app, b"1234", "/big").json() == 4
    assert router.routes[0].max_body_size == 3


def test_route_limit_overrides_a_larger_or_smaller_app_limit() -> None:
    app = FastAPI(max_body_size=4)
    app.post("/larger", max_body_size=8)(raw)
    app.post("/smaller", max_body_size=2)(raw)
    assert post(app, b"123456", "/larger").json() == 6
    assert post(app, chunks(b"12", b"3"), "/smaller").json() == TOO_LARGE


def test_include_limit_sits_between_router_and_parent() -> None:
    router = APIRouter()
    router.post("/")(raw)
    app = FastAPI(max_body_size=100)
    app.include_router(router, prefix="/tight", max_body_size=2)
    app.include_router(router, prefix="/loose")
    assert post(app, b"123", "/tight/").status_code == 413
    assert post(app, b"123", "/loose/").json() == 3
    assert router.routes[0].max_body_size is None


def test_direct_route_without_router() -> None:
    app = FastAPI(routes=[APIRoute("/", raw, methods=["POST"], max_body_size=1)])
    assert post(app, b"1").json() == 1
    assert post(app, b"12").status_code == 413


@pytest.mark.parametrize("mounted", ["app", "router"])
def test_mounts_inherit_the_parent_limit(mounted: str) -> None:
    child: Any = FastAPI() if mounted == "app" else APIRouter()
    child.post("/")(raw)
    parent = FastAPI(max_body_size=3)
    parent.mount("/child", child)
    assert post(parent, b"123", "/child/").json() == 3
    assert post(parent, b"1234", "/child/").status_code == 413


def test_mount_in_an_included_router_gets_prefix_and_limit() -> None:
    mounted = FastAPI()
    mounted.post("/")(raw)
    router = APIRouter()
    router.mount("/m", mounted)
    app = FastAPI()
    app.include_router(router, prefix="/api", max_body_size=2)
    assert post(app, b"12", "/api/m/").json() == 2
    assert post(app, b"123", "/api/m/").status_code == 413


# --- counting -----------------------------------------------------------------------------------


def test_streamed_body_is_counted_as_it_arrives() -> None:
    calls: list[bytes] = []
    app = FastAPI(max_body_size=5)

    @app.post("/")
    def endpoint(data: Annotated[bytes, Body(media_type="application/octet-stream")]) -> int:
        calls.append(data)
        return len(data)

    stream = Stream(b"12", b"34", b"56", b"never read")
    response = stream_to(app, stream)
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert stream.pulled == [b"12", b"34", b"56"]
    assert calls == []
    assert stream_to(app, Stream(b"12", b"345")).json() == 5


def test_lying_content_length_does_not_help() -> None:
    app = FastAPI(max_body_size=5)
    app.post("/")(raw)
    response = TestClient(app).post(
        "/", content=chunks(b"123", b"456"), headers={"content-length": "2"}
    )
    assert response.status_code == 413


def test_endpoint_without_body_is_not_limited() -> None:
    app = FastAPI(max_body_size=0)

    @app.get("/")
    def read(q: str) -> int:
        return len(q)

    assert TestClient(app).get("/", params={"q": "x" * 50}).json() == 50


def test_middleware_reading_the_body_is_limited_too() -> None:
    app = FastAPI(max_body_size=4)
    app.post("/")(echo)

    @app.middleware("http")
    async def read_first(request: Request, call_next: Any) -> Any:
        await request.body()
        return await call_next(request)

    assert post(app, b"1234").status_code == 200
    assert post(app, chunks(b"12", b"345")).status_code == 413


def test_mounted_app_with_middleware_answers_413_not_500() -> None:
    child = FastAPI()
    child.post("/")(echo)

    @child.middleware("http")
    async def read_first(request: Request, call_next: Any) -> Any:
        await request.body()
        return await call_next(request)

    parent = FastAPI(max_body_size=3)
    parent.mount("/child", child)
    assert post(parent, b"123", "/child/").status_code == 200
    response = post(parent, chunks(b"12", b"34"), "/child/")
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_upload_over_the_limit_is_413() -> None:
    app = FastAPI(max_body_size=200)

    @app.post("/")
    def upload(file: UploadFile) -> str | None:
        return file.filename

    client = TestClient(app)
    assert client.post("/", files={"file": ("a.txt", b"x")}).json() == "a.txt"
    response = client.post("/", files={"file": ("a.txt", b"x" * 500)})
    assert response.status_code == 413


# --- no limit: nothing is added -----------------------------------------------------------------


def test_no_limit_adds_no_wrappers() -> None:
    app = FastAPI()
    app.post("/")(raw)
    route = app.routes[-1]
    assert isinstance(route, APIRoute)
    assert not isinstance(route.app, BodyLimit)
    assert app.router.middleware_stack == app.router.app
    assert post(app, b"x" * 100_000).json() == 100_000


def test_limited_route_is_wrapped() -> None:
    route = APIRoute("/", raw, methods=["POST"], max_body_size=1)
    assert isinstance(route.app, BodyLimit)


# --- nesting with Starlette's own limiter (the same protocol, either side outermost) -----------


async def _count_body(scope: Any, receive: Any, send: Any) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await PlainTextResponse(str(size))(scope, receive, send)


def _limited_twice(outer: str, outer_limit: int, inner_limit: int) -> TestClient:
    inner_cls: Any = RequestBodyLimitMiddleware if outer == "hasten" else BodyLimit
    outer_cls: Any = BodyLimit if outer == "hasten" else RequestBodyLimitMiddleware
    return TestClient(outer_cls(inner_cls(_count_body, inner_limit), outer_limit))


@pytest.mark.parametrize("outer", ["hasten", "starlette"])
@pytest.mark.parametrize(
    ("outer_limit", "inner_limit", "size", "status"),
    [(5, 10, 8, 200), (10, 5, 8, 413), (10, 5, 5, 200), (5, 10, 11, 413)],
)
def test_nested_with_starlette_limiter_innermost_wins(
    outer: str, outer_limit: int, inner_limit: int, size: int, status: int
) -> None:
    client = _limited_twice(outer, outer_limit, inner_limit)
    chunks = iter([b"x" * (size // 2), b"x" * (size - size // 2)])  # no Content-Length
    response = client.post("/", content=chunks)
    assert response.status_code == status
    if status == 200:
        assert response.text == str(size)


async def _ignore_body(scope: Any, receive: Any, send: Any) -> None:
    await PlainTextResponse("ignored")(scope, receive, send)


def test_declared_length_over_the_limit_is_refused_even_unread() -> None:
    client = TestClient(BodyLimit(_ignore_body, 4))
    response = client.post("/", content=b"123456")  # Content-Length: 6
    assert (response.status_code, response.text) == (413, "Content Too Large")
    assert client.post("/", content=b"1234").text == "ignored"


async def _sink(message: Any) -> None:
    return None


async def _no_body() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


def _counter(limit: int, declared: bytes | None) -> Any:
    headers = [] if declared is None else [(b"content-length", declared)]
    scope = {"type": "http", "headers": headers}
    return new_counter(counter_class(limit, None), scope, _no_body, _sink)


def test_unwatched_is_the_inner_send_when_the_watch_would_only_pass_on() -> None:
    # a runner sending a whole answer skips ``send_watched`` exactly when it would forward
    within = _counter(5, b"5")
    assert unwatched(within) is _sink
    assert within.started  # as send_watched marks the start it forwards
    over = _counter(5, b"6")
    assert unwatched(over) is None  # the watch answers 413 instead: it must see the start
    assert not over.started
    over.started = True  # started already: the watch forwards everything
    assert unwatched(over) is _sink
    assert unwatched(_counter(5, None)) is _sink  # nothing declared (counted as read)
    over.max_body_size = 10  # a route limiter loosened the limit since
    over.started = False
    assert unwatched(over) is _sink


@pytest.mark.parametrize("cls", [FastAPI, Hasten])
@pytest.mark.parametrize("reads", [True, False])
@pytest.mark.parametrize(
    ("size", "expected"),
    [(2, 200), (4, 413), (9, 413)],  # within both limits, over the route's, over the app's
)
def test_runner_answers_a_declared_body_as_the_watch_would(
    cls: type[FastAPI], reads: bool, size: int, expected: int
) -> None:
    # The runners send a plain answer past the limit's watch when it would only pass it on;
    # a body declared over the limit in force when the answer starts (the route's, tighter
    # than the app's) is still refused, whether or not the endpoint read it.
    app = cls(max_body_size=8)
    if reads:
        app.post("/", max_body_size=3)(raw)
    else:
        app.post("/", max_body_size=3)(lambda: "unread")
    response = TestClient(app).post("/", content=b"x" * size)
    assert response.status_code == expected
    if expected == 200:
        assert response.json() == (size if reads else "unread")
    elif cls is Hasten:
        assert response.json() == TOO_LARGE
    else:
        assert response.text == "Content Too Large"


def test_body_limit_leaves_lifespan_alone() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        assert "starlette.max_body_size" not in scope
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})

    with TestClient(BodyLimit(app, 1)):
        pass
    assert seen == ["lifespan"]


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, True, 1.0, "1", [1]])
def test_invalid_max_body_size(value: Any) -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        check_max_body_size(value)
    with pytest.raises(ValueError, match="non-negative integer"):
        FastAPI(max_body_size=value)
    with pytest.raises(ValueError, match="non-negative integer"):
        APIRouter(max_body_size=value)
    with pytest.raises(ValueError, match="non-negative integer"):
        FastAPI().include_router(APIRouter(), max_body_size=value)
    with pytest.raises(ValueError, match="non-negative integer"):
        FastAPI().post("/", max_body_size=value)(raw)


def test_first_limit() -> None:
    assert first_limit(None, 0, 5) == 0
    assert first_limit(None, None) is None


def test_limit_error_ignores_mixed_groups() -> None:
    from starlette.middleware.body_limit import _RequestBodyTooLarge

    signal = _RequestBodyTooLarge()
    assert limit_error(signal) is signal
    assert limit_error(ExceptionGroup("g", [ExceptionGroup("h", [signal])])) is signal
    assert limit_error(ExceptionGroup("g", [signal, ValueError()])) is None
    assert limit_error(ValueError()) is None


# --- form limits --------------------------------------------------------------------------------


def form_field(text: Annotated[str, Form()]) -> str:
    return text


def test_form_limits_of_app_router_include_and_route_merge() -> None:
    router = APIRouter(form_limits={"max_fields": 1})
    router.post("/", form_limits={"max_part_size": 3})(form_field)
    app = FastAPI(form_limits={"max_part_size": 1, "max_files": 0})
    app.include_router(router, prefix="/r", form_limits={"max_fields": 5, "max_files": 1})
    client = TestClient(app)
    assert client.post("/r/", files={"text": (None, "abc")}).json() == "abc"
    assert client.post("/r/", files={"text": (None, "abcd")}).status_code == 400
    assert client.post("/r/", data={"text": "a", "other": "b"}).status_code == 400
    both = [("text", (None, "a")), ("f", ("f.txt", b"1"))]
    assert client.post("/r/", files=both).json() == "a"
    assert client.post("/r/", files=[*both, ("g", ("g.txt", b"2"))]).status_code == 400


def test_app_form_limits_reach_mounted_apps() -> None:
    child = FastAPI()
    child.post("/")(form_field)
    app = FastAPI(form_limits={"max_part_size": 2})
    app.mount("/child", child)
    client = TestClient(app)
    assert client.post("/child/", files={"text": (None, "ab")}).json() == "ab"
    response = client.post("/child/", files={"text": (None, "abc")})
    assert response.status_code == 400
    assert response.json() == {"detail": "Part exceeded maximum size of 0KB."}


def test_upload_counts_against_max_files() -> None:
    app = FastAPI(form_limits={"max_files": 1})

    @app.post("/")
    def upload(files: list[UploadFile]) -> int:
        return len(files)

    client = TestClient(app)
    one = [("files", ("a", b"1"))]
    assert client.post("/", files=one).json() == 1
    assert client.post("/", files=one * 2).status_code == 400


@pytest.mark.parametrize(
    "limits", [{"max_parts": 1}, {"max_fields": -1}, {"max_files": True}, {"max_part_size": 2.0}]
)
def test_invalid_form_limits(limits: Any) -> None:
    with pytest.raises(ValueError):
        validate_form_limits(limits)
    with pytest.raises(ValueError):
        FastAPI(form_limits=limits)
    with pytest.raises(ValueError):
        APIRouter(form_limits=limits)
    with pytest.raises(ValueError):
        FastAPI().include_router(APIRouter(), form_limits=limits)
    with pytest.raises(ValueError):
        APIRoute("/", form_field, form_limits=limits)


def test_form_limits_are_copied_and_typed() -> None:
    limits: _FormLimits = {"max_fields": 2}
    route = APIRoute("/", form_field, methods=["POST"], form_limits=limits)
    limits["max_fields"] = 0
    assert route.form_limits == {"max_fields": 2}
    assert validate_form_limits(None) == {}
