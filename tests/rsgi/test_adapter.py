"""The RSGI adapter (``hasten._rsgi``) against a fake protocol that records each call.

These pin down what a real Granian process cannot show directly: how many protocol calls a
response takes (start + final body in one ``response_bytes``), how the body is read (one
``await protocol()`` for a declared small body, chunks otherwise), what happens to an unread
body, and the event order of WebSockets and of the lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fake_rsgi import Headers, HTTPProtocol, Message, Scope, WebSocketProtocol

from hasten import FastAPI, Hasten, Request, WebSocket
from hasten._rsgi import RSGIServed, serve_rsgi
from hasten._rsgi.http import (
    DRAIN_LIMIT,
    ONE_READ_LIMIT,
    RESPONSE_PAIRS,
    HTTPCycle,
    ResponsePairs,
    open_cycle,
)
from hasten._rsgi.lifespan import Lifespan, LifespanFailed
from hasten._rsgi.scope import (
    CONNECTIONS,
    CONNECTIONS_MAX,
    http_scope,
    parse_address,
    websocket_scope,
)
from hasten._rsgi.websocket import WebSocketCycle
from hasten.responses import PlainTextResponse


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _cycle(protocol: HTTPProtocol, scope: Scope) -> HTTPCycle:
    return open_cycle(protocol, scope.headers, scope.http_version)


# -- responses -------------------------------------------------------------------------------


def test_start_and_final_body_go_out_in_one_call() -> None:
    protocol = HTTPProtocol()
    cycle = _cycle(protocol, Scope())

    async def respond() -> None:
        await cycle.send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"x-a", b"1"), (b"x-a", b"2")],
            }
        )
        assert protocol.calls == []  # nothing goes out before the body
        await cycle.send({"type": "http.response.body", "body": b"made"})

    run(respond())
    assert protocol.calls == [("response_bytes", 201, [("x-a", "1"), ("x-a", "2")], b"made")]


def test_streamed_body_chunks_and_sends_after_the_end_are_dropped() -> None:
    protocol = HTTPProtocol()
    cycle = _cycle(protocol, Scope())

    async def respond() -> None:
        await cycle.send({"type": "http.response.start", "status": 200, "headers": []})
        await cycle.send({"type": "http.response.body", "body": b"a", "more_body": True})
        await cycle.send({"type": "http.response.body", "body": bytearray(b"b"), "more_body": True})
        await cycle.send({"type": "http.response.body", "body": b""})
        await cycle.send({"type": "http.response.body", "body": b"late"})

    run(respond())
    assert protocol.calls == [
        ("response_stream", 200, []),
        ("send_bytes", b"a"),
        ("send_bytes", b"b"),
    ]


def test_a_client_gone_mid_stream_drops_the_rest_silently() -> None:
    protocol = HTTPProtocol(fail_after=1)
    cycle = _cycle(protocol, Scope())

    async def respond() -> Any:
        await cycle.send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"1", b"2", b"3"):
            await cycle.send({"type": "http.response.body", "body": part, "more_body": True})
        await cycle.send({"type": "http.response.body", "body": b""})
        return await cycle.receive()

    assert run(respond()) == {"type": "http.disconnect"}
    assert protocol.kinds() == ["response_stream", "send_bytes"]


def test_pathsend_is_a_file_response() -> None:
    protocol = HTTPProtocol()
    cycle = _cycle(protocol, Scope())

    async def respond() -> None:
        await cycle.send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
        )
        await cycle.send({"type": "http.response.pathsend", "path": "/tmp/five"})

    run(respond())
    assert protocol.calls == [("response_file", 200, [("content-length", "5")], "/tmp/five")]


def test_protocol_errors_are_raised() -> None:
    cycle = _cycle(HTTPProtocol(), Scope())
    with pytest.raises(RuntimeError, match="before http.response.start"):
        run(cycle.send({"type": "http.response.body", "body": b""}))
    run(cycle.send({"type": "http.response.start", "status": 200}))
    with pytest.raises(RuntimeError, match="sent twice"):
        run(cycle.send({"type": "http.response.start", "status": 200}))
    with pytest.raises(RuntimeError, match="Unexpected ASGI message"):
        run(cycle.send({"type": "websocket.send", "text": "x"}))


def _respond_with(headers: Any) -> list[tuple[str, str]]:
    protocol = HTTPProtocol()
    cycle = _cycle(protocol, Scope())

    async def respond() -> None:
        await cycle.send({"type": "http.response.start", "status": 200, "headers": headers})
        await cycle.send({"type": "http.response.body", "body": b""})

    run(respond())
    return protocol.calls[0][2]  # type: ignore[no-any-return]


def test_response_headers_are_latin1_text_whatever_form_they_come_in() -> None:
    pairs = [(b"x-caf", b"caf\xe9"), (b"x-raw", bytes(range(0x80, 0x100))), (b"x-a", b"1")]
    expected = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in pairs]
    for _ in range(2):  # converted, then remembered: the same either way
        assert _respond_with(list(pairs)) == expected
    assert _respond_with(tuple(pairs)) == expected
    assert _respond_with([[name, value] for name, value in pairs]) == expected  # lists: no key
    assert _respond_with([(name, bytearray(value)) for name, value in pairs]) == expected
    assert _respond_with(iter(pairs)) == expected
    assert _respond_with([]) == []
    assert RESPONSE_PAIRS[(b"x-caf", b"caf\xe9")] == ("x-caf", "café")


def test_response_header_list_is_fresh_and_may_grow() -> None:
    first = _respond_with([(b"x-a", b"1")])
    second = _respond_with([(b"x-a", b"1")])
    assert first == second == [("x-a", "1")]
    assert first is not second
    scope = _post(str(DRAIN_LIMIT + 1))
    for _ in range(2):  # connection: close is added to this response only
        assert _answer_unread(scope, HTTPProtocol()) == [("connection", "close")]


def test_response_pairs_stay_bounded() -> None:
    pairs = ResponsePairs()
    for n in range(ResponsePairs.LIMIT + 10):
        assert pairs[(b"content-length", str(n).encode())] == ("content-length", str(n))
        assert len(pairs) <= ResponsePairs.LIMIT
    long = b"v" * (ResponsePairs.VALUE_MAX + 1)
    assert pairs[(b"x-long", long)] == ("x-long", long.decode())
    assert (b"x-long", long) not in pairs
    for name in (b"set-cookie", b"Set-Cookie"):
        assert pairs[(name, b"session=s3cret")] == (name.decode(), "session=s3cret")
        assert (name, b"session=s3cret") not in pairs


def test_response_header_errors_are_as_before() -> None:
    with pytest.raises(AttributeError):
        _respond_with([("x-text", "not bytes")])
    with pytest.raises(ValueError):
        _respond_with([(b"x-a",)])


# -- request bodies --------------------------------------------------------------------------


def _post(
    length: str | None, extra: list[tuple[str, str]] | None = None, version: str = "1.1"
) -> Scope:
    pairs = [("host", "test"), *(extra or [])]
    if length is not None:
        pairs.append(("content-length", length))
    return Scope(method="POST", headers=Headers(pairs), http_version=version)


def test_a_declared_small_body_is_read_with_one_call() -> None:
    protocol = HTTPProtocol(body=b'{"a": 1}')
    cycle = _cycle(protocol, _post("8"))
    message = run(cycle.receive())
    assert message == {"type": "http.request", "body": b'{"a": 1}', "more_body": False}
    assert protocol.kinds() == ["read"]


def test_chunked_and_large_bodies_arrive_as_chunks() -> None:
    for scope in (_post(None, [("transfer-encoding", "chunked")]), _post(str(ONE_READ_LIMIT + 1))):
        protocol = HTTPProtocol(chunks=[b"ab", b"cd"])
        cycle = _cycle(protocol, scope)

        async def read_all(cycle: HTTPCycle = cycle) -> list[Any]:
            return [await cycle.receive() for _ in range(3)]

        assert run(read_all()) == [
            {"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.request", "body": b"cd", "more_body": True},
            {"type": "http.request", "body": b"", "more_body": False},
        ]
        assert protocol.kinds() == ["iterate"]


def test_after_the_body_receive_waits_for_the_client_to_go() -> None:
    protocol = HTTPProtocol(body=b"x")
    cycle = _cycle(protocol, _post("1"))
    run(cycle.receive())
    assert run(cycle.receive()) == {"type": "http.disconnect"}
    assert protocol.kinds() == ["read", "client_disconnect"]


def test_after_the_response_receive_answers_disconnect_at_once() -> None:
    protocol = HTTPProtocol(body=b"x")
    cycle = _cycle(protocol, _post("1"))

    async def exchange() -> Any:
        await cycle.receive()
        await cycle.send({"type": "http.response.start", "status": 204, "headers": []})
        await cycle.send({"type": "http.response.body", "body": b""})
        return await cycle.receive()

    assert run(exchange()) == {"type": "http.disconnect"}
    assert "client_disconnect" not in protocol.kinds()


def _answer_unread(scope: Scope, protocol: HTTPProtocol) -> list[tuple[str, str]]:
    cycle = _cycle(protocol, scope)

    async def respond() -> None:
        await cycle.send({"type": "http.response.start", "status": 401, "headers": []})
        await cycle.send({"type": "http.response.body", "body": b"no"})

    run(respond())
    return protocol.calls[-1][2]  # type: ignore[no-any-return]


def test_an_unread_small_body_is_drained_so_the_connection_stays_open() -> None:
    protocol = HTTPProtocol(body=b"x" * 10)
    assert _answer_unread(_post("10"), protocol) == []
    assert protocol.kinds() == ["read", "response_bytes"]


def test_an_unread_large_or_chunked_body_closes_the_connection() -> None:
    for scope in (_post(str(DRAIN_LIMIT + 1)), _post(None, [("transfer-encoding", "chunked")])):
        protocol = HTTPProtocol()
        assert _answer_unread(scope, protocol) == [("connection", "close")]
        assert protocol.kinds() == ["response_bytes"]  # nothing was read
    protocol = HTTPProtocol()
    assert _answer_unread(_post(str(DRAIN_LIMIT + 1), version="2"), protocol) == []


def test_a_request_without_body_is_answered_without_reading() -> None:
    protocol = HTTPProtocol()
    assert _answer_unread(Scope(), protocol) == []
    assert protocol.kinds() == ["response_bytes"]


def _cycle_state(cycle: HTTPCycle) -> tuple[Any, ...]:
    return tuple(
        getattr(cycle, name, "unset") for name in HTTPCycle.__slots__ if name != "protocol"
    )


def _two_sends_then_answer(
    scope: Scope, status: int, headers: Any, body: Any, *, read: bool = False
) -> tuple[Any, Any]:
    """The protocol calls and cycle state after the start and body messages, and after
    ``answer`` with the same response, each on a fresh cycle (its body read first if ``read``)."""
    seen = []
    for way in ("sends", "answer"):
        protocol = HTTPProtocol(body=b"x" * 10)
        cycle = _cycle(protocol, scope)

        async def respond(cycle: HTTPCycle = cycle, way: str = way) -> Any:
            if read:
                await cycle.receive()
            try:
                if way == "sends":
                    start = {"type": "http.response.start", "status": status, "headers": headers}
                    await cycle.send(start)
                    await cycle.send({"type": "http.response.body", "body": body})
                else:
                    await cycle.answer(status, headers, body)
            except Exception as exc:  # the same error either way
                return repr(exc)
            return None

        error = run(respond())
        seen.append((error, protocol.calls, _cycle_state(cycle)))
    return seen[0], seen[1]


@pytest.mark.parametrize(
    "scope",
    [
        Scope(),
        _post("10"),
        _post(str(DRAIN_LIMIT + 1)),
        _post(None, [("transfer-encoding", "chunked")]),
        _post(str(DRAIN_LIMIT + 1), version="2"),
    ],
    ids=["no-body", "small-unread", "large-unread", "chunked-unread", "large-unread-h2"],
)
@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"4"), (b"content-type", b"application/json")],
        [],
        ((b"x-a", b"1"), (b"x-a", b"\xe9")),  # not a list
        [[b"x-list", b"pair"]],  # a pair that is a list
        [(b"x-b", bytearray(b"2"))],
        [(b"x-bad", "str")],  # refused the same way
    ],
)
def test_answer_is_the_start_and_body_messages_in_one_call(scope: Scope, headers: Any) -> None:
    sends, answer = _two_sends_then_answer(scope, 201, headers, b"made")
    assert answer == sends
    assert sends[0] or sends[1]  # the same error was raised, or a response went out


def test_answer_after_the_body_was_read_and_of_a_bytearray() -> None:
    sends, answer = _two_sends_then_answer(_post("10"), 200, [], bytearray(b"ok"), read=True)
    assert answer == sends
    assert answer[1] == [("read",), ("response_bytes", 200, [], b"ok")]


def test_answer_refuses_a_second_start_as_send_does() -> None:
    protocol = HTTPProtocol()
    cycle = _cycle(protocol, Scope())

    async def twice() -> None:
        await cycle.answer(200, [], b"a")
        await cycle.answer(200, [], b"b")

    with pytest.raises(RuntimeError, match="sent twice"):
        run(twice())
    assert len(protocol.calls) == 1


# -- scopes ----------------------------------------------------------------------------------


def test_http_scope() -> None:
    rsgi = Scope(
        path="/items/é",
        query_string="q=é&x=%20",
        headers=Headers([("accept", "*/*"), ("x-a", "1"), ("x-a", "2")]),
        http_version="2",
        authority="example.com:8443",
        client="[::1]:5000",
        scheme="https",
    )
    scope = http_scope(rsgi, rsgi.headers, {"db": "pool"}, "")
    assert scope["headers"] == [
        (b"host", b"example.com:8443"),
        (b"accept", b"*/*"),
        (b"x-a", b"1"),
        (b"x-a", b"2"),
    ]
    assert scope["query_string"] == "q=é&x=%20".encode()
    assert scope["client"] == ("::1", 5000)
    assert scope["server"] == ("127.0.0.1", 8000)
    assert (scope["path"], scope["root_path"], scope["scheme"]) == ("/items/é", "", "https")
    assert (scope["type"], scope["method"], scope["http_version"]) == ("http", "GET", "2")
    assert scope["state"] == {"db": "pool"}
    assert "http.response.pathsend" in scope["extensions"]
    rsgi = Scope(path="/items")
    prefixed = http_scope(rsgi, rsgi.headers, {}, "/api")
    assert (prefixed["path"], prefixed["root_path"]) == ("/api/items", "/api")


def test_request_headers_are_utf8_bytes() -> None:
    pairs = [("user-agent", "naïve/1.0 ☃"), ("x-a", "1"), ("x-a", "2")]
    rsgi = Scope(headers=Headers(list(pairs)))
    headers = http_scope(rsgi, rsgi.headers, {}, "")["headers"]
    assert headers == [(name.encode(), value.encode()) for name, value in pairs]


def test_each_scope_is_a_fresh_dict_with_fresh_lists() -> None:
    rsgi = Scope(query_string="a=1")
    first = http_scope(rsgi, rsgi.headers, {}, "")
    first["headers"].append((b"x-added", b"1"))
    first["extensions"]["x"] = {}
    second = http_scope(rsgi, rsgi.headers, {}, "")
    assert second["headers"] == [(b"host", b"test")]
    assert second["extensions"] == {"http.response.pathsend": {}}
    assert second["query_string"] == b"a=1"
    assert list(second) == [
        "type", "asgi", "http_version", "method", "scheme", "path", "query_string",
        "root_path", "headers", "client", "server", "state", "extensions",
    ]  # fmt: skip
    assert http_scope(Scope(), Scope().headers, {}, "")["query_string"] == b""


def _reference_http_scope(rsgi: Scope, state: dict[str, Any], root_path: str) -> dict[str, Any]:
    """The ASGI scope as the adapter built it before its scope was a filled-in copy."""
    headers = [(name.encode(), value.encode()) for name, value in rsgi.headers.items()]
    if rsgi.authority is not None and "host" not in rsgi.headers:
        headers.insert(0, (b"host", rsgi.authority.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": rsgi.http_version,
        "method": rsgi.method,
        "scheme": rsgi.scheme,
        "path": root_path + rsgi.path if root_path else rsgi.path,
        "query_string": rsgi.query_string.encode(),
        "root_path": root_path,
        "headers": headers,
        "client": parse_address(rsgi.client),
        "server": parse_address(rsgi.server),
        "state": state.copy(),
        "extensions": {"http.response.pathsend": {}},
    }


@pytest.mark.parametrize(
    ("rsgi", "state", "root_path"),
    [
        (Scope(), {}, ""),
        (Scope(path="/a b/é", query_string="x=é&y", method="POST"), {"db": 1}, "/api"),
        (Scope(http_version="2", authority="h:1", headers=Headers([("a", "1")])), {}, ""),
        (Scope(authority="h:1", headers=Headers([("host", "x"), ("a", "1"), ("a", "2")])), {}, ""),
        (Scope(client="[::1]:1", server="unix", scheme="https", headers=Headers([])), {}, ""),
    ],
)
def test_http_scope_is_what_it_was(rsgi: Scope, state: dict[str, Any], root_path: str) -> None:
    built = http_scope(rsgi, rsgi.headers, state, root_path)
    expected = _reference_http_scope(rsgi, state, root_path)
    assert built == expected
    assert list(built) == list(expected)
    assert built["state"] is not state


def test_a_connections_part_is_reused_only_when_it_is_the_same() -> None:
    client = "10.9.8.7:4321"
    for server, scheme, version in [
        ("127.0.0.1:8000", "http", "1.1"),
        ("127.0.0.1:8000", "http", "1.1"),
        ("127.0.0.1:8443", "http", "1.1"),
        ("127.0.0.1:8443", "https", "1.1"),
        ("127.0.0.1:8443", "https", "2"),
        ("127.0.0.1:8000", "http", "1.1"),
    ]:
        rsgi = Scope(client=client, server=server, scheme=scheme, http_version=version)
        scope = http_scope(rsgi, rsgi.headers, {}, "")
        assert scope == _reference_http_scope(rsgi, {}, "")
        scope["client"] = scope["server"] = scope["scheme"] = "changed"  # the app's own copy
    assert len([key for key in CONNECTIONS if key == client]) == 1


def test_the_connections_table_stays_bounded() -> None:
    for n in range(CONNECTIONS_MAX + 10):
        rsgi = Scope(client=f"10.0.{n // 256}.{n % 256}:5000")
        assert http_scope(rsgi, rsgi.headers, {}, "")["client"] == (rsgi.client[:-5], 5000)
        assert len(CONNECTIONS) <= CONNECTIONS_MAX


def test_state_is_a_copy_per_request() -> None:
    state = {"n": 1}
    rsgi = Scope()
    scope = http_scope(rsgi, rsgi.headers, state, "")
    scope["state"]["n"] = 2
    assert state == {"n": 1}


def test_websocket_scope() -> None:
    rsgi = Scope(
        proto="ws",
        scheme="https",
        headers=Headers([("host", "h"), ("sec-websocket-protocol", "chat, superchat")]),
    )
    scope = websocket_scope(rsgi, {}, "")
    assert (scope["type"], scope["scheme"]) == ("websocket", "wss")
    assert scope["subprotocols"] == ["chat", "superchat"]


def test_parse_address() -> None:
    assert parse_address("10.0.0.1:80") == ("10.0.0.1", 80)
    assert parse_address("[fe80::1]:443") == ("fe80::1", 443)
    assert parse_address("unix") == ("unix", 0)
    assert parse_address(None) is None


# -- whole apps ------------------------------------------------------------------------------


@pytest.mark.parametrize("app_class", [Hasten, FastAPI])
def test_a_hasten_route_answers_with_one_protocol_call(app_class: type[Hasten]) -> None:
    app = app_class()

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/json")
    def json_answer(request: Request) -> dict[str, Any]:
        return {"client": request.client.host if request.client else None}

    for path, body in (("/plaintext", b"Hello, World!"), ("/json", b'{"client":"127.0.0.1"}')):
        protocol = HTTPProtocol()
        run(app.__rsgi__(Scope(path=path), protocol))
        assert len(protocol.calls) == 1
        kind, status, _, sent = protocol.calls[0]
        assert (kind, status, sent) == ("response_bytes", 200, body)


class _PassSend:
    """An ASGI middleware that passes each message on through its own ``send``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def passed(message: Any) -> None:
            await send(message)

        await self.app(scope, receive, passed)


