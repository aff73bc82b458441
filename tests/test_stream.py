"""Generator endpoints: JSON Lines, Server-Sent Events and raw streams (hasten._plan.stream)."""

import json
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from pydantic import BaseModel

from hasten import FastAPI
from hasten.exceptions import ResponseValidationError
from hasten.responses import StreamingResponse
from hasten.sse import EventSourceResponse, ServerSentEvent
from hasten.testclient import TestClient


class Item(BaseModel):
    name: str
    price: float | None = None


app = FastAPI()


@app.get("/jsonl/async")
async def jsonl_async() -> AsyncIterator[Item]:
    yield Item(name="a", price=1.5)
    yield {"name": "b"}  # validated and serialized as an Item


@app.get("/jsonl/sync", response_model_exclude_none=True)
def jsonl_sync() -> Iterator[Item]:
    yield Item(name="c")


@app.get("/jsonl/untyped")
async def jsonl_untyped():  # type: ignore[no-untyped-def]
    yield {"nan": float("nan"), "list": [1, 2]}


@app.get("/jsonl/invalid")
async def jsonl_invalid() -> AsyncIterator[Item]:
    yield {"price": "free"}


@app.get("/sse", response_class=EventSourceResponse)
async def sse() -> AsyncIterator[Item]:
    yield Item(name="first")
    yield ServerSentEvent(data={"x": 1}, event="tick", id="7")
    yield ServerSentEvent(raw_data="plain text", comment="note")


@app.get("/raw", response_class=StreamingResponse)
async def raw() -> AsyncIterator[bytes]:
    yield b"chunk-1,"
    yield b"chunk-2"


client = TestClient(app)


def lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.strip().splitlines()]


def test_async_generator_streams_typed_json_lines() -> None:
    response = client.get("/jsonl/async")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert response.text == '{"name":"a","price":1.5}\n{"name":"b","price":null}\n'


def test_sync_generator_streams_with_response_model_options() -> None:
    response = client.get("/jsonl/sync")
    assert lines(response.text) == [{"name": "c"}]


def test_untyped_items_are_encoded_like_json_dumps_with_nan_as_null() -> None:
    response = client.get("/jsonl/untyped")
    assert response.text == '{"nan": null, "list": [1, 2]}\n'


def test_an_item_that_does_not_match_the_declared_type_is_a_server_error() -> None:
    with pytest.raises(ResponseValidationError) as info:
        client.get("/jsonl/invalid")
    assert [e["loc"] for e in info.value.errors()] == [("response", "name"), ("response", "price")]


def test_server_sent_events() -> None:
    response = client.get("/sse")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == (
        'data: {"name":"first","price":null}\n\n'
        'event: tick\ndata: {"x": 1}\nid: 7\n\n'
        ": note\ndata: plain text\n\n"
    )


def test_an_explicit_response_class_gets_the_raw_chunks() -> None:
    response = client.get("/raw")
    assert response.text == "chunk-1,chunk-2"


def test_openapi_describes_the_stream_items() -> None:
    schema = app.openapi()["paths"]["/jsonl/async"]["get"]["responses"]["200"]
    assert schema["content"] == {
        "application/jsonl": {"itemSchema": {"$ref": "#/components/schemas/Item"}}
    }


@pytest.mark.anyio
async def test_sse_sends_keepalive_comments_while_the_generator_is_quiet(
    monkeypatch: pytest.MonkeyPatch, http_scope: Callable[[str], dict[str, object]]
) -> None:
    import anyio

    import hasten.routing

    monkeypatch.setattr(hasten.routing, "_PING_INTERVAL", 0.01)
    resume = anyio.Event()
    quiet_app = FastAPI()

    @quiet_app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[dict[str, int]]:
        yield {"n": 1}
        await resume.wait()  # quiet until the client has seen a keep-alive
        yield {"n": 2}

    chunks: list[bytes] = []

    async def receive() -> dict[str, object]:
        await anyio.sleep_forever()
        return {}  # pragma: no cover

    async def send(message: dict[str, object]) -> None:
        body = message.get("body")
        if isinstance(body, bytes) and body:
            chunks.append(body)
            if body == b": ping\n\n":
                resume.set()

    with anyio.fail_after(5):
        await quiet_app(http_scope("/events"), receive, send)
    assert chunks[0] == b'data: {"n":1}\n\n'
    assert b": ping\n\n" in chunks
    assert chunks[-1] == b'data: {"n":2}\n\n'


@pytest.mark.anyio
async def test_client_disconnect_ends_the_generator_and_runs_its_cleanup(
    http_scope: Callable[[str], dict[str, object]],
) -> None:
    import anyio

    events: list[str] = []
    first_sent = anyio.Event()
    gone_app = FastAPI()

    @gone_app.get("/events", response_class=EventSourceResponse)
    async def endless() -> AsyncIterator[dict[str, int]]:
        try:
            yield {"n": 1}
            await anyio.sleep_forever()
        finally:
            events.append("generator closed")

    calls = 0

    async def receive() -> dict[str, object]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await first_sent.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message.get("body"):
            first_sent.set()

    with anyio.fail_after(5):
        await gone_app(http_scope("/events"), receive, send)
    assert events == ["generator closed"]
