"""Streamed bodies from plain (sync) iterators, closed as soon as the stream stops.

Starlette iterates a sync iterator in the threadpool but never closes it: when the client
leaves, a sync generator stays suspended until garbage collection and its ``finally`` (and
whatever it holds) waits with it. ``iterate_closing`` closes it, in a worker thread, as
soon as the async iterator around it is closed (the runner closes every streamed body once the
response is over, however it ended).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import StreamingResponse as _StarletteStreamingResponse

__all__ = ["StreamingResponse", "iterate_closing"]

T = TypeVar("T")


async def iterate_closing(iterator: Iterable[T]) -> AsyncIterator[T]:
    """``iterator``'s items, each pulled in the threadpool; ``iterator.close()`` (a sync
    generator's ``finally``) runs in a worker thread when this is closed or exhausted."""
    try:
        async for item in iterate_in_threadpool(iterator):
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):  # also when the stream was cancelled
                await anyio.to_thread.run_sync(close)


class StreamingResponse(_StarletteStreamingResponse):
    """Starlette's ``StreamingResponse``; a sync iterator given as content is closed as soon
    as the response stops (a client that left included), not when garbage collected.

    The base of ``EventSourceResponse``. ``hasten.responses.StreamingResponse`` stays
    Starlette's own class, as FastAPI's is.
    """

    def __init__(self, content: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(content, *args, **kwargs)
        if not hasattr(content, "__aiter__"):
            self.body_iterator = iterate_closing(content)
