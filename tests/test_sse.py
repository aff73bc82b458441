"""hasten.sse: the event model's validation and the wire format."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from starlette.responses import StreamingResponse

from hasten.sse import KEEPALIVE_COMMENT, EventSourceResponse, ServerSentEvent, format_sse_event


def test_event_source_response_is_a_streaming_response() -> None:
    assert issubclass(EventSourceResponse, StreamingResponse)
    response = EventSourceResponse(iter([b"data: 1\n\n"]))
    assert response.media_type == "text/event-stream"
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"


def test_keepalive_comment() -> None:
    assert KEEPALIVE_COMMENT == b": ping\n\n"


def test_server_sent_event_defaults() -> None:
    event = ServerSentEvent()
    assert (event.data, event.raw_data, event.event, event.id, event.retry, event.comment) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )
    assert ServerSentEvent(data={"k": [1]}).data == {"k": [1]}


def test_null_character_in_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="null"):
        ServerSentEvent(data="test", id="has\0null")


@pytest.mark.parametrize("field_name", ["event", "id"])
@pytest.mark.parametrize("value", ["first\nsecond", "first\rsecond", "first\r\nsecond"])
def test_single_line_fields_reject_newlines(field_name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"SSE '{field_name}' must be a single line"):
        ServerSentEvent(data="test", **{field_name: value})


@pytest.mark.parametrize("retry", [-1, 1.5, "soon"])
def test_retry_must_be_non_negative_int(retry: Any) -> None:
    with pytest.raises(ValidationError):
        ServerSentEvent(data="test", retry=retry)


def test_data_and_raw_data_are_exclusive() -> None:
    with pytest.raises(ValueError, match="Cannot set both"):
        ServerSentEvent(data="json", raw_data="raw")
    assert ServerSentEvent(raw_data="<b>x</b>", retry=0).raw_data == "<b>x</b>"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Hello\n", b"data: Hello\ndata: \n\n"),
        ("Hello\n\n", b"data: Hello\ndata: \ndata: \n\n"),
        ("\n", b"data: \ndata: \n\n"),
        ("Hello\r\nWorld", b"data: Hello\ndata: World\n\n"),
        ("Hello\rWorld", b"data: Hello\ndata: World\n\n"),
        ("A\u2028B", "data: A\u2028B\n\n".encode()),
        ("A\vB", b"data: A\x0bB\n\n"),
        ("", b"data: \n\n"),
        ('"hello"', b'data: "hello"\n\n'),
    ],
)
def test_format_data_lines(data: str, expected: bytes) -> None:
    assert format_sse_event(data_str=data) == expected


def test_format_comment_lines() -> None:
    assert format_sse_event(comment="hi\n") == b": hi\n: \n\n"
    assert format_sse_event(comment="ping") == KEEPALIVE_COMMENT


def test_format_field_order_and_empty_event() -> None:
    encoded = format_sse_event(data_str="x", event="e", id="7", retry=3000, comment="c")
    assert encoded == b": c\nevent: e\ndata: x\nid: 7\nretry: 3000\n\n"
    assert format_sse_event() == b"\n"
    assert format_sse_event(retry=0) == b"retry: 0\n\n"
    assert format_sse_event(data_str="é") == "data: é\n\n".encode()


# -- a client that leaves (issue 14, finding 11) ------------------------------------------------


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/sse",
        "raw_path": b"/sse",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }


@pytest.mark.parametrize("sync", [False, True], ids=["async-generator", "sync-generator"])
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_client_leaving_a_full_stream_closes_the_generator_at_once(
    sync: bool, anyio_backend: str
) -> None:
    """The socket is full (a send never completes), then the client disconnects: the app
    returns without an error and the endpoint's ``finally`` has already run (before the fix
    the generator stayed suspended, its ``finally`` left to garbage collection)."""
    import anyio

    from hasten import FastAPI

    closed: list[str] = []
    app = FastAPI()

    if sync:

        @app.get("/sse", response_class=EventSourceResponse)
        def endpoint_sync() -> Any:
            try:
                while True:
                    yield ServerSentEvent(data="x" * 1000)
            finally:
                closed.append("closed")

    else:

        @app.get("/sse", response_class=EventSourceResponse)
        async def endpoint_async() -> Any:
            try:
                while True:
                    yield ServerSentEvent(data="x" * 1000)
            finally:
                closed.append("closed")

    full = anyio.Event()
    sent = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal sent
        if message["type"] == "http.response.body":
            sent += 1
            if sent == 3:
                full.set()
                await anyio.sleep_forever()  # the client stopped reading

    async def receive() -> dict[str, Any]:
        await full.wait()
        return {"type": "http.disconnect"}

    with anyio.fail_after(10):
        await app(_scope(), receive, send)
    assert closed == ["closed"]