def test_a_route_given_the_cycles_own_send_answers_in_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain answer through the stack calls the cycle's ``answer`` only when nothing wraps
    the cycle's ``send``; the protocol sees the same call either way."""
    answered: list[int] = []
    original = HTTPCycle.answer

    async def spy(self: HTTPCycle, status: int, headers: Any, body: bytes) -> None:
        answered.append(status)
        await original(self, status, headers, body)

    monkeypatch.setattr(HTTPCycle, "answer", spy)

    def build(wrapped: bool) -> Hasten:
        app = Hasten()

        @app.get("/items/{item_id}")
        async def item(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        if wrapped:
            app.add_middleware(_PassSend)
        return app

    calls = []
    for wrapped in (False, True):
        protocol = HTTPProtocol()
        run(build(wrapped).__rsgi__(Scope(path="/items/3"), protocol))
        calls.append(protocol.calls)
    assert answered == [200]  # the unwrapped app's answer only
    assert calls[0] == calls[1]
    assert calls[0][0][0::3] == ("response_bytes", b'{"item_id":3}')


def _with_home(app: Hasten) -> Hasten:
    """``app`` with ``GET /`` answering ``"home"``."""

    @app.get("/")
    def home() -> str:
        return "home"

    return app


def test_rsgi_returns_what_granian_awaits_and_errors_surface_there() -> None:
    app = _with_home(Hasten())
    protocol = HTTPProtocol()
    pending = app.__rsgi__(Scope(path="/"), protocol)
    assert protocol.calls == []  # nothing ran yet
    run(pending)
    assert protocol.calls[0][3] == b'"home"'

    broken = Scope(path="/")
    broken.headers = None  # type: ignore[assignment]
    pending = app.__rsgi__(broken, HTTPProtocol())  # does not raise here
    with pytest.raises(AttributeError):
        run(pending)


class _PlainCallApp:
    """An ASGI app whose ``__call__`` is a plain function returning a non-coroutine awaitable."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        return _Awaitable(self._respond(send))

    async def _respond(self, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.answer})


class _Awaitable:
    def __init__(self, coro: Any) -> None:
        self.coro = coro

    def __await__(self) -> Any:
        return self.coro.__await__()


def test_served_apps_answer_through_a_coroutine_whatever_their_call_returns() -> None:
    async def function_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"function"})

    for app, body in (
        (_PlainCallApp(b"plain"), b"plain"),
        (Hasten(), b'{"detail":"Not Found"}'),
        (function_app, b"function"),
    ):
        protocol = HTTPProtocol()
        pending = RSGIServed(app).__rsgi__(Scope(path="/"), protocol)  # type: ignore[arg-type]
        assert asyncio.iscoroutine(pending)
        run(pending)
        assert protocol.calls[0][3] == body
    broken = Scope()
    broken.headers = None  # type: ignore[assignment]
    pending = RSGIServed(Hasten()).__rsgi__(broken, HTTPProtocol())
    with pytest.raises(AttributeError):
        run(pending)


def test_an_app_whose_call_was_replaced_by_a_plain_function_still_answers() -> None:
    class Replaced(Hasten):
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any:  # type: ignore[override]
            return _Awaitable(Hasten.__call__(self, scope, receive, send))

    app = _with_home(Replaced())
    protocol = HTTPProtocol()
    pending = app.__rsgi__(Scope(path="/"), protocol)
    assert asyncio.iscoroutine(pending)
    run(pending)
    assert protocol.calls[0][3] == b'"home"'


def test_websocket_events() -> None:
    app = Hasten()
    seen: list[Any] = []

    @app.websocket("/ws")
    async def talk(websocket: WebSocket) -> None:
        await websocket.accept()
        seen.append(await websocket.receive_text())
        seen.append(await websocket.receive_bytes())
        await websocket.send_text("t")
        await websocket.send_bytes(b"b")
        seen.append(await websocket.receive())

    protocol = WebSocketProtocol([Message(2, "hello"), Message(1, b"\x01"), Message(0)])
    run(app.__rsgi__(Scope(path="/ws", proto="ws"), protocol))
    assert seen == ["hello", b"\x01", {"type": "websocket.disconnect", "code": 1005}]
    assert protocol.calls == [("accept",), ("send_str", "t"), ("send_bytes", b"b"), ("close", 1000)]


def test_websocket_refused_closed_and_failing() -> None:
    async def refuse(scope: Any, receive: Any, send: Any) -> None:
        assert await receive() == {"type": "websocket.connect"}
        await send({"type": "websocket.close", "code": 1008})

    protocol = WebSocketProtocol([])
    run(serve_rsgi(refuse, Scope(proto="ws"), protocol, {}))
    assert protocol.calls == [("close", 403)]

    async def fail(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("before accept")

    protocol = WebSocketProtocol([])
    with pytest.raises(ValueError):
        run(serve_rsgi(fail, Scope(proto="ws"), protocol, {}))
    assert protocol.calls == [("close", 500)]

    cycle = WebSocketCycle(WebSocketProtocol([]))

    async def closed_send() -> None:
        await cycle.receive()
        await cycle.send({"type": "websocket.accept"})
        assert (await cycle.receive())["code"] == 1006  # the transport is gone
        await cycle.send({"type": "websocket.send", "text": "x"})

    with pytest.raises(OSError):
        run(closed_send())


# -- lifespan --------------------------------------------------------------------------------


def test_lifespan_runs_on_a_stopped_loop_and_keeps_state() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Hasten) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"db": "connected"}
        events.append("shutdown")

    app = Hasten(lifespan=lifespan)

    @app.get("/")
    def home(request: Request) -> str:
        return str(request.state.db)

    served = RSGIServed(app, root_path="")
    loop = asyncio.new_event_loop()
    try:
        served.__rsgi_init__(loop)
        assert events == ["startup"]
        protocol = HTTPProtocol()
        loop.run_until_complete(served.__rsgi__(Scope(path="/"), protocol))
        assert protocol.calls[0][3] == b'"connected"'
        served.__rsgi_del__(loop)
        assert events == ["startup", "shutdown"]
    finally:
        loop.close()


def test_failed_startup_is_reported() -> None:
    @asynccontextmanager
    async def lifespan(app: Hasten) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(LifespanFailed, match="no database"):
            Lifespan(Hasten(lifespan=lifespan)).startup(loop)
        with pytest.raises(SystemExit) as exited:
            Hasten(lifespan=lifespan).__rsgi_init__(loop)
        assert exited.value.code == 3
    finally:
        loop.close()


def test_an_app_without_lifespan_support_still_starts() -> None:
    async def http_only(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # ignores the lifespan, as a bare ASGI app may

    lifespan = Lifespan(http_only)
    loop = asyncio.new_event_loop()
    try:
        lifespan.startup(loop)
        assert lifespan.supported is False
        lifespan.shutdown(loop)
    finally:
        loop.close()
