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
