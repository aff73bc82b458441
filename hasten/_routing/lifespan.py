"""Lifespans of routers: on_startup/on_shutdown handlers, merging included routers' lifespans."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from starlette.types import Lifespan


def merge_lifespans(outer: Lifespan[Any], inner: Lifespan[Any]) -> Lifespan[Any]:
    @asynccontextmanager
    async def merged(app: Any) -> AsyncIterator[Any]:
        async with outer(app) as outer_state, inner(app) as inner_state:
            if outer_state is None and inner_state is None:
                yield None
            else:  # the including (outer) router's values win
                yield {**(inner_state or {}), **(outer_state or {})}

    return merged  # type: ignore[return-value]


class EventLifespan:
    """Runs a router's ``on_startup``/``on_shutdown`` handlers around the app's life."""

    def __init__(self, router: Any) -> None:
        self.router = router

    def __call__(self, app: Any) -> EventLifespan:
        return self

    async def __aenter__(self) -> None:
        await self.router._startup()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.router._shutdown()


def as_lifespan(lifespan: Any) -> Lifespan[Any]:
    """Accept ``@asynccontextmanager`` functions, plain async generators and sync generators."""
    if inspect.isasyncgenfunction(lifespan):
        return asynccontextmanager(lifespan)  # type: ignore[no-any-return]
    if inspect.isgeneratorfunction(lifespan):
        sync_cm = contextmanager(lifespan)

        @asynccontextmanager
        async def lifted(app: Any) -> AsyncIterator[Any]:
            with sync_cm(app) as state:
                yield state

        return lifted  # type: ignore[return-value]
    return lifespan  # type: ignore[no-any-return]
