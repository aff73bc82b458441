"""Generator endpoints: their items streamed as JSON Lines, Server-Sent Events, or raw chunks.

The kind of stream and the item serializer are picked once per route; a request only
iterates. Sync generators are iterated in the threadpool.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing, asynccontextmanager, nullcontext
from typing import Any

import anyio
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response, StreamingResponse

from .. import sse as _sse_module
from .._streaming import iterate_closing
from ..encoders import jsonable_encoder
from ..exceptions import EndpointContext, ResponseValidationError
from ..sse import KEEPALIVE_COMMENT, ServerSentEvent, format_sse_event
from .dumping import json_dumper
from .handler import endpoint_context
from .validate import prefixed

StreamWriter = Callable[[Any, dict[str, Any], Any], Awaitable[Response]]


def _finite(data: Any) -> Any:
    """JSON has no NaN/Infinity: non-finite floats become null (as FastAPI streams them).

    Walks what ``jsonable_encoder`` made (dicts, lists, scalars); dict keys are left alone.
    """
    match data:
        case float() if not math.isfinite(data):
            return None
        case dict():
            return {key: _finite(value) for key, value in data.items()}
        case list():
            return [_finite(value) for value in data]
    return data


def item_serializer(
    adapter: TypeAdapter[Any] | None, dump: dict[str, Any], where: EndpointContext
) -> Callable[[Any], bytes]:
    """Item → JSON bytes: validated by the item type when the endpoint declares one."""
    if adapter is None:

        def plain(item: Any) -> bytes:
            return json.dumps(_finite(jsonable_encoder(item))).encode("utf-8")

        return plain
    validate = adapter.validator.validate_python
    to_json = json_dumper(adapter.serializer.to_json, dump)

    def typed(item: Any) -> bytes:
        try:
            value = validate(item, from_attributes=True)
        except ValidationError as exc:
            errors = prefixed(exc.errors(include_url=False), ("response",))
            raise ResponseValidationError(errors, body=item, endpoint_ctx=where) from None
        return to_json(value)

    return typed


def _at_request(exc: ResponseValidationError, request: Any) -> None:
    """Tell ``exc`` (an item the stream rejected) which request it answered.

    The serializer is made once per route and knows only where the endpoint is defined; the
    route that is answering (set in the scope when it matched) adds the method and path, as
    for an ordinary response (``"GET /items/{id}"``, with the mount prefix).
    """
    plan = getattr(request.scope.get("route"), "plan", None)
    if plan is not None:
        where = endpoint_context(plan, request)
        exc.endpoint_ctx, exc.endpoint_path = where, where.get("path")


def _closing(iterator: Any) -> Any:
    """A context that closes an async generator on exit (a plain async iterator: nothing).

    Closing the outermost generator of a chain does not close the ones it iterates: each
    layer closes its source, so the endpoint's own ``finally`` runs when the stream ends.
    """
    return aclosing(iterator) if hasattr(iterator, "aclose") else nullcontext(iterator)


async def _async_items(gen: Any) -> AsyncGenerator[Any, None]:
    async with _closing(gen):
        async for item in gen:
            yield item
            await anyio.sleep(0)  # a checkpoint per item, so a disconnect can cancel the stream


def _items(gen: Any, is_async: bool) -> AsyncIterator[Any]:
    return _async_items(gen) if is_async else iterate_closing(gen)


def jsonl_writer(serialize: Callable[[Any], bytes], is_async: bool) -> StreamWriter:
    """``application/jsonl``: one JSON document per line."""

    async def write(gen: Any, args: dict[str, Any], ctx: Any) -> Response:
        request = ctx.request
        if is_async:

            async def lines() -> AsyncIterator[bytes]:
                try:
                    async with aclosing(_async_items(gen)) as items:
                        async for item in items:
                            yield serialize(item) + b"\n"
                except ResponseValidationError as exc:
                    _at_request(exc, request)
                    raise

            return StreamingResponse(lines(), media_type="application/jsonl", **args)

        def sync_lines() -> Iterator[bytes]:
            try:
                for item in gen:
                    yield serialize(item) + b"\n"
            except ResponseValidationError as exc:
                _at_request(exc, request)
                raise
            finally:
                gen.close()  # also when closed early: the endpoint's finally runs now

        return StreamingResponse(
            iterate_closing(sync_lines()), media_type="application/jsonl", **args
        )

    return write


def _sse_data(item: ServerSentEvent) -> str | None:
    if item.raw_data is not None:
        return item.raw_data
    if item.data is None:
        return None
    if hasattr(item.data, "model_dump_json"):
        return str(item.data.model_dump_json())
    return json.dumps(_finite(jsonable_encoder(item.data)))


def sse_event(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """An item → one ``text/event-stream`` event (``ServerSentEvent`` items as given)."""

    def encode(item: Any) -> bytes:
        if isinstance(item, ServerSentEvent):
            return format_sse_event(
                data_str=_sse_data(item),
                event=item.event,
                id=item.id,
                retry=item.retry,
                comment=item.comment,
            )
        return format_sse_event(data_str=serialize(item).decode("utf-8"))

    return encode


def _default_ping_interval() -> float:
    return float(_sse_module._PING_INTERVAL)


#: Where the seconds of silence before a keep-alive comment are read, at each stream's start.
#: ``hasten.routing`` points it at its own ``_PING_INTERVAL`` (FastAPI's tests patch
#: ``fastapi.routing._PING_INTERVAL``), so the engine never imports the router.
PING_INTERVAL: list[Callable[[], float]] = [_default_ping_interval]


def _ping_interval() -> float:
    return PING_INTERVAL[0]()


#: What sending to a stream whose reader has closed raises (the client left).
_READER_GONE = (anyio.BrokenResourceError, anyio.ClosedResourceError)


async def _close_now(iterator: Any) -> None:
    """Close an async generator now (its ``finally`` runs), even in a cancelled task."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


