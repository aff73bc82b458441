"""Server-Sent Events: the response class, the event model and the wire format.

An endpoint declared with ``response_class=EventSourceResponse`` that ``yield``s items streams
them as ``text/event-stream``; the routing layer encodes each item (``ServerSentEvent`` as is,
anything else JSON-encoded into ``data:``) with ``format_sse_event``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from ._streaming import StreamingResponse

__all__ = [
    "KEEPALIVE_COMMENT",
    "EventSourceResponse",
    "ServerSentEvent",
    "format_sse_event",
]

KEEPALIVE_COMMENT = b": ping\n\n"
"""Comment frame sent while a stream is idle, so proxies keep the connection open."""

_PING_INTERVAL: float = 15.0
"""Seconds of idleness before a keep-alive comment is sent (tests may monkeypatch it)."""

# The event schema used in OpenAPI for ``text/event-stream`` responses (OpenAPI 3.2 §4.14.4):
# the text fields of an event, and ``retry``, a reconnection delay in milliseconds.
_SSE_TEXT_FIELDS = ("data", "event", "id")
_SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{name: {"type": "string"} for name in _SSE_TEXT_FIELDS},
        "retry": {"type": "integer", "minimum": 0},
    },
}


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` streaming response, for any HTTP method.

    Mostly a marker: as ``response_class`` of a generator endpoint it asks the routing layer
    to encode each yielded item as an SSE event.
    """

    media_type = "text/event-stream"


def _single_line(field: str) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError(f"SSE '{field}' must be a single line")
        return value

    return AfterValidator(check)


def _no_null(value: str | None) -> str | None:
    if value is not None and "\0" in value:
        raise ValueError("SSE 'id' must not contain null characters")
    return value


class ServerSentEvent(BaseModel):
    """One SSE event to ``yield`` from an ``EventSourceResponse`` endpoint.

    ``data`` is always JSON-encoded (``"hello"`` goes out as ``data: "hello"``); ``raw_data``
    is sent verbatim. ``event`` and ``id`` must be single lines, ``retry`` is a non-negative
    number of milliseconds, ``comment`` becomes ``:`` lines that clients ignore.
    """

    data: Any = None
    raw_data: str | None = None
    event: Annotated[str | None, _single_line("event")] = None
    id: Annotated[str | None, AfterValidator(_no_null), _single_line("id")] = None
    retry: Annotated[int | None, Field(ge=0)] = None
    comment: str | None = None

    @model_validator(mode="after")
    def _data_or_raw_data(self) -> ServerSentEvent:
        if self.data is not None and self.raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' and 'raw_data' on the same ServerSentEvent. "
                "Use 'data' for JSON-serialized payloads or 'raw_data' for pre-formatted strings."
            )
        return self


def _lines(text: str) -> list[str]:
    """Split on the SSE line terminators only (``\\r\\n``, ``\\r``, ``\\n``), keeping empties."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Encode one event from **already serialized** data; the result ends with a blank line.

    Field order: comment lines, ``event:``, ``data:`` lines, ``id:``, ``retry:``.
    """
    out: list[str] = []
    if comment is not None:
        out.extend(f": {line}" for line in _lines(comment))
    if event is not None:
        out.append(f"event: {event}")
    if data_str is not None:
        out.extend(f"data: {line}" for line in _lines(data_str))
    if id is not None:
        out.append(f"id: {id}")
    if retry is not None:
        out.append(f"retry: {retry}")
    out.append("\n")
    return "\n".join(out).encode("utf-8")
