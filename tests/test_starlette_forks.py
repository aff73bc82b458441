"""Each fork in ``hasten._starlette`` against Starlette's own behaviour, on generated inputs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette._exception_handler import wrap_app_handling_exceptions as starlette_wrap
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from hasten import _starlette as forks

FAST = settings(max_examples=300, deadline=None)

# Query strings built from the characters that matter to the parser.
query_strings = st.lists(
    st.sampled_from(list("ab=&;%+2F0 é\u00ff~-") + ["%20", "%zz", "%C3%A9"]), max_size=30
).map("".join)


@FAST
@given(query_strings)
def test_query_params_match_starlettes(text: str) -> None:
    raw = text.encode("utf-8")
    ours, theirs = forks.query_params(raw), QueryParams(raw)
    assert ours.multi_items() == theirs.multi_items()
    assert dict(ours) == dict(theirs)
    for key in theirs.keys():
        assert ours.getlist(key) == theirs.getlist(key)
        assert ours.get(key) == theirs.get(key)


def _receive_from(messages: list[dict[str, Any]]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}


async def _read(cls: type[Request], messages: list[dict[str, Any]]) -> Any:
    request = cls(_scope(), _receive_from(messages))
    try:
        body = await request.body()
    except ClientDisconnect:
        return "disconnect"
    return body, await request.body()  # a second read answers from the cache


chunk_lists = st.lists(
    st.tuples(st.binary(max_size=8), st.booleans(), st.booleans()), min_size=1, max_size=5
)


@FAST
@given(chunk_lists)
def test_route_request_body_matches_starlettes(chunks: list[tuple[bytes, bool, bool]]) -> None:
    # Each chunk: (bytes, whether the "body" key is present, whether a disconnect comes first).
    messages: list[dict[str, Any]] = []
    for index, (data, has_body, disconnect) in enumerate(chunks):
        if disconnect:
            messages.append({"type": "http.disconnect"})
        message: dict[str, Any] = {"type": "http.request", "more_body": index < len(chunks) - 1}
        if has_body:
            message["body"] = data
        messages.append(message)
    ours = asyncio.run(_read(forks.RouteRequest, messages))
    theirs = asyncio.run(_read(Request, messages))
    assert ours == theirs


header_lists = st.lists(
    st.tuples(st.sampled_from([b"content-type", b"x-token", b"accept"]), st.binary(max_size=6)),
    max_size=5,
)


@FAST
@given(header_lists, st.sampled_from([b"content-type", b"x-token", b"missing"]))
def test_first_header_matches_headers_get(raw: list[tuple[bytes, bytes]], name: bytes) -> None:
    assert forks.first_header(raw, name) == Headers(raw=raw).get(name.decode())


class A(Exception):
    pass


class B(A):
    pass


class C(HTTPException):
    pass


exceptions = st.sampled_from(
    [A(), B(), ValueError(), HTTPException(404), HTTPException(418), C(404), C(500)]
)
handler_keys = st.lists(
    st.sampled_from([A, B, Exception, HTTPException, C, ValueError, 404, 418]),
    unique=True,
    max_size=5,
)


def _handler_for(key: Any) -> Any:
    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(str(key), status_code=299)

    return handler


async def _answer_with(
    run: Any, keys: list[Any], exc: Exception
) -> tuple[str, Any] | tuple[str, int, bytes]:
    handlers = {k: _handler_for(k) for k in keys if not isinstance(k, int)}
    statuses = {k: _handler_for(k) for k in keys if isinstance(k, int)}
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise exc

    try:
        await run(app, handlers, statuses, send)
    except Exception as raised:
        return ("raised", type(raised))
    return ("answered", sent[0]["status"], sent[1]["body"])


async def _via_route(app: Any, handlers: Any, statuses: Any, send: Any) -> None:
    scope = {**_scope(), "starlette.exception_handlers": (handlers, statuses)}
    await starlette_wrap(app, Request(scope))(scope, _receive_from([]), send)


async def _via_lookup(app: Any, handlers: Any, statuses: Any, send: Any) -> None:
    scope = {**_scope(), "starlette.exception_handlers": (handlers, statuses)}
    try:
        await app(scope, None, send)
    except Exception as exc:
        handler = forks.lookup_handler(scope, exc)
        if handler is None:
            raise
        await (await handler(Request(scope), exc))(scope, _receive_from([]), send)


@FAST
@given(handler_keys, exceptions)
def test_lookup_handler_picks_starlettes_handler(keys: list[Any], exc: Exception) -> None:
    ours = asyncio.run(_answer_with(_via_lookup, keys, exc))
    theirs = asyncio.run(_answer_with(_via_route, keys, exc))
    assert ours == theirs


def _middleware_runner(cls: type[ExceptionMiddleware]) -> Any:
    async def run(app: Any, handlers: Any, statuses: Any, send: Any) -> None:
        merged = {**handlers, **statuses}
        layer = cls(app, handlers=merged)
        await layer(_scope(), _receive_from([]), send)

    return run


@FAST
@given(handler_keys, exceptions)
def test_exception_layer_answers_as_exception_middleware(keys: list[Any], exc: Exception) -> None:
    keys = [k for k in keys if k not in (Exception,)]  # 500/Exception go to ServerError
    ours = asyncio.run(_answer_with(_middleware_runner(forks.ExceptionLayer), keys, exc))
    theirs = asyncio.run(_answer_with(_middleware_runner(ExceptionMiddleware), keys, exc))
    assert ours == theirs


statuses = st.sampled_from([100, 101, 199, 200, 201, 204, 205, 226, 304, 400, 418, 500])
NO_BODY = {204, 205, 304} | set(range(100, 200))


@FAST
@given(st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=6)), statuses)
def test_json_bytes_response_matches_json_response(content: Any, status: int) -> None:
    theirs = JSONResponse(content, status_code=status)
    ours = forks.JSONBytesResponse(theirs.body, status_code=status)
    assert ours.raw_headers == theirs.raw_headers
    assert ours.body == (b"" if status in NO_BODY else theirs.body)
    assert ours.status_code == status


@FAST
@given(st.text(max_size=12), statuses, st.sampled_from([PlainTextResponse, HTMLResponse]))
def test_text_responder_matches_constructor(text: str, status: int, cls: Any) -> None:
    theirs = cls(text, status_code=status)
    ours = forks.text_responder(cls)(text, {"status_code": status, "background": None})
    assert type(ours) is cls
    assert ours.raw_headers == theirs.raw_headers
    assert ours.body == (b"" if status in NO_BODY else theirs.body)
    default = forks.text_responder(cls)(text, {"background": None})
    assert (default.status_code, default.raw_headers) == (200, cls(text).raw_headers)


@pytest.mark.parametrize("version", ["1.10.0", "1.12.3", "1.99"])
def test_supported_starlette_versions(version: str) -> None:
    forks.check_starlette_version(version)


@pytest.mark.parametrize("version", ["0.47.2", "1.9.9", "2.0.0", "3.1"])
def test_unsupported_starlette_versions(version: str) -> None:
    with pytest.raises(ImportError, match=f"found {version}"):
        forks.check_starlette_version(version)


def test_installed_starlette_is_supported() -> None:
    forks.check_starlette_version()


def test_route_request_starts_in_starlettes_state() -> None:
    """``RouteRequest.__init__`` sets in one frame what Starlette's two constructors set."""
    RouteRequest = forks.RouteRequest

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    ours, theirs = RouteRequest(scope, receive, send), Request(scope, receive, send)
    assert vars(ours) == vars(theirs)
    assert vars(RouteRequest(scope)) == vars(Request(scope))
    with pytest.raises(AssertionError):
        RouteRequest({"type": "websocket"})


def test_route_request_follows_a_replaced_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    RouteRequest = forks.RouteRequest
    original = Request.__init__
    seen: list[str] = []

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        seen.append("patched")
        original(self, *args, **kwargs)

    monkeypatch.setattr(Request, "__init__", init)
    RouteRequest({"type": "http", "headers": []})
    assert seen == ["patched"]