@asynccontextmanager
async def _event_pump(events: AsyncIterator[bytes]) -> AsyncIterator[Any]:
    """Encoded events, with a keep-alive comment whenever the generator is quiet too long.

    A producer task pulls the generator, so a timeout never interrupts the generator itself
    (sync generators run in the threadpool). The pump lives on the request's exit stack:
    when the response ends or the client goes away, the stack cancels it, which closes the
    generator and runs its cleanup at once (not when garbage collected), and a client that
    left is no error.
    """
    produced_send, produced = anyio.create_memory_object_stream[bytes](max_buffer_size=1)
    out_send, out = anyio.create_memory_object_stream[bytes](max_buffer_size=1)
    interval = _ping_interval()

    async def produce() -> None:
        try:
            async with produced_send:
                async for event in events:
                    try:
                        await produced_send.send(event)
                    except _READER_GONE:
                        return
        finally:  # also when cancelled while waiting to hand an event over
            await _close_now(events)

    async def forward() -> None:
        async with out_send, produced:
            while True:
                with anyio.move_on_after(interval) as quiet:
                    try:
                        event = await produced.receive()
                    except anyio.EndOfStream:
                        return
                try:
                    await out_send.send(KEEPALIVE_COMMENT if quiet.cancelled_caught else event)
                except _READER_GONE:  # the response stopped reading: the client left
                    return

    async with anyio.create_task_group() as group:
        group.start_soon(produce)
        group.start_soon(forward)
        yield out
        group.cancel_scope.cancel()


async def _drain(stream: Any) -> AsyncIterator[bytes]:
    async with _closing(stream):
        async for chunk in stream:
            yield chunk
            await anyio.sleep(0)  # lets a disconnect cancel even a fast producer


def sse_writer(serialize: Callable[[Any], bytes], cls: Any, is_async: bool) -> StreamWriter:
    """Server-Sent Events with keep-alive comments; proxies are told not to buffer them."""
    encode = sse_event(serialize)

    async def write(gen: Any, args: dict[str, Any], ctx: Any) -> Response:
        request = ctx.request

        async def events() -> AsyncIterator[bytes]:
            try:
                async with _closing(_items(gen, is_async)) as items:
                    async for item in items:
                        yield encode(item)
            except ResponseValidationError as exc:
                _at_request(exc, request)
                raise

        stack = ctx.request_stack
        stream = await stack.enter_async_context(_event_pump(events()))
        stack.push_async_callback(stream.aclose)
        response = cls(_drain(stream), media_type="text/event-stream", **args)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response  # type: ignore[no-any-return]

    return write


def raw_writer(cls: Any, is_async: bool) -> StreamWriter:
    """An explicit ``response_class`` (e.g. ``StreamingResponse``) gets the chunks as they are."""

    async def write(gen: Any, args: dict[str, Any], ctx: Any) -> Response:
        return cls(content=_async_items(gen) if is_async else iterate_closing(gen), **args)  # type: ignore[no-any-return]

    return write
